"""Access-token verification shared by the gateway and every service (DESIGN §6).

Tokens are RFC 9068 JWT access tokens (`typ: at+jwt`) signed by the auth service with an
asymmetric key that it publishes in a JWKS. Keys are parsed once and cached by `kid`, so a
warm verifier only spends CPU; an unknown `kid` (a rotation) refetches the key set, at
most once per `min_refresh_interval`, so a flood of made-up kids cannot hammer the auth
service.

`InvalidToken.reason` is a short machine word that is safe to show a client:
malformed, unsupported_algorithm, wrong_type, unknown_key, algorithm_mismatch,
bad_signature, expired, not_yet_valid, wrong_issuer, wrong_audience, missing_claim,
invalid_claim.
"""

import asyncio
import json
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Self, get_args

import httpx
import structlog
from joserfc import jws
from joserfc.errors import (
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import JWKRegistry, Key
from joserfc.jwt import JWTClaimsRegistry

from wayfare_common.outbound import http_client
from wayfare_common.settings import ServiceSettings

Role = Literal["customer", "vendor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
ACCESS_TOKEN_TYPE = "at+jwt"
FETCH_TIMEOUT = 3.0

log = structlog.get_logger("wayfare.security")


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller of a request."""

    user_id: str
    role: Role
    token_id: str
    expires_at: datetime
    claims: dict[str, Any]


class InvalidToken(Exception):
    """The token was judged and refused; `reason` says why in one word."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class TokenServiceUnavailable(Exception):
    """The auth service's key set could not be fetched: the token was not judged."""


_CLAIM_REASONS = {
    "iss": "wrong_issuer",
    "aud": "wrong_audience",
    "nbf": "not_yet_valid",
}


class TokenVerifier:
    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        audience: str,
        algorithms: Collection[str] = ("RS256", "ES256", "EdDSA"),
        http_client: httpx.AsyncClient | None = None,
        leeway: timedelta = timedelta(seconds=30),
        min_refresh_interval: float = 30.0,
    ):
        unknown = set(algorithms) - set(jws.JWSRegistry.algorithms)
        if not algorithms or unknown or "none" in algorithms:
            raise ValueError(f"algorithms must be signature algorithms, got {algorithms!r}")
        self.jwks_url = jwks_url
        self._algorithms = frozenset(algorithms)
        self._registry = jws.JWSRegistry(algorithms=list(self._algorithms))
        self._claims = JWTClaimsRegistry(
            leeway=int(leeway.total_seconds()),
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
            jti={"essential": True},
        )
        self._http = http_client
        self._min_refresh_interval = min_refresh_interval
        self._keys: dict[str, Key] = {}
        self._lock = asyncio.Lock()
        self._fetches = 0  # finished fetches, successful or not
        self._fetched_at: float | None = None  # monotonic time of the last successful fetch
        self._last_failed = False

    @classmethod
    def from_settings(cls, settings: ServiceSettings, **kwargs: Any) -> Self:
        return cls(settings.jwks_url, settings.jwt_issuer, settings.jwt_audience, **kwargs)

    async def verify(self, token: str) -> Principal:
        """Return the token's principal, or raise `InvalidToken` / `TokenServiceUnavailable`."""
        try:
            obj = jws.extract_compact(token.encode("ascii"), registry=self._registry)
            header = obj.headers()
            self._registry.check_header(header)  # refuse unknown or ill-typed header params
        except (JoseError, UnicodeError):
            raise InvalidToken("malformed") from None

        alg = header["alg"]
        # The allow-list is checked before any key is touched: "none", and HS256 keyed
        # with the public key, never reach a verifier.
        if alg not in self._algorithms:
            raise InvalidToken("unsupported_algorithm")
        # Verification or password-reset tokens are JWTs too; only access tokens pass.
        if header.get("typ") != ACCESS_TOKEN_TYPE:
            raise InvalidToken("wrong_type")
        key = await self._key(header.get("kid"))
        if not _fits(key, alg):
            raise InvalidToken("algorithm_mismatch")
        try:
            valid = jws.validate_compact(obj, key, registry=self._registry)
        except JoseError:
            valid = False
        if not valid:
            raise InvalidToken("bad_signature")

        return self._principal(_claims_of(obj.payload))

    def _principal(self, claims: dict[str, Any]) -> Principal:
        try:
            self._claims.validate(claims)
        except ExpiredTokenError:
            raise InvalidToken("expired") from None
        except MissingClaimError:
            raise InvalidToken("missing_claim") from None
        except InvalidClaimError as err:
            raise InvalidToken(_CLAIM_REASONS.get(err.claim, "invalid_claim")) from None

        role = claims.get("role")
        if role is None:
            raise InvalidToken("missing_claim")
        if role not in ROLES:
            raise InvalidToken("invalid_claim")
        try:
            expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        except (OverflowError, ValueError, OSError):  # a NumericDate beyond datetime's range
            raise InvalidToken("invalid_claim") from None
        return Principal(
            user_id=claims["sub"],
            role=role,
            token_id=claims["jti"],
            expires_at=expires_at,
            claims=claims,
        )

    async def _key(self, kid: object) -> Key:
        if not isinstance(kid, str):
            raise InvalidToken("unknown_key")
        if (key := self._keys.get(kid)) is not None:
            return key

        fetches_seen = self._fetches
        async with self._lock:
            if kid not in self._keys:
                # Callers that queued behind a fetch share its outcome instead of repeating it.
                if self._fetches != fetches_seen:
                    if self._last_failed:
                        raise TokenServiceUnavailable()
                elif self._may_fetch():
                    await self._fetch()
        if (key := self._keys.get(kid)) is None:
            raise InvalidToken("unknown_key")
        return key

    def _may_fetch(self) -> bool:
        # Failures do not start the clock: a fetch is retried as soon as nobody else is
        # fetching, so the verifier recovers as soon as the auth service is back.
        return (
            self._fetched_at is None
            or time.monotonic() - self._fetched_at >= self._min_refresh_interval
        )

    async def _fetch(self) -> None:
        # `_fetches` counts finished fetches only: callers that queue up while one is in
        # flight see it change and share the outcome. A cancelled fetch does not count, so
        # the next caller in line fetches instead of failing.
        try:
            if self._http is not None:
                keys = await self._download(self._http)
            else:
                async with http_client(self.jwks_url) as client:
                    keys = await self._download(client)
        except (httpx.HTTPError, ValueError, TypeError, KeyError) as err:
            self._fetches += 1
            self._last_failed = True
            log.warning("jwks_fetch_failed", url=self.jwks_url, error=repr(err))
            raise TokenServiceUnavailable() from err

        # Replace rather than merge, so a key the auth service withdrew stops verifying.
        self._keys = _parse_keys(keys)
        self._fetches += 1
        self._fetched_at = time.monotonic()
        self._last_failed = False
        log.info("jwks_fetched", url=self.jwks_url, kids=sorted(self._keys))

    async def _download(self, client: httpx.AsyncClient) -> list[Any]:
        response = await client.get(self.jwks_url, timeout=FETCH_TIMEOUT)
        response.raise_for_status()
        keys = response.json()["keys"]
        if not isinstance(keys, list):
            raise TypeError("'keys' is not a list")
        return keys


def _parse_keys(jwks: list[Any]) -> dict[str, Key]:
    keys: dict[str, Key] = {}
    for data in jwks:
        if not isinstance(data, dict) or not isinstance(data.get("kid"), str):
            continue
        # A symmetric key or an encryption key has no business verifying access tokens.
        if data.get("kty") not in ("RSA", "EC", "OKP") or data.get("use", "sig") != "sig":
            continue
        try:
            key = JWKRegistry.import_key(data)
        except (JoseError, ValueError, TypeError):
            log.warning("jwks_key_skipped", kid=data["kid"], why="unreadable")
            continue
        if key.is_private:
            # Published private material means anyone can mint tokens with this key.
            log.error("jwks_key_skipped", kid=data["kid"], why="private_key_published")
            continue
        keys[data["kid"]] = key
    return keys


def _fits(key: Key, alg: str) -> bool:
    """Whether `key` may verify `alg`: its type (and curve), `use` and own `alg` agree."""
    try:
        jws.JWSRegistry.algorithms[alg].check_key(key)
    except JoseError:
        return False
    return True


def _claims_of(payload: bytes | None) -> dict[str, Any]:
    try:
        claims = json.loads(payload or b"")
    except ValueError:
        raise InvalidToken("malformed") from None
    if not isinstance(claims, dict):
        raise InvalidToken("malformed")
    return claims
