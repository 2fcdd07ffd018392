from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from wayfare_booking.api import bookings, coupons
from wayfare_booking.background import Background
from wayfare_booking.clients.flight import FlightClient
from wayfare_booking.domain.references import ReferenceGenerator, new_reference
from wayfare_booking.events.handlers import handlers
from wayfare_booking.settings import Settings
from wayfare_booking.usecases.create import Services
from wayfare_common.service import create_service_app

# Beside the package in the source tree (services/booking/migrations).
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def create_app(
    settings: Settings | None = None, *, references: ReferenceGenerator = new_reference
) -> FastAPI:
    """`references` makes booking references; tests pass one that repeats itself."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        """The flight client and the background work (expiry, completion), once the
        shared lifespan has the database and messaging up."""
        flight = FlightClient.create(settings.flight_url, settings.flight_timeout)
        outbox = app.state.messaging.outbox
        app.state.services = Services(settings, app.state.database, outbox, flight, references)
        app.state.background = Background(settings, app.state.database, outbox)
        app.state.background.start()
        try:
            yield
        finally:
            await app.state.background.stop()
            await flight.close()

    return create_service_app(
        settings,
        title="Wayfare booking",
        description="Bookings, passengers, references, pricing and idempotency.",
        routers=[bookings.router, coupons.router],
        handlers=handlers,
        lifespan=lifespan,
    )
