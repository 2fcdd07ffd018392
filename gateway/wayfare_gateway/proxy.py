"""The proxy path: a plain ASGI handler in front of a pooled aiohttp client.

It stays off FastAPI's request machinery on purpose (DESIGN §8: per request, FastAPI
costs about 57 us and an httpx client 50 times what aiohttp costs). Per request it checks
the token (cached), the deny-list and the rate limit, then forwards method, path, query,
headers (minus hop-by-hop) and body, and passes the upstream's answer back: small bodies
whole, anything else (Server-Sent Events, large files) streamed as it comes.
"""

import asyncio
import functools
import time
from urllib.parse import parse_qsl, urlencode

import aiohttp
import structlog
from asgi_correlation_id import correlation_id
from prometheus_client import Counter, Histogram
from yarl import URL

from wayfare_common.problems import problem_response
from wayfare_common.security.tokens import InvalidToken, TokenServiceUnavailable
from wayfare_gateway.access import CachedVerifier
from wayfare_gateway.ratelimit import RateLimits
from wayfare_gateway.revocations import DenyList
from wayfare_gateway.routes import Route
from wayfare_gateway.settings import Settings

log = structlog.get_logger("wayfare.gateway")

REQUESTS = Counter("gateway_requests_total", "Requests answered", ["upstream", "status"])
LATENCY = Histogram("gateway_request_seconds", "Time to the response's start", ["upstream"])
UPSTREAM_ERRORS = Counter(
    "gateway_upstream_errors_total", "Upstream failures", ["upstream", "kind"]
)

HOP_BY_HOP = frozenset(
    b"connection keep-alive proxy-authenticate proxy-authorization te trailer trailers "
    b"transfer-encoding upgrade host".split()
)
WHOLE_BODY_LIMIT = 256 * 1024  # answers up to this size are read whole, then sent at once


@functools.cache
def _counter(upstream: str, status: int):
    return REQUESTS.labels(upstream, status)  # the labelled child, looked up once


@functools.cache
def _histogram(upstream: str):
    return LATENCY.labels(upstream)


class BodyTooLarge(Exception):
    pass


