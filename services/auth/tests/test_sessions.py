"""Refresh rotation, reuse detection, the absolute lifetime, logout and logout-all."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from wayfare_auth.app import purge_expired
from wayfare_auth.store.models import LoginFailure, OAuthState, Session, UsedToken, utcnow

from auth_support import bearer, login, verified_account


def _claims(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


async def _refresh(client, refresh_token: str):
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


async def test_refresh_rotates_and_reuse_ends_the_whole_session(client, events, service):
    user = await verified_account(client, events)
    first = await login(client, user["email"])

    response = await _refresh(client, first["refresh_token"])
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert _claims(second["access_token"])["sid"] == _claims(first["access_token"])["sid"]
    await service.verifier().verify(second["access_token"])

    # The rotated token comes back (stolen?): the family is revoked, the new token too.
    reused = await _refresh(client, first["refresh_token"])
    assert reused.status_code == 401 and reused.json()["code"] == "refresh_token_reused"
    after = await _refresh(client, second["refresh_token"])
    assert after.status_code == 401 and after.json()["code"] == "invalid_refresh_token"
    revoked = await events.wait_for("auth.session_revoked", user_id=user["id"])
    assert revoked["data"]["session_id"] == _claims(second["access_token"])["sid"]
    assert revoked["data"]["token_id"] == _claims(second["access_token"])["jti"]
    me = await client.get("/api/v1/users/me", headers=bearer(second))
    assert me.status_code == 401 and me.json()["code"] == "session_ended"


async def test_unknown_refresh_tokens_are_refused(client):
    response = await _refresh(client, "not-a-token-we-gave-out")
    assert response.status_code == 401 and response.json()["code"] == "invalid_refresh_token"


async def test_refresh_stops_thirty_days_after_login(client, events, service):
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])
    sid = _claims(tokens["access_token"])["sid"]
    async with service.app.state.database.sessions() as session:
        row = await session.get(Session, uuid.UUID(sid))
        assert row.expires_at - row.created_at == timedelta(days=30)
        # Refreshing never moves the end: make it come now.
        await session.execute(
            sa.update(Session)
            .where(Session.id == row.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    response = await _refresh(client, tokens["refresh_token"])
    assert response.status_code == 401 and response.json()["code"] == "refresh_token_expired"


async def test_logout_revokes_the_session_and_tells_the_gateway(client, events):
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])
    claims = _claims(tokens["access_token"])
    response = await client.post("/api/v1/auth/logout", headers=bearer(tokens))
    assert response.status_code == 204

    revoked = await events.wait_for("auth.session_revoked", user_id=user["id"])
    assert revoked["data"]["token_id"] == claims["jti"]
    assert revoked["data"]["session_id"] == claims["sid"]
    expires_at = datetime.fromisoformat(revoked["data"]["expires_at"])
    assert expires_at == datetime.fromtimestamp(claims["exp"], UTC)
    assert revoked["actor"] == {"user_id": user["id"], "role": "customer"}
    assert (await _refresh(client, tokens["refresh_token"])).status_code == 401
    me = await client.get("/api/v1/users/me", headers=bearer(tokens))
    assert me.status_code == 401
    again = await client.post("/api/v1/auth/logout", headers=bearer(tokens))
    assert again.status_code == 401


async def test_logout_all_ends_every_session_one_event_each(client, events):
    user = await verified_account(client, events)
    sessions = [await login(client, user["email"]) for _ in range(3)]
    response = await client.post("/api/v1/auth/logout-all", headers=bearer(sessions[0]))
    assert response.status_code == 204
    revoked = await events.wait_for("auth.session_revoked", count=3, user_id=user["id"])
    assert {event["data"]["session_id"] for event in revoked} == {
        _claims(tokens["access_token"])["sid"] for tokens in sessions
    }
    for tokens in sessions:
        assert (await _refresh(client, tokens["refresh_token"])).status_code == 401


async def test_logout_needs_an_access_token(client):
    response = await client.post("/api/v1/auth/logout")
    assert response.status_code == 401 and response.json()["code"] == "missing_token"


async def test_housekeeping_deletes_only_what_no_check_needs(client, events, service):
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])
    now = utcnow()
    database = service.app.state.database
    async with database.sessions() as session:
        session.add_all(
            [
                LoginFailure(
                    account="old@example.com", ip="10.0.0.1", created_at=now - timedelta(hours=2)
                ),
                LoginFailure(account="new@example.com", ip="10.0.0.1", created_at=now),
                UsedToken(jti="old-jti", purpose="x", expires_at=now - timedelta(seconds=1)),
                UsedToken(jti="live-jti", purpose="x", expires_at=now + timedelta(hours=1)),
                OAuthState(
                    state="old-state",
                    code_verifier="v",
                    nonce="n",
                    browser_hash="h",
                    expires_at=now - timedelta(seconds=1),
                ),
            ]
        )
        sid = uuid.UUID(_claims(tokens["access_token"])["sid"])
        await session.execute(
            sa.update(Session).where(Session.id == sid).values(expires_at=now - timedelta(days=2))
        )
        await session.commit()
    await purge_expired(database, service.app.state.auth)
    async with database.sessions() as session:
        accounts = set(await session.scalars(sa.select(LoginFailure.account)))
        assert "old@example.com" not in accounts and "new@example.com" in accounts
        jtis = set(await session.scalars(sa.select(UsedToken.jti)))
        assert "old-jti" not in jtis and "live-jti" in jtis
        assert await session.get(OAuthState, "old-state") is None
        assert await session.get(Session, sid) is None
