"""The precomputed itineraries behind search: every direct flight and every valid one-stop
connection, one row each, keyed (origin, local departure date, destination).

A search is one index range read of this table plus, per leg, the requested cabin's live
seats and fares from flight_cabins by primary key: the same rows, in the same shape, as
the live query of store.search, which stays as the reference (tests compare the two).

The table is a function of `flights` and is kept so:
- the seeder rebuilds whole days in bulk (INSERT ... SELECT joining flights under the
  connection rules, sorted so one search's rows sit together on disk);
- a staff change deletes the rows of the flight it changes (as it was) and inserts the
  rows it now makes (as it is), in the same transaction, under one lock per database so
  that two concurrent changes always see each other's flights.
Rows hold scheduled flights only; cancelling a flight removes its rows.

Rows holding a flight F, with F as it was:
- F direct, or F then a second leg: origin = F.origin, departure_date = F.departure_date
  and leg1_id = F.id (the search index's prefix);
- a first leg G then F: leg2_id = F.id, destination = F.destination, and (origin,
  departure_date) of a G that lands at F.origin 45 minutes to 6 hours before F left. G's
  rows were rebuilt whenever G changed, so every such row was built with G as it is now.
"""

import asyncio
import uuid
from collections.abc import Callable
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from wayfare_common.db import Database
from wayfare_flight.store.models import airports, flight_cabins, flights, itineraries
from wayfare_flight.store.search import MAX_LAYOVER_MINUTES, MIN_CONNECTION_MINUTES, CandidateQuery

COLUMNS = [column.name for column in itineraries.columns]
CHANGE_LOCK = 4242002  # pg_advisory_xact_lock key: one itinerary rebuild at a time
REBUILD_DAYS_PER_STATEMENT = 7
REBUILD_WORKERS = 2


# Building


def _connections(where: Callable, *, from_second: bool = False) -> sa.Select:
    """Valid one-stop connections (domain.connections) as itinerary rows. The window is
    written from the side the caller pins down, so the other leg is found by an index
    range: ix_flights_origin_departure for second legs, ix_flights_destination_arrival
    for first legs."""
    f1, f2 = flights.alias("f1"), flights.alias("f2")
    if from_second:
        window = f1.c.arrival_minute.between(
            f2.c.departure_minute - MAX_LAYOVER_MINUTES,
            f2.c.departure_minute - MIN_CONNECTION_MINUTES,
        )
    else:
        window = f2.c.departure_minute.between(
            f1.c.arrival_minute + MIN_CONNECTION_MINUTES,
            f1.c.arrival_minute + MAX_LAYOVER_MINUTES,
        )
    return (
        sa.select(
            f1.c.origin.label("origin"),
            f1.c.departure_date.label("departure_date"),
            f2.c.destination.label("destination"),
            f1.c.departure_minute.label("departure_minute"),
            f2.c.arrival_minute.label("arrival_minute"),
            f1.c.id.label("leg1_id"),
            f1.c.carrier_code.label("leg1_carrier"),
            f1.c.flight_number.label("leg1_number"),
            f1.c.arrival_minute.label("leg1_arrival_minute"),
            f1.c.destination.label("stop"),
            f2.c.id.label("leg2_id"),
            f2.c.carrier_code.label("leg2_carrier"),
            f2.c.flight_number.label("leg2_number"),
            f2.c.departure_minute.label("leg2_departure_minute"),
        )
        .select_from(f1)
        .join(f2, sa.and_(f2.c.origin == f1.c.destination, window))
        .where(
            f1.c.status == "scheduled",
            f2.c.status == "scheduled",
            f2.c.destination != f1.c.origin,
            *where(f1, f2),
        )
    )


def _directs(*where) -> sa.Select:
    f = flights
    return sa.select(
        f.c.origin,
        f.c.departure_date,
        f.c.destination,
        f.c.departure_minute,
        f.c.arrival_minute,
        f.c.id,
        f.c.carrier_code,
        f.c.flight_number,
        f.c.arrival_minute,
        sa.null(),
        sa.null(),
        sa.null(),
        sa.null(),
        sa.null(),
    ).where(f.c.status == "scheduled", *where)


def _insert(select: sa.Select | sa.CompoundSelect) -> sa.Insert:
    return sa.insert(itineraries).from_select(COLUMNS, select)


