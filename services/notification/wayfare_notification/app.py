import asyncio
import contextlib
from pathlib import Path

from fastapi import FastAPI

from wayfare_common.service import create_service_app
from wayfare_notification.api import notifications, preferences, stream
from wayfare_notification.channels.email import EmailSender
from wayfare_notification.channels.live import BrokerFeed, LiveHub
from wayfare_notification.channels.sms import sms_provider
from wayfare_notification.delivery import DeliveryWorker
from wayfare_notification.events.handlers import build_handlers
from wayfare_notification.notifier import Notifier
from wayfare_notification.settings import Settings

# Beside the package in the source tree (services/notification/migrations).
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    hub = LiveHub()
    wake = asyncio.Event()  # set when a handler commits deliveries
    notifier = Notifier(settings, hub, wake)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        """Inside the shared lifespan: the database and the messaging runtime are up."""
        tasks: list[asyncio.Task] = []
        async with contextlib.AsyncExitStack() as stack:
            if settings.handle_events:
                senders = {
                    "email": EmailSender(settings),
                    "sms": await stack.enter_async_context(sms_provider(settings)),
                }
                app.state.delivery_worker = worker = DeliveryWorker(
                    app.state.database,
                    senders,
                    wake,
                    retry_delays=settings.delivery_retry_delays,
                    batch_size=settings.delivery_batch_size,
                    poll_interval=settings.delivery_poll_interval,
                    lease=settings.delivery_lease,
                )
                tasks.append(asyncio.create_task(worker.run(), name="delivery-worker"))
            if app.state.messaging.enabled:
                app.state.live_feed = feed = BrokerFeed(hub, settings.amqp_namespace)
                tasks.append(asyncio.create_task(feed.run(app.state.messaging), name="live-feed"))
            try:
                yield
            finally:
                hub.close()
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    app = create_service_app(
        settings,
        title="Wayfare notification",
        description=(
            "Tells people what happened: email, SMS, in-app notifications and their live "
            "stream, and the preferences that decide which go where."
        ),
        # Fixed paths before /{notification_id}.
        routers=[stream.router, preferences.router, notifications.router],
        handlers=build_handlers(notifier) if settings.handle_events else None,
        lifespan=lifespan,
    )
    app.state.live_hub = hub
    return app
