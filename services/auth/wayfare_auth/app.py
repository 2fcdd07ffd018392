from pathlib import Path

from fastapi import FastAPI

from wayfare_auth.settings import Settings
from wayfare_common.service import create_service_app

# Beside the package in the source tree (services/auth/migrations).
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings or Settings(),
        title="Wayfare auth",
        description="Users, credentials, roles, sessions, 2FA and signing keys.",
    )
