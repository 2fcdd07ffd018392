"""Helpers for the booking tests: the flight process and its inventory, the booking app,
customers with tokens, events published to and read from the real broker and outbox."""

import asyncio
import contextlib
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aio_pika
import httpx
import orjson
import sqlalchemy as sa
from asgi_lifespan import LifespanManager

from wayfare_booking.app import MIGRATIONS_DIR, create_app
from wayfare_booking.settings import Settings
from wayfare_common.db import connect_asyncpg
from wayfare_common.events.envelope import Envelope, Event, EventContext
from wayfare_common.messaging import topology
from wayfare_common.messaging.tables import outbox
from wayfare_common.migrations import upgrade
from wayfare_common.testing.plugin import (
    POSTGRES_REASON,
    RABBITMQ_REASON,
    create_postgres_database,
    drop_postgres_database,
    eventually,
    wait_for_handled,
)
from wayfare_common.testing.processes import python_module, running_process
from wayfare_common.testing.tokens import TokenIssuer

__all__ = ["POSTGRES_REASON", "RABBITMQ_REASON", "eventually", "wait_for_handled"]

RETRY_DELAYS = [0.2, 0.5]
VENDOR = uuid.UUID("5c1e2a77-0d3b-4c59-8f6e-7b2a9d4c3e21")


def today():
    return datetime.now(UTC).date()


def local(zone: str, day, hh: int, mm: int = 0) -> str:
    return datetime.combine(day, time(hh, mm), tzinfo=ZoneInfo(zone)).isoformat()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The broker


@contextlib.asynccontextmanager
async def session_namespace(amqp_url: str):
    """A namespace shared by the flight process and every booking app of the session;
    afterwards its exchange and queues (both services') are deleted."""
    name = f"test-booking-{uuid.uuid4().hex[:8]}."
    try:
        yield name
    finally:
        names = topology.declared.pop(name, set())
        for service in ("flight", "booking"):
            shape = topology.Topology(service, namespace=name, retry_delays=tuple(RETRY_DELAYS))
            names |= {("queue", shape.queue_name), ("queue", shape.dead_letter_queue)}
            names |= {("queue", shape.retry_queue(i)) for i in range(len(RETRY_DELAYS))}
        names.add(("exchange", f"{name}{topology.EXCHANGE}"))
        connection = await aio_pika.connect(amqp_url)
        try:
            for kind, object_name in sorted(names, reverse=True):  # queues first
                channel = await connection.channel()
                with contextlib.suppress(Exception):
                    if kind == "queue":
                        await channel.queue_delete(object_name)
                    else:
                        await channel.exchange_delete(object_name)
                if not channel.is_closed:
                    await channel.close()
        finally:
            await connection.close()


async def publish(amqp_url: str, namespace: str, *envelopes: Envelope) -> list[uuid.UUID]:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{namespace}{topology.EXCHANGE}")
        for envelope in envelopes:
            await exchange.publish(
                aio_pika.Message(
                    envelope.to_json(), message_id=str(envelope.id), type=envelope.type
                ),
                routing_key=envelope.type,
            )
    finally:
        await connection.close()
    return [envelope.id for envelope in envelopes]


def envelope(event: Event, producer: str = "payment", **overrides) -> Envelope:
    made = EventContext(producer=producer).envelope(event)
    return made.model_copy(update=overrides) if overrides else made


# The flight service, a real process


@dataclass
class FlightEnv:
    url: str
    database_url: str
    issuer: TokenIssuer
    http: httpx.AsyncClient
    flights: dict[str, dict] = field(default_factory=dict)
    package: dict = field(default_factory=dict)

    def admin(self) -> dict:
        return self.issuer.bearer("admin")

    async def add_flight(self, number, origin, destination, departing_at: str) -> dict:
        body = {
            "carrier_code": number[:2],
            "flight_number": number,
            "origin": origin,
            "destination": destination,
            "departing_at": departing_at,
        }
        response = await self.http.post("/api/v1/flights", json=body, headers=self.admin())
        assert response.status_code == 201, response.text
        return response.json()

    async def hold(self, booking_id) -> dict | None:
        response = await self.http.get(f"/internal/holds/{booking_id}", headers=self.admin())
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return response.json()

    async def _sql(self, fetch: bool, statement: str, *args):
        """Test set-up and checks straight in flight's database (as its own tests do)."""
        connection = await connect_asyncpg(self.database_url)
        try:
            if fetch:
                return await connection.fetch(statement, *args)
            return await connection.execute(statement, *args)
        finally:
            await connection.close()

    async def set_seats(self, flight_id: str, seats: int, cabin: str = "economy") -> None:
        await self._sql(
            False,
            "UPDATE flight_cabins SET seats_available = $1 WHERE flight_id = $2 AND cabin = $3",
            seats,
            uuid.UUID(flight_id),
            cabin,
        )

    async def hold_statuses_of(self, user_id: uuid.UUID) -> list[str]:
        rows = await self._sql(
            True, "SELECT status FROM holds WHERE user_id = $1 ORDER BY created_at", user_id
        )
        return [row["status"] for row in rows]