class Proxy:
    def __init__(
        self, settings: Settings, verifier: CachedVerifier, deny: DenyList, limits: RateLimits
    ):
        self.settings = settings
        self.upstreams = settings.upstreams()
        self.verifier = verifier
        self.deny = deny
        self.limits = limits
        self.client: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=settings.connect_timeout, sock_read=settings.upstream_timeout
        )
        self._stream_timeout = aiohttp.ClientTimeout(total=None, connect=settings.connect_timeout)

    async def start(self) -> None:
        self.client = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, limit_per_host=256, keepalive_timeout=60),
            auto_decompress=False,  # pass compressed bodies through untouched
            timeout=self._timeout,
        )

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()

    # -- the request path -------------------------------------------------------------

    async def http(self, scope, receive, send, route: Route) -> None:
        started = time.perf_counter()
        status = await self._http(scope, receive, send, route)
        _counter(route.upstream, status).inc()
        _histogram(route.upstream).observe(time.perf_counter() - started)
        log.info(
            "request",
            method=scope["method"],
            path=scope["path"],
            status=status,
            upstream=route.upstream,
            ms=round((time.perf_counter() - started) * 1000, 2),
        )

    async def _http(self, scope, receive, send, route: Route) -> int:
        headers = scope["headers"]
        token, query, token_in_query = _token(headers, scope)
        principal = None
        if not route.public:
            refusal, principal = await self._check_access(token, route)
            if refusal is not None:
                return await _answer(refusal, scope, receive, send)
        who = principal.user_id if principal else _client_ip(scope, self.settings.trusted_proxies)
        retry_after = await self.limits.retry_after(route.limit, who, principal is not None)
        if retry_after is not None:
            return await _answer(
                problem_response(
                    429,
                    "rate_limited",
                    detail="Too many requests. Please slow down.",
                    headers={"Retry-After": str(retry_after)},
                ),
                scope,
                receive,
                send,
            )

        limit = (
            self.settings.max_upload_bytes
            if route.max_body == "upload"
            else self.settings.max_body_bytes
        )
        length = _header(headers, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await _answer(_too_large(limit), scope, receive, send)

        url = self.upstreams[route.upstream] + scope["raw_path"].decode("latin-1")
        if query:
            url += "?" + query
        url = URL(url, encoded=True)  # already encoded by the client: no re-parsing
        forwarded = _forward_headers(headers, scope, token if token_in_query else None)
        streaming = b"text/event-stream" in (_header(headers, b"accept", b"") or b"")
        body = None
        try:
            if length is not None:
                body = await _read_body(receive, limit)
            elif _header(headers, b"transfer-encoding") is not None:
                body = _StreamedBody(receive, limit)  # chunked upload: passed on as it comes
            async with self.client.request(
                scope["method"],
                url,
                headers=forwarded,
                data=body,
                allow_redirects=False,
                timeout=self._stream_timeout if streaming else self._timeout,
            ) as upstream:
                await send(
                    {
                        "type": "http.response.start",
                        "status": upstream.status,
                        "headers": [
                            (k, v) for k, v in upstream.raw_headers if k.lower() not in HOP_BY_HOP
                        ],
                    }
                )
                await _relay_body(upstream, receive, send)
                return upstream.status
        except BodyTooLarge:
            return await _answer(_too_large(limit), scope, receive, send)
        except aiohttp.ConnectionTimeoutError as exc:
            return await self._upstream_failed(route, "unavailable", exc, scope, receive, send)
        except TimeoutError as exc:
            return await self._upstream_failed(route, "timeout", exc, scope, receive, send)
        except aiohttp.ClientError as exc:
            # aiohttp wraps what a streamed body raises: was it ours?
            if isinstance(body, _StreamedBody) and body.too_large:
                return await _answer(_too_large(limit), scope, receive, send)
            kind = "unavailable" if isinstance(exc, aiohttp.ClientConnectorError) else "bad_gateway"
            return await self._upstream_failed(route, kind, exc, scope, receive, send)

    async def _check_access(self, token: str | None, route: Route):
        """(problem, principal): the refusal to send, or None and the verified caller."""
        if token is None:
            return problem_response(
                401,
                "missing_token",
                detail="This request needs an access token.",
                headers={"WWW-Authenticate": "Bearer"},
            ), None
        try:
            principal = await self.verifier.verify(token)
        except InvalidToken as exc:
            return problem_response(
                401,
                "invalid_token",
                detail=f"The access token was refused ({exc.reason}).",
                reason=exc.reason,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ), None
        except TokenServiceUnavailable:
            return problem_response(
                503,
                "auth_unavailable",
                detail="Access tokens cannot be checked right now.",
                headers={"Retry-After": "5"},
            ), None
        if self.deny.refuses(principal):
            return problem_response(
                401,
                "token_revoked",
                detail="This session has ended. Please sign in again.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ), None
        if route.admin_only and principal.role != "admin":
            return problem_response(403, "forbidden", detail="This needs an administrator."), None
        return None, principal

    async def _upstream_failed(self, route, kind, exc, scope, receive, send) -> int:
        UPSTREAM_ERRORS.labels(route.upstream, kind).inc()
        log.warning("upstream_failed", upstream=route.upstream, kind=kind, error=repr(exc))
        status, detail = {
            "unavailable": (503, f"The {route.upstream} service is not available right now."),
            "timeout": (504, f"The {route.upstream} service did not answer in time."),
            "bad_gateway": (502, f"The {route.upstream} service gave an invalid answer."),
        }[kind]
        code = {"unavailable": "upstream_unavailable", "timeout": "upstream_timeout"}.get(
            kind, kind
        )
        return await _answer(
            problem_response(
                status, code, detail=detail, headers={"Retry-After": "5"} if status == 503 else None
            ),
            scope,
            receive,
            send,
        )

    # -- WebSocket ----------------------------------------------------------------------

    async def websocket(self, scope, receive, send, route: Route) -> None:
        token, query, _ = _token(scope["headers"], scope)
        refusal, _ = await self._check_access(token, route) if not route.public else (None, None)
        if refusal is not None:
            await send({"type": "websocket.close", "code": 1008})
            return
        url = self.upstreams[route.upstream].replace("http", "ws", 1) + scope["raw_path"].decode(
            "latin-1"
        )
        if query:
            url += "?" + query
        try:
            upstream = await self.client.ws_connect(
                url,
                headers=_forward_headers(scope["headers"], scope, token, websocket=True),
                protocols=scope.get("subprotocols") or (),
                timeout=aiohttp.ClientWSTimeout(ws_receive=None),
            )
        except aiohttp.ClientError:
            UPSTREAM_ERRORS.labels(route.upstream, "unavailable").inc()
            await send({"type": "websocket.close", "code": 1013})
            return
        async with upstream:
            if (await receive())["type"] != "websocket.connect":
                return
            await send({"type": "websocket.accept", "subprotocol": upstream.protocol})
            await _pump_websocket(upstream, receive, send)


# -- helpers ----------------------------------------------------------------------------


async def _answer(response, scope, receive, send) -> int:
    await response(scope, receive, send)
    return response.status_code


def _too_large(limit: int):
    return problem_response(
        413, "payload_too_large", detail=f"The request body is larger than {limit} bytes."
    )


def _header(headers, name: bytes, default=None):
    for key, value in headers:
        if key == name:
            return value
    return default


def _query(scope) -> str:
    return scope.get("query_string", b"").decode("latin-1")


def _token(headers, scope) -> tuple[str | None, str, bool]:
    """The bearer token, the query to forward, and whether the token came in the query.
    Browsers cannot set headers on EventSource or WebSocket requests, so those may carry
    `?access_token=`; it is moved into the Authorization header and out of the forwarded
    query (and so out of upstream access logs)."""
    query = _query(scope)
    authorization = _header(headers, b"authorization")
    if authorization is not None:
        scheme, _, value = authorization.decode("latin-1").partition(" ")
        return (value.strip() or None) if scheme.lower() == "bearer" else None, query, False
    if "access_token=" in query:
        pairs = parse_qsl(query, keep_blank_values=True)
        token = next((v for k, v in pairs if k == "access_token"), None)
        return token, urlencode([(k, v) for k, v in pairs if k != "access_token"]), True
    return None, query, False


def _client_ip(scope, trusted_proxies: int) -> str:
    if trusted_proxies:
        forwarded = _header(scope["headers"], b"x-forwarded-for")
        if forwarded:
            hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",")]
            if len(hops) >= trusted_proxies:
                return hops[-trusted_proxies]
    client = scope.get("client")
    return client[0] if client else "unknown"


