"""Saga benchmark: complete bookings through the gateway, set against the raw hops a saga
is made of, and the idle memory of every process.

    .venv/bin/python bench/saga.py [--sagas 200] [--seconds 30] [--concurrency 24]

Needs PostgreSQL and RabbitMQ (BENCH_DATABASE_URL / BENCH_AMQP_URL, else TEST_DATABASE_URL /
TEST_AMQP_URL, else the local defaults). It starts the whole suite as tests/e2e does (six
services and the gateway as real processes, a PostgreSQL database each, one broker
namespace, a recording SMTP server), with production settings where they matter for what
is measured (OVERRIDES), and removes everything afterwards.

A saga: POST /api/v1/bookings (one adult, a direct flight), POST /api/v1/payments with the
sandbox's good card (again every 10 ms while payment has not yet heard of the booking),
until the booking reads `confirmed` and the "Booking X is confirmed" email has reached
the SMTP recorder (its arrival time is taken in the recorder's thread, not polled).

1. Latency: sagas one at a time, the booking read every 10 ms for `confirmed`; p50/p99,
   where the time goes (the client's steps, and the steps after the payment from the
   services' log lines) and the CPU a saga costs each process.
2. Throughput: --concurrency customers, each running sagas back to back, for --seconds
   after a warm-up; complete sagas per second (the booking read once, after the email),
   with the CPU and the committed transactions a saga costs each process.
3. Raw hops, same run, suite idle: an HTTP round trip through the gateway to a trivial
   route (auth's JWKS), a PostgreSQL commit (one small insert, asyncpg, scratch database),
   a confirmed publish (aio-pika, persistent, mandatory, into a quorum queue declared like
   the services' own), a consume (publish to delivery at a consumer of that queue). Target:
   saga p50 <= 3 x the sum of their p50s. Also a service-to-service round trip and an SMTP
   send, to price the saga's whole critical path (CRITICAL_PATH) at raw hops.
4. Idle memory: RSS and USS of every process, a few seconds after start and again after the
   traffic; the mail catcher of `make run` alongside. Target: <= 100 MB each.

Writes bench/results/saga.json and bench/saga.png (--json, --plot to change).
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import aio_pika
import aiosmtplib
import asyncpg
import httpx
import psutil
import structlog
from sqlalchemy.engine import make_url

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "tests" / "e2e"))

from wayfare_common.db import connect_asyncpg  # noqa: E402
from wayfare_common.messaging.topology import Topology, declared  # noqa: E402
from wayfare_common.testing.plugin import (  # noqa: E402
    create_postgres_database,
    drop_postgres_database,
)
from wayfare_common.testing.processes import stop  # noqa: E402
from wayfare_common.testing.smtp import RecordingSMTPServer, free_port  # noqa: E402

import suite_support  # noqa: E402
from suite_support import (  # noqa: E402
    ROUTES,
    SERVICES,
    adult,
    bearer,
    new_email,
    register_verify_login,
    running_suite,
)

# Where the e2e environment (suite_support.suite_env) differs from production in a way
# that touches what is measured, production's value; the rest is the e2e's.
OVERRIDES = {
    # Production defaults. The relay and the delivery worker are woken by commits; their
    # poll only matters if a wake-up is missed, and a saga must not lean on it.
    "OUTBOX_POLL_INTERVAL": "1.0",
    "NOTIFICATION_DELIVERY_POLL_INTERVAL": "1.0",
    "AMQP_RECONNECT_INTERVAL": "2.0",
    # A 15-minute payment window (the e2e's is 30 s, so that expiry can be watched): no
    # booking of the run expires, and the sweeps run at their production pace.
    "BOOKING_PAYMENT_WINDOW_MINUTES": "15",
    "BOOKING_PAYMENT_GRACE_SECONDS": "30",
    "BOOKING_SWEEP_INTERVAL": "5.0",
    "FLIGHT_HOLD_SWEEP_INTERVAL": "5.0",
    "FLIGHT_SEARCH_CACHE_SECONDS": "2.0",
    # Not production: one client stands for many people. The limiter still runs on every
    # request; only its budgets are raised (the customers sign up from one address, and
    # the booking is read every 10 ms).
    "GATEWAY_REGISTER_RATE": "10000/minute",
    "GATEWAY_LOGIN_RATE": "10000/minute",
    "GATEWAY_USER_RATE": "1000000/minute",
    "GATEWAY_ANONYMOUS_RATE": "1000000/minute",
    # Not production: this PostgreSQL (max_connections 100) is shared with other suites
    # running at the same time. Five connections per service (ten at a peak) are more
    # than two cores keep busy; production's default is ten (twenty at a peak).
    "DATABASE_POOL_SIZE": "5",
    "DATABASE_MAX_OVERFLOW": "5",
    "FLIGHT_SEARCH_POOL_SIZE": "2",
    # Kept from the e2e: ENVIRONMENT=test (JSON logs, as in production) with fast argon2
    # hashes (login is not measured); LOG_LEVEL=INFO (one access line per request, as
    # deployed); MESSAGING_RETRY_DELAYS (no handler fails; suite_support deletes the
    # retry queues by these delays).
}

CONFIRMED_SUBJECT = re.compile(r"Booking (\w{6}) is confirmed")
GOOD_CARD = "pm_card_visa"
SAGA_TIMEOUT = 30.0
READ_INTERVAL = 0.010  # the booking's status, while waiting for `confirmed`
PAY_RETRY_INTERVAL = 0.010  # while payment has not yet heard of the booking
# The parts run from a venv holding what their images hold (deploy/Dockerfile): the
# project's packages and their runtime dependencies, none of the test or bench tools,
# which other libraries import when they find them (structlog imports rich, for one).
RUNTIME_VENV = HERE.parent / ".data" / "bench" / "runtime-venv"
PACKAGES = ("libs/common", *(f"services/{name}" for name in SERVICES), "gateway")


def runtime_python(venv: Path = RUNTIME_VENV) -> str:
    """The runtime venv's interpreter, the venv made or brought up to date first
    (editable installs: it runs this checkout's code)."""
    root = HERE.parent
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    editable = [arg for package in PACKAGES for arg in ("-e", str(root / package))]
    installed = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--constraint",
            str(root / "constraints.txt"),
            *editable,
        ],
        capture_output=True,
        text=True,
    )
    if installed.returncode != 0:
        raise SystemExit(f"could not make {venv}:\n{installed.stdout}{installed.stderr}")
    return str(venv / "bin" / "python")


