"""Fixtures and helpers of the notification tests: the real service (in process, or
under uvicorn for streams) on a fresh database and broker namespace, a real SMTP server
(`smtp_server`), a JWKS server for access tokens, a recording SMS provider over HTTP,
and a publisher that puts events on the bus as the other services would."""

import asyncio
import contextlib
import json
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aio_pika
import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from prometheus_client import REGISTRY

from wayfare_common.db import Database
from wayfare_common.events import catalog
from wayfare_common.events.envelope import Actor, Envelope, Event, EventContext
from wayfare_common.migrations import upgrade
from wayfare_common.money import Money
from wayfare_common.testing.tokens import TokenIssuer
from wayfare_notification.app import MIGRATIONS_DIR, create_app
from wayfare_notification.settings import Settings

PUBLIC_URL = "http://wayfare.test"


def new_email(prefix: str = "ada") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}@example.com"


def new_reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    number = uuid.uuid4().int
    return "".join(alphabet[(number >> (5 * i)) % len(alphabet)] for i in range(6))


# Access tokens


@dataclass
class Tokens:
    issuer: TokenIssuer
    jwks_url: str

    def headers(self, user_id: uuid.UUID, role: str = "customer", **claims) -> dict[str, str]:
        return self.issuer.bearer(role, user_id=str(user_id), **claims)


@pytest.fixture(scope="session")
async def tokens() -> AsyncIterator[Tokens]:
    issuer = TokenIssuer()
    async with issuer.serve() as server:
        yield Tokens(issuer, server.url)


# Settings and the running service


@pytest.fixture
def make_settings(database_url, amqp_url, amqp_namespace, smtp_server, tokens):
    def make(**overrides: Any) -> Settings:
        values = dict(
            database_url=database_url,
            amqp_url=amqp_url,
            amqp_namespace=amqp_namespace,
            environment="test",
            jwks_url=tokens.jwks_url,
            public_url=PUBLIC_URL,
            smtp_host=smtp_server.host,
            smtp_port=smtp_server.port,
            smtp_timeout=5.0,
            smtp_from="Wayfare <no-reply@wayfare.test>",
            retry_delays=[0.2, 0.5, 1.0, 2.0],
            amqp_reconnect_interval=0.5,
            relay_poll_interval=0.2,
            delivery_retry_delays=[0.2, 0.4, 0.8],
            delivery_poll_interval=0.1,
            delivery_lease=30.0,
        )
        return Settings(**{**values, **overrides})

    return make


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    tokens: Tokens

    @property
    def database(self) -> Database:
        return self.app.state.database

    def headers(self, user_id: uuid.UUID, role: str = "customer") -> dict[str, str]:
        return self.tokens.headers(user_id, role)

    async def rows(self, statement) -> list:
        async with self.database.sessions() as session:
            return list((await session.execute(statement)).all())


async def migrate(settings: Settings) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, settings.database_url)


@contextlib.asynccontextmanager
async def running(settings: Settings, tokens: Tokens) -> AsyncIterator[Service]:
    """The app in process with its lifespan; HTTP through ASGI (no streaming)."""
    await migrate(settings)
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        await _connected(app)
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notification") as client:
            yield Service(app, client, tokens)


async def _connected(app: FastAPI) -> None:
    if app.state.messaging.enabled:
        await asyncio.wait_for(app.state.messaging.connection_ready(), 15)
        await asyncio.wait_for(app.state.live_feed.ready.wait(), 15)


@pytest.fixture
async def service(make_settings, tokens) -> AsyncIterator[Service]:
    async with running(make_settings(), tokens) as running_service:
        yield running_service


