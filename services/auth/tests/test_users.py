"""The profile a user manages, the staff routes, and `create-admin`."""

import argparse
import asyncio
import os
import sys

import pytest

from wayfare_auth.app import MIGRATIONS_DIR
from wayfare_auth.commands import create_admin

from auth_support import PASSWORD, bearer, login, new_email, verified_account


async def test_profile_read_and_update_emit_user_updated(client, events):
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])
    me = await client.get("/api/v1/users/me", headers=bearer(tokens))
    assert me.status_code == 200 and me.json()["email"] == user["email"]

    response = await client.patch(
        "/api/v1/users/me",
        json={"full_name": "Ada King", "phone": "+441632960961"},
        headers=bearer(tokens),
    )
    assert response.status_code == 200, response.text
    assert (response.json()["full_name"], response.json()["phone"]) == ("Ada King", "+441632960961")
    updated = await events.wait_for("auth.user_updated", user_id=user["id"], full_name="Ada King")
    assert updated["data"]["phone"] == "+441632960961" and updated["data"]["is_active"] is True
    assert updated["actor"] == {"user_id": user["id"], "role": "customer"}

    cleared = await client.patch("/api/v1/users/me", json={"phone": None}, headers=bearer(tokens))
    assert cleared.json()["phone"] is None


@pytest.mark.parametrize(
    "fields",
    [
        {"role": "admin"},
        {"is_active": False},
        {"email_verified": True},
        {"full_name": "X", "role": "vendor"},
    ],
)
async def test_flags_cannot_be_mass_assigned(client, events, fields):
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])
    response = await client.patch("/api/v1/users/me", json=fields, headers=bearer(tokens))
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "field_not_editable"
    assert {error["field"] for error in problem["errors"]} == {
        f"body.{k}" for k in fields if k != "full_name"
    }
    me = (await client.get("/api/v1/users/me", headers=bearer(tokens))).json()
    assert (me["role"], me["is_active"], me["full_name"]) == ("customer", True, "Test Person")


async def test_deleting_my_account_deactivates_it_and_ends_its_sessions(client, events):
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])
    other = await login(client, user["email"])
    assert (await client.delete("/api/v1/users/me", headers=bearer(tokens))).status_code == 204
    await events.wait_for("auth.session_revoked", count=2, user_id=user["id"])
    updated = await events.wait_for("auth.user_updated", user_id=user["id"], is_active=False)
    assert updated["data"]["email"] == user["email"]
    assert (await client.get("/api/v1/users/me", headers=bearer(other))).status_code == 401


async def _cli(settings, *args: str) -> tuple[int, str]:
    env = {
        **os.environ,
        "AUTH_DATABASE_URL": settings.database_url,
        "AMQP_URL": "",
        "ENVIRONMENT": "test",
        "DATA_DIR": str(settings.data_dir),
        "AUTH_ARGON2_MEMORY_COST": str(settings.argon2_memory_cost),
        "AUTH_ARGON2_TIME_COST": str(settings.argon2_time_cost),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wayfare_auth",
        *args,
        env=env,
        cwd=MIGRATIONS_DIR.parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, output.decode()


@pytest.fixture(scope="module")
async def admin(service, make_settings):
    """An admin made by the real `python -m wayfare_auth create-admin`, run twice."""
    email = new_email("admin")
    settings = make_settings()
    code, output = await _cli(settings, "create-admin", "--email", email, "--password", PASSWORD)
    assert code == 0 and f"{email}: created" in output, output
    code, output = await _cli(settings, "create-admin", "--email", email, "--password", PASSWORD)
    assert code == 0 and "unchanged" in output, output
    async with service.client() as client:
        tokens = await login(client, email)
        me = (await client.get("/api/v1/users/me", headers=bearer(tokens))).json()
    assert me["role"] == "admin" and me["email_verified"] is True
    return me, tokens


async def test_create_admin_promotes_an_existing_account_and_checks_the_policy(
    client, events, make_settings, capsys
):
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])
    # In process this time (the subprocess runs are in the `admin` fixture).
    arguments = argparse.Namespace(email=user["email"], password=PASSWORD, full_name="Admin")
    assert await create_admin(make_settings(), arguments) == 0
    assert "promoted" in capsys.readouterr().out
    await events.wait_for("auth.user_updated", user_id=user["id"], role="admin")
    await events.wait_for("auth.session_revoked", user_id=user["id"])  # the old role's token
    assert (await client.get("/api/v1/users/me", headers=bearer(tokens))).status_code == 401
    weak = argparse.Namespace(email=new_email(), password="weak", full_name="Admin")
    assert await create_admin(make_settings(), weak) == 2
    assert "password_too_short" in capsys.readouterr().err


