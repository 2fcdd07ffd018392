"""A service app in the test's own process: migrated, started (lifespan), and reached
through an HTTP client over ASGI, no sockets."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from wayfare_common.migrations import upgrade
from wayfare_common.settings import ServiceSettings


@contextlib.asynccontextmanager
async def app_client(
    create_app: Callable[[ServiceSettings], FastAPI],
    settings: ServiceSettings,
    migrations_dir: Path | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """The client has the app at `client.app`."""
    if migrations_dir is not None:
        await asyncio.to_thread(upgrade, migrations_dir, settings.database_url)
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        base_url = f"http://{settings.service_name}"
        async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=30) as client:
            client.app = app
            yield client
