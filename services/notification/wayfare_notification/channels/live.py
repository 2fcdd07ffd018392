"""Live push of in-app notifications to the streams connected to any replica.

A notification is committed by whichever replica handled its event, but the person's
stream may be connected to another one. So the handler records `notification.created`
in the outbox (published after the commit, never for a rolled-back one); every replica
has its own exclusive queue bound to that routing key, and hands what arrives to its
`LiveHub`, which passes it to that user's open streams. Without a broker (AMQP_URL empty:
one process) the hub is fed straight after the commit.

The push is best effort: a stream that was not connected, or fell behind, catches up
from the database with `Last-Event-ID`.
"""

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import structlog
from aio_pika.abc import AbstractIncomingMessage
from prometheus_client import Gauge
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from wayfare_common.events.catalog import NotificationCreated
from wayfare_common.events.envelope import parse_envelope
from wayfare_common.messaging.runtime import Messaging

log = structlog.get_logger("wayfare.notification.live")

STREAMS = Gauge("wayfare_notification_streams", "Notification streams open on this replica")

CLOSED = object()  # put on a stream's queue to end it


def public(notification: NotificationCreated) -> dict[str, Any]:
    """The notification as the API shows it (without the owner)."""
    return {**notification.model_dump(mode="json", exclude={"user_id"}), "read_at": None}


class LiveHub:
    """The streams open on this replica, by user."""

    def __init__(self, queue_size: int = 256):
        self.queue_size = queue_size
        self._streams: dict[uuid.UUID, set[asyncio.Queue]] = defaultdict(set)

    @contextlib.contextmanager
    def subscribe(self, user_id: uuid.UUID) -> Iterator[asyncio.Queue]:
        queue: asyncio.Queue = asyncio.Queue(self.queue_size)
        self._streams[user_id].add(queue)
        STREAMS.inc()
        try:
            yield queue
        finally:
            STREAMS.dec()
            streams = self._streams.get(user_id)
            if streams is not None:
                streams.discard(queue)
                if not streams:
                    del self._streams[user_id]

    def publish(self, notification: NotificationCreated) -> None:
        item = public(notification)
        for queue in list(self._streams.get(notification.user_id, ())):
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                # A client that does not read is let go; it resumes from the database.
                _close(queue)

    def close(self) -> None:
        """End every stream (shutdown)."""
        for streams in list(self._streams.values()):
            for queue in list(streams):
                _close(queue)

    def stream_count(self, user_id: uuid.UUID) -> int:
        return len(self._streams.get(user_id, ()))


def _close(queue: asyncio.Queue) -> None:
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(CLOSED)


class BrokerFeed:
    """This replica's exclusive queue for `notification.created`, feeding its hub. The
    robust connection re-declares and re-binds it after a broker restart."""

    def __init__(self, hub: LiveHub, namespace: str = ""):
        self.hub = hub
        self.queue_name = f"{namespace}notification.live.{uuid.uuid4().hex[:12]}"
        self.ready = asyncio.Event()

    async def run(self, messaging: Messaging) -> None:
        await messaging.connection_ready()
        channel = await messaging.connection.channel()
        exchange = await messaging.topology.declare_exchange(channel)
        queue = await channel.declare_queue(self.queue_name, exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=NotificationCreated.type)
        await queue.consume(self._on_message, no_ack=True)
        self.ready.set()
        log.info("live_feed_ready", queue=self.queue_name)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            envelope = parse_envelope(message.body)
            self.hub.publish(NotificationCreated.model_validate(envelope.data))
        except ValueError as exc:
            log.warning("live_message_ignored", message_id=message.message_id, error=str(exc))


# Without a broker: straight to the hub once the transaction commits.
_LOCAL = "wayfare.notification.live"


def publish_after_commit(
    session: AsyncSession, hub: LiveHub, notification: NotificationCreated
) -> None:
    session.sync_session.info.setdefault(_LOCAL, []).append((hub, notification))


@sa_event.listens_for(Session, "after_commit")
def _publish_local(session: Session) -> None:
    for hub, notification in session.info.pop(_LOCAL, ()):
        hub.publish(notification)


@sa_event.listens_for(Session, "after_rollback")
def _forget_local(session: Session) -> None:
    session.info.pop(_LOCAL, None)
