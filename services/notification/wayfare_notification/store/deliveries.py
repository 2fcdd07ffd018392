"""Deliveries waiting to be sent, and the log of every attempt.

Claiming moves a row's `next_attempt_at` one lease ahead and counts the attempt, in a
short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas take different
rows); the send happens after that commit. A worker that dies mid-send leaves the row to
be taken again when the lease runs out.
"""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from wayfare_notification.store.models import Delivery, DeliveryAttempt

_WAKE = "wayfare.notification.deliveries"


def wake_after_commit(session: AsyncSession, wake: asyncio.Event) -> None:
    """Wake the delivery worker once this session's transaction commits."""
    session.sync_session.info[_WAKE] = wake


@sa_event.listens_for(Session, "after_commit")
def _wake_worker(session: Session) -> None:
    wake = session.info.pop(_WAKE, None)
    if wake is not None:
        wake.set()


@sa_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_WAKE, None)


async def claim(session: AsyncSession, limit: int, lease: timedelta) -> list[Delivery]:
    now = datetime.now(UTC)
    rows = list(
        await session.scalars(
            select(Delivery)
            .where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + lease
    return rows


async def finish(
    session: AsyncSession,
    delivery: Delivery,
    *,
    outcome: str,
    detail: str,
    duration_ms: int,
    retry_at: datetime | None = None,
) -> bool:
    """Record an attempt's outcome (sent, retry or failed) and log it. False when the row
    was claimed again meanwhile (this worker overran its lease): the log still shows the
    attempt, the status is left to the newer claim."""
    now = datetime.now(UTC)
    if outcome == "sent":
        values = dict(status="sent", sent_at=now, last_error=None)
    elif outcome == "retry":
        values = dict(next_attempt_at=retry_at, last_error=detail)
    else:
        values = dict(status="failed", last_error=detail)
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery.id,
            Delivery.status == "pending",
            Delivery.attempts == delivery.attempts,
        )
        .values(**values)
    )
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            attempt=delivery.attempts,
            attempted_at=now,
            outcome=outcome,
            detail=detail[:2000],
            duration_ms=duration_ms,
        )
    )
    return result.rowcount == 1
