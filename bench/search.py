"""Flight search benchmark: throughput against PostgreSQL's own ceiling, and latency at
1,000,000 flights against 10,000.

    .venv/bin/python bench/search.py [--seconds 10] [--concurrency 8] [--queries 300]

Needs PostgreSQL (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local default) and
`pgbench` (/usr/bin/pgbench, or PGBENCH). Loopback only; every phase is bounded in time.
It creates its own databases and drops them at the end (`--keep` keeps them and reuses
them on the next run, which skips the ~2 minutes of seeding).

1. Seed two schedules with the real seed code (COPY): the same network of the 100
   busiest airports, 2 days (~13,000 flights) and 156 days (~1,000,000 flights).
   The 1M seeding time is reported.
2. Latency: the same sample of searches (origin, destination, first day; random pairs of
   the 100 airports, connections included), one at a time, on each database: p50 and p95
   of the whole search operation (the query on the service's asyncpg pool, pricing,
   ordering, the JSON page). Target: p50(1M) / p50(10k) <= 1.5.
3. Throughput: the same search operation run by `--concurrency` tasks for `--seconds`
   on the 1M database, against `pgbench -S` (primary-key SELECTs) with as many clients for
   as long, on a pgbench database in the same PostgreSQL server, in the same run.
   Target: searches/s / pgbench TPS >= 0.3.
4. For context: the same searches over HTTP through a real uvicorn process (httpx client
   in this process, so client and server share the two cores).
"""

import argparse
import asyncio
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import httpx
import orjson
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "flight"))

from wayfare_common.db import Database
from wayfare_common.migrations import upgrade
from wayfare_common.testing.plugin import drop_postgres_database
from wayfare_flight.app import MIGRATIONS_DIR
from wayfare_flight.domain.airports import busy_airports
from wayfare_flight.domain.fares import Party
from wayfare_flight.domain.schedule import epoch_minute
from wayfare_flight.store.pg import create_pool
from wayfare_flight.store.search import CandidateQuery
from wayfare_flight.usecases import search as searching
from wayfare_flight.usecases.seed import seed

AIRPORTS = 100
SMALL_DAYS, LARGE_DAYS = 2, 156


def server_url() -> str:
    return (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )


def named(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def prepared_database(
    server: str, name: str, days: int, start, keep: bool
) -> tuple[str, dict | None]:
    url = named(server, name)
    import asyncpg

    admin = make_url(server)
    connection = await asyncpg.connect(
        host=admin.host,
        port=admin.port or 5432,
        user=admin.username,
        password=admin.password,
        database=admin.database,
    )
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and not keep:
            await connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = False
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, url)
    database = Database(url)
    try:
        async with database.engine.connect() as conn:
            from sqlalchemy import text

            count = (await conn.execute(text("SELECT count(*) FROM flights"))).scalar()
        report = None
        if not count:
            report = await seed(database, days=days, airports=AIRPORTS, start=start, packages=False)
    finally:
        await database.dispose()
    return url, report


def sample_searches(day, n: int) -> list[searching.Search]:
    rng = random.Random(42)
    airports = busy_airports(AIRPORTS)
    searches = []
    for _ in range(n):
        origin, destination = rng.sample(airports, 2)
        tz = origin.zone
        start = datetime.combine(day, dtime(0), tzinfo=tz)
        query = CandidateQuery(
            origins=[origin.iata_code],
            destinations=[destination.iata_code],
            day=day,
            cabin="economy",
            seats=1,
            first_minute=epoch_minute(start),
            last_minute=epoch_minute(start + timedelta(days=1)) - 1,
            carriers=None,
            connections=True,
        )
        searches.append(searching.Search(query, Party(1, 0, 0)))
    return searches


async def latencies(pool, searches) -> list[float]:
    for s in searches:  # a warm pass: prepared statements, and pages in shared buffers
        await searching.run(s, pool=pool)
    times = []
    for s in searches:
        began = time.perf_counter()
        await searching.run(s, pool=pool)
        times.append(time.perf_counter() - began)
    return times


async def throughput(pool, searches, seconds: float, concurrency: int) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(offset: int):
        nonlocal done
        i = offset
        while time.perf_counter() < deadline:
            await searching.run(searches[i % len(searches)], pool=pool)
            i += concurrency
            done += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return done / (time.perf_counter() - began)


def pgbench(server: str, seconds: int, clients: int) -> tuple[float, str]:
    binary = os.environ.get("PGBENCH") or shutil.which("pgbench") or "/usr/bin/pgbench"
    url = make_url(server)
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    base = [
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
    ]
    name = "wayfare_bench_pgbench"
    subprocess.run(
        ["dropdb", "--if-exists", *base, name], env=env, check=False, capture_output=True
    )
    subprocess.run(["createdb", *base, name], env=env, check=True, capture_output=True)
    subprocess.run(
        [binary, "-i", "-q", "-s", "10", *base, name], env=env, check=True, capture_output=True
    )
    threads = min(clients, os.cpu_count() or 1)
    result = subprocess.run(
        [
            binary,
            "-S",
            "-M",
            "prepared",
            "-c",
            str(clients),
            "-j",
            str(threads),
            "-T",
            str(seconds),
            *base,
            name,
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    subprocess.run(
        ["dropdb", "--if-exists", *base, name], env=env, check=False, capture_output=True
    )
    tps = float(re.search(r"tps = ([0-9.]+)", result.stdout).group(1))
    command = f"pgbench -S -M prepared -c {clients} -j {threads} -T {seconds} (scale 10)"
    return tps, command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "wayfare_flight", "serve"], env=env, stderr=subprocess.DEVNULL
    )


