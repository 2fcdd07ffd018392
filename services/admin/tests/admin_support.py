"""Fixtures and helpers of the admin tests: the real service in process on a fresh
database and broker namespace, a JWKS server for access tokens, a stand-in for the owning
services over real HTTP (uvicorn on a loopback port) that records what it receives, and
a publisher that puts events on the bus as the other services would."""

import asyncio
import contextlib
import shutil
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import make_url

from wayfare_admin.app import MIGRATIONS_DIR, create_app
from wayfare_admin.settings import Settings
from wayfare_common.db import connect_asyncpg
from wayfare_common.events import catalog
from wayfare_common.events.envelope import Actor, Envelope, Event
from wayfare_common.migrations import upgrade
from wayfare_common.money import Money
from wayfare_common.testing.plugin import (
    POSTGRES_REASON,
    create_postgres_database,
    drop_postgres_database,
    wait_for_handled,
)
from wayfare_common.testing.tokens import TokenIssuer

# Tokens


@dataclass
class Tokens:
    issuer: TokenIssuer
    jwks_url: str

    def token(self, user_id: uuid.UUID | str, role: str = "admin") -> str:
        return self.issuer.mint(role, user_id=str(user_id))

    def headers(self, user_id: uuid.UUID | str, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id, role)}"}


@pytest.fixture(scope="session")
async def tokens() -> AsyncIterator[Tokens]:
    issuer = TokenIssuer()
    async with issuer.serve() as server:
        yield Tokens(issuer, server.url)


# The owning services


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    json: Any


@dataclass
class FakeOwners:
    """Auth, booking, payment and flight as far as the admin service talks to them:
    records every request and answers `replies[(method, path)]` (default 200 with an
    echo). `flights` and `packages` are the flight service's public catalog."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    replies: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    delays: dict[tuple[str, str], float] = field(default_factory=dict)  # seconds
    flights: dict[str, dict] = field(default_factory=dict)
    packages: dict[str, dict] = field(default_factory=dict)

    def add_flight(self, flight_id: uuid.UUID, origin: str, destination: str) -> None:
        self.flights[str(flight_id)] = {
            "id": str(flight_id),
            "flight_number": f"WF{len(self.flights) + 100}",
            "origin": {"iata_code": origin},
            "destination": {"iata_code": destination},
        }

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/api/v1/flights/{flight_id}")
        async def flight(flight_id: str):
            found = self.flights.get(flight_id)
            return found or JSONResponse({"code": "flight_not_found"}, status_code=404)

        @app.get("/api/v1/packages/{package_id}")
        async def package(package_id: str):
            found = self.packages.get(package_id)
            return found or JSONResponse({"code": "package_not_found"}, status_code=404)

        @app.api_route("/{path:path}", methods=["POST", "PUT"])
        async def action(path: str, request: Request):
            body = await request.body()
            received = Received(
                request.method,
                "/" + path,
                {k.lower(): v for k, v in request.headers.items()},
                await request.json() if body else None,
            )
            self.received.append(received)
            await asyncio.sleep(self.delays.get((request.method, "/" + path), 0))
            status, reply = self.replies.get(
                (request.method, "/" + path), (200, {"path": "/" + path, "echo": received.json})
            )
            media = "application/problem+json" if status >= 400 else "application/json"
            return JSONResponse(reply, status_code=status, media_type=media)

        return app


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """`app` under uvicorn on a loopback port, in this event loop."""
    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@pytest.fixture
async def owners() -> AsyncIterator[FakeOwners]:
    fake = FakeOwners()
    async with serving(fake.app()) as url:
        fake.url = url
        yield fake


def closed_port_url() -> str:
    """A loopback URL where nothing listens."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


# Databases


