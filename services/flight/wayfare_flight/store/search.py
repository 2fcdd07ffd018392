"""The search's one query: direct flights and one-stop connections for an origin on one
local date, with the requested cabin's seats and fares, in a single round trip.

Indexes: ix_flights_origin_date (origin, departure_date, departure_minute) finds the
first legs; ix_flights_route_departure (origin, destination, departure_minute) finds, for
each first leg, the second legs from its stop within the connection window; cabins come by
primary key. The work is proportional to one airport's departures on one day, not to the
size of the schedule.

On PostgreSQL the statement runs on a plain asyncpg pool (prepared once per connection,
rows as tuples); elsewhere (SQLite) the same statement built with SQLAlchemy Core.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from wayfare_flight.domain.connections import MAX_LAYOVER, MIN_CONNECTION
from wayfare_flight.store.models import flight_cabins, flights

MIN_CONNECTION_MINUTES = int(MIN_CONNECTION.total_seconds() // 60)
MAX_LAYOVER_MINUTES = int(MAX_LAYOVER.total_seconds() // 60)

# A leg, in order: id, carrier_code, flight_number, origin, destination, departure_minute,
# arrival_minute, seats_available, saver_fare, flex_fare. A row is the first leg then the
# second (all None for a direct flight).
LEG_WIDTH = 10


@dataclass(frozen=True, slots=True)
class CandidateQuery:
    origins: list[str]
    destinations: list[str]
    day: date  # local date at the origin
    cabin: str
    seats: int  # seated passengers: each leg needs that many free seats
    first_minute: int  # bounds of the first departure, epoch minutes
    last_minute: int
    carriers: list[str] | None
    connections: bool


_LEG = (
    "{f}.id, {f}.carrier_code, {f}.flight_number, {f}.origin, {f}.destination, "
    "{f}.departure_minute, {f}.arrival_minute, {c}.seats_available, {c}.saver_fare, {c}.flex_fare"
)
POSTGRES_SQL = f"""
SELECT {_LEG.format(f="f1", c="c1")}, {_LEG.format(f="f2", c="c2")}
FROM flights f1
JOIN flight_cabins c1 ON c1.flight_id = f1.id AND c1.cabin = $4
JOIN flights f2 ON f2.origin = f1.destination
    AND f2.destination = ANY($2::text[])
    AND f2.departure_minute BETWEEN f1.arrival_minute + {MIN_CONNECTION_MINUTES}
                                AND f1.arrival_minute + {MAX_LAYOVER_MINUTES}
JOIN flight_cabins c2 ON c2.flight_id = f2.id AND c2.cabin = $4
WHERE $9 AND f1.origin = ANY($1::text[]) AND f1.departure_date = $3
  AND NOT (f1.destination = ANY($2::text[])) AND NOT (f1.destination = ANY($1::text[]))
  AND f1.departure_minute BETWEEN $6 AND $7
  AND f1.status = 'scheduled' AND f2.status = 'scheduled'
  AND c1.seats_available >= $5 AND c2.seats_available >= $5
  AND ($8::text[] IS NULL OR (f1.carrier_code = ANY($8::text[]) AND f2.carrier_code = ANY($8::text[])))
UNION ALL
SELECT {_LEG.format(f="f", c="c")}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM flights f
JOIN flight_cabins c ON c.flight_id = f.id AND c.cabin = $4
WHERE f.origin = ANY($1::text[]) AND f.departure_date = $3
  AND f.destination = ANY($2::text[])
  AND f.departure_minute BETWEEN $6 AND $7
  AND f.status = 'scheduled' AND c.seats_available >= $5
  AND ($8::text[] IS NULL OR f.carrier_code = ANY($8::text[]))
"""


def postgres_args(query: CandidateQuery) -> tuple:
    return (
        query.origins,
        query.destinations,
        query.day,
        query.cabin,
        query.seats,
        query.first_minute,
        query.last_minute,
        query.carriers,
        query.connections,
    )


async def fetch_candidates_postgres(pool, query: CandidateQuery) -> list[tuple]:
    async with pool.acquire() as connection:
        return await connection.fetch(POSTGRES_SQL, *postgres_args(query))


def _leg(f, c) -> list:
    return [
        f.c.id,
        f.c.carrier_code,
        f.c.flight_number,
        f.c.origin,
        f.c.destination,
        f.c.departure_minute,
        f.c.arrival_minute,
        c.c.seats_available,
        c.c.saver_fare,
        c.c.flex_fare,
    ]


def core_statement(query: CandidateQuery) -> sa.Select | sa.CompoundSelect:
    """The same statement in SQLAlchemy Core (used on SQLite)."""

    def first_leg(f, c):
        conditions = [
            f.c.origin.in_(query.origins),
            f.c.departure_date == query.day,
            f.c.departure_minute.between(query.first_minute, query.last_minute),
            f.c.status == "scheduled",
            c.c.seats_available >= query.seats,
        ]
        if query.carriers:
            conditions.append(f.c.carrier_code.in_(query.carriers))
        return conditions

    f, c = flights.alias("f"), flight_cabins.alias("c")
    direct = (
        sa.select(*_leg(f, c), *[sa.null()] * LEG_WIDTH)
        .join_from(f, c, sa.and_(c.c.flight_id == f.c.id, c.c.cabin == query.cabin))
        .where(*first_leg(f, c), f.c.destination.in_(query.destinations))
    )
    if not query.connections:
        return direct
    f1, c1 = flights.alias("f1"), flight_cabins.alias("c1")
    f2, c2 = flights.alias("f2"), flight_cabins.alias("c2")
    second_leg = [
        f2.c.status == "scheduled",
        c2.c.seats_available >= query.seats,
        f1.c.destination.not_in(query.destinations),
        f1.c.destination.not_in(query.origins),
    ]
    if query.carriers:
        second_leg.append(f2.c.carrier_code.in_(query.carriers))
    connecting = (
        sa.select(*_leg(f1, c1), *_leg(f2, c2))
        .join_from(f1, c1, sa.and_(c1.c.flight_id == f1.c.id, c1.c.cabin == query.cabin))
        .join(
            f2,
            sa.and_(
                f2.c.origin == f1.c.destination,
                f2.c.destination.in_(query.destinations),
                f2.c.departure_minute.between(
                    f1.c.arrival_minute + MIN_CONNECTION_MINUTES,
                    f1.c.arrival_minute + MAX_LAYOVER_MINUTES,
                ),
            ),
        )
        .join(c2, sa.and_(c2.c.flight_id == f2.c.id, c2.c.cabin == query.cabin))
        .where(*first_leg(f1, c1), *second_leg)
    )
    # Connections first: the union's column types come from its first select.
    return sa.union_all(connecting, direct)


async def fetch_candidates_core(connection: AsyncConnection, query: CandidateQuery) -> list[tuple]:
    result = await connection.execute(core_statement(query))
    return [tuple(row) for row in result]
