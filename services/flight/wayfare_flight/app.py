from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import FastAPI

from wayfare_common.service import create_service_app
from wayfare_flight.api import flights, holds, packages, search
from wayfare_flight.background import Background
from wayfare_flight.events.handlers import handlers
from wayfare_flight.settings import Settings
from wayfare_flight.store.pg import create_pool
from wayfare_flight.usecases.search import SearchCache
from wayfare_flight.usecases.seed import seed_if_empty

# Beside the package in the source tree (services/flight/migrations).
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"

log = structlog.get_logger("wayfare.flight")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        """Demo inventory, the search pool and the background tasks (hold sweeper, CSV
        imports), once the shared lifespan has the database and messaging up."""
        database = app.state.database
        if settings.is_development and settings.seed_on_empty:
            if await seed_if_empty(
                database, days=settings.seed_days, airports=settings.seed_airports
            ):
                log.info("demo_inventory_loaded", days=settings.seed_days)
        if database.dialect == "postgresql":
            app.state.search_pool = await create_pool(database.url, settings.search_pool_size)
        app.state.background = Background(settings, database, app.state.messaging.outbox)
        app.state.background.start()
        try:
            yield
        finally:
            await app.state.background.stop()
            if app.state.search_pool is not None:
                await app.state.search_pool.close()

    app = create_service_app(
        settings,
        title="Wayfare flight",
        description="Airports, carriers, flights, fares, seat inventory and tour packages.",
        # search before flights: /flights/search must not be taken for /flights/{id}
        routers=[search.router, flights.router, packages.router, holds.router],
        handlers=handlers,
        lifespan=lifespan,
    )
    app.state.search_pool = None
    app.state.search_cache = (
        SearchCache(settings.search_cache_seconds, settings.search_cache_bytes)
        if settings.search_cache_seconds > 0
        else None
    )
    return app
