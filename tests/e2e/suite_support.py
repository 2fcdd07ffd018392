"""The whole suite as real processes, for the end-to-end journeys.

Six services and the gateway, each `python -m wayfare_<name>` on a free port, with a
PostgreSQL database of its own, one RabbitMQ namespace shared by all, and a recording
SMTP server standing in for the mail provider. A test talks only to the gateway, as a
person's browser would; the helpers here say which step failed and show the answer.
"""

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from yarl import URL

from wayfare_common.db import connect_asyncpg
from wayfare_common.messaging.topology import Topology
from wayfare_common.testing.plugin import create_postgres_database, drop_postgres_database
from wayfare_common.testing.processes import stop
from wayfare_common.testing.proxy import TcpProxy
from wayfare_common.testing.smtp import RecordingSMTPServer, free_port

SERVICES = ("auth", "flight", "booking", "payment", "notification", "admin")
# The interpreter the parts and their commands run with: this one, unless a caller points
# it elsewhere (bench/saga.py runs them from a venv holding only what their images hold).
PYTHON = sys.executable
RETRY_DELAYS = (0.5, 1.0, 2.0)
STARTUP_TIMEOUT = 90.0  # every part ready, from the first process started
SEED_TIMEOUT = 90.0
PASSWORD = "Grace-Hopper-1906!"
PAYMENT_WINDOW_SECONDS = 30


@dataclass
class Part:
    name: str
    url: str
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    # A replica ("payment-2") runs its service's module with its own port.
    service: str = ""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return f"wayfare_{self.service or self.name}"

    def log(self, tail: int = 30) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(lines[-tail:])


@dataclass
class Suite:
    gateway_url: str
    parts: dict[str, Part]
    smtp: RecordingSMTPServer
    env: dict[str, str]
    logs: Path
    namespace: str
    # Straight to PostgreSQL, also when the parts go through `database_proxy`.
    database_urls: dict[str, str] = field(default_factory=dict)
    replicas: tuple[str, ...] = ()  # names of the extra parts, e.g. "payment-2"
    amqp_url: str = ""  # straight to the broker, also when the parts go through `broker_proxy`
    broker_proxy: "ProxyThread | None" = None
    database_proxy: "ProxyThread | None" = None

    def logs_tail(self, names: tuple[str, ...] = ("gateway", *SERVICES), tail: int = 15) -> str:
        return "\n".join(f"--- {name} ---\n{self.parts[name].log(tail)}" for name in names)


