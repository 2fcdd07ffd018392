"""The archive of every event received: the source rebuild-read-models replays."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_admin.domain.archive import redact
from wayfare_admin.store.models import event_archive
from wayfare_common.events.envelope import Actor, Envelope


async def record(session: AsyncSession, envelope: Envelope) -> None:
    await session.execute(
        sa.insert(event_archive).values(
            event_id=envelope.id,
            type=envelope.type,
            version=envelope.version,
            occurred_at=envelope.occurred_at,
            producer=envelope.producer,
            correlation_id=envelope.correlation_id,
            causation_id=envelope.causation_id,
            actor_user_id=envelope.actor.user_id,
            actor_role=envelope.actor.role,
            data=redact(envelope.type, envelope.data),
            received_at=datetime.now(UTC),
        )
    )


async def in_order(session: AsyncSession, batch_size: int = 500) -> AsyncIterator[Envelope]:
    """Every archived event by `occurred_at` (ties by id), read in keyset batches so that
    memory stays flat and the session stays free for the writes of the replay."""
    after: tuple[datetime, uuid.UUID] | None = None
    key = sa.tuple_(event_archive.c.occurred_at, event_archive.c.event_id)
    while True:
        stmt = sa.select(event_archive).order_by(*key.clauses).limit(batch_size)
        if after is not None:
            bound = [sa.literal(v, c.type) for v, c in zip(after, key.clauses, strict=True)]
            stmt = stmt.where(key > sa.tuple_(*bound))
        rows = (await session.execute(stmt)).mappings().all()
        for row in rows:
            yield _envelope(row)
        if len(rows) < batch_size:
            return
        after = (rows[-1]["occurred_at"], rows[-1]["event_id"])


def _envelope(row) -> Envelope:
    return Envelope(
        id=row["event_id"],
        type=row["type"],
        version=row["version"],
        occurred_at=row["occurred_at"],
        producer=row["producer"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        actor=Actor(user_id=row["actor_user_id"], role=row["actor_role"]),
        data=row["data"],
    )