async def http_throughput(
    url: str, searches, seconds: float, concurrency: int
) -> tuple[float, float]:
    port = free_port()
    env = {
        **os.environ,
        "FLIGHT_DATABASE_URL": url,
        "FLIGHT_PORT": str(port),
        "FLIGHT_AUTO_MIGRATE": "false",
        "FLIGHT_SEED_ON_EMPTY": "false",
        "AMQP_URL": "",
        "ENVIRONMENT": "production",
        "LOG_LEVEL": "WARNING",
    }
    process = start_service(env)
    base = f"http://127.0.0.1:{port}"
    try:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
            for _ in range(300):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            params = [
                {
                    "origin": s.query.origins[0],
                    "destination": s.query.destinations[0],
                    "date": s.query.day.isoformat(),
                }
                for s in searches
            ]
            for p in params[:20]:
                assert (await client.get("/api/v1/flights/search", params=p)).status_code == 200
            single = []
            for p in params[:100]:
                began = time.perf_counter()
                await client.get("/api/v1/flights/search", params=p)
                single.append(time.perf_counter() - began)
            done = 0
            deadline = time.perf_counter() + seconds

            async def worker(offset: int):
                nonlocal done
                i = offset
                while time.perf_counter() < deadline:
                    response = await client.get(
                        "/api/v1/flights/search", params=params[i % len(params)]
                    )
                    assert response.status_code == 200
                    i += concurrency
                    done += 1

            began = time.perf_counter()
            await asyncio.gather(*(worker(k) for k in range(concurrency)))
            return done / (time.perf_counter() - began), statistics.median(single)
    finally:
        process.terminate()
        process.wait(timeout=10)


def ms(value: float) -> str:
    return f"{value * 1000:.2f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the seeded databases")
    args = parser.parse_args()
    server = server_url()
    start = datetime.now(UTC).date() + timedelta(days=1)
    day = start  # both schedules hold this day and the next (second legs of connections)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.processor() or ''}".strip(
            ", "
        )
    )
    print(f"python {platform.python_version()}")
    small_url, small_report = await prepared_database(
        server, "wayfare_bench_search_10k", SMALL_DAYS, start, args.keep
    )
    large_url, large_report = await prepared_database(
        server, "wayfare_bench_search_1m", LARGE_DAYS, start, args.keep
    )
    for label, report in (("10k", small_report), ("1M", large_report)):
        if report:
            print(
                f"seeded {label}: {report['flights']:,} flights, {report['routes']} routes in {report['seconds']} s"
            )

    searches = sample_searches(day, args.queries)
    results = {}
    for label, url in (("10k", small_url), ("1M", large_url)):
        pool = await create_pool(url, args.concurrency)
        try:
            times = await latencies(pool, searches)
            results[label] = times
            async with pool.acquire() as connection:
                flights = await connection.fetchval("SELECT count(*) FROM flights")
            offers = [
                len(orjson.loads(await searching.run(s, pool=pool))["data"]) for s in searches[:50]
            ]
            print(
                f"latency {label} ({flights:,} flights): p50 {ms(statistics.median(times))}, "
                f"p95 {ms(statistics.quantiles(times, n=20)[18])} over {len(times)} searches "
                f"(avg {statistics.mean(offers):.1f} offers on the first page)"
            )
        finally:
            await pool.close()
    ratio = statistics.median(results["1M"]) / statistics.median(results["10k"])
    print(f"p50 1M / p50 10k = {ratio:.2f} (target <= 1.5)")

    pool = await create_pool(large_url, args.concurrency)
    try:
        await throughput(pool, searches, 2, args.concurrency)  # warm-up
        rate = await throughput(pool, searches, args.seconds, args.concurrency)
    finally:
        await pool.close()
    tps, command = pgbench(server, args.seconds, args.concurrency)
    print(
        f"search operation on 1M, {args.concurrency} tasks, {args.seconds} s: {rate:,.0f} searches/s"
    )
    print(f"{command}: {tps:,.0f} TPS")
    print(f"searches/s / pgbench TPS = {rate / tps:.2f} (target >= 0.3)")

    http_rate, http_p50 = await http_throughput(large_url, searches, args.seconds, args.concurrency)
    print(
        f"over HTTP (uvicorn, 1 process, httpx client in-process): {http_rate:,.0f} searches/s, p50 {ms(http_p50)}; ratio {http_rate / tps:.2f}"
    )

    if not args.keep:
        for url in (small_url, large_url):
            await drop_postgres_database(url)


if __name__ == "__main__":
    asyncio.run(main())
