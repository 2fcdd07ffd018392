"""Two service processes on one PostgreSQL database, racing for the seats of one flight
over real HTTP: the flight is never oversold."""

import asyncio
import os
import socket
import subprocess
import sys
import uuid

import httpx
import pytest
import sqlalchemy as sa

from wayfare_common.db import Database
from wayfare_common.migrations import upgrade
from wayfare_flight.app import MIGRATIONS_DIR
from wayfare_flight.store.models import flight_cabins, hold_lines

from flight_support import future_day, local, offer_of


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_replica(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "wayfare_flight", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_ready(url: str, process: subprocess.Popen) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if process.poll() is not None:
                pytest.fail(f"replica exited with {process.returncode}")
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    pytest.fail(f"{url} not ready within 30 s")


async def test_two_replicas_never_oversell(postgres_url, issuer):
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, postgres_url)
    ports = [free_port(), free_port()]
    env = {
        **os.environ,
        "FLIGHT_DATABASE_URL": postgres_url,
        "FLIGHT_AUTO_MIGRATE": "false",
        "FLIGHT_SEED_ON_EMPTY": "false",
        "AMQP_URL": "",
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "JWKS_URL": issuer.jwks_url,
    }
    processes = [start_replica({**env, "FLIGHT_PORT": str(port)}) for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    database = Database(postgres_url)
    try:
        await asyncio.gather(*(wait_ready(url, p) for url, p in zip(urls, processes, strict=True)))
        async with httpx.AsyncClient(timeout=30) as client:
            day = future_day(3)
            created = await client.post(
                f"{urls[0]}/api/v1/flights",
                json={
                    "carrier_code": "LH",
                    "flight_number": "LH400",
                    "origin": "FRA",
                    "destination": "JFK",
                    "departing_at": local("FRA", day, 10),
                },
                headers=issuer.bearer("admin"),
            )
            assert created.status_code == 201, created.text
            flight = created.json()
            flight_id = uuid.UUID(flight["id"])
            async with database.sessions() as session, session.begin():
                await session.execute(
                    sa.update(flight_cabins)
                    .where(
                        flight_cabins.c.flight_id == flight_id, flight_cabins.c.cabin == "economy"
                    )
                    .values(seats_available=7)
                )

            async def attempt(i: int) -> int:
                response = await client.post(
                    f"{urls[i % 2]}/internal/holds",
                    json={
                        "booking_id": str(uuid.uuid4()),
                        "items": [{"type": "flight", "offer_id": offer_of(flight), "seats": 2}],
                    },
                    headers=issuer.bearer("customer"),
                )
                return response.status_code

            codes = await asyncio.gather(*(attempt(i) for i in range(60)))
        assert codes.count(201) == 3 and codes.count(409) == 57, sorted(codes)
        async with database.sessions() as session:
            left = await session.scalar(
                sa.select(flight_cabins.c.seats_available).where(
                    flight_cabins.c.flight_id == flight_id, flight_cabins.c.cabin == "economy"
                )
            )
            held = await session.scalar(
                sa.select(sa.func.sum(hold_lines.c.seats)).where(
                    hold_lines.c.flight_id == flight_id
                )
            )
        assert (left, held) == (1, 6)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        await database.dispose()
