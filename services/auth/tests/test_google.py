"""Google sign-in against a local OpenID provider over real HTTP (fake_google.py)."""

import contextlib
import socket
import uuid

import httpx
import pyotp
import pytest
import sqlalchemy as sa
from fake_google import FakeGoogle, s256

from wayfare_auth.store.models import OAuthState, User

from auth_support import PASSWORD, login, new_email, serve, verified_account

CLIENT_ID, CLIENT_SECRET = "wayfare-test.apps.example", "fake-google-secret"


@pytest.fixture(scope="module")
def google():
    provider = FakeGoogle(CLIENT_ID, CLIENT_SECRET)
    with provider.running():
        yield provider


@pytest.fixture(scope="module")
async def with_google(make_settings, google):
    settings = lambda url: make_settings(  # noqa: E731
        public_url=url,
        google_client_id=CLIENT_ID,
        google_client_secret=CLIENT_SECRET,
        google_discovery_url=google.discovery_url,
    )
    async with serve(settings) as running:
        yield running


@pytest.fixture
def person(google):
    """A fresh Google account for this test; the ID token's claims go back to normal after."""
    google.user = {
        "sub": uuid.uuid4().hex,
        "email": new_email("g"),
        "email_verified": True,
        "name": "Grace Hopper",
    }
    yield google.user
    google.id_token_claims, google.foreign_key = {}, False


async def _sign_in(client: httpx.AsyncClient) -> httpx.Response:
    """What a browser does: /start, the provider's page, back to /callback (with cookies)."""
    start = await client.get("/api/v1/auth/oauth/google/start")
    assert start.status_code == 302, start.text
    at_provider = await client.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    return await client.get(at_provider.headers["location"])


async def test_first_sign_in_creates_a_verified_account(with_google, google, person, events):
    async with with_google.client() as client:
        response = await _sign_in(client)
        assert response.status_code == 200, response.text
        tokens = response.json()
        assert tokens["token_type"] == "bearer"
        principal = await with_google.verifier().verify(tokens["access_token"])
        me = (
            await client.get(
                "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
            )
        ).json()
        assert (me["email"], me["email_verified"], me["full_name"]) == (
            person["email"],
            True,
            "Grace Hopper",
        )
        assert principal.user_id == me["id"]
        await events.wait_for("auth.user_registered", user_id=me["id"], email=person["email"])

        again = await _sign_in(client)  # linked by Google's subject: the same account
        assert again.status_code == 200
        assert (await with_google.verifier().verify(again.json()["access_token"])).user_id == me[
            "id"
        ]


async def test_the_request_uses_pkce_s256_state_and_nonce(with_google, google, person):
    async with with_google.client() as client:
        start = await client.get("/api/v1/auth/oauth/google/start")
        query = dict(httpx.URL(start.headers["location"]).params)
        assert query["code_challenge_method"] == "S256"
        assert query["redirect_uri"] == f"{with_google.url}/api/v1/auth/oauth/google/callback"
        assert query["nonce"] and query["state"]
        async with with_google.app.state.database.sessions() as session:
            stored = await session.get(OAuthState, query["state"])
        assert s256(stored.code_verifier) == query["code_challenge"]
        assert stored.nonce == query["nonce"]
        # The code exchange sent that verifier (the provider checks it against the challenge).
        callback = await client.get(
            (await client.get(start.headers["location"])).headers["location"]
        )
        assert callback.status_code == 200
        assert google.token_requests[-1]["code_verifier"] == stored.code_verifier


async def test_links_to_an_existing_account_with_the_same_email(
    with_google, google, person, events
):
    async with with_google.client() as client:
        user = await verified_account(client, events, email=person["email"])
        response = await _sign_in(client)
        assert response.status_code == 200
        assert (
            await with_google.verifier().verify(response.json()["access_token"])
        ).user_id == user["id"]
        await login(client, person["email"])  # the password still works


