"""Fixtures: one real flight service process for the session (PostgreSQL, RabbitMQ, its
internal API over HTTP) with a small inventory, and a booking app per test on its own
database, on the same broker namespace so that events travel for real between them."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


from booking_support import (
    POSTGRES_REASON,
    RABBITMQ_REASON,
    running_booking,
    running_flight,
    session_namespace,
)


@pytest.fixture(scope="session")
async def namespace(amqp_server_url):
    if amqp_server_url is None:
        pytest.skip(RABBITMQ_REASON)
    async with session_namespace(amqp_server_url) as name:
        yield name


@pytest.fixture(scope="session")
async def flight(postgres_server_url, amqp_server_url, namespace, issuer, tmp_path_factory):
    if postgres_server_url is None:
        pytest.skip(POSTGRES_REASON)
    async with running_flight(
        postgres_server_url, amqp_server_url, namespace, issuer, tmp_path_factory.mktemp("flight")
    ) as env:
        yield env


@pytest.fixture
async def booking(database_url, amqp_server_url, namespace, issuer, flight):
    """The booking service (in-process, real HTTP to flight, real broker)."""
    async with running_booking(database_url, amqp_server_url, namespace, issuer, flight) as env:
        yield env
