"""The gateway in front of real upstream processes: two echo upstreams (auth, and one
for every other service), a JWKS served over HTTP by a test token issuer, and the gateway
itself started as `python -m wayfare_gateway` with its settings in the environment."""

import contextlib
import sys
import uuid
from pathlib import Path

import aio_pika
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from wayfare_common.testing.processes import running_process
from wayfare_common.testing.smtp import free_port
from wayfare_common.testing.tokens import TokenIssuer

from gateway_harness import AUDIENCE, HERE, ISSUER, running_gateway


@pytest.fixture(scope="session")
def issuer() -> TokenIssuer:
    return TokenIssuer(issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture(scope="session")
async def jwks(issuer):
    async with issuer.serve() as served:
        yield served


@pytest.fixture(scope="session")
async def upstreams(tmp_path_factory):
    """name -> base URL of a running echo upstream."""
    logs = tmp_path_factory.mktemp("upstreams")
    async with contextlib.AsyncExitStack() as stack:
        urls = {}
        for name in ("auth", "others"):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            await stack.enter_async_context(
                running_process(
                    [sys.executable, str(HERE / "echo_upstream.py"), name, str(port)],
                    url=url,
                    log_path=logs / f"{name}.log",
                )
            )
            urls[name] = url
        yield urls


@pytest.fixture(scope="module")
async def gateway_namespace(amqp_server_url):
    """A broker namespace for one module's gateway; its exchange is deleted afterwards
    (the gateway's own queue is exclusive: it goes with the gateway's connection)."""
    if amqp_server_url is None:
        pytest.skip("needs RabbitMQ: set TEST_AMQP_URL")
    namespace = f"test-gw-{uuid.uuid4().hex[:8]}."
    yield namespace
    connection = await aio_pika.connect(amqp_server_url)
    async with connection:
        await (await connection.channel()).exchange_delete(f"{namespace}wayfare.events")


@pytest.fixture(scope="module")
async def gateway(tmp_path_factory, upstreams, jwks, amqp_server_url, gateway_namespace):
    """One gateway process per test module, wired to the broker (for revocations), with
    small limits to test."""
    async with running_gateway(
        tmp_path_factory.mktemp("gateway"),
        upstreams,
        jwks.url,
        amqp_url=amqp_server_url,
        namespace=gateway_namespace,
        GATEWAY_MAX_BODY_BYTES=4096,
        GATEWAY_UPSTREAM_TIMEOUT=1,
        GATEWAY_LOGIN_RATE="3/minute",
        GATEWAY_CORS_ORIGINS='["https://app.wayfare.example"]',
    ) as running:
        yield running
