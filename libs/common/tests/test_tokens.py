"""Access-token verification against a JWKS served over real HTTP (DESIGN §6)."""

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from joserfc import jwt
from joserfc.jwk import Key, OctKey, RSAKey

from wayfare_common.problems import PROBLEM_JSON, install_problem_handlers
from wayfare_common.security import (
    AdminDep,
    InvalidToken,
    OptionalPrincipalDep,
    PrincipalDep,
    TokenServiceUnavailable,
    TokenVerifier,
    require_role,
    tokens,
)
from wayfare_common.security.tokens import Principal
from wayfare_common.settings import ServiceSettings
from wayfare_common.testing.tokens import JWKSServer, TokenIssuer


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture
async def jwks(issuer: TokenIssuer) -> AsyncIterator[JWKSServer]:
    async with issuer.serve() as server:
        yield server


@pytest.fixture
def verifier(issuer: TokenIssuer, jwks: JWKSServer) -> TokenVerifier:
    return issuer.verifier(jwks.url)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _with_payload(token: str, **changes) -> str:
    """The token with its payload edited and its original signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return ".".join([header, _b64({**claims, **changes}), signature])


def _with_signature_flipped(token: str) -> str:
    # A character in the middle: the last one may only carry padding bits.
    head, signature = token.rsplit(".", 1)
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


async def test_a_valid_token_gives_its_principal(issuer, verifier):
    token = issuer.mint("vendor", user_id="user-42", jti="token-7", exp=2_000_000_000)

    principal = await verifier.verify(token)

    assert principal == Principal(
        user_id="user-42",
        role="vendor",
        token_id="token-7",
        expires_at=datetime(2033, 5, 18, 3, 33, 20, tzinfo=UTC),
        claims=principal.claims,
    )
    assert principal.claims["iss"] == "wayfare-auth"
    assert principal.claims["aud"] == "wayfare"


async def test_clock_skew_within_the_leeway_is_tolerated(issuer, verifier):
    now = int(time.time())
    assert await verifier.verify(issuer.mint(exp=now - 10))
    assert await verifier.verify(issuer.mint(nbf=now + 10))


async def test_an_audience_list_that_names_us_is_accepted(issuer, verifier):
    principal = await verifier.verify(issuer.mint(aud=["billing", "wayfare"]))
    assert principal.claims["aud"] == ["billing", "wayfare"]


FORGERIES: dict[str, tuple[Callable[[TokenIssuer], str], str]] = {
    "alg none": (lambda i: i.mint("admin", header={"alg": "none"}), "unsupported_algorithm"),
    "alg none, no signature part": (
        lambda i: i.mint("admin", header={"alg": "none"}).rsplit(".", 1)[0] + ".",
        "unsupported_algorithm",
    ),
    "HS256 keyed with the public key": (
        lambda i: i.mint("admin", header={"alg": "HS256"}),
        "unsupported_algorithm",
    ),
    "alg that does not fit the key": (
        lambda i: i.mint(header={"alg": "ES256"}),
        "algorithm_mismatch",
    ),
    "tampered payload": (lambda i: _with_payload(i.mint(), role="admin"), "bad_signature"),
    "tampered signature": (lambda i: _with_signature_flipped(i.mint()), "bad_signature"),
    "signed by another key under our kid": (
        lambda i: TokenIssuer().mint("admin", header={"kid": i.current_kid}),
        "bad_signature",
    ),
    "expired": (lambda i: i.mint(exp=int(time.time()) - 120), "expired"),
    "not yet valid": (lambda i: i.mint(nbf=int(time.time()) + 600), "not_yet_valid"),
    "wrong issuer": (lambda i: i.mint(iss="someone-else"), "wrong_issuer"),
    "wrong audience": (lambda i: i.mint(aud="another-platform"), "wrong_audience"),
    "unknown kid": (lambda i: i.mint(header={"kid": "made-up"}), "unknown_key"),
    "no kid": (lambda i: i.mint(header={"kid": None}), "unknown_key"),
    "plain JWT typ": (lambda i: i.mint(header={"typ": "JWT"}), "wrong_type"),
    "no typ": (lambda i: i.mint(header={"typ": None}), "wrong_type"),
    "missing jti": (lambda i: i.mint(jti=None), "missing_claim"),
    "missing role": (lambda i: i.mint(role=None), "missing_claim"),
    "missing sub": (lambda i: i.mint(sub=None), "missing_claim"),
    "missing exp": (lambda i: i.mint(exp=None), "missing_claim"),
    "unknown role": (lambda i: i.mint(role="root"), "invalid_claim"),
    "role as a list": (lambda i: i.mint(role=["admin"]), "invalid_claim"),
    "empty sub": (lambda i: i.mint(sub=""), "invalid_claim"),
    "unknown header parameter": (lambda i: i.mint(header={"x-debug": 1}), "malformed"),
    "not a JWT": (lambda i: "not-a-token", "malformed"),
    "non-ASCII": (lambda i: "é.é.é", "malformed"),
}


@pytest.mark.parametrize("forge, reason", list(FORGERIES.values()), ids=list(FORGERIES))
async def test_forged_tokens_are_refused(issuer, verifier, forge, reason):
    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(forge(issuer))
    assert refused.value.reason == reason


async def test_key_confusion_is_refused_even_when_hs256_is_allowed(issuer, jwks):
    # Allow-listing HS256 by mistake must still not let the public key act as a secret.
    verifier = issuer.verifier(jwks.url, algorithms=("RS256", "HS256"))
    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(issuer.mint("admin", header={"alg": "HS256"}))
    assert refused.value.reason == "algorithm_mismatch"


def _signed_by(key: Key, alg: str) -> str:
    """An access token signed outside TokenIssuer, with any joserfc key."""
    claims = {
        "iss": "wayfare-auth",
        "aud": "wayfare",
        "sub": "u-1",
        "role": "admin",
        "jti": "t-1",
        "exp": int(time.time()) + 60,
    }
    header = {"alg": alg, "kid": key.kid, "typ": "at+jwt"}
    return jwt.encode(header, claims, key, algorithms=[alg])


def _rsa() -> Key:
    return RSAKey.generate_key(2048, parameters={"kid": "k-1"})


# (signing key, alg, the key's entry in the JWKS, reason or None when it must verify)
PUBLISHED_KEYS: dict[str, tuple[Callable[[], Key], str, Callable[[Key], dict], str | None]] = {
    "public RSA key (control)": (_rsa, "RS256", lambda k: k.as_dict(), None),
    "private key published by mistake": (
        _rsa,
        "RS256",
        lambda k: k.as_dict(private=True),
        "unknown_key",
    ),
    "symmetric key": (
        lambda: OctKey.generate_key(256, parameters={"kid": "k-1"}),
        "HS256",
        lambda k: k.as_dict(private=True),
        "unknown_key",
    ),
    "encryption key": (_rsa, "RS256", lambda k: {**k.as_dict(), "use": "enc"}, "unknown_key"),
    "key declared for another alg": (
        _rsa,
        "RS256",
        lambda k: {**k.as_dict(), "alg": "PS256"},
        "algorithm_mismatch",
    ),
}


@pytest.mark.parametrize(
    "make_key, alg, published, reason", list(PUBLISHED_KEYS.values()), ids=list(PUBLISHED_KEYS)
)
async def test_published_keys_unfit_for_verifying_are_not_used(make_key, alg, published, reason):
    key = make_key()
    document = {"keys": [published(key)]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=document))
    async with httpx.AsyncClient(transport=transport) as client:
        # HS256 allowed on purpose: the symmetric key must be refused on its own account.
        verifier = TokenVerifier(
            "http://auth.test/jwks.json",
            "wayfare-auth",
            "wayfare",
            algorithms=("RS256", "HS256"),
            http_client=client,
        )
        token = _signed_by(key, alg)
        if reason is None:
            assert (await verifier.verify(token)).user_id == "u-1"
        else:
            with pytest.raises(InvalidToken) as refused:
                await verifier.verify(token)
            assert refused.value.reason == reason


@pytest.mark.parametrize("algorithms", [(), ("none",), ("RS256", "RS265")])
def test_the_allow_list_must_name_real_signature_algorithms(algorithms):
    with pytest.raises(ValueError):
        TokenVerifier("http://auth.test/jwks.json", "wayfare-auth", "wayfare", algorithms)


async def test_keys_are_fetched_and_parsed_once_for_many_verifications(
    issuer, jwks, verifier, monkeypatch
):
    imports = 0
    real_import = tokens.JWKRegistry.import_key

    def counting_import(*args, **kwargs):
        nonlocal imports
        imports += 1
        return real_import(*args, **kwargs)

    monkeypatch.setattr(tokens.JWKRegistry, "import_key", counting_import)
    # A cold verifier under concurrent load still makes one request.
    await asyncio.gather(*(verifier.verify(issuer.mint()) for _ in range(20)))
    for _ in range(30):
        await verifier.verify(issuer.mint())

    assert jwks.fetches == 1
    assert imports == len(issuer.jwks()["keys"])


async def test_unknown_kids_refetch_once_then_are_rate_limited(issuer, jwks):
    verifier = issuer.verifier(jwks.url, min_refresh_interval=0.3)
    await verifier.verify(issuer.mint())
    assert jwks.fetches == 1

    # Just fetched: an unknown kid does not cause another request.
    with pytest.raises(InvalidToken, match="unknown_key"):
        await verifier.verify(issuer.mint(header={"kid": "made-up-0"}))
    assert jwks.fetches == 1

    await asyncio.sleep(0.35)
    flood = [issuer.mint(header={"kid": f"made-up-{n}"}) for n in range(1, 30)]
    results = await asyncio.gather(*(verifier.verify(t) for t in flood), return_exceptions=True)
    assert {getattr(r, "reason", r) for r in results} == {"unknown_key"}
    assert jwks.fetches == 2

    with pytest.raises(InvalidToken, match="unknown_key"):
        await verifier.verify(issuer.mint(header={"kid": "made-up-again"}))
    assert jwks.fetches == 2


async def test_rotation_keeps_old_tokens_valid_until_the_key_is_withdrawn():
    issuer = TokenIssuer()  # its own, since rotating changes it
    async with issuer.serve() as jwks:
        verifier = issuer.verifier(jwks.url, min_refresh_interval=0)
        old_kid = issuer.current_kid
        old_token = issuer.mint(user_id="old")
        await verifier.verify(old_token)

        issuer.rotate()
        assert {k["kid"] for k in issuer.jwks()["keys"]} == {old_kid, issuer.current_kid}
        assert (await verifier.verify(issuer.mint(user_id="new"))).user_id == "new"
        assert (await verifier.verify(old_token)).user_id == "old"
        assert jwks.fetches == 2

        # Once the auth service withdraws the old key, the next refetch forgets it.
        issuer.retire(old_kid)
        issuer.rotate()
        await verifier.verify(issuer.mint())
        with pytest.raises(InvalidToken, match="unknown_key"):
            await verifier.verify(old_token)


async def test_unreachable_jwks_is_reported_as_unavailable_not_as_invalid(issuer):
    async with issuer.serve() as gone:
        url = gone.url
    verifier = issuer.verifier(url)
    with pytest.raises(TokenServiceUnavailable):
        await verifier.verify(issuer.mint())


async def test_a_failed_fetch_is_retried_at_once_when_the_service_is_back(issuer, jwks):
    verifier = issuer.verifier(jwks.url.replace("jwks.json", "missing.json"))
    with pytest.raises(TokenServiceUnavailable):
        await verifier.verify(issuer.mint())

    verifier.jwks_url = jwks.url  # the auth service answers again
    assert await verifier.verify(issuer.mint())
    assert jwks.fetches == 1


async def test_callers_waiting_on_a_failed_fetch_share_its_failure(issuer):
    calls = 0

    async def failing(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(failing)) as client:
        verifier = issuer.verifier("http://auth.invalid/jwks.json", http_client=client)
        results = await asyncio.gather(
            *(verifier.verify(issuer.mint()) for _ in range(10)), return_exceptions=True
        )
    assert all(isinstance(r, TokenServiceUnavailable) for r in results)
    assert calls == 1


# --- FastAPI dependencies ---------------------------------------------------------------


class _Settings(ServiceSettings):
    service_name = "token-test"
    default_port = 8999


def _app(jwks_url: str) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    # No verifier on app.state: the dependency builds one from the settings.
    app.state.settings = _Settings(jwks_url=jwks_url)

    @app.get("/me")
    async def me(principal: PrincipalDep, request: Request) -> dict:
        assert request.state.principal is principal
        return {"user_id": principal.user_id, "role": principal.role}

    @app.get("/maybe")
    async def maybe(principal: OptionalPrincipalDep) -> dict:
        return {"user_id": principal.user_id if principal else None}

    @app.get("/admin")
    async def admin_only(admin: AdminDep) -> dict:
        return {"admin": admin.user_id}

    @app.get("/catalogue", dependencies=[Depends(require_role("vendor", "admin"))])
    async def staff_only() -> dict:
        return {"ok": True}

    return app


@pytest.fixture
async def client(jwks: JWKSServer) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(jwks.url))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def _assert_problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}],
    ids=["no header", "basic auth", "empty bearer"],
)
async def test_a_request_without_a_token_gets_401(client, headers):
    response = await client.get("/me", headers=headers)
    body = _assert_problem(response, 401, "missing_token")
    assert "Bearer" in body["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_request_with_a_bad_token_gets_401_with_the_reason(client, issuer):
    response = await client.get("/me", headers=issuer.bearer(exp=int(time.time()) - 120))
    body = _assert_problem(response, 401, "invalid_token")
    assert body["reason"] == "expired"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'

    forged = await client.get("/me", headers=issuer.bearer(header={"alg": "none"}))
    assert _assert_problem(forged, 401, "invalid_token")["reason"] == "unsupported_algorithm"


async def test_a_valid_token_reaches_the_route(client, issuer, jwks):
    for _ in range(3):
        response = await client.get("/me", headers=issuer.bearer("vendor", user_id="v-1"))
        assert response.status_code == 200
        assert response.json() == {"user_id": "v-1", "role": "vendor"}
    assert jwks.fetches == 1  # the lazily built verifier is kept on app.state


async def test_the_optional_principal_allows_anonymous_but_not_bad_tokens(client, issuer):
    assert (await client.get("/maybe")).json() == {"user_id": None}
    signed_in = await client.get("/maybe", headers=issuer.bearer(user_id="c-1"))
    assert signed_in.json() == {"user_id": "c-1"}
    bad = await client.get("/maybe", headers=issuer.bearer(aud="elsewhere"))
    assert _assert_problem(bad, 401, "invalid_token")["reason"] == "wrong_audience"


@pytest.mark.parametrize(
    "path, role, status",
    [
        ("/admin", "customer", 403),
        ("/admin", "vendor", 403),
        ("/admin", "admin", 200),
        ("/catalogue", "customer", 403),
        ("/catalogue", "vendor", 200),
        ("/catalogue", "admin", 200),
    ],
)
async def test_roles_are_enforced(client, issuer, path, role, status):
    response = await client.get(path, headers=issuer.bearer(role, user_id="u-1"))
    if status == 403:
        _assert_problem(response, 403, "forbidden")
    else:
        assert response.status_code == 200, response.text


async def test_a_role_check_still_needs_a_token(client):
    _assert_problem(await client.get("/admin"), 401, "missing_token")


async def test_unreachable_jwks_answers_503(issuer):
    async with issuer.serve() as gone:
        url = gone.url
    transport = httpx.ASGITransport(app=_app(url))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/me", headers=issuer.bearer())
    body = _assert_problem(response, 503, "auth_unavailable")
    assert "127.0.0.1" not in response.text
    assert "reason" not in body


def test_require_role_refuses_unknown_roles():
    with pytest.raises(ValueError):
        require_role("root")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        require_role()
