from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from wayfare_common.service import create_service_app
from wayfare_payment.api import errors, payments, payouts, staff, webhooks
from wayfare_payment.background import Background
from wayfare_payment.events.handlers import build_handlers
from wayfare_payment.providers.registry import build_providers
from wayfare_payment.settings import Settings

# Beside the package in the source tree (services/payment/migrations).
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    providers = build_providers(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.background.start()
        try:
            yield
        finally:
            await app.state.background.stop()
            await providers.close()

    app = create_service_app(
        settings,
        title="Wayfare payment",
        description="Payments, refunds, invoices, the vendor ledger and payouts.",
        # Fixed paths (webhooks, payouts) before /payments/{payment_id}.
        routers=[webhooks.router, payouts.router, staff.router, payments.router],
        handlers=build_handlers(providers),
        lifespan=lifespan,
    )
    errors.install(app)
    app.state.providers = providers
    app.state.background = Background(
        settings, app.state.database, app.state.messaging.outbox, providers
    )
    return app