@dataclass
class Served:
    url: str
    app: FastAPI


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[Served]:
    """The app under uvicorn on a free loopback port, as a replica runs (real HTTP, so
    streams stream)."""
    await migrate(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(settings)
    config = uvicorn.Config(
        app, lifespan="on", log_config=None, access_log=False, timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(15):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
        await _connected(app)
        yield Served(url, app)
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 15)
        sock.close()


# The bus, as the other services use it


@dataclass
class Bus:
    channel: aio_pika.abc.AbstractChannel
    namespace: str

    async def publish(
        self,
        event: Event,
        *,
        extra: dict[str, Any] | None = None,
        envelope: Envelope | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope:
        """Publish `event` in an envelope (or `envelope` again, for duplicates); `extra`
        adds fields the catalog's models do not have (consumers must ignore or use them)."""
        if envelope is None:
            producer = event.type.partition(".")[0]
            envelope = EventContext(producer=producer, correlation_id="test").envelope(event)
            update: dict[str, Any] = {}
            if extra:
                update["data"] = {**envelope.data, **extra}
            if occurred_at:
                update["occurred_at"] = occurred_at
            envelope = envelope.model_copy(update=update)
        exchange = await self.channel.get_exchange(f"{self.namespace}wayfare.events")
        await exchange.publish(
            aio_pika.Message(
                envelope.to_json(),
                message_id=str(envelope.id),
                type=envelope.type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=envelope.type,
        )
        return envelope


@pytest.fixture
async def bus(amqp_url, amqp_namespace) -> AsyncIterator[Bus]:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        yield Bus(channel, amqp_namespace)


def consumed(outcome: str, type_: str) -> float:
    """Events the notification consumer counted with this outcome (process-wide)."""
    labels = {"service": "notification", "type": type_, "outcome": outcome}
    return REGISTRY.get_sample_value("wayfare_events_consumed_total", labels) or 0.0


# Events, with sensible defaults


def user_registered(user_id=None, email=None, full_name="Ada Lovelace", role="customer"):
    return catalog.UserRegistered(
        user_id=user_id or uuid.uuid4(),
        email=email or new_email(),
        full_name=full_name,
        role=role,
    )


def user_updated(registered: catalog.UserRegistered, **changes):
    values = dict(
        user_id=registered.user_id,
        email=registered.email,
        full_name=registered.full_name,
        phone=None,
        role=registered.role,
        is_active=True,
    )
    return catalog.UserUpdated(**{**values, **changes})


def flight_item(flight_id=None, seats=2, price="298.00"):
    return catalog.FlightItem(
        offer_id=f"off_{uuid.uuid4().hex[:8]}",
        flight_ids=[flight_id or uuid.uuid4()],
        cabin="economy",
        seats=seats,
        price=Money.of(price, "EUR"),
    )


def booking_created(user_id, *, items=None, amount="412.80", email=None, **values):
    return catalog.BookingCreated(
        booking_id=values.pop("booking_id", uuid.uuid4()),
        reference=values.pop("reference", new_reference()),
        user_id=user_id,
        contact_email=email or new_email("booker"),
        items=items or [flight_item()],
        passenger_count=values.pop("passenger_count", 2),
        amount=Money.of(amount, "EUR"),
        payable_until=values.pop("payable_until", datetime(2030, 6, 1, 10, 30, tzinfo=UTC)),
        **values,
    )


def booking_cancelled(created: catalog.BookingCreated, refund="206.40", role="customer"):
    return catalog.BookingCancelled(
        booking_id=created.booking_id,
        reference=created.reference,
        user_id=created.user_id,
        reason="customer_request" if role == "customer" else "flight_cancelled",
        refund=Money.of(refund, "EUR"),
        cancelled_by=Actor(user_id=str(created.user_id), role=role),
    )


# Mail


async def wait_for_mail(smtp_server, to: str, count: int = 1, timeout: float = 10.0):
    """The first `count` messages to `to`, in arrival order."""

    def to_them() -> list[EmailMessage]:
        return [m for m in smtp_server.messages if to in str(m["To"])]

    deadline = asyncio.get_running_loop().time() + timeout
    while len(to_them()) < count:
        if asyncio.get_running_loop().time() > deadline:
            found = [(str(m["To"]), str(m["Subject"])) for m in smtp_server.messages]
            pytest.fail(f"{len(to_them())} of {count} messages to {to} arrived: {found}")
        await asyncio.sleep(0.02)
    return to_them()[:count]


def parts(message: EmailMessage) -> tuple[str, str]:
    """(plain text, HTML) of a multipart/alternative message; fails when one is missing."""
    assert message.get_content_type() == "multipart/alternative", message.get_content_type()
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None, "both MIME parts are needed"
    return text.get_content(), html.get_content()


# SMS provider


@dataclass
class SmsProvider:
    """A local HTTP server in place of an SMS provider: records what it is sent."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def sms_provider() -> Any:
    provider = SmsProvider(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            provider.received.append(
                {
                    "body": body,
                    "authorization": self.headers.get("Authorization"),
                    "idempotency_key": self.headers.get("Idempotency-Key"),
                }
            )
            answer = json.dumps({"id": f"sms_{len(provider.received)}"}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.url = f"http://127.0.0.1:{server.server_port}/messages"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def eventually_rows(service: Service, statement, check: Callable[[list], bool], timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = await service.rows(statement)
        if check(rows):
            return rows
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"condition not met within {timeout} s; rows: {rows}")
        await asyncio.sleep(0.05)
