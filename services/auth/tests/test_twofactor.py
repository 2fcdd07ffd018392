"""TOTP two-factor authentication with backup codes."""

import base64
import time

import pyotp
import pytest

from wayfare_common.security import InvalidToken

from auth_support import PASSWORD, bearer, login, token_from_link, verified_account


def _code(secret: str, steps_ahead: int = 0) -> str:
    """The code of a later time step: each step's code is accepted once (no replays)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


@pytest.fixture
async def two_factor_user(client, events):
    """An account with TOTP on: (user, secret, backup codes, the enabling session's tokens,
    the code that enabled it)."""
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])
    setup = await client.post("/api/v1/auth/2fa/setup", headers=bearer(tokens))
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    wrong = await client.post(
        "/api/v1/auth/2fa/enable", json={"code": "000000"}, headers=bearer(tokens)
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_code"
    first_code = _code(secret)
    enabled = await client.post(
        "/api/v1/auth/2fa/enable", json={"code": first_code}, headers=bearer(tokens)
    )
    assert enabled.status_code == 200, enabled.text
    return user, secret, enabled.json()["backup_codes"], tokens, first_code


async def _first_step(client, email: str, password: str = PASSWORD) -> str:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mfa_required"] is True and "access_token" not in body
    return body["mfa_token"]


async def _second_step(client, mfa_token: str, code: str):
    return await client.post("/api/v1/auth/login/2fa", json={"mfa_token": mfa_token, "code": code})


async def test_setup_gives_a_secret_an_otpauth_uri_and_a_qr_image(client, events):
    user = await verified_account(client, events)
    tokens = await login(client, user["email"])
    body = (await client.post("/api/v1/auth/2fa/setup", headers=bearer(tokens))).json()
    assert pyotp.parse_uri(body["otpauth_uri"]).secret == body["secret"]
    assert body["otpauth_uri"].startswith("otpauth://totp/Wayfare:")
    prefix = "data:image/png;base64,"
    assert body["qr_png"].startswith(prefix)
    assert base64.b64decode(body["qr_png"][len(prefix) :]).startswith(b"\x89PNG\r\n\x1a\n")
    me = (await client.get("/api/v1/users/me", headers=bearer(tokens))).json()
    assert me["totp_enabled"] is False  # not until a code confirms it
    assert "access_token" in await login(client, user["email"])


async def test_login_needs_a_second_factor_once_enabled(client, two_factor_user, service):
    user, secret, backup_codes, _, first_code = two_factor_user
    assert len(backup_codes) == 10 and len(set(backup_codes)) == 10

    mfa_token = await _first_step(client, user["email"])
    with pytest.raises(InvalidToken) as refused:  # not an access token
        await service.verifier().verify(mfa_token)
    assert refused.value.reason == "wrong_type"
    wrong = await _second_step(
        client, mfa_token, "123456" if _code(secret, 1) != "123456" else "654321"
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_code"

    # The code used to enable is spent; the next time step's code works, once.
    replay = await _second_step(client, mfa_token, first_code)
    assert replay.status_code == 401
    ok = await _second_step(client, mfa_token, _code(secret, 1))
    assert ok.status_code == 200, ok.text
    principal = await service.verifier().verify(ok.json()["access_token"])
    assert principal.user_id == user["id"]
    # The mfa token is single use too.
    assert (await _second_step(client, mfa_token, backup_codes[0])).status_code == 401


async def test_backup_codes_work_once_each(client, two_factor_user):
    user, _, backup_codes, _, _ = two_factor_user
    ok = await _second_step(
        client, await _first_step(client, user["email"]), backup_codes[0].upper()
    )
    assert ok.status_code == 200, ok.text
    again = await _second_step(client, await _first_step(client, user["email"]), backup_codes[0])
    assert again.status_code == 401 and again.json()["code"] == "invalid_code"
    other = await _second_step(client, await _first_step(client, user["email"]), backup_codes[1])
    assert other.status_code == 200


async def test_disabling_needs_the_password_and_a_code(client, two_factor_user):
    user, _, backup_codes, tokens, _ = two_factor_user
    no_password = await client.post(
        "/api/v1/auth/2fa/disable",
        json={"password": "Wrong-pass-1!", "code": backup_codes[0]},
        headers=bearer(tokens),
    )
    assert no_password.status_code == 403
    no_code = await client.post(
        "/api/v1/auth/2fa/disable",
        json={"password": PASSWORD, "code": "00000000000"},
        headers=bearer(tokens),
    )
    assert no_code.status_code == 403
    ok = await client.post(
        "/api/v1/auth/2fa/disable",
        json={"password": PASSWORD, "code": backup_codes[0]},
        headers=bearer(tokens),
    )
    assert ok.status_code == 204
    assert "access_token" in await login(client, user["email"])


async def test_a_password_reset_keeps_two_factor_on(client, events, two_factor_user):
    user, secret, _, _, _ = two_factor_user
    await client.post("/api/v1/auth/password/forgot", json={"email": user["email"]})
    mail = await events.wait_for("auth.password_reset_requested", user_id=user["id"])
    token = token_from_link(mail["data"]["reset_url"])
    new_password = "Reset-But-Still-2FA-9"
    response = await client.post(
        "/api/v1/auth/password/reset", json={"token": token, "password": new_password}
    )
    assert response.status_code == 204
    mfa_token = await _first_step(client, user["email"], new_password)
    assert (await _second_step(client, mfa_token, _code(secret, 1))).status_code == 200


async def test_an_mfa_token_dies_with_a_password_change(client, events, two_factor_user):
    user, _, backup_codes, tokens, _ = two_factor_user
    mfa_token = await _first_step(client, user["email"])
    changed = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "Changed-Meanwhile-5"},
        headers=bearer(tokens),
    )
    assert changed.status_code == 204
    response = await _second_step(client, mfa_token, backup_codes[0])
    assert response.status_code == 401 and response.json()["code"] == "invalid_mfa_token"
