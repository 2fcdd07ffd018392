"""The consumer: handles each event once, however often it is delivered.

For every message: parse the envelope, then in ONE transaction record the event id in the
inbox and run the handler; acknowledge only after that commit. A duplicate finds its id
already in the inbox and is acknowledged with no second effect; a crash before the ack
means a redelivery that is recognised the same way.

When a handler raises, a copy goes to the next delay queue (it comes back after the
delay) and the original is acknowledged; when the delays are used up, or the message can
never be handled (malformed envelope, unknown type, invalid data), it goes to the dead-
letter queue with the reason in its headers. A crash loop is caught by the broker's
delivery limit, which dead-letters the message itself.

A database that cannot be reached is not the message's fault and costs it no retry: the
message waits in place, unacknowledged (another replica gets it if this one dies), and
is handled once the database answers again.
"""

import asyncio
import functools
import traceback
from datetime import UTC, datetime

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from prometheus_client import Counter
from pydantic import ValidationError

from wayfare_common.db import Database, database_unreachable, dialect_insert
from wayfare_common.events.envelope import Envelope, EventContext, parse_envelope
from wayfare_common.messaging.handlers import EventHandlers, HandlerContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_common.messaging.publisher import Outgoing, Publisher
from wayfare_common.messaging.tables import inbox
from wayfare_common.messaging.topology import Topology

log = structlog.get_logger("wayfare.consumer")

CONSUMED = Counter(
    "wayfare_events_consumed_total",
    "Events taken from the service's queue, by what became of them",
    ["service", "type", "outcome"],  # handled | duplicate | retried | dead_lettered
)

ATTEMPT_HEADER = "x-wayfare-attempt"
ERROR_HEADER = "x-wayfare-error"
DATABASE_WAIT_FIRST, DATABASE_WAIT_MAX = 0.5, 10.0  # seconds between tries while it is away


class Unhandleable(Exception):
    """The message can never be handled; retrying would not help."""


class Consumer:
    def __init__(
        self,
        *,
        service: str,
        database: Database,
        outbox: Outbox,
        handlers: EventHandlers,
        topology: Topology,
        prefetch: int = 32,
    ):
        self.service = service
        self.database = database
        self.outbox = outbox
        self.handlers = handlers
        self.topology = topology
        self.prefetch = prefetch
        self.publisher: Publisher | None = None
        self._insert = functools.partial(dialect_insert, database.dialect)

    async def start(self, channel: AbstractChannel, publisher: Publisher) -> None:
        self.publisher = publisher
        await channel.set_qos(prefetch_count=self.prefetch)
        queue = await self.topology.declare_queues(channel)
        await queue.consume(self.on_message)

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            try:
                envelope, event, handler = self._decode(message)
                await self._handle_once_the_database_answers(envelope, event, handler)
            except Unhandleable as exc:
                await self._dead_letter(message, str(exc))
            except Exception as exc:
                await self._retry_or_dead_letter(message, exc)
            else:
                await message.ack()
        except asyncio.CancelledError:
            raise
        except Exception:
            # Could not even retry or dead-letter (broker trouble): give it back. The
            # queue's delivery limit ends a loop that would never stop.
            log.exception("message_requeued", message_id=message.message_id)
            if not message.channel.is_closed:
                await message.nack(requeue=True)

    def _decode(self, message: AbstractIncomingMessage):
        try:
            envelope = parse_envelope(message.body)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise Unhandleable(f"malformed envelope: {_short(exc)}") from exc
        entry = self.handlers.get(envelope.type, envelope.version)
        if entry is None:
            if versions := self.handlers.versions(envelope.type):
                raise Unhandleable(
                    f"{envelope.type} version {envelope.version} is not supported "
                    f"({self.service} handles version {', '.join(map(str, versions))})"
                )
            raise Unhandleable(f"{self.service} has no handler for {envelope.type}")
        event_cls, handler = entry
        try:
            event = event_cls.model_validate(envelope.data)
        except ValidationError as exc:
            raise Unhandleable(f"invalid {envelope.type} data: {_short(exc)}") from exc
        return envelope, event, handler

    async def _handle_once_the_database_answers(self, envelope: Envelope, event, handler):
        delay = DATABASE_WAIT_FIRST
        while True:
            try:
                return await self._handle(envelope, event, handler)
            except Exception as exc:
                if not database_unreachable(exc):
                    raise
                log.warning(
                    "event_waits_for_database",
                    event_id=str(envelope.id),
                    type=envelope.type,
                    retry_in=delay,
                    error=f"{type(exc).__name__}: {exc}"[:300],
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, DATABASE_WAIT_MAX)

    async def _handle(self, envelope: Envelope, event, handler) -> None:
        async with self.database.sessions() as session, session.begin():
            recorded = await session.execute(
                self._insert(inbox)
                .values(
                    event_id=envelope.id, event_type=envelope.type, handled_at=datetime.now(UTC)
                )
                .on_conflict_do_nothing()
            )
            if recorded.rowcount == 0:
                log.info("event_duplicate_ignored", event_id=str(envelope.id), type=envelope.type)
                self._count(envelope.type, "duplicate")
                return
            context = HandlerContext(
                session=session,
                envelope=envelope,
                events=EventContext(producer=self.service).caused_by(envelope),
                _outbox=self.outbox,
            )
            with structlog.contextvars.bound_contextvars(
                event_id=str(envelope.id),
                event_type=envelope.type,
                request_id=envelope.correlation_id,
            ):
                await handler(event, context)
        self._count(envelope.type, "handled")

    async def _retry_or_dead_letter(self, message: AbstractIncomingMessage, exc: Exception) -> None:
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0))
        error = f"{type(exc).__name__}: {exc}"
        if attempt >= len(self.topology.retry_delays):
            await self._dead_letter(message, error, exc)
            return
        log.warning(
            "event_handler_failed_will_retry",
            message_id=message.message_id,
            type=message.type,
            attempt=attempt + 1,
            error=error,
        )
        headers = {
            **(message.headers or {}),
            ATTEMPT_HEADER: attempt + 1,
            ERROR_HEADER: error[:1000],
        }
        await self.publisher.publish_to_queue(
            Outgoing(message.body, message.type or "", message.message_id or "", headers),
            self.topology.retry_queue(attempt),
        )
        await message.ack()
        self._count(message.type, "retried")

    async def _dead_letter(
        self, message: AbstractIncomingMessage, reason: str, exc: Exception | None = None
    ) -> None:
        log.error(
            "event_dead_lettered", message_id=message.message_id, type=message.type, reason=reason
        )
        headers = {
            **(message.headers or {}),
            ERROR_HEADER: reason[:1000],
            "x-wayfare-failed-at": datetime.now(UTC).isoformat(),
            "x-wayfare-routing-key": message.routing_key or "",
        }
        if exc is not None:
            headers["x-wayfare-traceback"] = "".join(traceback.format_exception(exc))[-4000:]
        await self.publisher.publish_to_queue(
            Outgoing(
                message.body,
                message.type or message.routing_key or "",
                message.message_id or "",
                headers,
            ),
            self.topology.dead_letter_queue,
        )
        await message.ack()
        self._count(message.type, "dead_lettered")

    def _count(self, event_type: str | None, outcome: str) -> None:
        CONSUMED.labels(self.service, event_type or "unknown", outcome).inc()


def _short(exc: Exception) -> str:
    return str(exc).replace("\n", " ")[:500]
