import asyncio
import threading
import time

import pydantic
import pytest

from wayfare_auth.app import MIGRATIONS_DIR, create_app
from wayfare_auth.hashing import PasswordHashing
from wayfare_auth.settings import Settings
from wayfare_common.testing.imports import loaded_after
from wayfare_common.testing.service_checks import check_service_basics


async def test_starts_without_a_broker(database_url, tmp_path):
    await check_service_basics(
        create_app, Settings, MIGRATIONS_DIR, database_url=database_url, data_dir=tmp_path
    )


async def test_migrates_and_starts_on_sqlite(sqlite_url, tmp_path):
    await check_service_basics(
        create_app, Settings, MIGRATIONS_DIR, database_url=sqlite_url, data_dir=tmp_path
    )


async def test_starts_with_a_broker(database_url, amqp_url, amqp_namespace, tmp_path):
    await check_service_basics(
        create_app,
        Settings,
        MIGRATIONS_DIR,
        database_url=database_url,
        amqp_url=amqp_url,
        amqp_namespace=amqp_namespace,
        data_dir=tmp_path,
    )


async def test_production_hashing_is_argon2id_at_owasp_minimum_or_above():
    settings = Settings(environment="production")
    assert settings.argon2_memory_cost >= 19456
    assert settings.argon2_time_cost >= 2
    assert settings.argon2_parallelism == 1
    hashing = PasswordHashing(settings)
    try:
        stored = await hashing.hash("Correct-Horse-7-battery")
        assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert await hashing.verify(stored, "Correct-Horse-7-battery")
        assert not await hashing.verify(stored, "correct-horse-7-battery")
        assert not await hashing.verify(None, "anything")  # unknown account: dummy hash
    finally:
        hashing.close()


@pytest.mark.parametrize("environment", ["development", "production"])
def test_lower_argon2_costs_are_for_tests_only(environment):
    with pytest.raises(pydantic.ValidationError, match="OWASP"):
        Settings(environment=environment, argon2_memory_cost=1024)
    with pytest.raises(pydantic.ValidationError, match="OWASP"):
        Settings(environment=environment, argon2_time_cost=1)
    assert Settings(environment="test", argon2_memory_cost=1024).argon2_memory_cost == 1024


async def test_hashes_in_flight_are_bounded():
    settings = Settings(
        environment="test", argon2_memory_cost=256, argon2_time_cost=1, hash_concurrency=2
    )
    hashing = PasswordHashing(settings)
    running, peak, lock = 0, 0, threading.Lock()
    real = hashing.hasher

    class Counting:
        def hash(self, password):
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            try:
                time.sleep(0.02)
                return real.hash(password)
            finally:
                with lock:
                    running -= 1

    hashing.hasher = Counting()
    try:
        await asyncio.gather(*(hashing.hash("x") for _ in range(10)))
    finally:
        hashing.close()
    assert peak == 2


def test_optional_features_load_their_libraries_only_when_used():
    """authlib with Google sign-in configured, segno when a 2FA QR code is drawn."""
    code = "from wayfare_auth.app import create_app\ncreate_app()"
    assert loaded_after(code, "authlib", "segno") == set()
