"""A local OpenID provider that speaks Google's wire format, over real HTTP.

    provider = FakeGoogle(client_id="wayfare-test", client_secret="s3cret")
    with provider.running():
        ...  # AUTH_GOOGLE_DISCOVERY_URL=provider.discovery_url

It serves the discovery document, an authorization endpoint that signs in `provider.user`
at once and redirects back with a code, a token endpoint that checks the client's
credentials and the PKCE verifier (S256) and answers with an ID token signed by its own
RSA key, and that key's JWKS. `id_token_claims` overrides claims and `foreign_key` signs
with a key the JWKS does not hold, to forge bad ID tokens.
"""

import base64
import contextlib
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey


class FakeGoogle:
    def __init__(self, client_id: str, client_secret: str):
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fake-google-1", "use": "sig"})
        self.user: dict[str, Any] = {
            "sub": "10769150350006150715113082367",
            "email": "ada@gmail.test",
            "email_verified": True,
            "name": "Ada Lovelace",
        }
        self.id_token_claims: dict[str, Any] = {}  # overrides, e.g. {"nonce": "forged"}
        self.foreign_key = False
        self.codes: dict[str, dict[str, Any]] = {}  # code -> the request it answers
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def issuer(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @contextlib.contextmanager
    def running(self):
        provider = self

        class Handler(_Handler):
            fake = provider

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(timeout=5)

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/o/oauth2/v2/auth",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/oauth2/v3/certs",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["plain", "S256"],
        }

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "azp": self.client_id,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 3600,
            "nonce": nonce,
            **self.user,
            **self.id_token_claims,
        }
        key = self.key
        if self.foreign_key:
            key = RSAKey.generate_key(2048, parameters={"kid": self.key.kid, "use": "sig"})
        return jwt.encode({"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}, claims, key)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGoogle

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        if url.path == "/.well-known/openid-configuration":
            self._json(200, self.fake.discovery())
        elif url.path == "/oauth2/v3/certs":
            self._json(200, {"keys": [self.fake.key.as_dict(private=False)]})
        elif url.path == "/o/oauth2/v2/auth":
            self._authorize(query)
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/token":
            self._json(404, {"error": "not_found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self.fake.token_requests.append(form)
        self._token(form)

    def _authorize(self, query: dict[str, str]) -> None:
        fake = self.fake
        fake.authorize_requests.append(query)
        problems = [
            query.get("client_id") != fake.client_id and "client_id",
            query.get("response_type") != "code" and "response_type",
            "openid" not in query.get("scope", "").split() and "scope",
            query.get("code_challenge_method") != "S256" and "code_challenge_method",
            not query.get("code_challenge") and "code_challenge",
            not query.get("state") and "state",
            not query.get("redirect_uri") and "redirect_uri",
        ]
        if any(problems):
            self._json(400, {"error": "invalid_request", "fields": [p for p in problems if p]})
            return
        code = secrets.token_urlsafe(24)
        fake.codes[code] = {**query, "user": dict(fake.user)}
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _token(self, form: dict[str, str]) -> None:
        fake = self.fake
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization := self.headers.get("Authorization"):
            scheme, _, encoded = authorization.partition(" ")
            if scheme.lower() == "basic":
                client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
        if (client_id, client_secret) != (fake.client_id, fake.client_secret):
            self._json(401, {"error": "invalid_client"})
            return
        request = fake.codes.pop(form.get("code", ""), None)  # a code works once
        if (
            form.get("grant_type") != "authorization_code"
            or request is None
            or form.get("redirect_uri") != request["redirect_uri"]
            or s256(form.get("code_verifier", "")) != request["code_challenge"]
        ):
            self._json(400, {"error": "invalid_grant"})
            return
        self._json(
            200,
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 3599,
                "scope": request["scope"],
                "id_token": fake.id_token(request.get("nonce", "")),
            },
        )

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass
