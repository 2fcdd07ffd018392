"""The gateway as frontends meet it: a real gateway process in front of real upstream
processes. Routing, forwarding, streaming, token checks, revocation, limits, failures."""

import base64
import time
import uuid

import aio_pika
import httpx
import pytest
from aiohttp import ClientSession, WSServerHandshakeError

from wayfare_common.events.catalog import SessionRevoked
from wayfare_common.events.envelope import EventContext
from wayfare_common.testing.plugin import eventually

from gateway_harness import running_gateway


@pytest.fixture(scope="module")
async def client(gateway):
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as client:
        yield client


@pytest.fixture
def bearer(issuer):
    return issuer.bearer


# -- routing and forwarding --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("/api/v1/auth/login", "auth"),
        ("/api/v1/users/me", "auth"),
        ("/.well-known/jwks.json", "auth"),
        ("/api/v1/flights/search", "others"),
        ("/api/v1/packages", "others"),
        ("/api/v1/bookings", "others"),
        ("/api/v1/coupons", "others"),
        ("/api/v1/payments", "others"),
        ("/api/v1/notifications", "others"),
        ("/api/v1/admin/dashboard", "others"),
    ],
)
async def test_each_prefix_reaches_its_service(client, bearer, path, upstream):
    response = await client.get(path, headers=bearer("admin"))
    assert response.status_code == 200, response.text
    assert response.json()["upstream"] == upstream
    assert response.json()["path"] == path


