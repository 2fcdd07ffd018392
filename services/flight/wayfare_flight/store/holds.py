"""Seat holds: take inventory, give it back, sell it.

Every change of a count is one conditional UPDATE (`... WHERE seats_available >= n`): on
PostgreSQL concurrent updates of a row queue on its lock and re-check the condition after
the one before them commits, so the count never goes below zero with any number of
replicas; on SQLite, BEGIN IMMEDIATE serialises writers outright. CHECK constraints back
both up. Rows are always locked in the same order (hold, customer counter, inventory
sorted by key), so concurrent holds and releases cannot deadlock.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.db import dialect_insert
from wayfare_flight.store.models import (
    customer_held_seats,
    flight_cabins,
    flights,
    hold_lines,
    holds,
    package_departures,
    packages,
    seat_assignments,
)


def _insert(session: AsyncSession, table: sa.Table):
    return dialect_insert(session.bind.dialect.name, table)


@dataclass(frozen=True, slots=True)
class Line:
    """What one hold takes: seats in a cabin of a flight, or places on a departure."""

    seats: int
    flight_id: uuid.UUID | None = None
    cabin: str | None = None
    departure_id: uuid.UUID | None = None
    seat_numbers: tuple[str, ...] = ()

    @property
    def lock_order(self) -> tuple:
        return (str(self.flight_id or ""), self.cabin or "", str(self.departure_id or ""))


async def find(session: AsyncSession, booking_id: uuid.UUID):
    return (await session.execute(sa.select(holds).where(holds.c.booking_id == booking_id))).first()


async def insert(session: AsyncSession, **values) -> bool:
    """Insert the hold row; False when the booking id already has one (a concurrent
    request with the same booking id committed first)."""
    result = await session.execute(
        _insert(session, holds)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["booking_id"])
        .returning(holds.c.id)
    )
    return result.first() is not None


async def count_against_cap(
    session: AsyncSession, user_id: uuid.UUID, seats: int, cap: int
) -> bool:
    """Add `seats` to what the customer holds, unless that would pass `cap`."""
    if seats > cap:
        return False
    table = customer_held_seats
    stmt = _insert(session, table).values(user_id=user_id, seats=seats)
    stmt = stmt.on_conflict_do_update(
        index_elements=["user_id"],
        set_={"seats": table.c.seats + stmt.excluded.seats},
        where=table.c.seats + stmt.excluded.seats <= cap,
    ).returning(table.c.seats)
    return (await session.execute(stmt)).first() is not None


async def uncount(session: AsyncSession, user_id: uuid.UUID | None, seats: int) -> None:
    if user_id is None or seats == 0:
        return
    await session.execute(
        sa.update(customer_held_seats)
        .where(customer_held_seats.c.user_id == user_id)
        .values(seats=sa.func.max(customer_held_seats.c.seats - seats, 0))
        if session.bind.dialect.name == "sqlite"
        else sa.update(customer_held_seats)
        .where(customer_held_seats.c.user_id == user_id)
        .values(seats=sa.func.greatest(customer_held_seats.c.seats - seats, 0))
    )


async def take(session: AsyncSession, line: Line, now: datetime, today: date) -> bool:
    """Take the line's seats if they are all there; False (nothing taken) otherwise."""
    if line.flight_id is not None:
        bookable = sa.exists().where(
            flights.c.id == line.flight_id,
            flights.c.status == "scheduled",
            flights.c.departure_at > now,
        )
        result = await session.execute(
            sa.update(flight_cabins)
            .where(
                flight_cabins.c.flight_id == line.flight_id,
                flight_cabins.c.cabin == line.cabin,
                flight_cabins.c.seats_available >= line.seats,
                bookable,
            )
            .values(seats_available=flight_cabins.c.seats_available - line.seats)
        )
    else:
        bookable = sa.exists().where(
            packages.c.id == package_departures.c.package_id, packages.c.status == "active"
        )
        result = await session.execute(
            sa.update(package_departures)
            .where(
                package_departures.c.id == line.departure_id,
                package_departures.c.places_available >= line.seats,
                package_departures.c.starts_on > today,
                bookable,
            )
            .values(places_available=package_departures.c.places_available - line.seats)
        )
    return result.rowcount == 1


async def assign_seats(session: AsyncSession, hold_id: uuid.UUID, line: Line) -> bool:
    """Claim the chosen seats; False when any of them is held or sold already."""
    if not line.seat_numbers:
        return True
    result = await session.execute(
        _insert(session, seat_assignments)
        .values(
            [
                {"flight_id": line.flight_id, "seat": s, "hold_id": hold_id}
                for s in line.seat_numbers
            ]
        )
        .on_conflict_do_nothing()
        .returning(seat_assignments.c.seat)
    )
    return len(result.all()) == len(line.seat_numbers)


async def record_lines(session: AsyncSession, hold_id: uuid.UUID, lines: list[Line]) -> None:
    await session.execute(
        sa.insert(hold_lines),
        [
            {
                "hold_id": hold_id,
                "flight_id": line.flight_id,
                "cabin": line.cabin,
                "departure_id": line.departure_id,
                "seats": line.seats,
            }
            for line in lines
        ],
    )


async def lines_of(session: AsyncSession, hold_id: uuid.UUID) -> list:
    return list(
        await session.execute(
            sa.select(hold_lines).where(hold_lines.c.hold_id == hold_id).order_by(hold_lines.c.id)
        )
    )


async def transition(
    session: AsyncSession, booking_id: uuid.UUID, from_status: str, to_status: str, now: datetime
):
    """Move the booking's hold from one status to another; the hold row, or None when it
    was not in `from_status` (someone else moved it first, or it never was)."""
    result = await session.execute(
        sa.update(holds)
        .where(holds.c.booking_id == booking_id, holds.c.status == from_status)
        .values(status=to_status, updated_at=now)
        .returning(holds.c.id, holds.c.user_id, holds.c.seats)
    )
    return result.first()


async def give_back(session: AsyncSession, hold_id: uuid.UUID) -> list:
    """Return a hold's seats to sale and free its chosen seats; returns its lines."""
    lines = await lines_of(session, hold_id)
    for line in sorted(
        lines,
        key=lambda row: (str(row.flight_id or ""), row.cabin or "", str(row.departure_id or "")),
    ):
        if line.flight_id is not None:
            await session.execute(
                sa.update(flight_cabins)
                .where(
                    flight_cabins.c.flight_id == line.flight_id, flight_cabins.c.cabin == line.cabin
                )
                .values(seats_available=flight_cabins.c.seats_available + line.seats)
            )
        else:
            await session.execute(
                sa.update(package_departures)
                .where(package_departures.c.id == line.departure_id)
                .values(places_available=package_departures.c.places_available + line.seats)
            )
    await session.execute(sa.delete(seat_assignments).where(seat_assignments.c.hold_id == hold_id))
    return lines


async def due_for_expiry(session: AsyncSession, now: datetime, limit: int = 100) -> list:
    """Held past their expiry, oldest first. SKIP LOCKED lets replicas sweep side by side
    without waiting on (or doubly expiring) the same holds."""
    return list(
        await session.execute(
            sa.select(holds.c.id, holds.c.booking_id, holds.c.user_id, holds.c.seats)
            .where(holds.c.status == "held", holds.c.expires_at <= now)
            .order_by(holds.c.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


async def held_seats_of(session: AsyncSession, user_id: uuid.UUID) -> int:
    return (
        await session.scalar(
            sa.select(customer_held_seats.c.seats).where(customer_held_seats.c.user_id == user_id)
        )
    ) or 0