PROCESSES = ("gateway", "auth", "flight", "booking", "payment", "notification", "admin")

HTTP = "HTTP round trip, through the gateway (auth's JWKS)"
COMMIT = "PostgreSQL commit (one insert)"
PUBLISH = "confirmed publish (quorum queue)"
CONSUME = "consume (publish to delivery)"
HTTP_DIRECT = "HTTP round trip, service to service (auth's JWKS)"
SMTP = "SMTP send to the recorder (aiosmtplib)"
ISSUE_HOPS = (HTTP, COMMIT, PUBLISH, CONSUME)  # the sum the issue sets the saga against

# The saga's critical path in hops, read from the code (and checked against the logs):
# the client's two requests through the gateway; booking's two calls to flight (offer,
# hold); the commits a later step waits for: booking's idempotency claim, flight's hold,
# the booking; payment's claim, attempt, outcome and answer; booking's handler of
# payment.succeeded, notification's handler of booking.confirmed and the delivery's
# claim; two events (payment.succeeded, booking.confirmed), each from the relay's
# publish to the consumer (the relay marks its rows after that: off the path); the email.
# booking.created is off the path: it reaches payment while the client sends its payment.
CRITICAL_PATH = {HTTP: 2, HTTP_DIRECT: 2, COMMIT: 10, CONSUME: 2, SMTP: 1}


# --- the SMTP recorder, with arrival times -------------------------------------------------


