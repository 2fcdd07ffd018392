"""What every service's smoke test checks, written once: the service migrates a fresh
database (both ways), starts, and speaks the suite's HTTP conventions (health checks,
metrics, request ids, problem details).

    async def test_starts(database_url):
        await check_service_basics(create_app, Settings, MIGRATIONS_DIR, database_url=database_url)
"""

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from alembic import command
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import inspect

from wayfare_common.db import create_engine
from wayfare_common.migrations import alembic_config, upgrade
from wayfare_common.problems import PROBLEM_JSON
from wayfare_common.service import REQUEST_ID_HEADER
from wayfare_common.settings import ServiceSettings

MESSAGING_TABLES = {"outbox", "inbox", "alembic_version"}
READY_TIMEOUT = 30.0  # connecting to the broker happens in the background after startup


async def check_service_basics(
    create_app: Callable[[ServiceSettings], FastAPI],
    settings_cls: type[ServiceSettings],
    migrations_dir: Path | None,
    **overrides,
) -> None:
    """`overrides` are settings fields (database_url, amqp_url, amqp_namespace ...).
    Without `amqp_url` the service runs with no broker, as it must be able to."""
    settings = settings_cls(**{"amqp_url": "", "environment": "test", **overrides})
    if migrations_dir is not None:
        await _check_migrations(migrations_dir, settings.database_url)

    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            response = await client.get("/healthz")
            assert response.status_code == 200, response.text

            checks = await _wait_until_ready(client)
            expected = {}
            if migrations_dir is not None:
                expected["database"] = "ok"
                expected["broker"] = "ok" if settings.amqp_url else "disabled"
            # A service may add checks of its own (the gateway's upstreams); these must hold.
            assert {name: checks.get(name) for name in expected} == expected, checks
            assert ("database" in checks) == (migrations_dir is not None), checks

            response = await client.get("/metrics")
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/plain")
            assert "# TYPE " in response.text

            request_id = uuid.uuid4().hex
            response = await client.get(f"/no-such-route/{request_id}")
            assert response.status_code == 404
            assert response.headers["content-type"] == PROBLEM_JSON
            assert response.json()["status"] == 404
            assert response.json()["code"] == "not_found"
            assert response.headers[REQUEST_ID_HEADER]  # made up when the client sends none

            response = await client.get("/healthz", headers={REQUEST_ID_HEADER: request_id})
            assert response.headers[REQUEST_ID_HEADER] == request_id


async def _check_migrations(migrations_dir: Path, url: str) -> None:
    # Alembic runs its own event loop, so it gets a thread.
    await asyncio.to_thread(upgrade, migrations_dir, url)
    assert MESSAGING_TABLES <= await _table_names(url)
    await asyncio.to_thread(command.downgrade, alembic_config(migrations_dir, url), "base")
    assert await _table_names(url) <= {"alembic_version"}
    await asyncio.to_thread(upgrade, migrations_dir, url)
    assert MESSAGING_TABLES <= await _table_names(url)


async def _table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def _wait_until_ready(client: httpx.AsyncClient) -> dict[str, str]:
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        response = await client.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert response.status_code == 200, f"not ready after {READY_TIMEOUT:.0f} s: {response.text}"
    return response.json()["checks"]
