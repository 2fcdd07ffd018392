"""Bulk loading of generated inventory: COPY on PostgreSQL (a fresh table takes the rows
straight; a table that already has flights gets them through a staging copy and
`ON CONFLICT DO NOTHING`, so seeding twice adds nothing), batched executemany on SQLite."""

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.db import Database, dialect_insert
from wayfare_flight.domain.airports import Airport
from wayfare_flight.domain.carriers import Carrier
from wayfare_flight.domain.packages import PackageRow
from wayfare_flight.store import packages as package_store
from wayfare_flight.store.models import airports, carriers, flight_cabins, flights
from wayfare_flight.store.pg import connect

BATCH = 20_000
FLIGHT_COLUMNS = [column.name for column in flights.columns]
CABIN_COLUMNS = [column.name for column in flight_cabins.columns]


def _insert(dialect_name: str, table: sa.Table):
    return dialect_insert(dialect_name, table).on_conflict_do_nothing()


async def ensure_reference_data(
    session: AsyncSession, airport_list: Iterable[Airport], carrier_list: Iterable[Carrier]
) -> None:
    """Add the airports and carriers that are not there yet, in the caller's transaction."""
    airport_rows = [
        {
            "iata_code": a.iata_code,
            "name": a.name,
            "city": a.city,
            "country": a.country,
            "time_zone": a.time_zone,
            "latitude": a.latitude,
            "longitude": a.longitude,
        }
        for a in airport_list
    ]
    carrier_rows = [{"iata_code": c.iata_code, "name": c.name} for c in carrier_list]
    dialect = session.bind.dialect.name
    if airport_rows:
        await session.execute(_insert(dialect, airports), airport_rows)
    if carrier_rows:
        await session.execute(_insert(dialect, carriers), carrier_rows)


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(rows, size)):
        yield batch


async def load_flights(database: Database, generated: Iterator[tuple[tuple, list[tuple]]]) -> int:
    """Insert generated (flight, cabins) rows; returns how many flights were generated."""
    if database.dialect == "postgresql":
        return await _copy_flights(database.url, generated)
    total = 0
    for batch in _batches(generated, BATCH):
        total += len(batch)
        flight_rows = [dict(zip(FLIGHT_COLUMNS, f, strict=True)) for f, _ in batch]
        cabin_rows = [dict(zip(CABIN_COLUMNS, c, strict=True)) for _, cs in batch for c in cs]
        async with database.sessions() as session, session.begin():
            await session.execute(_insert(database.dialect, flights), flight_rows)
            await session.execute(_insert(database.dialect, flight_cabins), cabin_rows)
    return total


async def _copy_flights(url: str, generated: Iterator[tuple[tuple, list[tuple]]]) -> int:
    connection = await connect(url)
    total = 0
    try:
        # One seeder at a time (replicas starting together on an empty database);
        # the lock goes with the connection.
        await connection.execute("SELECT pg_advisory_lock(4242001)")
        fresh = await connection.fetchval("SELECT NOT EXISTS (SELECT 1 FROM flights)")
        for batch in _batches(generated, BATCH):
            total += len(batch)
            flight_rows = [flight for flight, _ in batch]
            cabin_rows = [cabin for _, cabins in batch for cabin in cabins]
            async with connection.transaction():
                if fresh:
                    await connection.copy_records_to_table(
                        "flights", records=flight_rows, columns=FLIGHT_COLUMNS
                    )
                    await connection.copy_records_to_table(
                        "flight_cabins", records=cabin_rows, columns=CABIN_COLUMNS
                    )
                else:
                    await _copy_merge(connection, "flights", FLIGHT_COLUMNS, flight_rows)
                    await _copy_merge(connection, "flight_cabins", CABIN_COLUMNS, cabin_rows)
        await connection.execute("ANALYZE flights; ANALYZE flight_cabins")
    finally:
        await connection.close()
    return total


async def _copy_merge(connection, table: str, columns: list[str], rows: list[tuple]) -> None:
    staging = f"staging_{table}"
    await connection.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table} INCLUDING DEFAULTS)"
        " ON COMMIT DELETE ROWS"
    )
    await connection.copy_records_to_table(staging, records=rows, columns=columns)
    names = ", ".join(columns)
    await connection.execute(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} ON CONFLICT DO NOTHING"
    )


async def load_packages(database: Database, rows: list[PackageRow]) -> int:
    """Create the packages whose code is not there yet; returns how many were created."""
    async with database.sessions() as session, session.begin():
        created, _ = await package_store.upsert_packages(
            session, rows, now=datetime.now(UTC), update_existing=False
        )
    return created