class TimedSMTPServer(RecordingSMTPServer):
    """suite_support's recorder, which also tells waiting sagas when their confirmation
    arrives: the time is taken in the SMTP thread as the message is accepted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.arrivals: dict[str, float] = {}  # booking reference -> perf_counter()
        self.waiters: dict[str, asyncio.Future] = {}
        # The handler is built by the parent; chain our callback after its append.
        self._controller.handler.on_message = self._received

    def _received(self, message: EmailMessage) -> None:
        arrived = time.perf_counter()
        self.messages.append(message)
        found = CONFIRMED_SUBJECT.search(str(message["Subject"]))
        if found and self.loop is not None:
            self.loop.call_soon_threadsafe(self._arrived, found.group(1), arrived)

    def _arrived(self, reference: str, arrived: float) -> None:
        self.arrivals.setdefault(reference, arrived)
        waiter = self.waiters.pop(reference, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(arrived)

    async def confirmation(self, reference: str, timeout: float) -> float:
        """When the confirmation email of `reference` arrived (waits for it)."""
        if reference in self.arrivals:
            return self.arrivals.pop(reference)
        waiter = self.waiters[reference] = asyncio.get_running_loop().create_future()
        try:
            return await asyncio.wait_for(waiter, timeout)
        finally:
            self.waiters.pop(reference, None)
            self.arrivals.pop(reference, None)


# --- one saga -----------------------------------------------------------------------------


class SagaFailed(Exception):
    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class SoldOut(SagaFailed):
    pass


@dataclass
class Customer:
    email: str
    headers: dict[str, str]


@dataclass
class Saga:
    """Seconds from the POST /bookings, and when it started (perf_counter)."""

    started: float
    booked: float  # POST /bookings answered
    payable: float  # the POST /payments that was accepted was sent
    paid: float  # and answered
    mailed: float  # the confirmation email arrived
    confirmed: float | None  # the booking first read `confirmed` (latency runs only)
    pay_retries: int  # POST /payments answered booking_not_known
    pay_request_id: str  # the X-Request-ID of the payment: the events' correlation id
    paid_wall: float  # time.time() at `paid`, to set against the services' log lines

    @property
    def total(self) -> float:
        return max(self.mailed, self.confirmed or 0.0)

    @property
    def ended(self) -> float:
        return self.started + self.total


class Offers:
    """Direct one-adult offers, handed out in turn so that sagas spread over many flights
    (as many people's would) and do not queue on one flight's seats."""

    def __init__(self, offers: list[dict]):
        self.offers = offers
        self._next = 0

    def take(self) -> dict:
        if not self.offers:
            raise SagaFailed("no_seats", "every offer of the pool is sold out")
        self._next = (self._next + 1) % len(self.offers)
        return self.offers[self._next]

    def drop(self, offer: dict) -> None:
        with contextlib.suppress(ValueError):
            self.offers.remove(offer)


async def book(client: httpx.AsyncClient, customer: Customer, offer: dict) -> dict:
    response = await client.post(
        "/api/v1/bookings",
        json={
            "items": [{"type": "flight", "offer_id": offer["id"]}],
            "passengers": [adult("Ada", "Lovelace", "1985-12-10")],
            "contact": {"email": customer.email},
        },
        headers={**customer.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    if response.status_code == 409 and response.json().get("code") == "seats_unavailable":
        raise SoldOut("sold_out", offer["id"])
    if response.status_code != 201:  # e.g. 503 while the database refuses connections
        raise SagaFailed(f"book_{response.status_code}", response.text[:300])
    return response.json()


async def pay(
    client: httpx.AsyncClient, customer: Customer, booking_id: str, request_id: str
) -> tuple[float, int]:
    """(when the accepted attempt was sent, how many were turned away first)."""
    key = str(uuid.uuid4())
    deadline = time.perf_counter() + SAGA_TIMEOUT
    for retries in itertools.count():
        sent = time.perf_counter()
        response = await client.post(
            "/api/v1/payments",
            json={"booking_id": booking_id, "payment_method": GOOD_CARD},
            headers={**customer.headers, "Idempotency-Key": key, "X-Request-ID": request_id},
        )
        if response.status_code == 200 and response.json()["status"] == "succeeded":
            return sent, retries
        code = response.json().get("code") if response.status_code == 409 else None
        if code != "booking_not_known" or sent > deadline:
            raise SagaFailed(f"pay_{response.status_code}", response.text[:300])
        await asyncio.sleep(PAY_RETRY_INTERVAL)
    raise AssertionError("unreachable")


async def read_until_confirmed(
    client: httpx.AsyncClient, customer: Customer, booking_id: str, interval: float
) -> float:
    deadline = time.perf_counter() + SAGA_TIMEOUT
    while True:
        response = await client.get(f"/api/v1/bookings/{booking_id}", headers=customer.headers)
        seen = time.perf_counter()
        if response.status_code == 200 and response.json()["status"] == "confirmed":
            return seen
        if seen > deadline:
            raise SagaFailed("not_confirmed", response.text[:300])
        await asyncio.sleep(interval)


async def run_saga(
    client: httpx.AsyncClient,
    smtp: TimedSMTPServer,
    customer: Customer,
    offers: Offers,
    *,
    watch_status: bool,
) -> Saga:
    """Book and pay until confirmed and mailed. With `watch_status`, the booking is read
    every 10 ms meanwhile (when it turned `confirmed`); else once, after the email."""
    while True:
        offer = offers.take()
        started = time.perf_counter()
        try:
            booking = await book(client, customer, offer)
            break
        except SoldOut:
            offers.drop(offer)
    booked = time.perf_counter()
    request_id = uuid.uuid4().hex  # the gateway keeps a client's id when it is a UUID
    payable, retries = await pay(client, customer, booking["id"], request_id)
    paid, paid_wall = time.perf_counter(), time.time()
    mail = asyncio.ensure_future(smtp.confirmation(booking["reference"], SAGA_TIMEOUT))
    try:
        confirmed = None
        if watch_status:
            confirmed = await read_until_confirmed(client, customer, booking["id"], READ_INTERVAL)
        mailed = await mail
    except TimeoutError:
        raise SagaFailed("no_confirmation_email", booking["reference"]) from None
    finally:
        mail.cancel()
    if not watch_status:
        # The email follows booking.confirmed, so this reads `confirmed` at once.
        await read_until_confirmed(client, customer, booking["id"], READ_INTERVAL)
    return Saga(
        started=started,
        booked=booked - started,
        payable=payable - started,
        paid=paid - started,
        mailed=mailed - started,
        confirmed=None if confirmed is None else confirmed - started,
        pay_retries=retries,
        pay_request_id=request_id,
        paid_wall=paid_wall,
    )


# --- phases ---------------------------------------------------------------------------------


async def sign_up_customers(client, smtp, count: int) -> list[Customer]:
    """Register, verify and log in `count` customers, a few at a time."""
    gate = asyncio.Semaphore(4)

    async def one(number: int) -> Customer:
        async with gate:
            email = new_email(f"bench{number}")
            _, tokens = await register_verify_login(client, smtp, email, f"Bench Customer {number}")
            return Customer(email, bearer(tokens))

    return list(await asyncio.gather(*(one(n) for n in range(count))))


async def collect_offers(client: httpx.AsyncClient) -> Offers:
    """Every direct one-adult offer with seats on the e2e routes, both ways, on the
    seeded days ahead."""
    offers = []
    for days_ahead in (1, 2):
        day = (datetime.now(UTC) + timedelta(days=days_ahead)).date().isoformat()
        for origin, destination in ROUTES + tuple((d, o) for o, d in ROUTES):
            response = await client.get(
                "/api/v1/flights/search",
                params={
                    "origin": origin,
                    "destination": destination,
                    "date": day,
                    "adults": 1,
                    "max_stops": 0,
                    "limit": 100,
                },
            )
            response.raise_for_status()
            offers += [o for o in response.json()["data"] if o["seats_available"] >= 1]
    if not offers:
        raise SystemExit("no direct offers in the seeded schedule")
    return Offers(offers)


async def latency_run(client, smtp, customers, offers, count: int) -> tuple[list[Saga], Counter]:
    """One saga at a time, customers in turn. (completed sagas, failures)"""
    sagas: list[Saga] = []
    failures: Counter = Counter()
    for number in range(count):
        customer = customers[number % len(customers)]
        try:
            sagas.append(await run_saga(client, smtp, customer, offers, watch_status=True))
        except SagaFailed as failure:
            failures[failure.kind] += 1
    return sagas, failures


async def throughput_run(
    client, smtp, customers, offers, *, seconds: float, warmup: float
) -> tuple[list[Saga], list[Saga], Counter]:
    """Each customer runs sagas back to back until the window closes; the sagas that
    ended inside the window (after the warm-up) count. (counted, all done, failures)"""
    window_start = time.perf_counter() + warmup
    window_end = window_start + seconds
    done: list[Saga] = []
    failures: Counter = Counter()

    async def customer_loop(customer: Customer) -> None:
        while time.perf_counter() < window_end:
            try:
                done.append(await run_saga(client, smtp, customer, offers, watch_status=False))
            except SagaFailed as failure:
                failures[failure.kind] += 1
                if failure.kind == "no_seats":
                    return
            except httpx.HTTPError as error:  # e.g. a timeout: counted, not fatal
                failures[type(error).__name__] += 1

    await asyncio.gather(*(customer_loop(customer) for customer in customers))
    return [s for s in done if window_start <= s.ended < window_end], done, failures


# --- the steps after the payment, from the services' log lines ----------------------------


def log_lines(path: Path) -> list[dict]:
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            lines.append(json.loads(line))
    return lines


def wall(line: dict) -> float:
    return datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00")).timestamp()


def steps_after_payment(logs: Path, sagas: list[Saga]) -> dict[str, float]:
    """Median ms of each step from the payment's answer to the email, for the sagas run
    one at a time, from the log lines the services write as they go (booking's
    `payment_succeeded`, notification's `notification_planned` and `delivery_sent`; each
    written just before its transaction commits). The payment's request id is the
    correlation id of the events it causes."""
    booking_handled = {
        line["request_id"]: wall(line)
        for line in log_lines(logs / "booking.log")
        if line.get("event") == "payment_succeeded" and "request_id" in line
    }
    notification = log_lines(logs / "notification.log")
    planned = {
        line["request_id"]: wall(line)
        for line in notification
        if line.get("event") == "notification_planned"
        and line.get("kind") == "booking_confirmed"
        and "request_id" in line
    }
    sent = sorted(
        wall(line)
        for line in notification
        if line.get("event") == "delivery_sent" and line.get("kind") == "booking_confirmed"
    )
    steps: dict[str, list[float]] = {
        "payment answered -> booking handled payment.succeeded": [],
        "-> notification handled booking.confirmed": [],
        "-> email delivery recorded as sent": [],
    }
    for saga in sagas:
        handled = booking_handled.get(saga.pay_request_id)
        noted = planned.get(saga.pay_request_id)
        if handled is None or noted is None:
            continue
        # One saga at a time: the first confirmation sent after it was planned is its own.
        delivered = next((at for at in sent if at >= noted), None)
        if delivered is None:
            continue
        for step, value in zip(
            steps, (handled - saga.paid_wall, noted - handled, delivered - noted), strict=True
        ):
            steps[step].append(value)
    return {step: ms(statistics.median(v)) for step, v in steps.items() if v}


# --- what a saga costs each process -------------------------------------------------------


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU time (user + system) of each process so far, its own threads only (the bench
    is the parent of the suite's processes: they are counted apart)."""
    return {name: sum(psutil.Process(pid).cpu_times()[:2]) for name, pid in pids.items()}


async def transactions(database_urls: dict[str, str]) -> dict[str, int]:
    """Committed transactions of each service's database so far (pg_stat_database; the
    statistics reach it within a second, so read them after a pause)."""
    names = {make_url(url).database: service for service, url in database_urls.items()}
    any_url = next(iter(database_urls.values()))
    connection = await connect_asyncpg(any_url)
    try:
        rows = await connection.fetch(
            "SELECT datname, xact_commit FROM pg_stat_database WHERE datname = ANY($1)",
            list(names),
        )
    finally:
        await connection.close()
    return {names[row["datname"]]: row["xact_commit"] for row in rows}


def per_saga(before: dict, after: dict, sagas: int, scale: float = 1.0) -> dict[str, float]:
    return {name: round((after[name] - before[name]) * scale / sagas, 1) for name in before}


# --- raw hops -------------------------------------------------------------------------------


async def http_hop(client: httpx.AsyncClient, headers: dict[str, str], n: int) -> list[float]:
    """GET /.well-known/jwks.json through the gateway: proxied to auth, which answers
    from memory; with a customer's token, as the saga's requests."""
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = await client.get("/.well-known/jwks.json", headers=headers)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
    return samples


async def commit_hop(scratch_url: str, n: int) -> list[float]:
    """One small insert, committed (autocommit), in a scratch database."""
    connection = await connect_asyncpg(scratch_url)
    try:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS scratch (id bigserial PRIMARY KEY,"
            " note text NOT NULL, at timestamptz NOT NULL DEFAULT now())"
        )
        insert = await connection.prepare("INSERT INTO scratch (note) VALUES ($1)")
        samples = []
        for number in range(n):
            started = time.perf_counter()
            await insert.fetch(f"hop {number}")
            samples.append(time.perf_counter() - started)
        return samples
    finally:
        await connection.close()


async def broker_hops(amqp_url: str, n: int) -> tuple[list[float], list[float]]:
    """(confirmed publish, consume) into and out of a quorum queue declared with the
    services' own topology code, in a namespace of its own.

    Publish: persistent, mandatory, until the broker's confirm. Consume: from the publish
    (on a channel without confirms) to the delivery at a consumer on another channel."""
    namespace = f"bench-hops-{uuid.uuid4().hex[:8]}."
    topology = Topology(
        service="bench-hops", routing_keys=("bench.hop",), namespace=namespace, retry_delays=()
    )
    body = json.dumps({"data": "x" * 600}).encode()  # about a booking.created envelope
    waiting: dict[str, asyncio.Future] = {}

    async def delivered(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        at = time.perf_counter()
        await message.ack()
        waiter = waiting.pop(message.message_id, None)
        if waiter is not None:
            waiter.set_result(at)

    def message(message_id: str) -> aio_pika.Message:
        return aio_pika.Message(
            body,
            message_id=message_id,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )

    connection = await aio_pika.connect(amqp_url)
    consuming = await connection.channel()
    try:
        confirming = await connection.channel(publisher_confirms=True, on_return_raises=True)
        plain = await connection.channel(publisher_confirms=False)
        await consuming.set_qos(prefetch_count=32)
        await (await topology.declare_queues(consuming)).consume(delivered)
        confirmed_exchange = await topology.declare_exchange(confirming)
        plain_exchange = await topology.declare_exchange(plain)

        async def one(exchange) -> tuple[float, float]:
            message_id = str(uuid.uuid4())
            waiter = waiting[message_id] = asyncio.get_running_loop().create_future()
            started = time.perf_counter()
            await exchange.publish(message(message_id), "bench.hop", mandatory=True)
            returned = time.perf_counter()
            at = await asyncio.wait_for(waiter, 10)
            return returned - started, at - started

        publish = [(await one(confirmed_exchange))[0] for _ in range(n)]
        consume = [(await one(plain_exchange))[1] for _ in range(n)]
        return publish, consume
    finally:
        with contextlib.suppress(Exception):
            await consuming.close()  # before its queue goes, or the broker cancels it
            channel = await connection.channel()
            for kind, name in sorted(declared.pop(namespace, set()), reverse=True):
                await (
                    channel.queue_delete(name) if kind == "queue" else channel.exchange_delete(name)
                )
        await connection.close()


async def smtp_hop(smtp: RecordingSMTPServer, n: int) -> list[float]:
    """One small message to the recorder with aiosmtplib (connection included), as the
    notification service sends each email."""
    samples = []
    for number in range(n):
        message = EmailMessage()
        message["From"] = "bench@wayfare.localhost"
        message["To"] = "hop@example.com"
        message["Subject"] = f"hop {number}"
        message.set_content("A raw SMTP hop.")
        started = time.perf_counter()
        await aiosmtplib.send(message, hostname=smtp.host, port=smtp.port)
        samples.append(time.perf_counter() - started)
    del smtp.messages[-n:]
    return samples


async def raw_hops(suite, headers, scratch_url: str, amqp_url: str, n: int) -> dict:
    publish, consume = await broker_hops(amqp_url, n)
    async with (
        httpx.AsyncClient(base_url=suite.gateway_url) as gateway,
        httpx.AsyncClient(base_url=suite.parts["auth"].url) as direct,
    ):
        via_gateway = await http_hop(gateway, headers, n)
        service_to_service = await http_hop(direct, headers, n)
    return {
        HTTP: via_gateway,
        COMMIT: await commit_hop(scratch_url, n),
        PUBLISH: publish,
        CONSUME: consume,
        HTTP_DIRECT: service_to_service,
        SMTP: await smtp_hop(suite.smtp, n),
    }


# --- memory -------------------------------------------------------------------------------


def memory_of(pids: dict[str, int]) -> dict[str, dict[str, float]]:
    """MB resident (RSS) and unique to the process (USS), its children included."""
    result = {}
    for name, pid in pids.items():
        process = psutil.Process(pid)
        rss = uss = 0
        for member in [process, *process.children(recursive=True)]:
            info = member.memory_full_info()
            rss, uss = rss + info.rss, uss + info.uss
        result[name] = {"rss_mb": rss / 2**20, "uss_mb": uss / 2**20}
    return result


@contextlib.asynccontextmanager
async def mail_catcher(data_dir: Path):
    """The SMTP catcher of `make run`, idle beside the suite, for its memory."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        suite_support.PYTHON,
        "-m",
        "wayfare_common.devtools.mailcatcher",
        env={
            **os.environ,
            "MAILCATCHER_HOST": "127.0.0.1",
            "MAILCATCHER_PORT": str(port),
            "DATA_DIR": str(data_dir),
            "ENVIRONMENT": "test",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline or process.returncode is not None:
                raise SystemExit("the mail catcher did not start")
            await asyncio.sleep(0.1)
        yield process.pid
    finally:
        await stop(process)


# --- report ---------------------------------------------------------------------------------


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def summary(samples: list[float]) -> dict:
    return {
        "n": len(samples),
        "p50_ms": ms(percentile(samples, 50)),
        "p90_ms": ms(percentile(samples, 90)),
        "p99_ms": ms(percentile(samples, 99)),
        "mean_ms": ms(statistics.fmean(samples)),
    }


def where_the_time_goes(sagas: list[Saga]) -> dict[str, float]:
    """Median of each step of the sequential sagas, in ms."""
    steps = {
        "POST /bookings (gateway, booking, flight's hold)": [s.booked for s in sagas],
        "booking.created reaches payment (POST /payments refused meanwhile)": [
            s.payable - s.booked for s in sagas
        ],
        "POST /payments (accepted attempt)": [s.paid - s.payable for s in sagas],
        "payment.succeeded -> booking reads confirmed (10 ms reads)": [
            s.confirmed - s.paid for s in sagas
        ],
        "payment answered -> confirmation email at the recorder": [
            s.mailed - s.paid for s in sagas
        ],
    }
    return {step: ms(statistics.median(values)) for step, values in steps.items()}


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "host": platform.node(),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


async def server_versions(server_url: str, amqp_url: str) -> dict:
    connection = await connect_asyncpg(server_url)
    try:
        postgres = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    broker = await aio_pika.connect(amqp_url)
    try:
        rabbitmq = broker.transport.connection.server_properties.get("version")
    finally:
        await broker.close()
    if isinstance(rabbitmq, bytes):
        rabbitmq = rabbitmq.decode()
    return {"postgresql": postgres, "rabbitmq": rabbitmq}


def print_report(results: dict) -> None:
    m = results["machine"]
    print(
        f"\nmachine: {m['cores']} cores, {m['cpu']}, Python {m['python']}, "
        f"PostgreSQL {results['servers']['postgresql']}, RabbitMQ {results['servers']['rabbitmq']}"
    )
    print(f"load average: start {m['load_average_at_start']}, end {results['load_average_at_end']}")
    seq, load = results["latency"], results["throughput"]
    print(f"\nsagas one at a time ({seq['n']}; failures: {results['latency_failures'] or 'none'}):")
    print(f"  p50 {seq['p50_ms']} ms  p90 {seq['p90_ms']} ms  p99 {seq['p99_ms']} ms")
    for step, value in results["latency_steps_p50_ms"].items():
        print(f"    {value:8.1f} ms  {step}")
    cpu = results["latency_cpu_ms_per_saga"]
    print(
        f"  CPU per saga: {sum(v for k, v in cpu.items() if k != 'bench client'):.1f} ms in the "
        f"suite's processes (bench client {cpu['bench client']:.1f} ms; the reads every 10 ms "
        "included)"
    )
    print("  after the payment, from the services' log lines (p50):")
    for step, value in results["after_payment_steps_p50_ms"].items():
        print(f"    {value:8.1f} ms  {step}")
    print(
        f"  POST /payments refused (booking_not_known) before the accepted one: "
        f"{results['pay_retries_mean']:.2f} per saga"
    )
    latency = load["latency"] or {"p50_ms": None, "p99_ms": None}
    print(
        f"\nthroughput, {load['concurrency']} customers, {load['seconds']} s: "
        f"{load['sagas_per_second']:.1f} complete sagas/s ({load['sagas']} sagas; "
        f"p50 {latency['p50_ms']} ms, p99 {latency['p99_ms']} ms)"
        f"; failures: {load['failures'] or 'none'}"
    )
    print("  per saga:  CPU ms | committed transactions")
    for name, cpu in load["cpu_ms_per_saga"].items():
        commits = load["transactions_per_saga"].get(name, "")
        print(f"    {name:13s} {cpu:6.1f} | {commits}")
    suite_cpu = sum(v for k, v in load["cpu_ms_per_saga"].items() if k != "bench client")
    print(f"    {'the suite':13s} {suite_cpu:6.1f}")
    print("\nraw hops (p50), same run, suite idle:")
    for name, values in results["hops"].items():
        print(f"  {values['p50_ms']:8.2f} ms  {name}  (p99 {values['p99_ms']} ms)")
    print(f"  {results['hop_sum_ms']:8.2f} ms  sum of the first four (the issue's)")
    print(
        f"saga p50 / that sum: {results['ratio']:.1f}  (target <= 3: "
        f"{'met' if results['ratio'] <= 3 else 'NOT met'})"
    )
    path = ", ".join(f"{count} x {name.split(' (')[0]}" for name, count in CRITICAL_PATH.items())
    print(
        f"the saga's critical path priced at raw hops ({path}): "
        f"{results['critical_path_floor_ms']:.1f} ms; saga p50 / that: "
        f"{results['ratio_to_floor']:.1f}"
    )
    print("\nidle memory, MB (RSS / USS): after start | after traffic  (target <= 100)")
    for name in results["memory"]["after_start"]:
        a, b = results["memory"]["after_start"][name], results["memory"]["after_traffic"][name]
        print(
            f"  {name:13s} {a['rss_mb']:6.1f} / {a['uss_mb']:6.1f} | "
            f"{b['rss_mb']:6.1f} / {b['uss_mb']:6.1f}"
        )


def plot(results: dict, sequential: list[float], loaded: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (cdf, bars) = plt.subplots(1, 2, figsize=(14, 5.5))
    for label, samples in (
        ("one at a time", sequential),
        (f"{results['throughput']['concurrency']} at once", loaded),
    ):
        values = sorted(v * 1000 for v in samples)
        if values:
            fractions = [(i + 1) / len(values) for i in range(len(values))]
            cdf.step(values, fractions, where="post", label=f"saga, {label}")
    hop_sum = results["hop_sum_ms"]
    cdf.axvline(hop_sum, color="grey", linestyle="--", label=f"sum of raw hops {hop_sum:.1f} ms")
    cdf.axvline(3 * hop_sum, color="red", linestyle="--", label=f"3 x that, {3 * hop_sum:.1f} ms")
    floor = results["critical_path_floor_ms"]
    cdf.axvline(
        floor, color="purple", linestyle="-.", label=f"critical path at raw hops {floor:.1f} ms"
    )
    cdf.axvline(
        results["latency"]["p50_ms"],
        color="black",
        linestyle=":",
        label=f"saga p50 {results['latency']['p50_ms']:.0f} ms",
    )
    cdf.set_xscale("log")
    cdf.set_xlabel("book + pay until confirmed and mailed (ms, log scale)")
    cdf.set_ylabel("fraction of sagas")
    cdf.set_title("Saga latency (CDF)")
    cdf.grid(True, which="both", alpha=0.3)
    cdf.legend(loc="upper left", fontsize=8)

    names = list(results["memory"]["after_traffic"])
    width = 0.2
    series = [
        ("RSS after start", "after_start", "rss_mb"),
        ("USS after start", "after_start", "uss_mb"),
        ("RSS after traffic", "after_traffic", "rss_mb"),
        ("USS after traffic", "after_traffic", "uss_mb"),
    ]
    for offset, (label, moment, key) in enumerate(series):
        bars.bar(
            [i + (offset - 1.5) * width for i in range(len(names))],
            [results["memory"][moment][name][key] for name in names],
            width,
            label=label,
        )
    bars.axhline(100, color="red", linestyle="--", label="target 100 MB")
    tallest = max(v["rss_mb"] for moment in results["memory"].values() for v in moment.values())
    bars.set_ylim(0, max(tallest, 100) * 1.35)
    bars.set_xticks(range(len(names)), names, rotation=30, ha="right")
    bars.set_ylabel("MB")
    bars.set_title("Idle memory per process")
    bars.legend(fontsize=8, ncol=3, loc="upper left")
    figure.suptitle(
        f"Wayfare saga: {results['machine']['cores']} cores, {results['machine']['cpu']}",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)


# --- main -----------------------------------------------------------------------------------


def with_overrides(suite_env):
    def env(**kwargs) -> dict[str, str]:
        return {**suite_env(**kwargs), **OVERRIDES}

    return env


async def measure(args, server: str, amqp_url: str, scratch: str) -> dict:
    """Start the suite, run every phase, stop it: the raw figures."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-saga-"))
    began = time.perf_counter()
    async with (
        running_suite(workdir, server, amqp_url) as suite,
        mail_catcher(workdir / "mailcatcher") as catcher_pid,
    ):
        smtp: TimedSMTPServer = suite.smtp
        smtp.loop = asyncio.get_running_loop()
        pids = {name: suite.parts[name].process.pid for name in PROCESSES}
        pids["mailcatcher"] = catcher_pid
        print(f"suite up in {time.perf_counter() - began:.0f} s (logs in {suite.logs})")
        await asyncio.sleep(args.idle)
        memory_after_start = memory_of(pids)

        limits = httpx.Limits(max_connections=args.concurrency + 8)
        async with httpx.AsyncClient(
            base_url=suite.gateway_url, timeout=SAGA_TIMEOUT, limits=limits
        ) as client:
            customers = await sign_up_customers(client, smtp, max(args.concurrency, 1))
            offers = await collect_offers(client)
            print(f"{len(customers)} customers, {len(offers.offers)} offers")
            # A few untimed sagas: connections, caches and prepared statements warm.
            await latency_run(client, smtp, customers, offers, 5)
            # CPU is counted for the bench's own process too (client and SMTP recorder).
            counted = {**pids, "bench client": os.getpid()}
            latency_cpu_before = cpu_seconds(counted)
            sequential, latency_failures = await latency_run(
                client, smtp, customers, offers, args.sagas
            )
            latency_cpu_after = cpu_seconds(counted)
            print(f"latency: {len(sequential)} sagas done")
            hops = await raw_hops(suite, customers[0].headers, scratch, amqp_url, args.hops)
            print("raw hops done")
            after_payment = steps_after_payment(suite.logs, sequential)
            cpu_before = cpu_seconds(counted)
            commits_before = await transactions(suite.database_urls)
            loaded, done, failures = await throughput_run(
                client, smtp, customers, offers, seconds=args.seconds, warmup=args.warmup
            )
            cpu_after = cpu_seconds(counted)
            await asyncio.sleep(1.5)  # the statistics collector
            commits_after = await transactions(suite.database_urls)
            print(f"throughput: {len(loaded)} sagas in the window")
        await asyncio.sleep(args.idle)
        memory_after_traffic = memory_of(pids)
    return {
        "sequential": sequential,
        "latency_failures": latency_failures,
        "latency_cpu": (latency_cpu_before, latency_cpu_after),
        "after_payment": after_payment,
        "hops": hops,
        "loaded": loaded,
        "done": done,
        "failures": failures,
        "cpu": (cpu_before, cpu_after),
        "transactions": (commits_before, commits_after),
        "memory": (memory_after_start, memory_after_traffic),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sagas", type=int, default=200, help="one at a time, for latency")
    parser.add_argument("--seconds", type=float, default=30, help="throughput window")
    parser.add_argument("--warmup", type=float, default=5, help="before the window")
    parser.add_argument("--concurrency", type=int, default=24, help="customers at once")
    parser.add_argument("--hops", type=int, default=300, help="samples of each raw hop")
    parser.add_argument("--idle", type=float, default=5, help="seconds idle before memory")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "saga.json")
    parser.add_argument("--plot", type=Path, default=HERE / "saga.png")
    parser.add_argument(
        "--services-python",
        help="interpreter the parts run with (default: a runtime-only venv made in "
        f"{RUNTIME_VENV.relative_to(HERE.parent)})",
    )
    args = parser.parse_args()

    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    amqp_url = os.environ.get("BENCH_AMQP_URL") or os.environ.get(
        "TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"
    )
    try:
        servers = await server_versions(server, amqp_url)
    except (OSError, asyncpg.PostgresError, aio_pika.exceptions.AMQPError) as error:
        raise SystemExit(f"PostgreSQL or RabbitMQ is not reachable: {error!r}") from None
    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "servers": servers,
        "overrides": OVERRIDES,
    }
    # The recorder runs in this process: its one log line per message is not wanted here.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    suite_support.suite_env = with_overrides(suite_support.suite_env)
    suite_support.RecordingSMTPServer = TimedSMTPServer
    suite_support.PYTHON = args.services_python or runtime_python()
    began = time.perf_counter()
    scratch = await create_postgres_database(server)  # for the commit hop
    try:
        measured = await measure(args, server, amqp_url, scratch)
    finally:
        await drop_postgres_database(scratch)
    sequential, loaded = measured["sequential"], measured["loaded"]
    hops, done = measured["hops"], measured["done"]
    cpu_before, cpu_after = measured["cpu"]
    commits_before, commits_after = measured["transactions"]
    failures = measured["failures"]
    memory_after_start, memory_after_traffic = measured["memory"]

    totals = [s.total for s in sequential]
    hop_summaries = {name: summary(samples) for name, samples in hops.items()}
    hop_sum = sum(hop_summaries[name]["p50_ms"] for name in ISSUE_HOPS)
    path_floor = sum(count * hop_summaries[name]["p50_ms"] for name, count in CRITICAL_PATH.items())
    results |= {
        "load_average_at_end": os.getloadavg(),
        "latency": summary(totals),
        "latency_failures": dict(measured["latency_failures"]),
        "latency_cpu_ms_per_saga": per_saga(*measured["latency_cpu"], len(sequential), scale=1000),
        "latency_steps_p50_ms": where_the_time_goes(sequential),
        "after_payment_steps_p50_ms": measured["after_payment"],
        "pay_retries_mean": statistics.fmean(s.pay_retries for s in sequential),
        "throughput": {
            "concurrency": args.concurrency,
            "seconds": args.seconds,
            "sagas": len(loaded),
            "sagas_per_second": len(loaded) / args.seconds,
            "latency": summary([s.total for s in loaded]) if loaded else None,
            "failures": dict(failures),
            "cpu_ms_per_saga": per_saga(cpu_before, cpu_after, len(done), scale=1000),
            "transactions_per_saga": per_saga(commits_before, commits_after, len(done)),
        },
        "hops": hop_summaries,
        "hop_sum_ms": round(hop_sum, 2),
        "ratio": round(percentile(totals, 50) * 1000 / hop_sum, 2),
        "critical_path": {name: count for name, count in CRITICAL_PATH.items()},
        "critical_path_floor_ms": round(path_floor, 2),
        "ratio_to_floor": round(percentile(totals, 50) * 1000 / path_floor, 2),
        "memory": {"after_start": memory_after_start, "after_traffic": memory_after_traffic},
        "sagas": [asdict(s) for s in sequential],
    }
    print_report(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    plot(results, totals, [s.total for s in loaded], args.plot)
    print(f"\nwrote {args.json} and {args.plot} ({time.perf_counter() - began:.0f} s in all)")


if __name__ == "__main__":
    asyncio.run(main())