def suite_env(
    *,
    ports: dict[str, int],
    database_urls: dict[str, str],
    amqp_url: str,
    namespace: str,
    smtp: RecordingSMTPServer,
    data_dir: Path,
) -> dict[str, str]:
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = {
        "ENVIRONMENT": "test",  # JSON logs; auth generates its key (not production)
        "LOG_LEVEL": "INFO",
        "DATA_DIR": str(data_dir),
        "AMQP_URL": amqp_url,
        "AMQP_NAMESPACE": namespace,
        "AMQP_RECONNECT_INTERVAL": "0.5",
        "MESSAGING_RETRY_DELAYS": json.dumps(list(RETRY_DELAYS)),
        "OUTBOX_POLL_INTERVAL": "0.5",
        "JWKS_URL": f"{url['auth']}/.well-known/jwks.json",
        "JWT_ISSUER": "wayfare-auth",
        "JWT_AUDIENCE": "wayfare",
        "REDIS_URL": "",
        # auth: fast hashes (allowed with ENVIRONMENT=test), links to the gateway
        "AUTH_PUBLIC_URL": gateway,
        "AUTH_ARGON2_MEMORY_COST": "1024",
        "AUTH_ARGON2_TIME_COST": "1",
        # flight: the schedule is seeded before it starts
        "FLIGHT_SEED_ON_EMPTY": "false",
        "FLIGHT_SEARCH_CACHE_SECONDS": "0",
        "BOOKING_FLIGHT_URL": url["flight"],
        # booking: a short payment window, so that an unpaid booking expires within the
        # module's time (30 s + 2 s grace; flight holds the seats 34 s); every journey
        # that pays does so within a few seconds of booking
        "BOOKING_PAYMENT_WINDOW_MINUTES": str(PAYMENT_WINDOW_SECONDS / 60),
        "BOOKING_PAYMENT_GRACE_SECONDS": "2",
        "BOOKING_SWEEP_INTERVAL": "1",
        "FLIGHT_HOLD_SWEEP_INTERVAL": "1",
        # notification: mail to the recorder, links to the gateway
        "NOTIFICATION_SMTP_HOST": smtp.host,
        "NOTIFICATION_SMTP_PORT": str(smtp.port),
        "NOTIFICATION_PUBLIC_URL": gateway,
        "NOTIFICATION_DELIVERY_POLL_INTERVAL": "0.5",
        "NOTIFICATION_DELIVERY_RETRY_DELAYS": "[1, 2, 5]",
        "PAYMENT_STRIPE_API_KEY": "",
        "PAYMENT_PAYOUT_INTERVAL": "0",
        "ADMIN_LABELS_INTERVAL": "0",
        # The journeys register a few people from one address: keep the front door's
        # per-IP limits out of their way (they have tests of their own).
        "GATEWAY_REGISTER_RATE": "100/minute",
        "GATEWAY_LOGIN_RATE": "100/minute",
    }
    for name, port in ports.items():
        env[f"{name.upper()}_PORT"] = str(port)
        env[f"{name.upper()}_HOST"] = "127.0.0.1"
    for name in SERVICES:
        env[f"{name.upper()}_DATABASE_URL"] = database_urls[name]
        env[f"GATEWAY_{name.upper()}_URL"] = url[name]
    for name in ("auth", "flight", "booking", "payment"):
        env[f"ADMIN_{name.upper()}_URL"] = url[name]
    return env


async def run_command(suite: "Suite", args: list[str], label: str, timeout: float = 30) -> None:
    """A one-off command (e.g. `python -m wayfare_auth create-admin ...`) with the suite's
    settings; fails with its output if it does not succeed."""
    await _run_to_end([PYTHON, *args], suite.env, suite.logs / f"{label}.log", timeout)


async def _run_to_end(args: list[str], env: dict[str, str], log_path: Path, timeout: float) -> None:
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *args,
            env={**os.environ, **env},
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        code = await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        await stop(process)
        pytest.fail(f"{' '.join(args)} did not finish within {timeout} s:\n{_tail(log_path)}")
    if code != 0:
        pytest.fail(f"{' '.join(args)} exited with {code}:\n{_tail(log_path)}")


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def _spawn(part: Part, env: dict[str, str]) -> None:
    with part.log_path.open("ab") as log:  # a restarted part adds to its log
        part.process = await asyncio.create_subprocess_exec(
            PYTHON,
            "-m",
            part.module,
            env={**os.environ, **env, **part.env},
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )


async def _wait_ready(parts: list[Part], deadline: float) -> None:
    """Until every part answers /readyz 200; fails with the stragglers' logs."""
    waiting = {part.name: "no answer" for part in parts}
    by_name = {part.name: part for part in parts}
    async with httpx.AsyncClient(timeout=2) as client:
        while waiting and time.monotonic() < deadline:
            for name in list(waiting):
                part = by_name[name]
                if part.process is not None and part.process.returncode is not None:
                    pytest.fail(
                        f"{name} exited with {part.process.returncode} while starting:\n{part.log()}"
                    )
                try:
                    response = await client.get(part.url + "/readyz")
                except httpx.HTTPError as error:
                    waiting[name] = repr(error)
                    continue
                if response.status_code == 200:
                    del waiting[name]
                else:
                    waiting[name] = f"{response.status_code} {response.text[:300]}"
            if waiting:
                await asyncio.sleep(0.3)
    if waiting:
        pytest.fail(
            f"not ready within {STARTUP_TIMEOUT:.0f} s: {waiting}\n"
            + "\n".join(f"--- {name} ---\n{by_name[name].log()}" for name in waiting)
        )