class Databases:
    """Fresh databases already at the head of the admin migrations, copied from a
    template migrated once per session (PostgreSQL: CREATE DATABASE ... TEMPLATE; SQLite:
    a file copy). They are dropped together at the end of the session: PostgreSQL forces
    a checkpoint per DROP DATABASE, and concurrent drops share it."""

    def __init__(self, server_url: str | None, folder: Path):
        self.server_url = server_url
        self.folder = folder
        self.template_url: str | None = None
        self.sqlite_template = folder / "template.db"
        self.created: list[str] = []

    async def start(self) -> None:
        await asyncio.to_thread(
            upgrade, MIGRATIONS_DIR, f"sqlite+aiosqlite:///{self.sqlite_template}"
        )
        if self.server_url:
            self.template_url = await create_postgres_database(self.server_url)
            await asyncio.to_thread(upgrade, MIGRATIONS_DIR, self.template_url)

    async def postgres(self) -> str:
        if self.template_url is None:
            pytest.skip(POSTGRES_REASON)
        template = make_url(self.template_url)
        url = template.set(database=f"wayfare_test_{uuid.uuid4().hex[:12]}")
        connection = await connect_asyncpg(self.template_url, database="postgres")
        try:
            await connection.execute(
                f'CREATE DATABASE "{url.database}" TEMPLATE "{template.database}"'
            )
        finally:
            await connection.close()
        rendered = url.render_as_string(hide_password=False)
        self.created.append(rendered)
        return rendered

    def sqlite(self) -> str:
        path = self.folder / f"{uuid.uuid4().hex[:12]}.db"
        shutil.copyfile(self.sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"

    async def close(self) -> None:
        urls = [*self.created, *([self.template_url] if self.template_url else [])]
        await asyncio.gather(*(drop_postgres_database(url) for url in urls))


@pytest.fixture(scope="session")
async def databases(postgres_server_url, tmp_path_factory) -> AsyncIterator[Databases]:
    found = Databases(postgres_server_url, tmp_path_factory.mktemp("admin-databases"))
    await found.start()
    yield found
    await found.close()


@pytest.fixture
async def admin_database(databases) -> str:
    """A migrated database: PostgreSQL when one is configured, else SQLite."""
    return await databases.postgres() if databases.server_url else databases.sqlite()


@pytest.fixture
async def admin_postgres(databases) -> str:
    return await databases.postgres()


@pytest.fixture
def admin_sqlite(databases) -> str:
    return databases.sqlite()


# The admin service


def make_settings(database_url: str, tokens: Tokens, owners_url: str, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        amqp_url="",
        environment="test",
        jwks_url=tokens.jwks_url,
        auth_url=owners_url,
        flight_url=owners_url,
        booking_url=owners_url,
        payment_url=owners_url,
        owner_timeout=5.0,
        labels_interval=0,  # the tests fetch labels when they want them
        relay_poll_interval=0.2,
        retry_delays=[0.2, 0.4],
        amqp_reconnect_interval=0.5,
    )
    return Settings(**{**values, **overrides})


@contextlib.asynccontextmanager
async def running_admin(
    database_url: str, tokens: Tokens, owners_url: str = "", **overrides
) -> AsyncIterator[httpx.AsyncClient]:
    """The admin service on a migrated database; `client.app` is the app."""
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, database_url)
    settings = make_settings(database_url, tokens, owners_url or closed_port_url(), **overrides)
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://admin", timeout=30
        ) as client:
            client.app = app
            if settings.amqp_url:
                await asyncio.wait_for(app.state.messaging.connection_ready(), 15)
            yield client


# Events


def envelope(
    event: Event,
    at: datetime,
    actor: Actor | None = None,
    producer: str | None = None,
    correlation_id: str | None = None,
) -> Envelope:
    return Envelope(
        type=event.type,
        version=event.version,
        occurred_at=at,
        producer=producer or event.type.split(".")[0],
        correlation_id=correlation_id,
        causation_id=correlation_id,
        actor=actor or Actor(),
        data=event.model_dump(mode="json"),
    )


