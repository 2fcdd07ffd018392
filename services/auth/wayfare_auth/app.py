import asyncio
import contextlib
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import structlog
from fastapi import FastAPI

from wayfare_auth.api import auth, jwks, oauth, twofactor, users
from wayfare_auth.runtime import Auth
from wayfare_auth.settings import Settings
from wayfare_auth.store import oauth as oauth_store
from wayfare_auth.store import sessions as session_store
from wayfare_auth.store import throttle, tokens
from wayfare_auth.store.models import utcnow
from wayfare_common.db import Database, log_failure
from wayfare_common.security import TokenVerifier
from wayfare_common.service import create_service_app

# Beside the package in the source tree (services/auth/migrations).
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
HOUSEKEEPING_INTERVAL = 600.0  # seconds between purges of expired rows
# The verifier of auth's own routes reads the JWKS from this very app, in process.
SELF_URL = "http://auth.internal"

log = structlog.get_logger("wayfare.auth")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Auth.from_settings(settings)  # refuses to start without keys in production

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Runs inside the factory's lifespan: the database is there meanwhile.
        await runtime.open()
        task = asyncio.create_task(
            _housekeeping(app.state.database, runtime), name="auth-housekeeping"
        )
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await app.state.token_verifier_client.aclose()
            await runtime.close()

    app = create_service_app(
        settings,
        title="Wayfare auth",
        description="Users, credentials, roles, sessions, 2FA and signing keys.",
        routers=[auth.router, twofactor.router, oauth.router, users.me, users.staff, jwks.router],
        lifespan=lifespan,
    )
    app.state.auth = runtime
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SELF_URL)
    app.state.token_verifier_client = client
    app.state.token_verifier = TokenVerifier(
        f"{SELF_URL}/.well-known/jwks.json",
        settings.jwt_issuer,
        settings.jwt_audience,
        algorithms=("RS256",),
        http_client=client,
    )
    return app


async def purge_expired(database: Database, runtime: Auth) -> None:
    """Delete what no check needs any more: old failures, used tokens past their expiry,
    abandoned sign-ins and sessions past their absolute expiry."""
    now = utcnow()
    window = throttle.longest_window(runtime.limits)
    async with database.sessions() as session:
        await throttle.purge(session, now - window)
        await tokens.purge(session, now)
        await oauth_store.purge_states(session, now)
        await session_store.purge_expired(session, now - timedelta(days=1))
        await session.commit()


async def _housekeeping(database: Database, runtime: Auth) -> None:
    while True:
        await asyncio.sleep(HOUSEKEEPING_INTERVAL)
        try:
            await purge_expired(database, runtime)
        except Exception:
            log_failure(log, "housekeeping_failed")