async def _delete_broker_objects(amqp_url: str, namespace: str) -> None:
    """What the parts declared under the namespace (exclusive and auto-delete queues go
    by themselves when their processes stop)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in SERVICES:
            topology = Topology(service=name, namespace=namespace, retry_delays=RETRY_DELAYS)
            queues = [topology.queue_name, topology.dead_letter_queue]
            queues += [topology.retry_queue(attempt) for attempt in range(len(RETRY_DELAYS))]
            for queue in queues:
                await channel.queue_delete(queue)
        await channel.exchange_delete(f"{namespace}wayfare.events")


class ProxyThread:
    """A TcpProxy (wayfare_common.testing.proxy) on an event loop of its own thread: the
    suite's traffic through it does not wait on the test's loop, however busy."""

    def __init__(self, target_host: str, target_port: int):
        self.proxy = TcpProxy(target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.proxy.port

    def start(self) -> "ProxyThread":
        self._thread.start()
        self._call(self.proxy.__aenter__())
        return self

    async def cut(self) -> None:
        """Drop every connection through the proxy and refuse new ones."""
        future = asyncio.run_coroutine_threadsafe(self.proxy.cut(), self._loop)
        await asyncio.wrap_future(future)

    def restore(self) -> None:
        self._loop.call_soon_threadsafe(self.proxy.restore)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self.proxy.__aexit__(None, None, None))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _call(self, coroutine) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)


def _through(proxy: ProxyThread | None, url: str) -> str:
    if proxy is None:
        return url
    if url.startswith("amqp"):
        return str(URL(url).with_host("127.0.0.1").with_port(proxy.port))
    return (
        make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    )


def _replica(service: str, logs: Path) -> Part:
    """A second process of `service`: same settings, database and queue, its own port.
    The gateway keeps talking to the first; the database is migrated already."""
    name = f"{service}-2"
    port = free_port()
    return Part(
        name,
        f"http://127.0.0.1:{port}",
        logs / f"{name}.log",
        service=service,
        env={f"{service.upper()}_PORT": str(port), f"{service.upper()}_AUTO_MIGRATE": "false"},
    )


@contextlib.asynccontextmanager
async def running_suite(
    tmp_path: Path,
    postgres_server_url: str,
    amqp_url: str,
    *,
    replicas: tuple[str, ...] = (),
    env_overrides: dict[str, str] | None = None,
    broker_proxy: bool = False,
    database_proxy: bool = False,
) -> AsyncIterator[Suite]:
    """The suite; optionally a second replica of each service in `replicas`, settings
    changed by `env_overrides`, and every part's broker (`broker_proxy`) or database
    (`database_proxy`) connections through a ProxyThread the test can cut."""
    namespace = f"test-e2e-{uuid.uuid4().hex[:10]}."
    logs = tmp_path / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in ("gateway", *SERVICES)}
    parts = {
        name: Part(name, f"http://127.0.0.1:{port}", logs / f"{name}.log")
        for name, port in ports.items()
    }
    extra = [_replica(service, logs) for service in replicas]
    parts.update({part.name: part for part in extra})
    database_urls: dict[str, str] = {}
    proxies: list[ProxyThread] = []
    smtp = RecordingSMTPServer().start()
    try:
        amqp_proxy = pg_proxy = None
        if broker_proxy:
            broker = URL(amqp_url)
            amqp_proxy = ProxyThread(broker.host, broker.port or 5672)
            proxies.append(amqp_proxy.start())
        if database_proxy:
            postgres = make_url(postgres_server_url)
            pg_proxy = ProxyThread(postgres.host, postgres.port or 5432)
            proxies.append(pg_proxy.start())
        for name in SERVICES:
            database_urls[name] = await create_postgres_database(postgres_server_url)
        env = suite_env(
            ports=ports,
            database_urls={name: _through(pg_proxy, url) for name, url in database_urls.items()},
            amqp_url=_through(amqp_proxy, amqp_url),
            namespace=namespace,
            smtp=smtp,
            data_dir=tmp_path / "data",
        )
        env.update(env_overrides or {})
        suite = Suite(
            gateway_url=parts["gateway"].url,
            parts=parts,
            smtp=smtp,
            env=env,
            logs=logs,
            namespace=namespace,
            database_urls=database_urls,
            replicas=tuple(part.name for part in extra),
            amqp_url=amqp_url,
            broker_proxy=amqp_proxy,
            database_proxy=pg_proxy,
        )
        # A small schedule, loaded (and migrated) before flight serves: three days of the
        # 40 busiest airports (about 6,000 flights, 3 s), enough for searches of more
        # than 100 offers between hubs.
        await _run_to_end(
            [PYTHON, "-m", "wayfare_flight", "seed", "--days", "3", "--airports", "40"],
            env,
            logs / "flight-seed.log",
            SEED_TIMEOUT,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        try:
            # auth first: the others fetch its keys (they retry, but it saves a round)
            for name in SERVICES:
                await _spawn(parts[name], env)
            await _wait_ready([parts[name] for name in SERVICES], deadline)
            # replicas once the first of each has migrated its database
            for part in extra:
                await _spawn(part, env)
            await _wait_ready(extra, deadline)
            await _spawn(parts["gateway"], env)
            await _wait_ready([parts["gateway"]], deadline)
            yield suite
        finally:
            # the front door first, then the services, all at once
            if parts["gateway"].process is not None:
                await stop(parts["gateway"].process)
            await asyncio.gather(
                *(stop(part.process) for part in parts.values() if part.process is not None)
            )
    finally:
        for proxy in proxies:
            proxy.stop()
        with contextlib.suppress(Exception):
            await _delete_broker_objects(amqp_url, namespace)
        for url in database_urls.values():
            with contextlib.suppress(Exception):
                await drop_postgres_database(url)
        smtp.stop()


# --- faults: processes, replicas and what the databases hold ----------------------------


async def kill_part(part: Part) -> None:
    """SIGKILL: no shutdown, no last commit, no goodbye to the broker."""
    assert part.process is not None and part.process.returncode is None, f"{part.name} not running"
    with contextlib.suppress(ProcessLookupError):
        os.killpg(part.process.pid, signal.SIGKILL)
    await asyncio.wait_for(part.process.wait(), 10)


async def restart_part(suite: Suite, name: str) -> None:
    """Start a part that is not running (e.g. killed) again, until it is ready."""
    part = suite.parts[name]
    assert part.process is None or part.process.returncode is not None, f"{name} is running"
    await _spawn(part, suite.env)
    await _wait_ready([part], time.monotonic() + STARTUP_TIMEOUT)


async def wait_until_ready(suite: Suite, names: tuple[str, ...], timeout: float) -> None:
    """Until every named part answers /readyz 200; fails with the stragglers' logs."""
    await _wait_ready([suite.parts[name] for name in names], time.monotonic() + timeout)


