"""Losing the broker: consumers come back by themselves, with their topology declared
again, and a service started while the broker is away sends its events once it appears."""

import asyncio

import aio_pika
import httpx
import pytest
from asgi_lifespan import LifespanManager
from yarl import URL

from wayfare_common.testing.plugin import eventually, wait_for_handled
from wayfare_common.testing.proxy import TcpProxy

from messaging_helpers import note_envelope, publish_envelope, running_tally
from toy import NotesSettings, create_schema, notes_app, settings


@pytest.fixture
async def broker_proxy(amqp_url):
    broker = URL(amqp_url)
    async with TcpProxy(broker.host, broker.port or 5672) as proxy:
        proxy.url = str(broker.with_host("127.0.0.1").with_port(proxy.port))
        yield proxy


async def delete_queue(amqp_url: str, name: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(name)


async def test_consumer_recovers_after_losing_the_broker_and_redeclares_its_queue(
    database_url, amqp_url, amqp_namespace, broker_proxy
):
    await create_schema(database_url)
    async with running_tally(database_url, broker_proxy.url, amqp_namespace) as (db, tally):
        await asyncio.wait_for(tally.connection_ready(), 10)
        before = note_envelope("before")
        await publish_envelope(amqp_url, amqp_namespace, before)
        await wait_for_handled(db, [before.id])

        await broker_proxy.cut()
        await eventually(lambda: tally.broker_state == "unreachable", timeout=10)
        # As after a broker that came back empty: the queue is gone.
        await delete_queue(amqp_url, tally.topology.queue_name)
        broker_proxy.restore()
        await eventually(
            lambda: tally.broker_state == "ok",
            timeout=20,
            message="the consumer did not reconnect by itself",
        )

        after = note_envelope("after")
        await eventually(
            lambda: _published(amqp_url, amqp_namespace, after),
            timeout=20,
            message="the queue was not declared again",
        )
        await wait_for_handled(db, [after.id], timeout=20)


async def _published(amqp_url, namespace, envelope) -> bool:
    """Publish once the queue is bound again (a mandatory publish fails until then)."""
    try:
        await publish_envelope(amqp_url, namespace, envelope, mandatory=True)
        return True
    except aio_pika.exceptions.DeliveryError:
        return False


async def test_service_started_without_a_broker_sends_its_events_when_one_appears(
    database_url, sqlite_url, amqp_url, amqp_namespace, broker_proxy
):
    notes_url, tally_url = database_url, sqlite_url
    for url in (notes_url, tally_url):
        await create_schema(url)
    await broker_proxy.cut()
    app = notes_app(settings(NotesSettings, notes_url, broker_proxy.url, amqp_namespace))
    async with (
        LifespanManager(app),
        running_tally(tally_url, amqp_url, amqp_namespace) as (db, tally),
    ):
        await asyncio.wait_for(tally.connection_ready(), 10)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notes") as client:
            response = await client.post("/notes", json={"text": "written offline"})
            assert response.status_code == 201
            assert (await client.get("/healthz")).status_code == 200
        broker_proxy.restore()
        await wait_for_handled(db, [response.json()["event_id"]], timeout=20)
