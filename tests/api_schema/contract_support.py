"""The services as the API contract tests see them: each one's real app, migrated, on a
database of its own (PostgreSQL when TEST_DATABASE_URL is set, else SQLite), served by
uvicorn on a loopback port from a thread with its own event loop (the schemathesis tests
are synchronous and call it over real HTTP), with a little seed data and bearer tokens it
accepts, as a customer and as an admin. The fixtures are module-scoped: the services stop
once the contract tests are done, and hold no connections while the rest of a run goes on.

Flight, booking, payment, notification and admin accept the plugin's `issuer` tokens.
Auth checks each token's session in its database, so its tokens come from logging in to
it. Booking calls the flight service of the session, and admin's staff actions reach the
real auth, booking and payment services (auth refuses the issuer's tokens, so admin passes
its 401 on, as it passes on any owner's answer). Events the seed data needs (a booking
that payment, notification and admin know of) are handed to each service's consumer as
the broker would deliver them: its inbox row and its handler's effects in one transaction.
"""

import asyncio
import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from wayfare_common.events import catalog
from wayfare_common.events.envelope import Actor, Event, EventContext
from wayfare_common.migrations import upgrade
from wayfare_common.money import Money
from wayfare_common.testing.events import booking_confirmed, payment_succeeded
from wayfare_common.testing.plugin import create_postgres_database, drop_postgres_database
from wayfare_common.testing.smtp import RecordingSMTPServer
from wayfare_common.testing.tokens import TokenIssuer

CUSTOMER_ID = uuid.UUID("c0000000-0000-4000-8000-000000000001")
ADMIN_ID = uuid.UUID("a0000000-0000-4000-8000-000000000001")
CUSTOMER_EMAIL = "ada@example.com"
PASSWORD = "Correct-Horse-7-battery"
# Test-only argon2 cost (allowed with ENVIRONMENT=test only): a hash takes ~1 ms.
FAST_HASHING = {"argon2_memory_cost": 256, "argon2_time_cost": 1}

# name -> the running service; the schemas' hooks read the known ids from here
RUNNING: dict[str, "Api"] = {}


@dataclass
class Api:
    """One running service as the contract tests see it."""

    name: str
    server: "ServerThread"
    # role -> the headers that sign a request in as that role
    signers: dict[str, Callable[[], dict[str, str]]]
    # path parameter -> ids of rows that exist, so that some calls reach real data
    known: dict[str, list[str]] = field(default_factory=dict)
    # called after each call with the case and the response (auth renews its sessions)
    after_call: Callable[[Any, Any], None] = lambda case, response: None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def app(self) -> FastAPI:
        return self.server.app


# Serving an app from a thread