async def query(suite: Suite, service: str, sql: str, *args) -> list[asyncpg.Record]:
    """Rows of `sql` on a service's database, straight to PostgreSQL (not through
    `database_proxy`): what an operator would look at."""
    connection = await connect_asyncpg(suite.database_urls[service])
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def unsent_outbox_rows(suite: Suite) -> dict[str, int]:
    """Per service: events recorded in its outbox and not yet confirmed by the broker."""
    counts = {}
    for service in SERVICES:
        rows = await query(
            suite, service, "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL"
        )
        counts[service] = rows[0]["n"]
    return counts


async def queued_events(suite: Suite) -> dict[str, dict[str, int]]:
    """Per service that handles events: messages ready in its queue and delay queues
    ("waiting"), and in its dead-letter queue ("dead"); straight to the broker."""
    counts = {}
    connection = await aio_pika.connect(suite.amqp_url)
    async with connection:
        for service in SERVICES:
            topology = Topology(
                service=service, namespace=suite.namespace, retry_delays=RETRY_DELAYS
            )
            retries = [topology.retry_queue(attempt) for attempt in range(len(RETRY_DELAYS))]
            waiting = [await _ready(connection, name) for name in (topology.queue_name, *retries)]
            if waiting[0] is None:
                continue  # it declared no queue: it handles no events
            dead = await _ready(connection, topology.dead_letter_queue)
            counts[service] = {"waiting": sum(n or 0 for n in waiting), "dead": dead or 0}
    return counts


