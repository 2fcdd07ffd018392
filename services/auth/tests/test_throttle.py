"""The failed-login throttle: per account from one address, per address, per account."""

from datetime import timedelta

import pydantic
import pytest
import sqlalchemy as sa

from wayfare_auth.settings import Settings
from wayfare_auth.store.models import LoginFailure

from auth_support import PASSWORD, new_email, new_ip, serve, verified_account

LIMITS = dict(
    login_max_failures_per_account_ip=3,
    login_max_failures_per_ip=6,
    login_max_failures_per_account=5,
)


@pytest.fixture(scope="module")
async def strict(make_settings):
    async with serve(make_settings(**LIMITS)) as running:
        yield running


async def _attempt(client, email: str, password: str = "Wrong-Password-0"):
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_one_address_is_stopped_without_locking_the_owner_out(strict, events):
    attacker_ip = new_ip()
    async with strict.client(attacker_ip) as attacker, strict.client() as owner:
        user = await verified_account(owner, events)
        for _ in range(3):
            assert (await _attempt(attacker, user["email"])).status_code == 401
        refused = await _attempt(attacker, user["email"], PASSWORD)  # even the right password
        assert refused.status_code == 429
        assert refused.json()["code"] == "too_many_attempts"
        assert 0 < int(refused.headers["Retry-After"]) <= 900
        # From anywhere else the owner logs in as usual.
        assert (await _attempt(owner, user["email"], PASSWORD)).status_code == 200


async def test_one_address_trying_many_accounts_is_stopped(strict):
    async with strict.client() as attacker:
        for _ in range(6):
            assert (await _attempt(attacker, new_email())).status_code == 401
        assert (await _attempt(attacker, new_email())).status_code == 429


async def test_an_account_has_a_hard_limit_across_addresses_that_ends_by_itself(strict, events):
    async with strict.client() as owner:
        user = await verified_account(owner, events)
        for _ in range(5):  # a distributed attack: one try per address
            async with strict.client() as attacker:
                assert (await _attempt(attacker, user["email"])).status_code == 401
        refused = await _attempt(owner, user["email"], PASSWORD)
        assert refused.status_code == 429
        assert 3500 <= int(refused.headers["Retry-After"]) <= 3600

        # Time-limited: once the failures are older than the hour, the account opens again.
        async with strict.app.state.database.sessions() as session:
            await session.execute(
                sa.update(LoginFailure)
                .where(LoginFailure.account == user["email"])
                .values(created_at=LoginFailure.created_at - timedelta(minutes=61))
            )
            await session.commit()
        assert (await _attempt(owner, user["email"], PASSWORD)).status_code == 200


async def test_a_successful_login_forgives_that_address_its_failures(strict, events):
    async with strict.client() as owner:
        user = await verified_account(owner, events)
        for _ in range(2):
            assert (await _attempt(owner, user["email"])).status_code == 401
        assert (await _attempt(owner, user["email"], PASSWORD)).status_code == 200
        for _ in range(2):
            assert (await _attempt(owner, user["email"])).status_code == 401
        assert (await _attempt(owner, user["email"], PASSWORD)).status_code == 200


async def test_the_default_limits_and_their_ceiling():
    settings = Settings(environment="test")
    assert settings.login_max_failures_per_account == 100
    assert settings.login_account_window == 3600
    with pytest.raises(pydantic.ValidationError):
        Settings(environment="test", login_max_failures_per_account=101)
    with pytest.raises(pydantic.ValidationError):
        Settings(environment="test", login_account_window=7200)