class Bus:
    """Publishes envelopes as the producing services would, and waits until the admin
    service has handled them."""

    def __init__(self, amqp_url: str, namespace: str):
        self.amqp_url = amqp_url
        self.namespace = namespace

    async def publish(self, *envelopes: Envelope) -> list[uuid.UUID]:
        connection = await aio_pika.connect(self.amqp_url)
        try:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(f"{self.namespace}wayfare.events")
            for item in envelopes:
                await exchange.publish(
                    aio_pika.Message(
                        item.to_json(),
                        message_id=str(item.id),
                        type=item.type,
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key=item.type,
                )
        finally:
            await connection.close()
        return [item.id for item in envelopes]

    async def deliver(self, client: httpx.AsyncClient, *envelopes: Envelope) -> None:
        """Publish, then wait until every one is handled (in the inbox)."""
        ids = await self.publish(*envelopes)
        await wait_for_handled(client.app.state.database, ids, timeout=20)


@pytest.fixture
def bus(amqp_url, amqp_namespace) -> Bus:
    return Bus(amqp_url, amqp_namespace)


@pytest.fixture
async def admin(admin_database, tokens, owners, amqp_url, amqp_namespace):
    """The admin service on a fresh database, with the broker and the fake owners."""
    async with running_admin(
        admin_database, tokens, owners.url, amqp_url=amqp_url, amqp_namespace=amqp_namespace
    ) as client:
        yield client


# Catalog events, with the fields the tests care about up front


def new_reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    number = uuid.uuid4().int
    return "".join(alphabet[(number >> (5 * i)) % len(alphabet)] for i in range(6))


def flight_item(*flight_ids: uuid.UUID, seats: int = 1, price: str = "100.00", currency="EUR"):
    return catalog.FlightItem(
        offer_id="offer-" + flight_ids[0].hex[:8],
        flight_ids=list(flight_ids),
        cabin="economy",
        seats=seats,
        price=Money.of(price, currency),
    )


def package_item(package_id: uuid.UUID, seats: int = 1, price: str = "100.00", currency="EUR"):
    return catalog.PackageItem(
        package_id=package_id,
        departure_id=uuid.uuid4(),
        vendor_id=VENDOR,
        seats=seats,
        price=Money.of(price, currency),
    )


VENDOR = uuid.UUID("5c1e2a77-0d3b-4c59-8f6e-7b2a9d4c3e21")


@dataclass
class Booking:
    """One booking's facts, from which its events are made."""

    items: list
    amount: str = "100.00"
    currency: str = "EUR"
    user_id: uuid.UUID = field(default_factory=uuid.uuid4)
    booking_id: uuid.UUID = field(default_factory=uuid.uuid4)
    reference: str = field(default_factory=new_reference)
    email: str = "ada@example.com"

    @property
    def money(self) -> Money:
        return Money.of(self.amount, self.currency)

    def created(self) -> catalog.BookingCreated:
        return catalog.BookingCreated(
            booking_id=self.booking_id,
            reference=self.reference,
            user_id=self.user_id,
            contact_email=self.email,
            items=self.items,
            passenger_count=sum(item.seats for item in self.items),
            amount=self.money,
            payable_until="2030-01-01T00:00:00Z",
        )

    def confirmed(self) -> catalog.BookingConfirmed:
        return catalog.BookingConfirmed(
            booking_id=self.booking_id,
            reference=self.reference,
            user_id=self.user_id,
            items=self.items,
            amount=self.money,
        )

    def cancelled(self, refund: str = "0.00", by: Actor | None = None) -> catalog.BookingCancelled:
        return catalog.BookingCancelled(
            booking_id=self.booking_id,
            reference=self.reference,
            user_id=self.user_id,
            reason="customer_request",
            refund=Money.of(refund, self.currency),
            cancelled_by=by or Actor(user_id=str(self.user_id), role="customer"),
        )

    def expired(self) -> catalog.BookingExpired:
        return catalog.BookingExpired(
            booking_id=self.booking_id, reference=self.reference, user_id=self.user_id
        )

    def completed(self) -> catalog.BookingCompleted:
        return catalog.BookingCompleted(
            booking_id=self.booking_id, vendor_id=VENDOR, amount=self.money
        )


def _booking_of(payment_id: uuid.UUID) -> uuid.UUID:
    """The same booking for every event of one payment, as the payment service sends."""
    return uuid.uuid5(payment_id, "booking")


def _user_of(payment_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(payment_id, "user")


def paid(payment_id: uuid.UUID, amount: str, currency: str, booking_id=None, user_id=None):
    return catalog.PaymentSucceeded(
        payment_id=payment_id,
        booking_id=booking_id or _booking_of(payment_id),
        user_id=user_id or _user_of(payment_id),
        amount=Money.of(amount, currency),
        provider="sandbox",
        provider_reference="ch_" + payment_id.hex[:12],
    )


def refunded(payment_id: uuid.UUID, amount: str, currency: str, booking_id=None, by=None):
    return catalog.PaymentRefunded(
        payment_id=payment_id,
        booking_id=booking_id or _booking_of(payment_id),
        user_id=_user_of(payment_id),
        amount=Money.of(amount, currency),
        refunded_by=by or Actor(),
    )


def failed(payment_id: uuid.UUID, reason: str = "card_declined"):
    return catalog.PaymentFailed(
        payment_id=payment_id,
        booking_id=_booking_of(payment_id),
        user_id=_user_of(payment_id),
        reason=reason,
    )


def registered(user_id: uuid.UUID, email: str, name: str = "Ada Lovelace", role="customer"):
    return catalog.UserRegistered(user_id=user_id, email=email, full_name=name, role=role)


def updated(user_id: uuid.UUID, email: str, name: str, *, role="customer", active=True):
    return catalog.UserUpdated(
        user_id=user_id, email=email, full_name=name, role=role, is_active=active
    )