async def _ready(connection: aio_pika.abc.AbstractConnection, queue: str) -> int | None:
    """Messages ready in `queue`, or None when there is no such queue."""
    channel = await connection.channel()  # a missing queue closes the channel it is asked on
    try:
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count
    except aio_pika.exceptions.ChannelNotFoundEntity:
        return None
    finally:
        if not channel.is_closed:
            await channel.close()


# --- talking to the gateway as a person would -------------------------------------------


def show(response: httpx.Response) -> str:
    body = response.text
    if len(body) > 2000:
        body = body[:2000] + "..."
    return (
        f"{response.request.method} {response.request.url.path} -> {response.status_code}: {body}"
    )


def expect(response: httpx.Response, status: int, step: str) -> Any:
    """The JSON body when the status is the one expected; else fail naming the step."""
    assert response.status_code == status, f"[{step}] expected {status}, got {show(response)}"
    if response.headers.get("content-type", "").split(";")[0].endswith("json"):
        return response.json()
    return response.content


async def poll(
    check: Callable[[], Awaitable[Any]],
    *,
    step: str,
    timeout: float = 20.0,
    interval: float = 0.25,
    last: Callable[[], str] | None = None,
) -> Any:
    """`check()` until it returns something truthy; fail naming the step (and what was
    last seen) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            seen = f"; last seen: {last()}" if last else ""
            pytest.fail(f"[{step}] not within {timeout} s{seen}")
        await asyncio.sleep(interval)


def mails_to(smtp: RecordingSMTPServer, address: str) -> list[EmailMessage]:
    return [m for m in list(smtp.messages) if address.lower() in str(m["To"]).lower()]


async def wait_for_mail(
    smtp: RecordingSMTPServer,
    address: str,
    subject: str,
    *,
    step: str,
    timeout: float = 25.0,
) -> EmailMessage:
    """The first message to `address` whose subject contains `subject`."""

    async def found():
        for message in mails_to(smtp, address):
            if subject.lower() in str(message["Subject"]).lower():
                return message
        return None

    return await poll(
        found,
        step=step,
        timeout=timeout,
        last=lambda: repr([str(m["Subject"]) for m in mails_to(smtp, address)]),
    )


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, f"no text part in {message['Subject']!r}"
    return part.get_content()


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


def money(value: dict) -> Decimal:
    return Decimal(value["amount"])


def new_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}@example.com"


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def register_verify_login(
    client: httpx.AsyncClient, smtp: RecordingSMTPServer, email: str, full_name: str
) -> tuple[dict, dict]:
    """A person signs up, follows the link in the email, and signs in: (user, tokens)."""
    user = expect(
        await client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": full_name},
        ),
        201,
        "register",
    )
    assert user["email"] == email and user["email_verified"] is False, f"[register] {user}"
    message = await wait_for_mail(smtp, email, "confirm your email", step="verification email")
    links = [link for link in links_in(text_of(message)) if "/verify-email?token=" in link]
    assert links, f"[verification email] no verify link in:\n{text_of(message)}"
    assert links[0].startswith(str(client.base_url)), (
        f"[verification email] the link does not lead to the gateway: {links[0]}"
    )
    token = httpx.URL(links[0]).params["token"]
    verified = expect(
        await client.post("/api/v1/auth/verify-email", json={"token": token}), 200, "verify email"
    )
    assert verified["email_verified"] is True, f"[verify email] {verified}"
    tokens = expect(
        await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}),
        200,
        "login",
    )
    assert tokens.get("token_type") == "bearer" and tokens.get("access_token"), f"[login] {tokens}"
    return user, tokens


async def sign_in_staff(suite: "Suite") -> tuple[dict, dict]:
    """A member of staff: an admin made with `create-admin` (what `make admin` runs),
    signed in through the gateway: (profile, tokens).

    create-admin runs in its own process, and auth's relay publishes the registration on
    its next poll: the account is handed out only once the admin service has it, so that
    no "before" snapshot of the dashboard is taken ahead of it."""
    email = new_email("staff")
    await run_command(
        suite,
        ["-m", "wayfare_auth", "create-admin", "--email", email, "--password", PASSWORD],
        "create-admin",
    )
    async with httpx.AsyncClient(base_url=suite.gateway_url, timeout=30) as http:
        tokens = expect(
            await http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}),
            200,
            "staff login",
        )
        me = expect(await http.get("/api/v1/users/me", headers=bearer(tokens)), 200, "staff")
        assert me["role"] == "admin", f"[staff profile] {me}"

        async def admin_service_knows_it() -> bool:
            listed = await http.get(
                "/api/v1/admin/users", params={"limit": 100}, headers=bearer(tokens)
            )
            return listed.status_code == 200 and any(
                user["id"] == me["id"] for user in listed.json()["data"]
            )

        await poll(admin_service_knows_it, step="the admin service knows the staff", timeout=30)
    return me, tokens


# Domestic routes first: no passports needed. The schedule has the 40 busiest airports.
ROUTES = (("ATL", "ORD"), ("DFW", "DEN"), ("JFK", "LAX"), ("ORD", "DFW"), ("CAN", "PVG"))


def travel_date(days_ahead: int = 2) -> date:
    """Well beyond the refund policy's 24 h cut-off from now, inside the seeded days."""
    return (datetime.now(UTC) + timedelta(days=days_ahead)).date()