async def test_an_unverified_squatter_loses_the_password(with_google, google, person):
    async with with_google.client() as client:
        registered = await client.post(
            "/api/v1/auth/register",
            json={"email": person["email"], "password": PASSWORD, "full_name": "Squatter"},
        )
        assert registered.status_code == 201
        assert (await _sign_in(client)).status_code == 200
        refused = await client.post(
            "/api/v1/auth/login", json={"email": person["email"], "password": PASSWORD}
        )
        assert refused.status_code == 401
        async with with_google.app.state.database.sessions() as session:
            user = await session.scalar(sa.select(User).where(User.email == person["email"]))
        assert user.email_verified and user.password_hash is None


@pytest.mark.parametrize(
    ("forgery", "reason"),
    [
        ({"nonce": "not-the-one-we-sent"}, "id_token_nonce"),
        ({"aud": "another-client"}, "id_token_aud"),
        ({"iss": "https://evil.example"}, "id_token_iss"),
        ("foreign_key", "bad_id_token_signature"),
    ],
)
async def test_bad_id_tokens_are_refused(with_google, google, person, forgery, reason):
    if forgery == "foreign_key":
        google.foreign_key = True
    else:
        google.id_token_claims = forgery
    async with with_google.client() as client:
        response = await _sign_in(client)
    assert response.status_code == 400, response.text
    assert (
        response.json()["code"] == "google_sign_in_failed" and response.json()["reason"] == reason
    )


async def test_unverified_google_emails_are_refused(with_google, google, person):
    person["email_verified"] = False
    async with with_google.client() as client:
        response = await _sign_in(client)
    assert response.status_code == 403 and response.json()["code"] == "google_email_not_verified"


async def test_a_callback_from_another_browser_or_replayed_is_refused(with_google, google, person):
    async with with_google.client() as victim, with_google.client() as attacker:
        start = await attacker.get("/api/v1/auth/oauth/google/start")
        callback_url = (await attacker.get(start.headers["location"])).headers["location"]
        # The attacker's callback link opened in the victim's browser: no state cookie.
        stolen = await victim.get(callback_url)
        assert stolen.status_code == 400 and stolen.json()["code"] == "invalid_oauth_state"
        # The state was used up by that attempt, so the attacker cannot use it either.
        replayed = await attacker.get(callback_url)
        assert replayed.status_code == 400 and replayed.json()["code"] == "invalid_oauth_state"


async def test_without_configuration_the_routes_answer_404(client):
    response = await client.get("/api/v1/auth/oauth/google/start")
    assert response.status_code == 404 and response.json()["code"] == "google_sign_in_disabled"


async def test_an_unreachable_provider_is_503(make_settings):
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/.well-known/openid-configuration"
        settings = make_settings(google_client_id=CLIENT_ID, google_discovery_url=dead)
        async with serve(settings) as running, running.client() as client:
            response = await client.get("/api/v1/auth/oauth/google/start")
    assert response.status_code == 503 and response.json()["code"] == "provider_unavailable"


async def test_google_sign_in_still_asks_for_the_second_factor(with_google, google, person, events):
    async with with_google.client() as client:
        user = await verified_account(client, events, email=person["email"])
        tokens = await login(client, person["email"])
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        secret = (await client.post("/api/v1/auth/2fa/setup", headers=headers)).json()["secret"]
        enabled = await client.post(
            "/api/v1/auth/2fa/enable", json={"code": pyotp.TOTP(secret).now()}, headers=headers
        )
        response = await _sign_in(client)
        assert response.status_code == 200 and response.json()["mfa_required"] is True
        second = await client.post(
            "/api/v1/auth/login/2fa",
            json={
                "mfa_token": response.json()["mfa_token"],
                "code": enabled.json()["backup_codes"][0],
            },
        )
        assert second.status_code == 200
        assert (await with_google.verifier().verify(second.json()["access_token"])).user_id == user[
            "id"
        ]