def offer_of(flight: dict, family: str = "saver", cabin: str = "economy") -> str:
    entry = next(c for c in flight["cabins"] if c["cabin"] == cabin)
    return next(f["offer_id"] for f in entry["fares"] if f["family"] == family)


@contextlib.asynccontextmanager
async def running_flight(server_url, amqp_url, namespace, issuer, workdir: Path):
    database_url = await create_postgres_database(server_url)
    port = free_port()
    env = {
        "ENVIRONMENT": "test",
        "FLIGHT_PORT": str(port),
        "FLIGHT_DATABASE_URL": database_url,
        "FLIGHT_SEED_ON_EMPTY": "false",
        "FLIGHT_HOLD_SWEEP_INTERVAL": "0.2",
        "AMQP_URL": amqp_url,
        "AMQP_NAMESPACE": namespace,
        "AMQP_RECONNECT_INTERVAL": "0.5",
        "MESSAGING_RETRY_DELAYS": orjson.dumps(RETRY_DELAYS).decode(),
        "OUTBOX_POLL_INTERVAL": "0.2",
        "JWKS_URL": issuer.jwks_url,
    }
    url = f"http://127.0.0.1:{port}"
    try:
        async with (
            running_process(
                python_module("wayfare_flight"),
                url=url,
                log_path=workdir / "flight.log",
                env=env,
                ready_path="/readyz",
                timeout=60,
            ),
            httpx.AsyncClient(base_url=url, timeout=10) as http,
        ):
            flight = FlightEnv(url, database_url, issuer, http)
            await _inventory(flight)
            yield flight
    finally:
        await drop_postgres_database(database_url)


async def _inventory(flight: FlightEnv) -> None:
    """Flights: domestic (FRA-MUC), international (LHR-JFK), one leaving in 10 hours; and
    a tour package with departures in 40 and 10 days."""
    in_10_days = today() + timedelta(days=10)
    soon = datetime.now(UTC) + timedelta(hours=10)
    flight.flights["domestic"] = await flight.add_flight(
        "LH100", "FRA", "MUC", local("Europe/Berlin", in_10_days, 9)
    )
    flight.flights["international"] = await flight.add_flight(
        "BA117", "LHR", "JFK", local("Europe/London", today() + timedelta(days=12), 8)
    )
    flight.flights["soon"] = await flight.add_flight(
        "LH102", "FRA", "HAM", soon.replace(second=0, microsecond=0).isoformat()
    )
    body = {
        "code": f"PT-LIS-{uuid.uuid4().hex[:6]}",
        "title": "Lisbon in a week",
        "destination": "Lisbon",
        "duration_days": 7,
        "price_per_person": {"amount": "899.00", "currency": "EUR"},
        "vendor_id": str(VENDOR),
        "departures": [
            {"starts_on": (today() + timedelta(days=40)).isoformat(), "capacity": 100},
            {"starts_on": (today() + timedelta(days=10)).isoformat(), "capacity": 100},
        ],
    }
    response = await flight.http.post("/api/v1/packages", json=body, headers=flight.admin())
    assert response.status_code == 201, response.text
    flight.package = response.json()


# The booking service, in this process


@dataclass
class Customer:
    id: uuid.UUID
    headers: dict[str, str]


