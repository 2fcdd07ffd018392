"""Google sign-in as an OpenID Connect relying party: authorization code with PKCE (S256),
state and nonce, through authlib's httpx client. The provider's endpoints and keys come
from its discovery document (AUTH_GOOGLE_DISCOVERY_URL), so tests point it at a local
provider. The ID token is checked here with joserfc: signature by a key from the
provider's JWKS, RS256 only, issuer, audience (our client id), expiry and nonce."""

import time
import warnings
from typing import Any

import httpx
import structlog
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from wayfare_auth.settings import Settings
from wayfare_common.outbound import http_client

log = structlog.get_logger("wayfare.auth.google")
CALLBACK_PATH = "/api/v1/auth/oauth/google/callback"
SCOPE = "openid email profile"
METADATA_TTL = 3600.0
TIMEOUT = 5.0
# Google's ID tokens may carry its issuer without the scheme.
_ISSUER_ALIASES = {"https://accounts.google.com": ["accounts.google.com"]}


class ProviderUnavailable(Exception):
    """The provider did not answer, or answered with something unusable."""


class SignInRefused(Exception):
    """The provider refused the code, or its ID token failed a check; `reason` says which."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def _authlib_client():
    """authlib's httpx client module, imported when Google sign-in is configured (1.4 MB
    that an auth process without it does not carry)."""
    import authlib.deprecate  # noqa: F401  (installs its "always" filter before ours below)

    with warnings.catch_warnings():
        # authlib prefers the httpx2 package and warns when it falls back to httpx.
        warnings.simplefilter("ignore")
        from authlib.integrations import httpx_client
    return httpx_client


class GoogleSignIn:
    def __init__(self, settings: Settings):
        self._authlib = _authlib_client()
        self.settings = settings
        self.redirect_uri = settings.public_url.rstrip("/") + CALLBACK_PATH
        # The discovery document's host serves the keys too (Google: https for both).
        self._http = http_client(settings.google_discovery_url, timeout=TIMEOUT)
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    async def close(self) -> None:
        await self._http.aclose()

    def _client(self):
        return self._authlib.AsyncOAuth2Client(
            client_id=self.settings.google_client_id,
            client_secret=self.settings.google_client_secret.get_secret_value(),
            scope=SCOPE,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=TIMEOUT,
        )

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_TTL:
            document = await self._get_json(self.settings.google_discovery_url)
            needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
            if not all(isinstance(document.get(name), str) for name in needed):
                raise ProviderUnavailable("the discovery document lacks endpoints")
            self._metadata, self._metadata_at = document, time.monotonic()
            self._keys = None
        return self._metadata

    async def authorization_url(self, state: str, code_verifier: str, nonce: str) -> str:
        metadata = await self.metadata()
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=state,
                code_verifier=code_verifier,
                nonce=nonce,
            )
        return url

    async def sign_in(self, code: str, code_verifier: str, nonce: str) -> dict[str, Any]:
        """Exchange the code (with the PKCE verifier) and return the checked ID token claims."""
        metadata = await self.metadata()
        async with self._client() as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                )
            except self._authlib.OAuthError as err:
                log.info("google_code_refused", error=err.error)
                raise SignInRefused("code_refused") from None
            except httpx.HTTPError as err:
                raise ProviderUnavailable(repr(err)) from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInRefused("no_id_token")
        return await self._check_id_token(id_token, nonce, metadata)

    async def _check_id_token(self, id_token: str, nonce: str, metadata: dict[str, Any]):
        try:
            decoded = jwt.decode(id_token, await self._key_set(metadata), algorithms=["RS256"])
        except JoseError:
            # Perhaps a key the provider rotated in since we fetched: refetch once.
            self._keys = None
            try:
                decoded = jwt.decode(id_token, await self._key_set(metadata), algorithms=["RS256"])
            except (JoseError, ValueError):
                raise SignInRefused("bad_id_token_signature") from None
        except ValueError:
            raise SignInRefused("bad_id_token") from None
        issuer = metadata["issuer"]
        registry = JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "values": [issuer, *_ISSUER_ALIASES.get(issuer, [])]},
            aud={"essential": True, "value": self.settings.google_client_id},
            exp={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(decoded.claims)
        except JoseError as err:
            raise SignInRefused(f"id_token_{getattr(err, 'claim', None) or err.error}") from None
        return decoded.claims

    async def _key_set(self, metadata: dict[str, Any]) -> KeySet:
        if self._keys is None:
            document = await self._get_json(metadata["jwks_uri"])
            try:
                self._keys = KeySet.import_key_set(document)
            except (JoseError, ValueError, TypeError, KeyError):
                raise ProviderUnavailable("the provider's JWKS is unreadable") from None
        return self._keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as err:
            log.warning("google_unreachable", url=url, error=repr(err))
            raise ProviderUnavailable(repr(err)) from None
        if not isinstance(document, dict):
            raise ProviderUnavailable(f"{url} did not answer a JSON object")
        return document
