"""Access tokens for tests: mint genuine or forged tokens and serve the JWKS over real HTTP.

    issuer = TokenIssuer()
    async with issuer.serve() as jwks:
        verifier = issuer.verifier(jwks.url)
        principal = await verifier.verify(issuer.mint(role="admin"))
        assert jwks.fetches == 1

Any claim or header can be overridden, and `None` removes it, which is how the forged
tokens are made: `mint(exp=0)`, `mint(jti=None)`, `mint(header={"typ": None})`.
"""

import asyncio
import hmac
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from hashlib import sha256
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import uuid4

from joserfc.jwk import RSAKey
from joserfc.jws import JWSRegistry
from joserfc.util import urlsafe_b64encode

from wayfare_common.security.tokens import ACCESS_TOKEN_TYPE, Role, TokenVerifier

JWKS_PATH = "/.well-known/jwks.json"


class TokenIssuer:
    """A stand-in for the auth service's signing side, with RSA-2048 keys."""

    def __init__(
        self,
        issuer: str = "wayfare-auth",
        audience: str = "wayfare",
        lifetime: timedelta = timedelta(minutes=15),
    ):
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime
        self._keys: dict[str, RSAKey] = {}
        self.current_kid = self.rotate()

    def rotate(self) -> str:
        """Add a new key and sign with it from now on; older keys stay published."""
        kid = f"test-{len(self._keys) + 1}-{secrets.token_hex(4)}"
        self._keys[kid] = RSAKey.generate_key(
            2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"}
        )
        self.current_kid = kid
        return kid

    def retire(self, kid: str) -> None:
        """Stop publishing a key, as the auth service does once its tokens have expired."""
        if kid == self.current_kid:
            raise ValueError("rotate before retiring the current key")
        del self._keys[kid]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.as_dict(private=False) for key in list(self._keys.values())]}

    def public_pem(self, kid: str | None = None) -> bytes:
        return self._keys[kid or self.current_kid].as_pem(private=False)

    def mint(
        self,
        role: Role | str = "customer",
        *,
        user_id: str | None = None,
        kid: str | None = None,
        header: Mapping[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A signed access token. `kid` picks the signing key; `header` and `claims` override.

        The signature follows the header's `alg`: "none" gets an empty signature, "HS256" an
        HMAC keyed with the public key's PEM (the classic key-confusion forgery), anything
        else an RS256 signature by the key.
        """
        kid = kid or self.current_kid
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id or str(uuid4()),
            "role": role,
            "jti": str(uuid4()),
            "iat": now,
            "exp": now + int(self.lifetime.total_seconds()),
            **claims,
        }
        head = {"alg": "RS256", "typ": ACCESS_TOKEN_TYPE, "kid": kid, **(header or {})}
        return self._sign(_without_none(head), _without_none(body), self._keys[kid])

    def bearer(self, role: Role | str = "customer", **kwargs: Any) -> dict[str, str]:
        """HTTP headers carrying a fresh token, for test clients."""
        return {"Authorization": f"Bearer {self.mint(role, **kwargs)}"}

    def verifier(self, jwks_url: str, **kwargs: Any) -> TokenVerifier:
        return TokenVerifier(jwks_url, self.issuer, self.audience, **kwargs)

    @asynccontextmanager
    async def serve(self) -> AsyncIterator["JWKSServer"]:
        """Serve `jwks()` (live, so rotations show) on 127.0.0.1 on a free port."""
        server = JWKSServer(self)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield server
        finally:
            await asyncio.to_thread(server.shutdown)
            server.server_close()
            thread.join()

    @staticmethod
    def _sign(header: dict[str, Any], claims: dict[str, Any], key: RSAKey) -> str:
        signing_input = _segment(header) + b"." + _segment(claims)
        match header.get("alg"):
            case "none":
                signature = b""
            case "HS256":
                signature = hmac.new(key.as_pem(private=False), signing_input, sha256).digest()
            case _:
                signature = JWSRegistry.algorithms["RS256"].sign(signing_input, key)
        return (signing_input + b"." + urlsafe_b64encode(signature)).decode("ascii")


class JWKSServer(ThreadingHTTPServer):
    """The JWKS endpoint; `fetches` counts the key-set downloads it answered."""

    daemon_threads = True

    def __init__(self, issuer: TokenIssuer):
        super().__init__(("127.0.0.1", 0), _JWKSHandler)
        self.issuer = issuer
        self.fetches = 0
        self._count_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}{JWKS_PATH}"

    def count_fetch(self) -> None:
        with self._count_lock:
            self.fetches += 1


class _JWKSHandler(BaseHTTPRequestHandler):
    server: JWKSServer

    def do_GET(self) -> None:
        if self.path != JWKS_PATH:
            self.send_error(404)
            return
        self.server.count_fetch()
        body = json.dumps(self.server.issuer.jwks()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output free of access logs


def _segment(value: dict[str, Any]) -> bytes:
    return urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode())


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}
