"""Helpers shared by the messaging tests."""

import contextlib
import uuid

import aio_pika
import sqlalchemy as sa
from prometheus_client import REGISTRY

from wayfare_common.db import Database
from wayfare_common.events.envelope import Envelope, EventContext
from wayfare_common.messaging.runtime import Messaging

from toy import NoteAdded, TallySettings, settings, tally_handlers


def note_envelope(text: str = "hi") -> Envelope:
    return EventContext(producer="notes").envelope(NoteAdded(note_id=uuid.uuid4(), text=text))


async def publish_raw(
    amqp_url: str,
    namespace: str,
    body: bytes,
    routing_key: str,
    message_id: str | None = None,
    mandatory: bool = False,
) -> None:
    """Publish as any producer would, bypassing our outbox (duplicates, garbage)."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(f"{namespace}wayfare.events")
        await exchange.publish(
            aio_pika.Message(
                body,
                message_id=message_id,
                type=routing_key,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=routing_key,
            mandatory=mandatory,
        )
    finally:
        await connection.close()


async def publish_envelope(
    amqp_url: str, namespace: str, envelope: Envelope, mandatory: bool = False
) -> None:
    await publish_raw(
        amqp_url, namespace, envelope.to_json(), envelope.type, str(envelope.id), mandatory
    )


@contextlib.asynccontextmanager
async def running_tally(database_url, amqp_url, namespace, *, prefetch=32, **handler_options):
    config = settings(TallySettings, database_url, amqp_url, namespace, consumer_prefetch=prefetch)
    database = Database(database_url)
    messaging = Messaging(config, database, tally_handlers(**handler_options))
    await messaging.start()
    try:
        yield database, messaging
    finally:
        await messaging.stop()
        await database.dispose()


async def count(database: Database, table, *where) -> int:
    async with database.sessions() as session:
        return await session.scalar(sa.select(sa.func.count()).select_from(table).where(*where))


def consumed(outcome: str, service: str = "tally", type_: str = "test.note_added") -> float:
    """How many events the consumer counted with this outcome (a process-wide metric)."""
    return (
        REGISTRY.get_sample_value(
            "wayfare_events_consumed_total", {"service": service, "type": type_, "outcome": outcome}
        )
        or 0.0
    )