@dataclass
class BookingEnv:
    client: httpx.AsyncClient
    app: Any
    flight: FlightEnv
    issuer: TokenIssuer
    amqp_url: str
    namespace: str

    @property
    def database(self):
        return self.app.state.database

    @property
    def background(self):
        return self.app.state.background

    def customer(self) -> Customer:
        user_id = uuid.uuid4()
        return Customer(user_id, self.issuer.bearer("customer", user_id=str(user_id)))

    def admin(self) -> Customer:
        user_id = uuid.uuid4()
        return Customer(user_id, self.issuer.bearer("admin", user_id=str(user_id)))

    async def book(self, who: Customer, body: dict, key: str | None = None) -> httpx.Response:
        headers = {**who.headers, "Idempotency-Key": key or str(uuid.uuid4())}
        return await self.client.post("/api/v1/bookings", json=body, headers=headers)

    async def booked(self, who: Customer, body: dict) -> dict:
        response = await self.book(who, body)
        assert response.status_code == 201, response.text
        return response.json()

    async def get(self, who: Customer, booking_id: str) -> httpx.Response:
        return await self.client.get(f"/api/v1/bookings/{booking_id}", headers=who.headers)

    async def status(self, booking_id) -> str:
        from wayfare_booking.store.models import Booking

        async with self.database.sessions() as session:
            return await session.scalar(
                sa.select(Booking.status).where(Booking.id == uuid.UUID(str(booking_id)))
            )

    async def events(self, type_: str, booking_id=None) -> list[dict]:
        """Data of the events of `type_` in the outbox (sent or not), oldest first."""
        async with self.database.sessions() as session:
            rows = await session.execute(
                sa.select(outbox.c.body).where(outbox.c.routing_key == type_).order_by(outbox.c.seq)
            )
            found = [orjson.loads(body) for (body,) in rows]
        return [
            {**e["data"], "_actor": e["actor"]}
            for e in found
            if booking_id is None or e["data"].get("booking_id") == str(booking_id)
        ]

    async def deliver(self, *envelopes: Envelope) -> None:
        """Publish to the real broker and wait until this service handled them."""
        ids = await publish(self.amqp_url, self.namespace, *envelopes)
        await wait_for_handled(self.database, ids)


def booking_settings(database_url, amqp_url, namespace, issuer, flight, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        amqp_url=amqp_url,
        amqp_namespace=namespace,
        environment="test",
        jwks_url=issuer.jwks_url,
        flight_url=flight.url,
        relay_poll_interval=0.2,
        retry_delays=RETRY_DELAYS,
        amqp_reconnect_interval=0.5,
        sweep_interval=3600,  # tests run the sweeps themselves
        completion_interval=3600,
        idempotency_wait_seconds=10,
    )
    return Settings(**{**values, **overrides})


@contextlib.asynccontextmanager
async def running_booking(
    database_url, amqp_url, namespace, issuer, flight, *, references=None, **overrides
):
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, database_url)
    settings = booking_settings(database_url, amqp_url, namespace, issuer, flight, **overrides)
    kwargs = {"references": references} if references else {}
    app = create_app(settings, **kwargs)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        await _consuming(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://booking", timeout=30
        ) as client:
            yield BookingEnv(client, app, flight, issuer, amqp_url, namespace)


async def _consuming(app) -> None:
    """Wait (bounded) until the broker connection is up and the queue declared."""
    messaging = app.state.messaging
    if not messaging.enabled:
        return
    await asyncio.wait_for(messaging.connection_ready(), timeout=15)


# Request bodies


def adult(given="Ada", family="Lovelace", born="1985-12-10", **extra) -> dict:
    return {"given_name": given, "family_name": family, "birth_date": born, **extra}


def passport(expires_on=None, number="C01X00T47") -> dict:
    return {
        "number": number,
        "issuing_country": "GB",
        "nationality": "GB",
        "expires_on": expires_on or (today() + timedelta(days=2000)).isoformat(),
    }


def flight_item(flight: dict, family: str = "saver") -> dict:
    return {"type": "flight", "offer_id": offer_of(flight, family)}


def package_item(package: dict, days: int = 40) -> dict:
    """The package's departure `days` from today (40 and 10 exist)."""
    starts_on = (today() + timedelta(days=days)).isoformat()
    departure = next(d for d in package["departures"] if d["starts_on"] == starts_on)
    return {"type": "package", "package_id": package["id"], "departure_id": departure["id"]}


def booking_body(items: list[dict], passengers=None, coupon=None, **extra) -> dict:
    body = {
        "items": items,
        "passengers": passengers or [adult()],
        "contact": {"email": "ada@example.com", "phone": "+441632960961"},
        **extra,
    }
    if coupon:
        body["coupon_code"] = coupon
    return body
