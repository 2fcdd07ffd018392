"""Queries on bookings: read, lock, list, insert with a fresh reference, and find the
ones the background work is due to expire or complete."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_booking.domain.references import ReferenceGenerator
from wayfare_booking.store.models import Booking, PaymentRecord
from wayfare_common.pagination import Page, PageParams, paginate

REFERENCE_ATTEMPTS = 10


class NoFreeReference(Exception):
    """Every reference tried was taken: the generator is broken (or the space is full)."""


async def get(
    session: AsyncSession, booking_id: uuid.UUID, *, lock: bool = False
) -> Booking | None:
    stmt = sa.select(Booking).where(Booking.id == booking_id)
    if lock:  # serialises a request and an event acting on the same booking
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def page_of(
    session: AsyncSession, user_id: uuid.UUID, status: str | None, page: PageParams
) -> Page:
    stmt = sa.select(Booking).where(Booking.user_id == user_id)
    if status is not None:
        stmt = stmt.where(Booking.status == status)
    return await paginate(session, stmt, [Booking.created_at, Booking.id], page, descending=True)


def _reference_taken(err: IntegrityError) -> bool:
    # asyncpg names the constraint (uq_bookings_reference); SQLite the column.
    message = str(err.orig)
    return "uq_bookings_reference" in message or "bookings.reference" in message


async def insert_with_reference(
    session: AsyncSession, booking: Booking, generate: ReferenceGenerator
) -> None:
    """Insert `booking` under the first free reference from `generate`. The unique
    constraint decides; a collision rolls back to a savepoint and tries a new one."""
    for _ in range(REFERENCE_ATTEMPTS):
        booking.reference = generate()
        try:
            async with session.begin_nested():
                session.add(booking)
                await session.flush()
            return
        except IntegrityError as err:
            if not _reference_taken(err):
                raise
    raise NoFreeReference()


async def due_to_expire(session: AsyncSession, before: datetime, limit: int) -> list[Booking]:
    stmt = (
        sa.select(Booking)
        .where(Booking.status == "pending_payment", Booking.payable_until < before)
        .order_by(Booking.payable_until)
        .limit(limit)
        .with_for_update(skip_locked=True)  # replicas share the work (ignored on SQLite)
    )
    return list((await session.execute(stmt)).scalars())


async def due_to_complete(session: AsyncSession, before: datetime, limit: int) -> list[Booking]:
    stmt = (
        sa.select(Booking)
        .where(Booking.status == "confirmed", Booking.travel_ends_at < before)
        .order_by(Booking.travel_ends_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def success_recorded(session: AsyncSession, payment_id: uuid.UUID) -> bool:
    found = await session.scalar(
        sa.select(PaymentRecord.event_id).where(
            PaymentRecord.payment_id == payment_id, PaymentRecord.kind == "succeeded"
        )
    )
    return found is not None
