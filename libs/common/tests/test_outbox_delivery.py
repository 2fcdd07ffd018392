"""The outbox end to end: service A records events in its transaction, service B handles
them once; rollbacks publish nothing; a broker outage delays events but loses none."""

import asyncio
import contextlib
import uuid

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url

from wayfare_common.db import Database
from wayfare_common.messaging.tables import outbox
from wayfare_common.testing.plugin import (
    create_postgres_database,
    drop_postgres_database,
    wait_for_handled,
)
from wayfare_common.testing.proxy import TcpProxy

from messaging_helpers import count, running_tally
from toy import NotesSettings, create_schema, effects, notes_app, settings


@pytest.fixture(params=["postgres", "sqlite"])
async def two_databases(request, postgres_server_url, tmp_path):
    """A database for the producing service and one for the consuming service."""
    if request.param == "sqlite":
        urls = [f"sqlite+aiosqlite:///{tmp_path / name}.db" for name in ("notes", "tally")]
    else:
        if postgres_server_url is None:
            pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")
        urls = [await create_postgres_database(postgres_server_url) for _ in range(2)]
    for url in urls:
        await create_schema(url)
    yield urls
    if request.param == "postgres":
        for url in urls:
            await drop_postgres_database(url)


@contextlib.asynccontextmanager
async def running_notes(database_url, amqp_url, namespace):
    app = notes_app(settings(NotesSettings, database_url, amqp_url, namespace))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notes") as client:
            yield app, client


async def test_event_recorded_in_one_service_is_handled_once_by_another(
    two_databases, amqp_url, amqp_namespace
):
    notes_url, tally_url = two_databases
    async with running_tally(tally_url, amqp_url, amqp_namespace) as (tally_db, tally):
        await asyncio.wait_for(tally.connection_ready(), 10)
        async with running_notes(notes_url, amqp_url, amqp_namespace) as (_, client):
            response = await client.post("/notes", json={"text": "hello"})
            assert response.status_code == 201
            event_id = uuid.UUID(response.json()["event_id"])
            await wait_for_handled(tally_db, [event_id])
            assert await count(tally_db, effects, effects.c.event_id == event_id) == 1

            notes_db = Database(notes_url)
            published = await count(notes_db, outbox, outbox.c.published_at.is_not(None))
            await notes_db.dispose()
            assert published == 1


async def test_rolled_back_transaction_publishes_nothing(two_databases, amqp_url, amqp_namespace):
    notes_url, tally_url = two_databases
    async with running_tally(tally_url, amqp_url, amqp_namespace) as (tally_db, tally):
        await asyncio.wait_for(tally.connection_ready(), 10)
        async with running_notes(notes_url, amqp_url, amqp_namespace) as (_, client):
            refused = await client.post("/notes", json={"text": "no", "fail_after_recording": True})
            assert refused.status_code == 409
            accepted = await client.post("/notes", json={"text": "yes"})
            # The accepted note's event was recorded after the refused one: once it has
            # been handled, the refused one would have been too, had it existed.
            await wait_for_handled(tally_db, [uuid.UUID(accepted.json()["event_id"])])

        notes_db = Database(notes_url)
        assert await count(notes_db, outbox) == 1
        await notes_db.dispose()
        assert await count(tally_db, effects) == 1


async def test_broker_outage_delays_events_and_loses_none(two_databases, amqp_url, amqp_namespace):
    notes_url, tally_url = two_databases
    broker = make_url(amqp_url.replace("amqp://", "postgresql://"))  # only to parse host/port
    async with (
        TcpProxy(broker.host, broker.port or 5672) as proxy,
        running_tally(tally_url, amqp_url, amqp_namespace) as (tally_db, tally),
    ):
        await asyncio.wait_for(tally.connection_ready(), 10)
        proxied = amqp_url.replace(
            f"{broker.host}:{broker.port or 5672}", f"127.0.0.1:{proxy.port}"
        )
        async with running_notes(notes_url, proxied, amqp_namespace) as (app, client):
            await asyncio.wait_for(app.state.messaging.connection_ready(), 10)
            await proxy.cut()

            event_ids = []
            for i in range(200):
                response = await client.post("/notes", json={"text": f"note {i}"})
                assert response.status_code == 201, response.text
                event_ids.append(uuid.UUID(response.json()["event_id"]))
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["broker"] == "unreachable"
            notes_db = Database(notes_url)
            assert await count(notes_db, outbox, outbox.c.published_at.is_(None)) == 200

            proxy.restore()
            await wait_for_handled(tally_db, event_ids, timeout=60)
            assert await count(notes_db, outbox, outbox.c.published_at.is_(None)) == 0
            await notes_db.dispose()

    assert await count(tally_db, effects) == 200
    async with tally_db.sessions() as session:
        distinct = await session.scalar(sa.select(sa.func.count(sa.distinct(effects.c.event_id))))
    assert distinct == 200
