"""The transactional outbox: events are rows written in the same transaction as the state
change that caused them, so a rolled-back change publishes nothing and a committed one
cannot lose its events. The relay (relay.py) publishes the rows after commit.
"""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, registry

from wayfare_common.events.envelope import Envelope, Event, EventContext
from wayfare_common.messaging.tables import outbox as outbox_table


@dataclass
class OutboxMessage:
    id: uuid.UUID
    routing_key: str
    body: bytes
    created_at: datetime
    seq: int | None = None
    published_at: datetime | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None


# Mapped so that recording is a plain `session.add`, flushed with the caller's own rows.
registry().map_imperatively(OutboxMessage, outbox_table)

_PENDING = "wayfare.outbox"


class Outbox:
    def __init__(self) -> None:
        self.wake = asyncio.Event()

    def record(self, session: AsyncSession, event: Event, context: EventContext) -> Envelope:
        """Add `event` to the caller's transaction; it is published after the commit."""
        envelope = context.envelope(event)
        session.add(
            OutboxMessage(
                id=envelope.id,
                routing_key=envelope.type,
                body=envelope.to_json(),
                created_at=datetime.now(UTC),
            )
        )
        session.sync_session.info[_PENDING] = self
        return envelope

    def notify(self) -> None:
        self.wake.set()


@sa_event.listens_for(Session, "after_commit")
def _wake_relay(session: Session) -> None:
    outbox = session.info.pop(_PENDING, None)
    if outbox is not None:
        outbox.notify()


@sa_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
