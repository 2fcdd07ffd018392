"""Login and the access tokens it hands out, judged by the shared verifier over real HTTP."""

import asyncio
import base64
import json
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from wayfare_auth.domain import tokens as purposes
from wayfare_auth.store.models import User, utcnow
from wayfare_common.security import InvalidToken

from auth_support import PASSWORD, bearer, login, new_email, serve, verified_account


def _segments(token: str) -> list[dict]:
    return [json.loads(base64.urlsafe_b64decode(part + "==")) for part in token.split(".")[:2]]


def _encode(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


async def test_login_returns_tokens_the_shared_verifier_accepts(client, events, service):
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900

    header, claims = _segments(tokens["access_token"])
    assert header["alg"] == "RS256" and header["typ"] == "at+jwt"
    assert header["kid"] in {
        key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]
    }
    assert {"iss", "aud", "sub", "role", "jti", "iat", "nbf", "exp", "sid"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 60

    principal = await service.verifier().verify(tokens["access_token"])
    assert principal.user_id == user["id"] and principal.role == "customer"
    assert principal.claims["iss"] == "wayfare-auth" and principal.claims["aud"] == "wayfare"
    me = await client.get("/api/v1/users/me", headers=bearer(tokens))
    assert me.status_code == 200 and me.json()["id"] == user["id"]


async def test_wrong_password_and_unknown_email_get_the_same_401(client, events):
    user = await verified_account(client, events)
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": user["email"], "password": "Nope-12345!x"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": new_email(), "password": PASSWORD}
    )
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
    assert {k: v for k, v in wrong.json().items()} == {k: v for k, v in unknown.json().items()}
    assert wrong.json()["code"] == "invalid_credentials"


async def test_deactivated_accounts_cannot_log_in(client, events):
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])
    assert (await client.delete("/api/v1/users/me", headers=bearer(tokens))).status_code == 204
    response = await client.post(
        "/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD}
    )
    assert response.status_code == 403 and response.json()["code"] == "account_inactive"
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": user["email"], "password": "Wrong-pass-1"}
    )
    assert wrong.status_code == 401  # without the password, nothing about the account shows


@pytest.fixture
async def signed(client, events, service):
    """A real access token of a new account, and a way to sign variations of its claims
    with the service's own current key."""
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])
    keys = service.app.state.auth.keys

    def sign(typ: str = "at+jwt", **changes):
        _, claims = _segments(tokens["access_token"])
        return keys.sign(typ, {k: v for k, v in {**claims, **changes}.items() if v is not None})

    return tokens, sign


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (lambda t, sign: sign(exp=int(time.time()) - 120), "expired"),
        (lambda t, sign: sign(aud="someone-else"), "wrong_audience"),
        (lambda t, sign: sign(iss="https://evil.example"), "wrong_issuer"),
        (lambda t, sign: sign(jti=None), "missing_claim"),
        (lambda t, sign: sign(typ="JWT"), "wrong_type"),
        # The payload changed after signing: a customer making itself admin.
        (
            lambda t, sign: ".".join(
                [t.split(".")[0], _encode({**_segments(t)[1], "role": "admin"}), t.split(".")[2]]
            ),
            "bad_signature",
        ),
        (
            lambda t, sign: ".".join(
                [
                    _encode({"alg": "none", "typ": "at+jwt", "kid": _segments(t)[0]["kid"]}),
                    t.split(".")[1],
                    "",
                ]
            ),
            "unsupported_algorithm",
        ),
        (
            lambda t, sign: ".".join(
                [_encode({**_segments(t)[0], "kid": "no-such-key"}), *t.split(".")[1:]]
            ),
            "unknown_key",
        ),
    ],
)
async def test_the_shared_verifier_refuses_forged_tokens(signed, service, forge, reason):
    tokens, sign = signed
    verifier = service.verifier()
    await verifier.verify(tokens["access_token"])  # the genuine one passes
    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(forge(tokens["access_token"], sign))
    assert refused.value.reason == reason


async def test_other_tokens_do_not_pass_for_access_tokens(signed, service, client):
    tokens, _ = signed
    auth = service.app.state.auth
    user_id = uuid.UUID(_segments(tokens["access_token"])[1]["sub"])
    verifier = service.verifier()
    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(tokens["refresh_token"])
    assert refused.value.reason == "malformed"
    for purpose in purposes.PURPOSES:
        token, _ = auth.tokens.purpose(purpose, user_id, utcnow(), pwv=0)
        with pytest.raises(InvalidToken) as refused:
            await verifier.verify(token)
        assert refused.value.reason == "wrong_type"
        response = await client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401 and response.json()["code"] == "invalid_token"


async def test_login_rehashes_when_the_parameters_change(make_settings, events):
    async with serve(make_settings(argon2_memory_cost=256)) as first, first.client() as client:
        user = await verified_account(client, events)
    async with serve(make_settings(argon2_memory_cost=512)) as second, second.client() as client:
        database = second.app.state.database
        query = sa.select(User.password_hash).where(User.email == user["email"])
        async with database.sessions() as session:
            assert "m=256," in await session.scalar(query)
        await login(client, user["email"])
        async with database.sessions() as session:
            assert "m=512," in await session.scalar(query)
        await login(client, user["email"])  # the new hash verifies


async def test_access_tokens_live_fifteen_minutes(signed):
    tokens, _ = signed
    _, claims = _segments(tokens["access_token"])
    assert timedelta(seconds=claims["exp"] - claims["nbf"]) == timedelta(minutes=15)


async def test_a_login_flood_queues_without_taking_the_connection_pool(
    client, make_settings, events
):
    user = await verified_account(client, events)
    settings = make_settings(
        argon2_memory_cost=4096,
        argon2_time_cost=2,
        hash_concurrency=1,
        login_concurrency=2,
        amqp_url="",  # no broker: the outbox relay polls, but sends no batches
    )
    async with serve(settings) as running, running.client() as client:
        shared = running.app.state.database.engine.pool
        logins = running.app.state.auth.login_pool
        peak_shared = peak_logins = 0
        flooding = True

        async def watch():
            nonlocal peak_shared, peak_logins
            while flooding:
                peak_shared = max(peak_shared, shared.checkedout())
                peak_logins = max(peak_logins, logins.get_size() - logins.get_idle_size())
                await asyncio.sleep(0.001)

        watcher = asyncio.create_task(watch())
        answers = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD}
                )
                for _ in range(20)
            )
        )
        flooding = False
        await watcher
    assert [answer.status_code for answer in answers] == [200] * 20
    # Two logins at a time on the login pool; the 18 others wait before touching any
    # pool, and the service's own pool stays free for everything else (but the relay's
    # poll).
    assert peak_logins == 2
    assert peak_shared <= 1
