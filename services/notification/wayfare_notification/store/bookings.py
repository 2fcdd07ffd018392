"""The booking projection: reference, owner, contact email, status, payment, flights."""

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_notification.store.models import Booking, BookingFlight
from wayfare_notification.store.upsert import insert

# A booking that ended never hears about its flights again.
LIVE_STATUSES = ("pending_payment", "confirmed")
FINAL_STATUSES = ("cancelled", "expired")


async def for_update(session: AsyncSession, booking_id: UUID) -> Booking:
    """The booking's row, created empty when this is the first event about it, and locked:
    events about one booking may be handled at the same moment."""
    await session.execute(
        insert(session, Booking).values(booking_id=booking_id).on_conflict_do_nothing()
    )
    row = await session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


def set_status(booking: Booking, status: str) -> None:
    """Statuses only move forward: a late `booking.created` does not reopen a cancelled
    booking, and nothing follows cancelled or expired."""
    if booking.status in FINAL_STATUSES:
        return
    if status == "pending_payment" and booking.status is not None:
        return
    booking.status = status


async def get(session: AsyncSession, booking_id: UUID) -> Booking | None:
    return await session.get(Booking, booking_id)


async def record_flights(session: AsyncSession, booking_id: UUID, flight_ids: Iterable[UUID]):
    rows = [{"booking_id": booking_id, "flight_id": flight_id} for flight_id in set(flight_ids)]
    if rows:
        await session.execute(insert(session, BookingFlight).values(rows).on_conflict_do_nothing())


async def live_on_flight(session: AsyncSession, flight_id: UUID) -> list[Booking]:
    result = await session.scalars(
        select(Booking)
        .join(BookingFlight, BookingFlight.booking_id == Booking.booking_id)
        .where(BookingFlight.flight_id == flight_id, Booking.status.in_(LIVE_STATUSES))
        .order_by(Booking.booking_id)
    )
    return list(result)
