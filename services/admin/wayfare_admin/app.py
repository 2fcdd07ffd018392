from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from wayfare_admin.api import audit, dashboard, listings, staff
from wayfare_admin.clients.owners import Owners
from wayfare_admin.events.handlers import handlers
from wayfare_admin.labels import LabelFetcher
from wayfare_admin.settings import Settings
from wayfare_common.service import create_service_app

# Beside the package in the source tree (services/admin/migrations).
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        """The HTTP client to the owning services, and the label fetcher."""
        app.state.owners = Owners(settings)
        app.state.labels = LabelFetcher(
            app.state.database, app.state.owners, settings.labels_interval
        )
        app.state.labels.start()
        try:
            yield
        finally:
            await app.state.labels.stop()
            await app.state.owners.close()

    return create_service_app(
        settings,
        title="Wayfare admin",
        description="The back office: read models of users, bookings and payments built "
        "from events, the dashboard, staff actions forwarded to the owning services, and "
        "the tamper-evident audit log. Every route needs the admin role.",
        routers=[dashboard.router, listings.router, staff.router, audit.router],
        handlers=handlers,
        lifespan=lifespan,
    )