def _forward_headers(headers, scope, token_from_query: str | None, websocket: bool = False):
    skip = HOP_BY_HOP | (
        {
            b"sec-websocket-key",
            b"sec-websocket-version",
            b"sec-websocket-extensions",
            b"sec-websocket-protocol",
        }
        if websocket
        else set()
    )
    forwarded = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers if k not in skip]
    if token_from_query:
        forwarded.append(("Authorization", f"Bearer {token_from_query}"))
    client = scope.get("client")
    prior = _header(headers, b"x-forwarded-for")
    if client:
        chain = f"{prior.decode('latin-1')}, {client[0]}" if prior else client[0]
        forwarded = [(k, v) for k, v in forwarded if k.lower() != "x-forwarded-for"]
        forwarded.append(("X-Forwarded-For", chain))
    forwarded.append(("X-Forwarded-Proto", scope.get("scheme", "http")))
    request_id = correlation_id.get()
    if request_id:
        forwarded = [(k, v) for k, v in forwarded if k.lower() != "x-request-id"]
        forwarded.append(("X-Request-ID", request_id))
    return forwarded


async def _read_body(receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


class _StreamedBody:
    """A chunked request body passed on as it arrives, cut off past the limit."""

    def __init__(self, receive, limit: int):
        self.receive = receive
        self.limit = limit
        self.too_large = False

    async def __aiter__(self):
        size = 0
        while True:
            message = await self.receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                self.too_large = True
                raise BodyTooLarge
            if chunk:
                yield chunk
            if not message.get("more_body"):
                return


async def _relay_body(upstream: aiohttp.ClientResponse, receive, send) -> None:
    if upstream.content_length is not None and upstream.content_length <= WHOLE_BODY_LIMIT:
        await send({"type": "http.response.body", "body": await upstream.read()})
        return

    async def pump() -> None:
        async for chunk in upstream.content.iter_any():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def client_gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    # An endless stream (SSE) ends when the client leaves, not when the upstream does.
    tasks = [asyncio.create_task(pump()), asyncio.create_task(client_gone())]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    for task in done:
        task.result()


async def _pump_websocket(upstream: aiohttp.ClientWebSocketResponse, receive, send) -> None:
    async def from_client() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close()
                return
            if message.get("text") is not None:
                await upstream.send_str(message["text"])
            elif message.get("bytes") is not None:
                await upstream.send_bytes(message["bytes"])

    async def from_upstream() -> None:
        async for message in upstream:
            if message.type == aiohttp.WSMsgType.TEXT:
                await send({"type": "websocket.send", "text": message.data})
            elif message.type == aiohttp.WSMsgType.BINARY:
                await send({"type": "websocket.send", "bytes": message.data})
        await send({"type": "websocket.close", "code": upstream.close_code or 1000})

    tasks = [asyncio.create_task(from_client()), asyncio.create_task(from_upstream())]
    _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