async def lock_for_change(
    connection: AsyncConnection | AsyncSession, *, shared: bool = False
) -> None:
    """Serialise itinerary rebuilds until the transaction ends: a staff change must see
    the flights another change has just committed. The seeder's rebuilds of disjoint
    days take the lock shared (with each other, not with a staff change). SQLite's BEGIN
    IMMEDIATE already serialises writers."""
    bind = connection.bind if isinstance(connection, AsyncSession) else connection
    if bind.dialect.name == "postgresql":
        lock = sa.func.pg_advisory_xact_lock_shared if shared else sa.func.pg_advisory_xact_lock
        await connection.execute(sa.select(lock(CHANGE_LOCK)))


async def rebuild_days(
    connection: AsyncConnection, first: date, last: date, *, alongside: bool = False
) -> int:
    """Recompute every itinerary whose first leg leaves on a local date in [first, last],
    in the caller's transaction; returns the rows written. `alongside`: other rebuilds of
    other days run at the same time (the seeder's workers)."""
    i = itineraries
    await lock_for_change(connection, shared=alongside)
    await connection.execute(
        sa.delete(i).where(
            # By the search index: every origin, then the dates.
            i.c.origin.in_(sa.select(airports.c.iata_code)),
            i.c.departure_date.between(first, last),
        )
    )
    # Connections first: the union's column types come from its first select.
    built = sa.union_all(
        _connections(lambda f1, f2: [f1.c.departure_date.between(first, last)]),
        _directs(flights.c.departure_date.between(first, last)),
    ).subquery("built")
    ordered = sa.select(built).order_by(built.c.origin, built.c.departure_date, built.c.destination)
    result = await connection.execute(_insert(ordered))
    return result.rowcount


async def rebuild_range(database: Database, first: date, last: date) -> int:
    """rebuild_days over a long range, a week per transaction (the seeder). On PostgreSQL
    two workers build different weeks at once (one per core: an INSERT ... SELECT runs
    in one backend)."""
    weeks = []
    day = first
    while day <= last:
        until = min(last, day + timedelta(days=REBUILD_DAYS_PER_STATEMENT - 1))
        weeks.append((day, until))
        day = until + timedelta(days=1)
    postgres = database.dialect == "postgresql"
    total = 0

    async def worker() -> None:
        nonlocal total
        while weeks:
            week = weeks.pop(0)
            async with database.engine.begin() as connection:
                if postgres:  # a week's rows sorted in memory rather than on disk
                    await connection.execute(sa.text("SET LOCAL work_mem = '256MB'"))
                rows = await rebuild_days(connection, *week, alongside=postgres)
            total += rows

    await asyncio.gather(*(worker() for _ in range(REBUILD_WORKERS if postgres else 1)))
    if postgres:
        async with database.engine.connect() as connection:
            await connection.execute(sa.text("ANALYZE itineraries"))
            await connection.commit()
    return total


async def add_flight(session: AsyncSession, flight_id: uuid.UUID) -> None:
    """Insert the itineraries the flight makes as it is now (none unless scheduled)."""
    await session.execute(_insert(_directs(flights.c.id == flight_id)))
    await session.execute(_insert(_connections(lambda f1, f2: [f1.c.id == flight_id])))
    await session.execute(
        _insert(_connections(lambda f1, f2: [f2.c.id == flight_id], from_second=True))
    )


async def remove_flight(session: AsyncSession, flight) -> None:
    """Delete the itineraries holding `flight` (a flights row as it was before a change)."""
    i = itineraries
    await session.execute(
        sa.delete(i).where(
            i.c.origin == flight.origin,
            i.c.departure_date == flight.departure_date,
            i.c.leg1_id == flight.id,
        )
    )
    g = flights.alias("g")
    first_legs = sa.select(g.c.origin, g.c.departure_date).where(
        g.c.destination == flight.origin,
        g.c.arrival_minute.between(
            flight.departure_minute - MAX_LAYOVER_MINUTES,
            flight.departure_minute - MIN_CONNECTION_MINUTES,
        ),
    )
    await session.execute(
        sa.delete(i).where(
            i.c.leg2_id == flight.id,
            i.c.destination == flight.destination,
            sa.tuple_(i.c.origin, i.c.departure_date).in_(first_legs),
        )
    )


# Searching

