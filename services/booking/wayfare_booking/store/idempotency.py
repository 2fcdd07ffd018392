"""Idempotency keys (DESIGN §5) for POST /api/v1/bookings.

The first request with a (customer, key) inserts the row and so wins (a unique
constraint, first writer wins); it stores its answer in the same transaction as the
booking. Another request with that key replays the stored answer, waits (bounded) while
the first is still working, or takes the claim over if the first died (its lock ran out),
keeping the booking id so flight sees the very same hold request. A different body under
the same key is refused."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_booking.store.models import IdempotencyKey
from wayfare_common.db import Database

POLL_SECONDS = 0.05


class KeyReused(Exception):
    """The key came with another body."""


class KeyBusy(Exception):
    """The first request with this key is still being worked on."""


@dataclass(frozen=True)
class Claim:
    id: uuid.UUID
    booking_id: uuid.UUID
    payable_until: datetime
    response: tuple[int, dict[str, Any]] | None = None  # set: replay it


async def claim(
    database: Database,
    user_id: uuid.UUID,
    key: str,
    fingerprint: str,
    *,
    payable_until: datetime,
    lock_seconds: float,
    wait_seconds: float,
) -> Claim:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        now = datetime.now(UTC)
        row = IdempotencyKey(
            id=uuid.uuid4(),
            user_id=user_id,
            key=key,
            request_hash=fingerprint,
            booking_id=uuid.uuid4(),
            payable_until=payable_until,
            locked_until=now + timedelta(seconds=lock_seconds),
            created_at=now,
        )
        try:
            async with database.sessions() as session, session.begin():
                session.add(row)
            return Claim(row.id, row.booking_id, row.payable_until)
        except IntegrityError:
            pass
        async with database.sessions() as session, session.begin():
            found = await _find(session, user_id, key)
            if found is None:
                continue  # the first request failed and let the key go: claim it
            if found.request_hash != fingerprint:
                raise KeyReused()
            if found.response_status is not None:
                return Claim(
                    found.id,
                    found.booking_id,
                    found.payable_until,
                    (found.response_status, found.response_body),
                )
            if found.locked_until is not None and found.locked_until <= now:
                taken = await session.execute(
                    sa.update(IdempotencyKey)
                    .where(
                        IdempotencyKey.id == found.id,
                        IdempotencyKey.locked_until == found.locked_until,
                    )
                    .values(locked_until=now + timedelta(seconds=lock_seconds))
                )
                if taken.rowcount == 1:  # the first request died: carry on in its place
                    return Claim(found.id, found.booking_id, found.payable_until)
        if loop.time() >= deadline:
            raise KeyBusy()
        await asyncio.sleep(POLL_SECONDS)


async def _find(session: AsyncSession, user_id: uuid.UUID, key: str) -> IdempotencyKey | None:
    return await session.scalar(
        sa.select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
        )
    )


async def complete(
    session: AsyncSession, claim_id: uuid.UUID, status: int, body: dict[str, Any]
) -> None:
    """Store the answer; call it in the transaction that stores the booking."""
    await session.execute(
        sa.update(IdempotencyKey)
        .where(IdempotencyKey.id == claim_id)
        .values(response_status=status, response_body=body, locked_until=None)
    )


async def forget(database: Database, claim_id: uuid.UUID) -> None:
    """After a failure nothing was stored: the key may be used again."""
    async with database.sessions() as session, session.begin():
        await session.execute(
            sa.delete(IdempotencyKey).where(
                IdempotencyKey.id == claim_id, IdempotencyKey.response_status.is_(None)
            )
        )


async def stored_answer(database: Database, claim_id: uuid.UUID) -> tuple[int, dict] | None:
    async with database.sessions() as session:
        row = await session.get(IdempotencyKey, claim_id)
        if row is None or row.response_status is None:
            return None
        return row.response_status, row.response_body


async def purge_older_than(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(
        sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < before)
    )
    return result.rowcount