class ServerThread:
    """An app under uvicorn on 127.0.0.1, in a thread of its own with its own event loop,
    so that it keeps serving while a synchronous test waits for its answers."""

    def __init__(self, app: FastAPI):
        self.app = app
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(
            app, lifespan="on", log_config=None, access_log=False, timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._serve, name=self.url, daemon=True)
        self._failure: BaseException | None = None

    def _serve(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # raised again by start()
            self._failure = exc

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._server.serve(sockets=[self._sock])

    def start(self, timeout: float = 60.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start within {timeout} s") from self._failure
            self._thread.join(0.02)

    def run(self, coroutine: Coroutine, timeout: float = 30.0) -> Any:
        """Run `coroutine` on the app's event loop (seeding through the app's own parts)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()


@contextlib.asynccontextmanager
async def serving(app: FastAPI):
    server = ServerThread(app)
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


@contextlib.asynccontextmanager
async def migrated_database(server_url: str | None, folder: Path, migrations: Path):
    """A fresh database at the head of `migrations`: PostgreSQL when one is configured,
    else a SQLite file; dropped afterwards."""
    if server_url is None:
        url = f"sqlite+aiosqlite:///{folder / 'service.db'}"
    else:
        url = await create_postgres_database(server_url)
    try:
        await asyncio.to_thread(upgrade, migrations, url)
        yield url
    finally:
        if server_url is not None:
            await drop_postgres_database(url)


@contextlib.contextmanager
def registered(api: Api):
    """`api` in RUNNING while its tests run (the schemas' hooks look up its known ids)."""
    RUNNING[api.name] = api
    try:
        yield api
    finally:
        del RUNNING[api.name]


async def ids_in(app: FastAPI, statement: sa.Select) -> list[str]:
    async with app.state.database.sessions() as session:
        return [str(value) for value in await session.scalars(statement)]


async def handle(app: FastAPI, *events: Event) -> None:
    """Hand events to the app's consumer as a delivery from the broker would."""
    consumer = app.state.messaging.consumer
    for event in events:
        producer = event.type.split(".")[0]
        envelope = EventContext(producer=producer, actor=Actor(role="system")).envelope(event)
        event_cls, handler = consumer.handlers.get(envelope.type, envelope.version)
        await consumer._handle(envelope, event_cls.model_validate(envelope.data), handler)


def issuer_signers(issuer: TokenIssuer) -> dict[str, Callable[[], dict[str, str]]]:
    return {
        "customer": lambda: issuer.bearer("customer", user_id=str(CUSTOMER_ID)),
        "admin": lambda: issuer.bearer("admin", user_id=str(ADMIN_ID)),
    }


def common_settings(folder: Path, issuer: TokenIssuer) -> dict[str, Any]:
    """Settings every service here shares: no broker (events wait in the outbox), and
    the plugin's issuer for access tokens."""
    return dict(amqp_url="", environment="test", data_dir=folder, jwks_url=issuer.jwks_url)


# The story the seed events tell: a customer registered and booked a flight.


def customer_registered() -> catalog.UserRegistered:
    return catalog.UserRegistered(user_id=CUSTOMER_ID, email=CUSTOMER_EMAIL, full_name="Ada")


def booking_created(booking_id: uuid.UUID, amount: str = "412.80") -> catalog.BookingCreated:
    price = Money.of(amount, "EUR")
    return catalog.BookingCreated(
        booking_id=booking_id,
        reference="K7MX4P",
        user_id=CUSTOMER_ID,
        contact_email=CUSTOMER_EMAIL,
        items=[
            catalog.FlightItem(
                offer_id="offer-1", flight_ids=[uuid.uuid4()], cabin="economy", seats=1, price=price
            )
        ],
        passenger_count=1,
        amount=price,
        payable_until=datetime.now(UTC) + timedelta(hours=2),
    )


# auth


class AuthAccounts:
    """A customer and an admin at the real auth service, signed in over its API. After a
    call that may have ended their sessions they sign in again, as new accounts if the
    old ones are gone (deleted)."""

    # Operations that end the caller's own session when they succeed.
    SESSION_ENDING = {
        ("POST", "/api/v1/auth/logout"),
        ("POST", "/api/v1/auth/logout-all"),
        ("DELETE", "/api/v1/users/me"),
    }

    def __init__(self, server: ServerThread):
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self.tokens: dict[str, str] = {}

    def signers(self) -> dict[str, Callable[[], dict[str, str]]]:
        return {role: (lambda role=role: self.headers(role)) for role in ("customer", "admin")}

    def headers(self, role: str) -> dict[str, str]:
        if role not in self.tokens:
            self.tokens[role] = self._sign_in(role)
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def after_call(self, case, response) -> None:
        operation = (case.method.upper(), case.path)
        ended = operation in self.SESSION_ENDING and response.status_code < 300
        # Any other way a session ends shows as this answer; the next call signs in anew.
        if ended or b'"session_ended"' in response.content:
            self.tokens.clear()

    def _sign_in(self, role: str) -> str:
        email = f"{role}@example.com"
        answer = self.http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        if answer.status_code != 200:  # deleted, deactivated or demoted by a call
            email = f"{role}.{uuid.uuid4().hex[:8]}@example.com"
            self.server.run(add_account(self.server.app, email, role))
            answer = self.http.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            )
        answer.raise_for_status()
        return answer.json()["access_token"]

    def close(self) -> None:
        self.http.close()


async def add_account(app: FastAPI, email: str, role: str) -> str:
    """A verified account, made as `make admin` makes one."""
    from wayfare_auth import accounts
    from wayfare_auth.store.models import utcnow

    async with app.state.database.sessions() as session:
        user = await accounts.create(
            session,
            app.state.messaging.outbox,
            EventContext(producer="auth"),
            email=email,
            full_name=f"Test {role}",
            password_hash=await app.state.auth.hashing.hash(PASSWORD),
            role=role,
            email_verified=True,
            now=utcnow(),
        )
        await session.commit()
        return str(user.id)


@pytest.fixture(scope="module")
async def auth_api(postgres_server_url, tmp_path_factory):
    from wayfare_auth.app import MIGRATIONS_DIR, create_app
    from wayfare_auth.settings import Settings

    folder = tmp_path_factory.mktemp("auth")
    async with migrated_database(postgres_server_url, folder, MIGRATIONS_DIR) as url:
        settings = Settings(
            database_url=url,
            amqp_url="",
            environment="test",
            data_dir=folder,
            public_url="http://wayfare.test",
            # The fuzzed logins and password changes fail by the hundred; the accounts
            # that sign the calls in must not be locked out by them.
            login_max_failures_per_account_ip=1_000_000,
            login_max_failures_per_ip=1_000_000,
            **FAST_HASHING,
        )
        async with serving(create_app(settings)) as server:
            bystander = server.run(add_account(server.app, "bystander@example.com", "customer"))
            accounts = AuthAccounts(server)
            api = Api(
                "auth",
                server,
                accounts.signers(),
                known={"user_id": [bystander]},
                after_call=accounts.after_call,
            )
            try:
                with registered(api):
                    yield api
            finally:
                accounts.close()


# flight


@pytest.fixture(scope="module")
async def flight_api(postgres_server_url, issuer, tmp_path_factory):
    from wayfare_flight.app import MIGRATIONS_DIR, create_app
    from wayfare_flight.settings import Settings
    from wayfare_flight.store.models import flights, packages
    from wayfare_flight.usecases.seed import seed

    folder = tmp_path_factory.mktemp("flight")
    async with migrated_database(postgres_server_url, folder, MIGRATIONS_DIR) as url:
        settings = Settings(
            database_url=url, seed_on_empty=False, **common_settings(folder, issuer)
        )
        async with serving(create_app(settings)) as server:
            app = server.app
            server.run(seed(app.state.database, days=2, airports=4))
            api = Api(
                "flight",
                server,
                issuer_signers(issuer),
                known={
                    "flight_id": server.run(ids_in(app, sa.select(flights.c.id).limit(3))),
                    "package_id": server.run(ids_in(app, sa.select(packages.c.id).limit(3))),
                },
            )
            with registered(api):
                yield api


# booking


@pytest.fixture(scope="module")
async def booking_api(postgres_server_url, issuer, tmp_path_factory, flight_api):
    from wayfare_booking.app import MIGRATIONS_DIR, create_app
    from wayfare_booking.settings import Settings

    folder = tmp_path_factory.mktemp("booking")
    async with migrated_database(postgres_server_url, folder, MIGRATIONS_DIR) as url:
        settings = Settings(
            database_url=url, flight_url=flight_api.url, **common_settings(folder, issuer)
        )
        async with serving(create_app(settings)) as server:
            api = Api("booking", server, issuer_signers(issuer))
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                booking = await book_a_flight(http, api, flight_api)
                coupon = await add_coupon(http, api)
            api.known = {
                "booking_id": [booking["id"]],
                "passenger_id": [booking["passengers"][0]["id"]],
                "coupon_id": [coupon["id"]],
            }
            with registered(api):
                yield api


async def book_a_flight(http: httpx.AsyncClient, api: Api, flight_api: Api) -> dict:
    """A booking of a flight added for it (the seeded ones may have been moved or
    cancelled by the flight service's own contract tests)."""
    departing = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    flight = {
        "carrier_code": "LH",
        "flight_number": "LH901",
        "origin": "FRA",
        "destination": "MUC",
        "departing_at": departing.isoformat(),
    }
    added = await http.post(
        f"{flight_api.url}/api/v1/flights", json=flight, headers=flight_api.signers["admin"]()
    )
    assert added.status_code == 201, added.text
    offer_id = added.json()["cabins"][0]["fares"][0]["offer_id"]
    body = {
        "items": [{"type": "flight", "offer_id": offer_id}],
        "passengers": [
            {"given_name": "Ada", "family_name": "Lovelace", "birth_date": "1985-12-10"}
        ],
        "contact": {"email": CUSTOMER_EMAIL},
    }
    headers = {**api.signers["customer"](), "Idempotency-Key": str(uuid.uuid4())}
    answer = await http.post("/api/v1/bookings", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def add_coupon(http: httpx.AsyncClient, api: Api) -> dict:
    body = {"code": "SEED10", "kind": "percent", "percent": "10"}
    answer = await http.post("/api/v1/coupons", json=body, headers=api.signers["admin"]())
    assert answer.status_code == 201, answer.text
    return answer.json()


# payment


@pytest.fixture(scope="module")
async def payment_api(postgres_server_url, issuer, tmp_path_factory):
    from wayfare_payment.app import MIGRATIONS_DIR, create_app
    from wayfare_payment.settings import Settings
    from wayfare_payment.store.models import Payment

    folder = tmp_path_factory.mktemp("payment")
    async with migrated_database(postgres_server_url, folder, MIGRATIONS_DIR) as url:
        settings = Settings(
            database_url=url,
            payout_interval=0,
            # With a secret the webhook checks signatures (without one it answers 503).
            stripe_webhook_secret="whsec_contract_tests",
            **common_settings(folder, issuer),
        )
        async with serving(create_app(settings)) as server:
            api = Api("payment", server, issuer_signers(issuer))
            unpaid, paid = booking_created(uuid.uuid4()), booking_created(uuid.uuid4())
            server.run(handle(server.app, unpaid, paid))
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                body = {"booking_id": str(paid.booking_id), "payment_method": "pm_card_visa"}
                headers = {**api.signers["customer"](), "Idempotency-Key": str(uuid.uuid4())}
                answer = await http.post("/api/v1/payments", json=body, headers=headers)
                assert answer.json().get("status") == "succeeded", answer.text
            api.known = {"payment_id": server.run(ids_in(server.app, sa.select(Payment.id)))}
            with registered(api):
                yield api


# notification


@pytest.fixture(scope="module")
async def notification_api(postgres_server_url, issuer, tmp_path_factory):
    from wayfare_notification.app import MIGRATIONS_DIR, create_app
    from wayfare_notification.settings import Settings
    from wayfare_notification.store.models import Notification

    folder = tmp_path_factory.mktemp("notification")
    with RecordingSMTPServer() as smtp:
        async with migrated_database(postgres_server_url, folder, MIGRATIONS_DIR) as url:
            settings = Settings(
                database_url=url,
                smtp_host=smtp.host,
                smtp_port=smtp.port,
                smtp_timeout=5.0,
                # A stream without news sends only heartbeats: often, so that a short read
                # of it (the stream never ends) always has bytes coming.
                stream_heartbeat=0.2,
                **common_settings(folder, issuer),
            )
            async with serving(create_app(settings)) as server:
                created = booking_created(uuid.uuid4())
                events = (customer_registered(), created, booking_confirmed(created))
                server.run(handle(server.app, *events))
                # The first signed call fetches the JWKS; later ones, such as the short
                # reads of the stream, need not wait for it.
                async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                    answer = await http.get(
                        "/api/v1/notifications/unread-count",
                        headers=issuer.bearer("customer", user_id=str(CUSTOMER_ID)),
                    )
                    assert answer.status_code == 200, answer.text
                api = Api(
                    "notification",
                    server,
                    issuer_signers(issuer),
                    known={
                        "notification_id": server.run(
                            ids_in(server.app, sa.select(Notification.id))
                        )
                    },
                )
                with registered(api):
                    yield api


# admin


@pytest.fixture(scope="module")
async def admin_api(
    postgres_server_url, issuer, tmp_path_factory, auth_api, flight_api, booking_api, payment_api
):
    from wayfare_admin.app import MIGRATIONS_DIR, create_app
    from wayfare_admin.settings import Settings

    folder = tmp_path_factory.mktemp("admin")
    async with migrated_database(postgres_server_url, folder, MIGRATIONS_DIR) as url:
        settings = Settings(
            database_url=url,
            auth_url=auth_api.url,
            flight_url=flight_api.url,
            booking_url=booking_api.url,
            payment_url=payment_api.url,
            owner_timeout=5.0,
            labels_interval=0,
            **common_settings(folder, issuer),
        )
        async with serving(create_app(settings)) as server:
            booking_id = uuid.UUID(booking_api.known["booking_id"][0])
            payment_id = uuid.UUID(payment_api.known["payment_id"][0])
            created = booking_created(booking_id)
            events = (
                customer_registered(),
                created,
                payment_succeeded(created, payment_id),
                booking_confirmed(created),
            )
            server.run(handle(server.app, *events))
            api = Api(
                "admin",
                server,
                issuer_signers(issuer),
                known={
                    "user_id": [str(CUSTOMER_ID), *auth_api.known["user_id"]],
                    "booking_id": [str(booking_id)],
                    "payment_id": [str(payment_id)],
                },
            )
            with registered(api):
                yield api
