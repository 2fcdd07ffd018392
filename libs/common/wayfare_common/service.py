"""The app factory every service shares: logging, request ids, problem details, metrics,
health checks, the database and the messaging runtime, wired the same way everywhere."""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_fastapi_instrumentator import Instrumentator

from wayfare_common.logging import configure_logging
from wayfare_common.messaging.handlers import EventHandlers
from wayfare_common.problems import install_problem_docs, install_problem_handlers
from wayfare_common.settings import ServiceSettings

if TYPE_CHECKING:
    from wayfare_common.db import Database
    from wayfare_common.messaging.runtime import Messaging

REQUEST_ID_HEADER = "X-Request-ID"


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str = "",
    routers: Iterable[APIRouter] = (),
    handlers: EventHandlers | None = None,
    use_database: bool = True,
    version: str = "0.1.0",
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager] | None = None,
    openapi_url: str | None = "/openapi.json",
    readiness: Callable[[], Awaitable[dict[str, str]]] | None = None,
) -> FastAPI:
    """`lifespan`, if given, runs inside the shared one (database and messaging are up):
    the place for a service's own background tasks and clients. `readiness` adds checks
    to /readyz: name -> "ok", "disabled", "degraded" (reported, still ready) or anything
    else (not ready)."""
    configure_logging(
        service=settings.service_name, level=settings.log_level, json=not settings.is_development
    )
    database, messaging = (
        _database_and_messaging(settings, handlers) if use_database else (None, None)
    )

    @asynccontextmanager
    async def shared_lifespan(app: FastAPI):
        if messaging is not None:
            await messaging.start()
        try:
            if lifespan is None:
                yield
            else:
                async with lifespan(app):
                    yield
        finally:
            if messaging is not None:
                await messaging.stop()
            if database is not None:
                await database.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=shared_lifespan,
        openapi_url=openapi_url,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.messaging = messaging

    install_problem_handlers(app, database=use_database)
    install_problem_docs(app)
    app.add_middleware(CorrelationIdMiddleware, header_name=REQUEST_ID_HEADER)
    Instrumentator(excluded_handlers=["/metrics", "/healthz", "/readyz"]).instrument(app).expose(
        app, endpoint="/metrics", include_in_schema=False
    )
    app.include_router(health_router(readiness))
    for router in routers:
        app.include_router(router)
    return app


def _database_and_messaging(
    settings: ServiceSettings, handlers: EventHandlers | None
) -> tuple["Database", "Messaging"]:
    # Imported here: a part without a database (the gateway) never loads SQLAlchemy and
    # asyncpg, a fifth of a process's memory.
    from wayfare_common.db import Database
    from wayfare_common.messaging.runtime import Messaging

    database = Database(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    return database, Messaging(settings, database, handlers or EventHandlers())


READY_STATES = ("ok", "disabled", "degraded")


def health_router(readiness: Callable[[], Awaitable[dict[str, str]]] | None = None) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz():
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="The database and the broker are reachable",
        responses={
            503: {
                "description": "Not ready: the failing check is named in `checks`",
                "content": {"application/json": {}},
            }
        },
    )
    async def readyz(request: Request):
        checks: dict[str, str] = {}
        database: Database | None = request.app.state.database
        if database is not None:
            try:
                await asyncio.wait_for(database.ping(), timeout=2)
                checks["database"] = "ok"
            except Exception:
                checks["database"] = "unreachable"
        messaging: Messaging | None = request.app.state.messaging
        if messaging is not None:
            checks["broker"] = messaging.broker_state
        if readiness is not None:
            checks.update(await readiness())
        ready = all(state in READY_STATES for state in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    return router
