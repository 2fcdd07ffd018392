"""Loading generated inventory: `python -m wayfare_flight seed` and the demo inventory a
fresh development database gets at startup."""

import time
from datetime import UTC, date, datetime, timedelta

import structlog

from wayfare_common.db import Database
from wayfare_flight.domain.airports import busy_airports
from wayfare_flight.domain.carriers import CARRIERS
from wayfare_flight.domain.packages import demo_packages
from wayfare_flight.domain.schedule import generate, plan_routes
from wayfare_flight.store import flights as flight_store
from wayfare_flight.store import itineraries, seeding

log = structlog.get_logger("wayfare.flight.seed")


async def seed(
    database: Database,
    *,
    days: int,
    airports: int,
    seed: int = 1,
    start: date | None = None,
    packages: bool = True,
) -> dict:
    """Generate and load `days` days of schedule between the `airports` busiest airports,
    from `start` (default tomorrow, UTC). Flights already there are kept: loading the
    same arguments twice adds nothing."""
    began = time.perf_counter()
    start = start or datetime.now(UTC).date() + timedelta(days=1)
    served = busy_airports(airports)
    routes = plan_routes(served, seed)
    async with database.sessions() as session, session.begin():
        await seeding.ensure_reference_data(session, served, CARRIERS)
    flights = await seeding.load_flights(database, generate(routes, start, days, seed))
    # Search's itineraries for the new days, and for the two days before them: a first
    # leg of the day before (or, across time zones, two days before) may now connect.
    built = time.perf_counter()
    itinerary_rows = await itineraries.rebuild_range(
        database, start - timedelta(days=2), start + timedelta(days=days - 1)
    )
    itinerary_seconds = time.perf_counter() - built
    created = await seeding.load_packages(database, demo_packages(start)) if packages else 0
    report = {
        "airports": len(served),
        "routes": len(routes),
        "days": days,
        "flights": flights,
        "itineraries": itinerary_rows,
        "itineraries_seconds": round(itinerary_seconds, 1),
        "packages_created": created,
        "seconds": round(time.perf_counter() - began, 1),
    }
    log.info("inventory_seeded", **report)
    return report


async def seed_if_empty(database: Database, *, days: int, airports: int) -> bool:
    async with database.sessions() as session:
        if await flight_store.has_flights(session):
            return False
    await seed(database, days=days, airports=airports)
    return True
