from pathlib import Path

from fastapi import FastAPI

from wayfare_common.service import create_service_app
from wayfare_notification.settings import Settings

# Beside the package in the source tree (services/notification/migrations).
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings or Settings(),
        title="Wayfare notification",
        description="Contact projections, preferences, in-app notifications and email.",
    )