async def test_staff_routes_need_the_admin_role(client, events):
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])
    response = await client.get("/api/v1/users", headers=bearer(tokens))
    assert response.status_code == 403
    assert (await client.get("/api/v1/users")).status_code == 401


async def test_staff_deactivate_and_reactivate_with_the_admin_as_actor(client, events, admin):
    me, admin_tokens = admin
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])

    response = await client.post(
        f"/api/v1/users/{user['id']}/deactivate", headers=bearer(admin_tokens)
    )
    assert response.status_code == 200 and response.json()["is_active"] is False
    updated = await events.wait_for("auth.user_updated", user_id=user["id"], is_active=False)
    assert updated["actor"] == {"user_id": me["id"], "role": "admin"}
    revoked = await events.wait_for("auth.session_revoked", user_id=user["id"])
    assert revoked["actor"]["user_id"] == me["id"]
    assert (await client.get("/api/v1/users/me", headers=bearer(tokens))).status_code == 401
    refused = await client.post(
        "/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD}
    )
    assert refused.json()["code"] == "account_inactive"

    listed = (await client.get("/api/v1/users?limit=100", headers=bearer(admin_tokens))).json()
    assert user["id"] not in {u["id"] for u in listed["data"]}
    everyone = await _all_pages(client, admin_tokens, "include_inactive=true")
    assert user["id"] in everyone

    response = await client.post(
        f"/api/v1/users/{user['id']}/reactivate", headers=bearer(admin_tokens)
    )
    assert response.json()["is_active"] is True
    await events.wait_for("auth.user_updated", user_id=user["id"], is_active=True)
    await login(client, user["email"])


async def _all_pages(client, tokens, query: str) -> list[str]:
    ids, cursor = [], None
    for _ in range(100):
        url = f"/api/v1/users?limit=3&{query}" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url, headers=bearer(tokens))).json()
        assert len(page["data"]) <= 3
        ids += [u["id"] for u in page["data"]]
        if (cursor := page["next_cursor"]) is None:
            return ids
    pytest.fail("the pages never ended")


async def test_listing_pages_through_every_account_once(client, admin):
    _, admin_tokens = admin
    ids = await _all_pages(client, admin_tokens, "include_inactive=true")
    assert len(ids) == len(set(ids)) > 3
    bad = await client.get("/api/v1/users?cursor=garbage!", headers=bearer(admin_tokens))
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor"


async def test_staff_change_roles_which_ends_the_sessions(client, events, admin):
    me, admin_tokens = admin
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])
    response = await client.put(
        f"/api/v1/users/{user['id']}/role", json={"role": "vendor"}, headers=bearer(admin_tokens)
    )
    assert response.status_code == 200 and response.json()["role"] == "vendor"
    updated = await events.wait_for("auth.user_updated", user_id=user["id"], role="vendor")
    assert updated["actor"] == {"user_id": me["id"], "role": "admin"}
    assert (await client.get("/api/v1/users/me", headers=bearer(tokens))).status_code == 401
    relogged = await login(client, user["email"])
    me_now = (await client.get("/api/v1/users/me", headers=bearer(relogged))).json()
    assert me_now["role"] == "vendor"
    bad = await client.put(
        f"/api/v1/users/{user['id']}/role", json={"role": "root"}, headers=bearer(admin_tokens)
    )
    assert bad.status_code == 422


async def test_staff_cannot_lock_themselves_out(client, admin):
    me, admin_tokens = admin
    response = await client.post(
        f"/api/v1/users/{me['id']}/deactivate", headers=bearer(admin_tokens)
    )
    assert response.status_code == 409 and response.json()["code"] == "own_account"
    missing = await client.post(
        "/api/v1/users/00000000-0000-4000-8000-000000000000/deactivate",
        headers=bearer(admin_tokens),
    )
    assert missing.status_code == 404
