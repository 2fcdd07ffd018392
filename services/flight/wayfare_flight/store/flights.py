"""Reads and writes of single flights: details, seat maps, offers' legs, staff changes."""

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_flight.store.models import flight_cabins, flights, seat_assignments


async def get_flight(session: AsyncSession, flight_id: uuid.UUID):
    return (await session.execute(sa.select(flights).where(flights.c.id == flight_id))).first()


async def cabins_of(session: AsyncSession, flight_id: uuid.UUID) -> list:
    return list(
        await session.execute(
            sa.select(flight_cabins)
            .where(flight_cabins.c.flight_id == flight_id)
            .order_by(flight_cabins.c.first_row)
        )
    )


async def taken_seats(session: AsyncSession, flight_id: uuid.UUID) -> set[str]:
    result = await session.scalars(
        sa.select(seat_assignments.c.seat).where(seat_assignments.c.flight_id == flight_id)
    )
    return set(result)


async def offer_legs(session: AsyncSession, flight_ids: tuple[uuid.UUID, ...], cabin: str):
    """The legs of an offer in the shape the search returns (store.search), in travel
    order, with each flight's status and departure; None when a flight or cabin is gone."""
    rows = {
        row.id: row
        for row in await session.execute(
            sa.select(
                flights.c.id,
                flights.c.carrier_code,
                flights.c.flight_number,
                flights.c.origin,
                flights.c.destination,
                flights.c.departure_minute,
                flights.c.arrival_minute,
                flight_cabins.c.seats_available,
                flight_cabins.c.saver_fare,
                flight_cabins.c.flex_fare,
                flights.c.status,
                flights.c.departure_at,
            )
            .join(flight_cabins, flight_cabins.c.flight_id == flights.c.id)
            .where(flights.c.id.in_(flight_ids), flight_cabins.c.cabin == cabin)
        )
    }
    if len(rows) != len(flight_ids):
        return None
    return [rows[flight_id] for flight_id in flight_ids]


async def insert_flight(session: AsyncSession, flight: dict, cabins: list[dict]) -> None:
    await session.execute(sa.insert(flights).values(**flight))
    await session.execute(sa.insert(flight_cabins), cabins)


async def update_flight(session: AsyncSession, flight_id: uuid.UUID, values: dict) -> None:
    await session.execute(sa.update(flights).where(flights.c.id == flight_id).values(**values))


async def lock_flight(session: AsyncSession, flight_id: uuid.UUID):
    """The flight row, locked until the end of the transaction (PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serialises writers), so two staff changes cannot interleave."""
    return (
        await session.execute(sa.select(flights).where(flights.c.id == flight_id).with_for_update())
    ).first()


async def has_flights(session: AsyncSession) -> bool:
    return (await session.execute(sa.select(flights.c.id).limit(1))).first() is not None
