"""The pytest plugin every Wayfare package's tests share (registered as `pytest11`).

Real servers, never fakes: PostgreSQL from TEST_DATABASE_URL and RabbitMQ from
TEST_AMQP_URL, else testcontainers when a Docker engine answers, else the tests that need
them are skipped with a reason that names the variable to set. Each test gets its own
database and its own broker namespace, so tests cannot see each other's data or messages.
"""

import asyncio
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

import aio_pika
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from wayfare_common.db import Database
from wayfare_common.messaging import topology
from wayfare_common.messaging.tables import inbox
from wayfare_common.testing.smtp import smtp_server  # noqa: F401  (fixture)

POSTGRES_REASON = "needs PostgreSQL: set TEST_DATABASE_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/postgres) or run a Docker engine"
RABBITMQ_REASON = "needs RabbitMQ: set TEST_AMQP_URL (e.g. amqp://guest:guest@127.0.0.1:5672/) or run a Docker engine"


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterable[str | None]:
    """The URL of a PostgreSQL server the tests may create databases on, or None."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
    elif _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver="asyncpg") as container:
            yield container.get_connection_url()
    else:
        yield None


@pytest.fixture(scope="session")
def amqp_server_url() -> Iterable[str | None]:
    if url := os.environ.get("TEST_AMQP_URL"):
        yield url
    elif _docker_answers():
        from testcontainers.rabbitmq import RabbitMqContainer

        with RabbitMqContainer("rabbitmq:3.13-management-alpine") as container:
            params = container.get_connection_params()
            yield f"amqp://guest:guest@{params.host}:{params.port}/"
    else:
        yield None


async def _admin_execute(server_url: str, sql: str) -> None:
    from wayfare_common.db import connect_asyncpg

    connection = await connect_asyncpg(server_url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def create_postgres_database(server_url: str) -> str:
    name = f"wayfare_test_{uuid.uuid4().hex[:12]}"
    await _admin_execute(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    maintenance = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    await _admin_execute(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def postgres_url(postgres_server_url):
    """A fresh, empty PostgreSQL database for this test, dropped afterwards."""
    if postgres_server_url is None:
        pytest.skip(POSTGRES_REASON)
    url = await create_postgres_database(postgres_server_url)
    yield url
    await drop_postgres_database(url)


@pytest.fixture
async def database_url(postgres_server_url, tmp_path: Path):
    """A fresh, empty database for this test: PostgreSQL when one is configured, else a
    SQLite file (the embedded default)."""
    if postgres_server_url is None:
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    url = await create_postgres_database(postgres_server_url)
    yield url
    await drop_postgres_database(url)


@pytest.fixture(params=["postgres", "sqlite"])
async def any_database_url(request, postgres_server_url, tmp_path: Path):
    """The test runs twice: on a fresh PostgreSQL database, then on a SQLite file."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    if postgres_server_url is None:
        pytest.skip(POSTGRES_REASON)
    url = await create_postgres_database(postgres_server_url)
    yield url
    await drop_postgres_database(url)


@pytest.fixture(scope="session")
async def issuer():
    """A stand-in for auth's signing side, its JWKS served over real HTTP at
    `issuer.jwks_url` (point a service's `jwks_url` setting there)."""
    from wayfare_common.testing.tokens import TokenIssuer

    token_issuer = TokenIssuer()
    async with token_issuer.serve() as jwks:
        token_issuer.jwks_url = jwks.url
        yield token_issuer


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


REDIS_REASON = (
    "needs Redis: set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0) or run a Docker engine"
)


@pytest.fixture(scope="session")
def redis_server_url() -> Iterable[str | None]:
    if url := os.environ.get("TEST_REDIS_URL"):
        yield url
    elif _docker_answers():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7-alpine") as container:
            yield f"redis://{container.get_container_host_ip()}:{container.get_exposed_port(6379)}/0"
    else:
        yield None


@pytest.fixture
def redis_url(redis_server_url) -> str:
    """A Redis server; tests keep their keys apart with their `amqp_namespace`-style
    prefixes (the gateway prefixes its keys with AMQP_NAMESPACE)."""
    if redis_server_url is None:
        pytest.skip(REDIS_REASON)
    return redis_server_url


@pytest.fixture
def amqp_url(amqp_server_url) -> str:
    if amqp_server_url is None:
        pytest.skip(RABBITMQ_REASON)
    return amqp_server_url


@pytest.fixture
async def amqp_namespace(amqp_url):
    """A name prefix for this test's exchange and queues; deleted afterwards."""
    namespace = f"test-{uuid.uuid4().hex[:10]}."
    yield namespace
    names = topology.declared.pop(namespace, set())
    if not names:
        return
    connection = await aio_pika.connect(amqp_url)
    try:
        for kind, name in sorted(names, reverse=True):  # queues before exchanges
            channel = await connection.channel()
            try:
                if kind == "queue":
                    await channel.queue_delete(name)
                else:
                    await channel.exchange_delete(name)
            except Exception:
                pass
            finally:
                if not channel.is_closed:
                    await channel.close()
    finally:
        await connection.close()


async def wait_for_handled(
    database: Database, event_ids: Iterable[uuid.UUID], timeout: float = 10.0
) -> None:
    """Wait until every one of `event_ids` is in the service's inbox (handled and
    committed); fail the test after `timeout` seconds."""
    wanted = {uuid.UUID(str(event_id)) for event_id in event_ids}
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with database.sessions() as session:
            done = await session.scalar(
                select(func.count()).select_from(inbox).where(inbox.c.event_id.in_(wanted))
            )
        if done == len(wanted):
            return
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"only {done} of {len(wanted)} events were handled within {timeout} s")
        await asyncio.sleep(0.05)


async def eventually(check, timeout: float = 10.0, interval: float = 0.05, message: str = ""):
    """Poll an async or plain `check()` until it returns a truthy value (bounded)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(message or f"condition not met within {timeout} s")
        await asyncio.sleep(interval)
