"""The gateway: the one HTTP entry point for frontends (DESIGN §5-6, §8).

Routed paths go straight to the proxy (a plain ASGI handler); everything else (health,
metrics, the merged API document, and the 404 problem for unknown paths) is answered by
a FastAPI app built like every service's. CORS and security headers wrap both.
"""

import asyncio
import contextlib

import aiohttp
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware

from wayfare_common.security.tokens import TokenVerifier
from wayfare_common.service import REQUEST_ID_HEADER, create_service_app
from wayfare_gateway.access import CachedVerifier
from wayfare_gateway.openapi import MergedOpenAPI
from wayfare_gateway.proxy import Proxy
from wayfare_gateway.ratelimit import RateLimits
from wayfare_gateway.revocations import DenyList, RevocationFeed
from wayfare_gateway.routes import match
from wayfare_gateway.settings import Settings

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class Gateway:
    """The ASGI app: dispatches each request to the proxy or to the FastAPI part, and adds
    the security headers to every response."""

    def __init__(self, api: FastAPI, proxy: Proxy):
        self.api = api
        self.state = api.state  # tests and tools reach the parts through app.state
        self.proxy = proxy
        self._proxied = CorrelationIdMiddleware(self._proxy, header_name=REQUEST_ID_HEADER)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self.api(scope, receive, send)
        if scope["type"] == "http":
            send = _with_security_headers(send)
        route = match(scope.get("method", "GET"), scope["path"])
        if route is None:
            return await self.api(scope, receive, send)
        scope["wayfare.route"] = route
        return await self._proxied(scope, receive, send)

    async def _proxy(self, scope, receive, send):
        route = scope["wayfare.route"]
        if scope["type"] == "websocket":
            return await self.proxy.websocket(scope, receive, send, route)
        return await self.proxy.http(scope, receive, send, route)


def _with_security_headers(send):
    async def sender(message):
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *SECURITY_HEADERS]
        await send(message)

    return sender


def _redis(url: str):
    # Imported only when configured: redis-py adds about 6 MB to a gateway without it.
    from redis.asyncio import Redis

    return Redis.from_url(url)


def create_app(settings: Settings | None = None):
    settings = settings or Settings()
    redis = _redis(settings.redis_url) if settings.redis_url else None
    deny = DenyList()
    feed = RevocationFeed(settings, deny, redis)
    verifier = CachedVerifier(TokenVerifier.from_settings(settings), settings.token_cache_size)
    proxy = Proxy(settings, verifier, deny, RateLimits(settings))
    openapi = MergedOpenAPI(settings.upstreams(), "Wayfare API", "1")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        await proxy.start()
        await feed.start()
        try:
            yield
        finally:
            await feed.stop()
            await proxy.stop()
            if redis is not None:
                await redis.aclose()

    # Nothing durable lives here, so no database (and no outbox or inbox).
    api = create_service_app(
        settings,
        title="Wayfare gateway",
        description="The one HTTP entry point for frontends.",
        use_database=False,
        lifespan=lifespan,
        openapi_url=None,  # the gateway serves the whole suite's document instead
        readiness=readiness_checks(proxy, feed),
    )
    api.state.deny_list = deny
    api.state.revocations = feed

    @api.get("/openapi.json", include_in_schema=False)
    async def suite_openapi():
        return JSONResponse(await openapi.document(proxy.client))

    @api.get("/docs", include_in_schema=False)
    async def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Wayfare API")

    app = Gateway(api, proxy)
    if not settings.cors_origins:
        return app
    cors = CORSMiddleware(
        app,
        allow_origins=settings.cors_origins,
        allow_credentials=settings.cors_allow_credentials,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
    )
    cors.state = api.state
    return cors


def readiness_checks(proxy: Proxy, feed: RevocationFeed):
    """Without the revocation feed a signed-out token would still pass: not ready. A
    service that does not answer is reported but does not take the whole front door out
    of rotation: its routes answer 503 on their own."""

    async def check() -> dict[str, str]:
        async def answers(base: str) -> str:
            try:
                async with proxy.client.get(
                    base + "/healthz", timeout=aiohttp.ClientTimeout(total=1)
                ) as r:
                    return "ok" if r.status == 200 else "degraded"
            except (aiohttp.ClientError, TimeoutError):
                return "degraded"

        names = list(proxy.upstreams)
        states = await asyncio.gather(*(answers(proxy.upstreams[name]) for name in names))
        return {
            "revocations": feed.state,
            **{f"upstream:{n}": s for n, s in zip(names, states, strict=True)},
        }

    return check
