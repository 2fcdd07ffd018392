from pathlib import Path

from fastapi import FastAPI

from wayfare_common.service import create_service_app
from wayfare_flight.settings import Settings

# Beside the package in the source tree (services/flight/migrations).
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings or Settings(),
        title="Wayfare flight",
        description="Airports, carriers, flights, fares, seat inventory and tour packages.",
    )