_LEGS = """
SELECT i.leg1_id, i.leg1_carrier, i.leg1_number, i.origin, coalesce(i.stop, i.destination),
       i.departure_minute, i.leg1_arrival_minute,
       c1.seats_available, c1.saver_fare, c1.flex_fare,
       i.leg2_id, i.leg2_carrier, i.leg2_number, i.stop, i.destination,
       i.leg2_departure_minute, i.arrival_minute,
       c2.seats_available, c2.saver_fare, c2.flex_fare
FROM itineraries i
JOIN flight_cabins c1 ON c1.flight_id = i.leg1_id AND c1.cabin = $4
LEFT JOIN flight_cabins c2 ON c2.flight_id = i.leg2_id AND c2.cabin = $4
WHERE {route} AND i.departure_date = $3
  AND i.departure_minute BETWEEN $6 AND $7
  AND ($9 OR i.leg2_id IS NULL)
  AND ($8::text[] IS NULL
       OR (i.leg1_carrier = ANY($8::text[])
           AND (i.leg2_id IS NULL OR i.leg2_carrier = ANY($8::text[]))))
  AND c1.seats_available >= $5
  AND (i.leg2_id IS NULL OR c2.seats_available >= $5)
"""
# One airport each way (the common case): scalar keys, so the generic plan that a
# prepared statement settles on uses the whole index (with arrays it may not).
POSTGRES_PAIR_SQL = _LEGS.format(
    route="i.origin = $1 AND i.destination = $2"
    " AND (i.stop IS NULL OR (i.stop <> $1 AND i.stop <> $2))"
)
# City codes: every airport of one city to every airport of the other.
POSTGRES_CITY_SQL = _LEGS.format(
    route="i.origin = ANY($1::text[]) AND i.destination = ANY($2::text[])"
    " AND (i.stop IS NULL OR NOT (i.stop = ANY($1::text[]) OR i.stop = ANY($2::text[])))"
)


def postgres_statement(query: CandidateQuery) -> tuple[str, tuple]:
    rest = (
        query.day,
        query.cabin,
        query.seats,
        query.first_minute,
        query.last_minute,
        query.carriers,
        query.connections,
    )
    if len(query.origins) == 1 and len(query.destinations) == 1:
        return POSTGRES_PAIR_SQL, (query.origins[0], query.destinations[0], *rest)
    return POSTGRES_CITY_SQL, (query.origins, query.destinations, *rest)


async def fetch_postgres(pool, query: CandidateQuery) -> list:
    """The candidate rows (store.search's shape) on the asyncpg pool, whose connections
    keep their prepared statements (asyncpg's statement cache)."""
    sql, args = postgres_statement(query)
    async with pool.acquire() as connection:
        return await connection.fetch(sql, *args)


def core_statement(query: CandidateQuery) -> sa.Select:
    """The same read in SQLAlchemy Core (SQLite)."""
    i = itineraries
    c1, c2 = flight_cabins.alias("c1"), flight_cabins.alias("c2")
    conditions = [
        i.c.origin.in_(query.origins),
        i.c.destination.in_(query.destinations),
        i.c.departure_date == query.day,
        i.c.departure_minute.between(query.first_minute, query.last_minute),
        sa.or_(
            i.c.stop.is_(None),
            sa.and_(i.c.stop.not_in(query.origins), i.c.stop.not_in(query.destinations)),
        ),
        c1.c.seats_available >= query.seats,
        sa.or_(i.c.leg2_id.is_(None), c2.c.seats_available >= query.seats),
    ]
    if not query.connections:
        conditions.append(i.c.leg2_id.is_(None))
    if query.carriers:
        conditions += [
            i.c.leg1_carrier.in_(query.carriers),
            sa.or_(i.c.leg2_id.is_(None), i.c.leg2_carrier.in_(query.carriers)),
        ]
    return (
        sa.select(
            i.c.leg1_id,
            i.c.leg1_carrier,
            i.c.leg1_number,
            i.c.origin,
            sa.func.coalesce(i.c.stop, i.c.destination),
            i.c.departure_minute,
            i.c.leg1_arrival_minute,
            c1.c.seats_available,
            c1.c.saver_fare,
            c1.c.flex_fare,
            i.c.leg2_id,
            i.c.leg2_carrier,
            i.c.leg2_number,
            i.c.stop,
            i.c.destination,
            i.c.leg2_departure_minute,
            i.c.arrival_minute,
            c2.c.seats_available,
            c2.c.saver_fare,
            c2.c.flex_fare,
        )
        .select_from(i)
        .join(c1, sa.and_(c1.c.flight_id == i.c.leg1_id, c1.c.cabin == query.cabin))
        .outerjoin(c2, sa.and_(c2.c.flight_id == i.c.leg2_id, c2.c.cabin == query.cabin))
        .where(*conditions)
    )


async def fetch_core(connection: AsyncConnection, query: CandidateQuery) -> list[tuple]:
    return [tuple(row) for row in await connection.execute(core_statement(query))]
