"""The same service on its embedded default, SQLite, without a broker: the queries that
differ by dialect (RETURNING, ON CONFLICT, FILTER, row values, UTC times) all run."""

import argparse
import asyncio
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import sqlalchemy as sa
from asgi_lifespan import LifespanManager

from wayfare_auth.app import MIGRATIONS_DIR, create_app
from wayfare_auth.commands import create_admin
from wayfare_auth.settings import Settings
from wayfare_common.messaging.tables import outbox
from wayfare_common.migrations import upgrade

from auth_support import FAST_HASHING, PASSWORD, bearer


async def _events(app, type_: str) -> list[dict]:
    async with app.state.database.sessions() as session:
        bodies = await session.scalars(
            sa.select(outbox.c.body).where(outbox.c.routing_key == type_)
        )
        return [json.loads(body)["data"] for body in bodies]


async def test_the_whole_flow_on_sqlite(sqlite_url, tmp_path):
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, sqlite_url)
    settings = Settings(
        database_url=sqlite_url,
        amqp_url="",
        environment="test",
        data_dir=tmp_path,
        login_max_failures_per_account_ip=2,
        **FAST_HASHING,
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://auth") as client:
            email = "sqlite.person@example.com"
            registered = await client.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "full_name": "Lite"},
            )
            assert registered.status_code == 201
            [mail] = await _events(app, "auth.email_verification_requested")
            token = parse_qs(urlsplit(mail["verify_url"]).query)["token"][0]
            assert (
                await client.post("/api/v1/auth/verify-email", json={"token": token})
            ).status_code == 200
            assert (
                await client.post("/api/v1/auth/verify-email", json={"token": token})
            ).status_code == 400

            wrong = {"email": email, "password": "Wrong-Password-1"}
            assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
            assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
            assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 429

            async with app.state.database.sessions() as session:
                await session.execute(sa.text("DELETE FROM login_failures"))
                await session.commit()
            first = (
                await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            ).json()
            second = (
                await client.post(
                    "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
                )
            ).json()
            reused = await client.post(
                "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
            )
            assert reused.json()["code"] == "refresh_token_reused"
            assert (await client.get("/api/v1/users/me", headers=bearer(second))).status_code == 401
            assert len(await _events(app, "auth.session_revoked")) == 1

            tokens = (
                await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            ).json()
            secret = (await client.post("/api/v1/auth/2fa/setup", headers=bearer(tokens))).json()[
                "secret"
            ]
            enabled = await client.post(
                "/api/v1/auth/2fa/enable",
                json={"code": pyotp.TOTP(secret).now()},
                headers=bearer(tokens),
            )
            backup = enabled.json()["backup_codes"][0]
            challenge = (
                await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            ).json()
            second_step = {"mfa_token": challenge["mfa_token"], "code": backup}
            assert (
                await client.post("/api/v1/auth/login/2fa", json=second_step)
            ).status_code == 200

            admin = argparse.Namespace(
                email="root@example.com", password=PASSWORD, full_name="Root"
            )
            assert await create_admin(settings, admin) == 0
            admin_tokens = (
                await client.post(
                    "/api/v1/auth/login", json={"email": "root@example.com", "password": PASSWORD}
                )
            ).json()
            page = (await client.get("/api/v1/users?limit=1", headers=bearer(admin_tokens))).json()
            rest = await client.get(
                f"/api/v1/users?limit=1&cursor={page['next_cursor']}", headers=bearer(admin_tokens)
            )
            assert {page["data"][0]["email"], rest.json()["data"][0]["email"]} == {
                email,
                "root@example.com",
            }
