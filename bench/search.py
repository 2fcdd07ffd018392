"""Flight search benchmark: throughput against PostgreSQL's own ceiling, and latency at
1,000,000 flights against 10,000.

    .venv/bin/python bench/search.py [--seconds 10] [--concurrency 8] [--queries 300] [--keep]

Needs PostgreSQL (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local default) and
`pgbench` (/usr/bin/pgbench, or PGBENCH). Loopback only; every phase is bounded in time.
It creates its own databases and drops them at the end (`--keep` keeps them and reuses
them on the next run, which skips the minutes of seeding).

1. Seed two schedules with the real seed code (COPY, then the itineraries in bulk SQL):
   the same network of the 100 busiest airports, 2 days (~13,000 flights) and 156 days
   (~1,000,000 flights). The 1M seeding time is reported.
2. Correctness at scale: 50 searches of the sample and 50 others (random days and
   parties) give the same bytes from the precomputed itineraries (usecases.search.run)
   as from the live join (run_live).
3. Latency, cold (no result cache): the same sample of searches (origin, destination,
   first day; random pairs of the 100 airports, connections included), one at a time, on
   each database: p50 and p95 of the whole search operation (the read on the service's
   asyncpg pool, pricing, ordering, the JSON page), and of the live join for comparison.
   Target: p50(1M) / p50(10k) <= 1.5.
4. Throughput on the 1M database, `--concurrency` tasks for `--seconds` each:
   - cold: result cache off and every search distinct (random pairs, days and parties),
     so each one reads PostgreSQL;
   - warm: the service's result cache (SearchCache, its default TTL) in front, the
     `--queries` sample asked over and over (popular searches): hit rate reported;
   - the round-trip ceiling: a one-row primary-key SELECT on the same pool, which no
     search that reads the database can beat in this harness;
   against `pgbench -S` (primary-key SELECTs) with as many clients for as long, on a
   pgbench database in the same PostgreSQL server, in the same run.
   Target: searches/s / pgbench TPS >= 0.3.
5. For context: the same searches over HTTP through a real uvicorn process (httpx client
   in this process, so client and server share the two cores), with the service's cache
   as configured by default (warm) and turned off (cold).
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

from wayfare_common.db import Database, connect_asyncpg
from wayfare_common.migrations import upgrade
from wayfare_common.testing.plugin import drop_postgres_database
from wayfare_flight.app import MIGRATIONS_DIR
from wayfare_flight.domain.airports import busy_airports
from wayfare_flight.domain.fares import Party
from wayfare_flight.domain.schedule import epoch_minute
from wayfare_flight.settings import Settings
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

    connection = await connect_asyncpg(server)
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


def sample_searches(
    day, n: int, *, seed: int = 42, days: int = 1, parties: bool = False
) -> list[searching.Search]:
    """Random pairs of the airports on `day` (or on one of `days` days from it), one
    adult in economy (or a random party)."""
    rng = random.Random(seed)
    airports = busy_airports(AIRPORTS)
    searches = []
    for _ in range(n):
        origin, destination = rng.sample(airports, 2)
        on = day + timedelta(days=rng.randrange(days)) if days > 1 else day
        party = Party(rng.randint(1, 4), rng.randint(0, 2), 0) if parties else Party(1, 0, 0)
        tz = origin.zone
        start = datetime.combine(on, dtime(0), tzinfo=tz)
        query = CandidateQuery(
            origins=[origin.iata_code],
            destinations=[destination.iata_code],
            day=on,
            cabin="economy",
            seats=party.seated,
            first_minute=epoch_minute(start),
            last_minute=epoch_minute(start + timedelta(days=1)) - 1,
            carriers=None,
            connections=True,
        )
        searches.append(searching.Search(query, party))
    return searches


async def latencies(pool, searches, operation=searching.run) -> list[float]:
    for s in searches:  # a warm pass: prepared statements, and pages in shared buffers
        await operation(s, pool=pool)
    times = []
    for s in searches:
        began = time.perf_counter()
        await operation(s, pool=pool)
        times.append(time.perf_counter() - began)
    return times


async def throughput(operation, items, seconds: float, concurrency: int) -> tuple[float, int]:
    """`operation(item)` by `concurrency` tasks for `seconds`, items taken in turn;
    (operations/s, how many were done)."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(offset: int):
        nonlocal done
        i = offset
        while time.perf_counter() < deadline:
            await operation(items[i % len(items)])
            i += concurrency
            done += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return done / (time.perf_counter() - began), done


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
    url: str,
    searches,
    seconds: float,
    concurrency: int,
    cache_seconds: float | None = None,
    path: str = "/api/v1/flights/search",
) -> tuple[float, float]:
    """(requests/s, p50 of single requests) of `path` (the searches as parameters)."""
    port = free_port()
    env = {
        **os.environ,
        **(
            {"FLIGHT_SEARCH_CACHE_SECONDS": str(cache_seconds)} if cache_seconds is not None else {}
        ),
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
                assert (await client.get(path, params=p)).status_code == 200
            single = []
            for p in params[:100]:
                began = time.perf_counter()
                await client.get(path, params=p)
                single.append(time.perf_counter() - began)
            done = 0
            deadline = time.perf_counter() + seconds

            async def worker(offset: int):
                nonlocal done
                i = offset
                while time.perf_counter() < deadline:
                    response = await client.get(path, params=params[i % len(params)])
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
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP figures")
    parser.add_argument(
        "--large-days",
        type=int,
        default=LARGE_DAYS,
        help="days of the large schedule (a quick run)",
    )
    args = parser.parse_args()
    server = server_url()
    start = datetime.now(UTC).date() + timedelta(days=1)
    day = start  # both schedules hold this day and the next (second legs of connections)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.processor() or ''}".strip(
            ", "
        )
    )
    print(f"python {platform.python_version()}; load average {os.getloadavg()[0]:.1f} at start")
    small_url, small_report = await prepared_database(
        server, "wayfare_bench_search_10k", SMALL_DAYS, start, args.keep
    )
    large_url, large_report = await prepared_database(
        server, "wayfare_bench_search_1m", args.large_days, start, args.keep
    )
    for label, report in (("10k", small_report), ("1M", large_report)):
        if report:
            print(
                f"seeded {label}: {report['flights']:,} flights, {report['routes']} routes, "
                f"{report['itineraries']:,} itineraries in {report['seconds']} s "
                f"(of which itineraries {report['itineraries_seconds']} s)"
            )

    searches = sample_searches(day, args.queries)
    # Every search different (random pairs, days and parties), for the cold throughput.
    distinct = sample_searches(day, 60_000, seed=7, days=14, parties=True)
    results = {}
    for label, url in (("10k", small_url), ("1M", large_url)):
        pool = await create_pool(url, args.concurrency)
        try:
            checked = searches[:50] + distinct[:50]
            same = sum(
                [
                    await searching.run(s, pool=pool) == await searching.run_live(s, pool=pool)
                    for s in checked
                ]
            )
            times = await latencies(pool, searches)
            live = await latencies(pool, searches, searching.run_live)
            results[label] = times
            async with pool.acquire() as connection:
                flights = await connection.fetchval("SELECT count(*) FROM flights")
                itineraries = await connection.fetchval(
                    "SELECT reltuples::bigint FROM pg_class WHERE relname = 'itineraries'"
                )
            offers = [
                len(orjson.loads(await searching.run(s, pool=pool))["data"]) for s in searches[:50]
            ]
            print(
                f"latency {label} ({flights:,} flights, ~{itineraries:,} itineraries): "
                f"p50 {ms(statistics.median(times))}, "
                f"p95 {ms(statistics.quantiles(times, n=20)[18])} over {len(times)} searches "
                f"(avg {statistics.mean(offers):.1f} offers on the first page); "
                f"live join p50 {ms(statistics.median(live))}; "
                f"precomputed == live on {same}/{len(checked)}"
            )
        finally:
            await pool.close()
    ratio = statistics.median(results["1M"]) / statistics.median(results["10k"])
    print(f"p50 1M / p50 10k = {ratio:.2f} (target <= 1.5)")

    cache_seconds = Settings.model_fields["search_cache_seconds"].default
    cache_bytes = Settings.model_fields["search_cache_bytes"].default
    pool = await create_pool(large_url, args.concurrency)
    try:
        await throughput(
            lambda s: searching.run(s, pool=pool), distinct[-5000:], 2, args.concurrency
        )
        cold, cold_done = await throughput(
            lambda s: searching.run(s, pool=pool), distinct, args.seconds, args.concurrency
        )
        popular, _ = await throughput(
            lambda s: searching.run(s, pool=pool), searches, args.seconds, args.concurrency
        )
        cache = searching.SearchCache(cache_seconds, cache_bytes)
        await throughput(
            lambda s: searching.run(s, pool=pool, cache=cache), searches, 2, args.concurrency
        )
        cache.hits = cache.misses = 0
        warm, _ = await throughput(
            lambda s: searching.run(s, pool=pool, cache=cache),
            searches,
            args.seconds,
            args.concurrency,
        )
        hit_rate = cache.hits / max(1, cache.hits + cache.misses)
        async with pool.acquire() as connection:
            keys = [
                tuple(r)
                for r in await connection.fetch(
                    "SELECT flight_id, cabin FROM flight_cabins LIMIT 10000"
                )
            ]

        async def one_row(key):
            async with pool.acquire() as connection:
                await connection.fetchval(
                    "SELECT seats_available FROM flight_cabins WHERE flight_id = $1 AND cabin = $2",
                    *key,
                )

        await throughput(one_row, keys, 1, args.concurrency)
        ceiling, _ = await throughput(one_row, keys, args.seconds, args.concurrency)
    finally:
        await pool.close()
    tps, command = pgbench(server, args.seconds, args.concurrency)
    print(f"{command}: {tps:,.0f} TPS")
    print(
        f"search operation on 1M, {args.concurrency} tasks, {args.seconds} s each:\n"
        f"  cold (no cache, {cold_done:,} distinct searches): {cold:,.0f} searches/s, "
        f"ratio {cold / tps:.3f}\n"
        f"  no cache, the {len(searches)} popular searches over and over: {popular:,.0f} "
        f"searches/s, ratio {popular / tps:.3f}\n"
        f"  warm (SearchCache {cache_seconds:g} s, {len(searches)} popular searches, "
        f"hit rate {hit_rate:.3f}): {warm:,.0f} searches/s, ratio {warm / tps:.2f}\n"
        f"  ceiling, one-row primary-key SELECT on the same pool: {ceiling:,.0f}/s, "
        f"ratio {ceiling / tps:.3f}"
    )
    print(f"searches/s / pgbench TPS (target >= 0.3): cold {cold / tps:.3f}, warm {warm / tps:.2f}")

    if not args.no_http:
        for label, seconds, path in (
            ("warm, cache on", None, "/api/v1/flights/search"),
            ("cold, cache off", 0, "/api/v1/flights/search"),
            ("the HTTP floor: /healthz", None, "/healthz"),
        ):
            http_rate, http_p50 = await http_throughput(
                large_url, searches, args.seconds, args.concurrency, seconds, path
            )
            print(
                f"over HTTP ({label}; uvicorn, 1 process, httpx client in-process): "
                f"{http_rate:,.0f} searches/s, p50 {ms(http_p50)}; ratio {http_rate / tps:.3f}"
            )

    if not args.keep:
        for url in (small_url, large_url):
            await drop_postgres_database(url)


if __name__ == "__main__":
    asyncio.run(main())
