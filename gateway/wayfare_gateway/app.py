from fastapi import FastAPI

from wayfare_common.service import create_service_app
from wayfare_gateway.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    # Nothing durable lives here, so no database (and no outbox or inbox).
    return create_service_app(
        settings or Settings(),
        title="Wayfare gateway",
        description="The one HTTP entry point for frontends.",
        use_database=False,
    )