async def find_direct_offers(
    client: httpx.AsyncClient, adults: int, day: date
) -> tuple[tuple[str, str], list[dict]]:
    """The first seeded route with direct offers for the party on `day`."""
    tried = []
    for origin, destination in ROUTES:
        response = await client.get(
            "/api/v1/flights/search",
            params={
                "origin": origin,
                "destination": destination,
                "date": day.isoformat(),
                "adults": adults,
                "max_stops": 0,
                "sort": "price",
            },
        )
        page = expect(response, 200, "search flights")
        offers = [o for o in page["data"] if o["stops"] == 0 and o["seats_available"] >= adults]
        if offers:
            return (origin, destination), offers
        tried.append(f"{origin}-{destination}: {len(page['data'])} offers")
    pytest.fail(f"[search flights] no direct offers on {day}: {tried}")


def adult(given: str, family: str, born: str) -> dict:
    return {"given_name": given, "family_name": family, "birth_date": born}


def cabin_seats(flight: dict, cabin: str) -> int:
    for entry in flight["cabins"]:
        if entry["cabin"] == cabin:
            return entry["seats_available"]
    raise AssertionError(f"no {cabin} cabin in {flight}")


# Fixtures for the suites that start one (tests/e2e, tests/drills): their conftest imports
# these, and provides `suite`.


@pytest.fixture
async def client(suite):
    """A browser pointed at the gateway (30 s: in a drill a request may wait out an outage)."""
    async with httpx.AsyncClient(base_url=suite.gateway_url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
async def staff(suite):
    """A member of staff, signed in once the admin service knows it: (profile, tokens)."""
    return await sign_in_staff(suite)
