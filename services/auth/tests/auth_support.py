"""Fixtures and helpers of the auth tests: one migrated PostgreSQL database and one broker namespace
for the session, the real service served by uvicorn over real HTTP, and a queue that
sees every `auth.*` event the service publishes.

Tests share the database, so each makes its own accounts (`new_email()`) and calls from
its own address (X-Forwarded-For, which uvicorn honours from 127.0.0.1), so that counts
kept per account or per IP never mix between tests.
"""

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aio_pika
import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from wayfare_auth.app import MIGRATIONS_DIR, create_app
from wayfare_auth.settings import Settings
from wayfare_common.messaging import topology
from wayfare_common.migrations import upgrade
from wayfare_common.security import TokenVerifier
from wayfare_common.testing.plugin import (
    POSTGRES_REASON,
    RABBITMQ_REASON,
    create_postgres_database,
    drop_postgres_database,
)

PASSWORD = "Correct-Horse-7-battery"
# Test-only argon2 cost (allowed with ENVIRONMENT=test only): a hash takes ~1 ms.
FAST_HASHING = {"argon2_memory_cost": 256, "argon2_time_cost": 1}


def new_email(prefix: str = "user") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}@example.com"


def new_ip() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


@pytest.fixture(scope="session")
async def auth_database_url(postgres_server_url):
    if postgres_server_url is None:
        pytest.skip(POSTGRES_REASON)
    url = await create_postgres_database(postgres_server_url)
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, url)
    yield url
    await drop_postgres_database(url)


@pytest.fixture(scope="session")
async def broker(amqp_server_url):
    """(amqp_url, namespace) for the whole session; its exchange is deleted afterwards."""
    if amqp_server_url is None:
        pytest.skip(RABBITMQ_REASON)
    namespace = f"test-auth-{uuid.uuid4().hex[:8]}."
    yield amqp_server_url, namespace
    names = topology.declared.pop(namespace, set())
    connection = await aio_pika.connect(amqp_server_url)
    async with connection:
        for kind, name in sorted(names, reverse=True):
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                if kind == "queue":
                    await channel.queue_delete(name)
                else:
                    await channel.exchange_delete(name)


@pytest.fixture(scope="session")
def make_settings(auth_database_url, broker, tmp_path_factory) -> Callable[..., Settings]:
    amqp_url, namespace = broker
    data_dir = tmp_path_factory.mktemp("auth-data")

    def make(**overrides: Any) -> Settings:
        values = dict(
            database_url=auth_database_url,
            amqp_url=amqp_url,
            amqp_namespace=namespace,
            environment="test",
            data_dir=data_dir,
            relay_poll_interval=0.2,
            amqp_reconnect_interval=0.5,
            public_url="http://wayfare.test",
            **FAST_HASHING,
        )
        return Settings(**{**values, **overrides})

    return make


@dataclass
class Running:
    url: str
    app: FastAPI

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/.well-known/jwks.json"

    def verifier(self, **kwargs: Any) -> TokenVerifier:
        settings = self.app.state.settings
        return TokenVerifier(self.jwks_url, settings.jwt_issuer, settings.jwt_audience, **kwargs)

    def client(self, ip: str | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url, headers={"X-Forwarded-For": ip or new_ip()}, timeout=30
        )


@contextlib.asynccontextmanager
async def serve(settings: Settings | Callable[[str], Settings]):
    """The auth app under uvicorn on a free loopback port. `settings` may be a function of
    the service's URL (for settings that must name it, such as AUTH_PUBLIC_URL)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(settings(url) if callable(settings) else settings)
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(600):
            if server.started or task.done():
                break
            await asyncio.sleep(0.02)
        if not server.started:
            raise RuntimeError("the auth service did not start within 12 s")
        yield Running(url, app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        sock.close()


@pytest.fixture(scope="session")
async def service(make_settings):
    """The auth service with the default test settings, shared by the session."""
    async with serve(make_settings()) as running:
        await asyncio.wait_for(running.app.state.messaging.connection_ready(), 15)
        yield running


@pytest.fixture
async def client(service):
    """An HTTP client of `service` calling from an address of its own."""
    async with service.client() as client:
        yield client


@dataclass
class Events:
    """Every auth.* event published in the session's namespace, as JSON envelopes."""

    received: list[dict] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def matching(self, type_: str, **data: Any) -> list[dict]:
        return [
            envelope
            for envelope in self.received
            if envelope["type"] == type_
            and all(str(envelope["data"].get(k)) == str(v) for k, v in data.items())
        ]

    async def wait_for(self, type_: str, count: int = 1, timeout: float = 10.0, **data: Any):
        """The first `count` events of `type_` whose data has these values (bounded wait)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(found := self.matching(type_, **data)) < count:
            if loop.time() > deadline:
                pytest.fail(f"{len(found)} of {count} {type_} {data} within {timeout} s")
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), 0.2)
        return found[:count] if count > 1 else found[0]


@pytest.fixture(scope="session")
async def events(broker):
    amqp_url, namespace = broker
    collected = Events()
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    exchange = await topology.Topology("auth-tests", namespace=namespace).declare_exchange(channel)
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(exchange, routing_key="auth.#")

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            collected.received.append(json.loads(message.body))
            collected.arrived.set()

    await queue.consume(on_message)
    yield collected
    await connection.close()


def token_from_link(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


async def register(client: httpx.AsyncClient, email: str, password: str = PASSWORD, **extra):
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": password, "full_name": "Test Person", **extra},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def verified_account(client, events: Events, email: str | None = None, **extra) -> dict:
    """Register, follow the mailed verification link; the new user's JSON."""
    email = email or new_email()
    user = await register(client, email, **extra)
    mail = await events.wait_for("auth.email_verification_requested", user_id=user["id"])
    response = await client.post(
        "/api/v1/auth/verify-email", json={"token": token_from_link(mail["data"]["verify_url"])}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def login(client, email: str, password: str = PASSWORD) -> dict:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