async def test_method_query_headers_and_body_are_forwarded(client, bearer):
    response = await client.post(
        "/api/v1/bookings/quote?currency=EUR&x=%20y",
        headers={
            **bearer(),
            "X-Custom": "kept",
            "Connection": "keep-alive, X-Custom-Hop",
            "X-Request-ID": "3f2d1c0b9a8e4f7d6c5b4a3928170615",
            "Content-Type": "application/json",
        },
        content=b'{"items": []}',
    )
    echoed = response.json()
    assert echoed["method"] == "POST" and echoed["query"] == "currency=EUR&x=%20y"
    assert base64.b64decode(echoed["body"]) == b'{"items": []}'
    assert echoed["headers"]["x-custom"] == "kept"
    assert echoed["headers"]["x-request-id"] == "3f2d1c0b9a8e4f7d6c5b4a3928170615"
    assert echoed["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert response.headers["X-Request-ID"] == "3f2d1c0b9a8e4f7d6c5b4a3928170615"


async def test_a_request_id_is_created_when_absent_and_passed_on(client, bearer):
    response = await client.get("/api/v1/bookings", headers=bearer())
    created = response.headers["X-Request-ID"]
    assert created and response.json()["headers"]["x-request-id"] == created


async def test_server_sent_events_are_streamed_as_they_come(client, bearer, issuer):
    token = issuer.mint("customer")
    started = time.monotonic()
    async with client.stream(
        "GET",
        f"/api/v1/notifications/stream?access_token={token}",
        headers={"Accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        # The token moved from the query (which browsers' EventSource forces) to the header.
        assert response.headers["X-Authorization-Seen"] == f"Bearer {token}"
        first = await anext(response.aiter_text())
        arrived = time.monotonic() - started
    assert "data: event 0" in first
    assert arrived < 0.9, "the first event waited for the stream to end (it lasts 3 s)"


async def test_large_bodies_stream_through_intact(client, bearer):
    response = await client.get("/api/v1/flights/big", headers=bearer())
    assert len(response.content) == 64 * 16384
    assert response.content[:16384] == b"A" * 16384 and response.content[-1:] == bytes(
        [65 + 63 % 26]
    )


async def test_websocket_traffic_passes_with_a_token_in_the_query(gateway, issuer):
    token = issuer.mint("customer")
    url = gateway.url.replace("http", "ws") + f"/api/v1/notifications/ws?access_token={token}"
    async with ClientSession() as session, session.ws_connect(url) as ws:
        hello = await ws.receive(timeout=5)
        assert hello.data == f"hello Bearer {token}"
        await ws.send_str("ping")
        assert (await ws.receive(timeout=5)).data == "echo ping"
    async with ClientSession() as session:
        with pytest.raises(WSServerHandshakeError) as refused:  # no token: no upgrade
            await session.ws_connect(gateway.url.replace("http", "ws") + "/api/v1/notifications/ws")
    assert refused.value.status == 403


# -- what is never routed ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        # (Dot segments are refused too, see test_routes: HTTP clients resolve them first.)
        "/internal/holds",
        "/api/v1/flights/internal/holds",
        "/api/v1/nothing-here",
        "/api/v1/usersx",
    ],
)
async def test_internal_and_unknown_paths_are_404_problems(client, bearer, path):
    response = await client.get(path, headers=bearer("admin"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


# -- tokens ------------------------------------------------------------------------------


def forged_tokens(issuer) -> dict[str, str]:
    now = int(time.time())
    valid = issuer.mint("customer")
    head, payload, signature = valid.split(".")
    other = issuer.mint("admin").split(".")[1]
    return {
        "alg none": issuer.mint("customer", header={"alg": "none"}),
        "tampered payload": f"{head}.{other}.{signature}",
        "tampered signature": f"{head}.{payload}.{signature[:-4]}AAAA",
        "expired": issuer.mint("customer", iat=now - 3600, exp=now - 1800),
        "not yet valid": issuer.mint("customer", nbf=now + 3600),
        "wrong issuer": issuer.mint("customer", iss="someone-else"),
        "wrong audience": issuer.mint("customer", aud="another-api"),
        "unknown kid": issuer.mint("customer", header={"kid": "no-such-key"}),
        "HS256 with the public key": issuer.mint("customer", header={"alg": "HS256"}),
        "refresh token as access token": "c2VjcmV0LXJlZnJlc2gtdG9rZW4tdGhhdC1pcy1vcGFxdWU",
        "no typ": issuer.mint("customer", header={"typ": None}),
    }


async def test_forged_tokens_are_refused_before_routing(client, issuer):
    for name, token in forged_tokens(issuer).items():
        response = await client.get(
            "/api/v1/bookings", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, f"{name}: {response.status_code} {response.text}"
        assert response.json()["code"] == "invalid_token", name
        assert "upstream" not in response.json(), f"{name} reached the upstream"


async def test_missing_token_is_401_and_public_routes_need_none(client):
    missing = await client.get("/api/v1/bookings")
    assert missing.status_code == 401 and missing.json()["code"] == "missing_token"
    for method, path in [
        ("GET", "/api/v1/flights/search?origin=LHR"),
        ("POST", "/api/v1/auth/register"),
        ("GET", "/.well-known/jwks.json"),
        ("POST", "/api/v1/payments/webhooks/stripe"),
    ]:
        response = await client.request(method, path)
        assert response.status_code == 200, f"{method} {path}: {response.text}"


async def test_admin_routes_need_the_admin_role(client, bearer):
    customer = await client.get("/api/v1/admin/dashboard", headers=bearer("customer"))
    assert customer.status_code == 403 and customer.json()["code"] == "forbidden"
    coupons = await client.post("/api/v1/coupons", headers=bearer("customer"), json={})
    assert coupons.status_code == 403
    admin = await client.get("/api/v1/admin/dashboard", headers=bearer("admin"))
    assert admin.status_code == 200 and admin.json()["path"] == "/api/v1/admin/dashboard"


async def test_a_revoked_session_is_refused_within_a_second(
    client, issuer, amqp_url, gateway_namespace
):
    session_id = str(uuid.uuid4())
    other_token_of_the_session = issuer.mint("customer", sid=session_id)
    token = issuer.mint("customer", sid=session_id)
    assert (
        await client.get("/api/v1/bookings", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200

    envelope = EventContext(producer="auth").envelope(
        SessionRevoked(
            user_id=uuid.uuid4(),
            token_id="jti-of-the-logout-request",
            session_id=session_id,
            expires_at=f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(time.time() + 900))}Z",
        )
    )
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{gateway_namespace}wayfare.events")
        await exchange.publish(
            aio_pika.Message(envelope.to_json(), message_id=str(envelope.id)),
            routing_key=envelope.type,
        )

    async def refused(candidate: str) -> bool:
        response = await client.get(
            "/api/v1/bookings", headers={"Authorization": f"Bearer {candidate}"}
        )
        return response.status_code == 401 and response.json()["code"] == "token_revoked"

    await eventually(lambda: refused(token), timeout=1.0, message="still accepted a second later")
    assert await refused(other_token_of_the_session)


# -- limits and failures -----------------------------------------------------------------


async def test_login_is_rate_limited_per_ip_with_retry_after(client):
    statuses = [(await client.post("/api/v1/auth/login", json={})).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = await client.post("/api/v1/auth/login", json={})
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


async def test_bodies_over_the_limit_get_413_whether_announced_or_streamed(client, bearer):
    announced = await client.post("/api/v1/bookings", headers=bearer(), content=b"x" * 5000)
    assert announced.status_code == 413 and announced.json()["code"] == "payload_too_large"

    async def chunks():
        for _ in range(5):
            yield b"x" * 1000

    streamed = await client.post("/api/v1/bookings", headers=bearer(), content=chunks())
    assert streamed.status_code == 413


async def test_a_slow_upstream_gives_504(client, bearer):
    response = await client.get("/api/v1/flights/slow?seconds=3", headers=bearer())
    assert response.status_code == 504 and response.json()["code"] == "upstream_timeout"


async def test_an_upstream_that_is_down_gives_503_at_once(tmp_path, upstreams, jwks, issuer):
    from wayfare_common.testing.smtp import free_port

    async with running_gateway(
        tmp_path, upstreams, jwks.url, GATEWAY_PAYMENT_URL=f"http://127.0.0.1:{free_port()}"
    ) as gateway:
        async with httpx.AsyncClient(base_url=gateway.url) as client:
            started = time.monotonic()
            response = await client.get("/api/v1/payments", headers=issuer.bearer())
            elapsed = time.monotonic() - started
            ready = await client.get("/readyz")
    assert response.status_code == 503 and response.json()["code"] == "upstream_unavailable"
    assert response.headers["Retry-After"]
    assert elapsed < 1.5, f"answered after {elapsed:.1f} s"
    # One service down does not take the front door out of rotation; it is reported.
    assert ready.status_code == 200
    assert ready.json()["checks"]["upstream:payment"] == "degraded"
    assert ready.json()["checks"]["upstream:booking"] == "ok"


# -- the gateway's own routes ------------------------------------------------------------


async def test_security_headers_and_cors(client):
    response = await client.get("/healthz")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    preflight = await client.options(
        "/api/v1/bookings",
        headers={"Origin": "https://app.wayfare.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.wayfare.example"
    assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
    stranger = await client.options(
        "/api/v1/bookings",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in stranger.headers


async def test_readiness_includes_the_revocation_feed(client):
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["revocations"] == "ok"


async def test_metrics_count_requests_by_upstream(client, bearer):
    await client.get("/api/v1/bookings", headers=bearer())
    metrics = (await client.get("/metrics")).text
    assert 'gateway_requests_total{status="200",upstream="booking"}' in metrics


async def test_docs_page_and_one_api_document(client):
    assert "swagger" in (await client.get("/docs")).text.lower()
    document = (await client.get("/openapi.json")).json()
    assert document["info"]["title"] == "Wayfare API"
    assert not any(path.startswith("/internal") for path in document["paths"])


async def test_two_gateways_share_rate_limits_through_redis(
    tmp_path, upstreams, jwks, redis_url, amqp_namespace
):
    options = dict(
        REDIS_URL=redis_url, AMQP_NAMESPACE=amqp_namespace, GATEWAY_LOGIN_RATE="4/minute"
    )
    async with (
        running_gateway(tmp_path, upstreams, jwks.url, **options) as first,
        running_gateway(tmp_path, upstreams, jwks.url, **options) as second,
    ):
        async with httpx.AsyncClient() as client:
            statuses = [
                (await client.post(f"{gateway.url}/api/v1/auth/login", json={})).status_code
                for gateway in (first, second, first, second, first)
            ]
    assert statuses == [200, 200, 200, 200, 429]
