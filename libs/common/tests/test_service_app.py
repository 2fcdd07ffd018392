"""What every service inherits from the app factory: problem details for every error, the
request id on every log line, and readiness that tells which dependency is down."""

import io
import json
import logging
from typing import ClassVar

import httpx
import pytest
import structlog
from asgi_lifespan import LifespanManager
from fastapi import APIRouter
from pydantic import BaseModel, Field

from wayfare_common.problems import Conflict
from wayfare_common.service import create_service_app
from wayfare_common.settings import ServiceSettings
from wayfare_common.testing.plugin import eventually
from wayfare_common.testing.proxy import TcpProxy


class DemoSettings(ServiceSettings):
    service_name: ClassVar[str] = "demo"
    default_port: ClassVar[int] = 0


class Passenger(BaseModel):
    given_name: str = Field(min_length=1)
    age: int = Field(ge=0)


router = APIRouter()
log = structlog.get_logger("demo")


@router.post("/passengers")
async def add_passenger(passenger: Passenger):
    log.info("passenger_added", given_name=passenger.given_name)
    return passenger


@router.post("/conflict")
async def conflict():
    raise Conflict("That seat is taken.", code="seat_taken", seat="12A")


@router.get("/boom")
async def boom():
    raise RuntimeError("SELECT secret FROM db-internal-host.local")


@pytest.fixture
async def client(sqlite_url):
    app = create_service_app(
        DemoSettings(database_url=sqlite_url, amqp_url="", environment="production"),
        title="demo",
        routers=[router],
    )
    async with LifespanManager(app):
        # raise_app_exceptions=False: answer as the server would, not re-raise into the test.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            yield client


async def test_validation_errors_are_problems_with_field_errors(client):
    response = await client.post("/passengers", json={"given_name": "", "age": -1})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error" and problem["status"] == 422
    assert {error["field"] for error in problem["errors"]} == {"body.given_name", "body.age"}


async def test_raised_problems_keep_their_code_and_extra_members(client):
    response = await client.post("/conflict")
    assert response.status_code == 409
    assert response.json() == {
        "type": "/problems/seat_taken",
        "title": "Conflict",
        "status": 409,
        "code": "seat_taken",
        "detail": "That seat is taken.",
        "instance": "/conflict",
        "seat": "12A",
    }


async def test_unexpected_errors_leak_nothing(client):
    response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "SELECT" not in response.text and "db-internal-host" not in response.text
    assert "Traceback" not in response.text


async def test_unknown_routes_and_methods_are_problems(client):
    assert (await client.get("/nowhere")).json()["code"] == "not_found"
    wrong_method = await client.get("/passengers")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"


async def test_the_request_id_reaches_every_log_line(client):
    # Render through the formatter the app configured, exactly as its handler does.
    root = logging.getLogger()
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    try:
        response = await client.post(
            "/passengers",
            json={"given_name": "Ada", "age": 36},
            headers={"X-Request-ID": "5f0c6f3c1b7e4d2a9c8b7a6f5e4d3c2b"},
        )
    finally:
        root.removeHandler(handler)
    assert response.headers["X-Request-ID"] == "5f0c6f3c1b7e4d2a9c8b7a6f5e4d3c2b"
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    assert lines, "nothing was logged"
    assert all(line["request_id"] == "5f0c6f3c1b7e4d2a9c8b7a6f5e4d3c2b" for line in lines)
    [added] = [line for line in lines if line["event"] == "passenger_added"]
    assert added["service"] == "demo" and added["level"] == "info"


async def test_a_request_without_an_id_gets_one(client):
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert (
        first.headers["X-Request-ID"]
        and first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    )


@pytest.mark.postgres
async def test_readyz_names_the_database_when_it_is_unreachable(postgres_url):
    from sqlalchemy.engine import make_url

    database = make_url(postgres_url)
    async with TcpProxy(database.host, database.port or 5432) as proxy:
        through_proxy = database.set(host="127.0.0.1", port=proxy.port)
        app = create_service_app(
            DemoSettings(
                database_url=through_proxy.render_as_string(hide_password=False), amqp_url=""
            ),
            title="demo",
        )
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:

                async def ready() -> bool:
                    return (await client.get("/readyz")).status_code == 200

                # The first connection (and the dialect's set-up queries) may take longer
                # than the check's 2 s on a loaded machine: ready within a bound, not at once.
                await eventually(ready, timeout=15, message="never ready before the cut")
                await proxy.cut()
                response = await client.get("/readyz")
                assert response.status_code == 503
                assert response.json()["checks"] == {
                    "database": "unreachable",
                    "broker": "disabled",
                }
                assert (await client.get("/healthz")).status_code == 200
                proxy.restore()
                await eventually(ready, timeout=15, message="not ready again after the restore")
