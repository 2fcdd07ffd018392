"""Login benchmark: logins per second through the real auth service, against the argon2 bound.

    .venv/bin/python bench/login.py [--seconds 6] [--rounds 8] [--connections 16] [--sqlite]

1. Bound: raw `PasswordHasher.verify` per second at the service's production parameters
   (argon2id, m=19456 KiB, t=2, p=1) by as many threads as the service's hash pool has
   (AUTH_HASH_CONCURRENCY, default one per core), each verifying in a loop: the ceiling
   of that pool, with none of the service's hand-offs.
2. Logins: `python -m wayfare_auth` (uvicorn, production settings, its own process) on a
   loopback port; a load loop keeps `--connections` keep-alive HTTP/1.1 connections busy
   with `POST /api/v1/auth/login` (correct passwords, so every answer is a token pair that
   was signed and stored) for `--seconds` after a warm-up. Reported as a ratio of (1);
   target >= 0.9.

Rounds alternate (bound, logins), short, so that each pair sees the same machine; the
median of the rounds' ratios is the figure. The CPU each login costs, by part (service
event loop, hash threads, PostgreSQL backends, load client), is read from /proc: unlike
rates, it hardly depends on what else the machine runs, and the hash threads' share of
it is the ratio a machine given to the benchmark alone would reach. PostgreSQL comes from
BENCH_DATABASE_URL, else TEST_DATABASE_URL, else local defaults; the benchmark creates its
own database and drops it (`--sqlite` uses a file instead). Traffic stays on 127.0.0.1,
and every loop is bounded in time.
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher

from wayfare_auth.hashing import PasswordHashing
from wayfare_auth.keys import add_key
from wayfare_auth.settings import Settings
from wayfare_auth.store.models import User, utcnow
from wayfare_common.db import Database
from wayfare_common.migrations import upgrade
from wayfare_common.testing.plugin import create_postgres_database, drop_postgres_database

MIGRATIONS = Path(__file__).resolve().parents[1] / "services" / "auth" / "migrations"
PASSWORD = "Bench-Password-2026!"
ACCOUNTS = 64


async def argon2_bound(seconds: float, workers: int) -> tuple[float, float]:
    """Verifications per second by `workers` threads doing nothing else (the service's
    pool size, with none of its hand-offs: a ceiling), and the CPU milliseconds each took."""
    settings = Settings(environment="production")
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost,
        parallelism=settings.argon2_parallelism,
    )
    stored = hasher.hash(PASSWORD)
    counts = [0] * workers

    def worker(slot: int, deadline: float) -> None:
        while time.monotonic() < deadline:
            hasher.verify(stored, PASSWORD)
            counts[slot] += 1

    def run(duration: float) -> None:
        deadline = time.monotonic() + duration
        with ThreadPoolExecutor(workers) as pool:
            for slot in range(workers):
                pool.submit(worker, slot, deadline)

    await asyncio.to_thread(run, 1.0)  # warm-up
    counts[:] = [0] * workers
    started, cpu = time.monotonic(), time.process_time()
    await asyncio.to_thread(run, seconds)
    done = sum(counts)
    return done / (time.monotonic() - started), (time.process_time() - cpu) * 1000 / done


def _cpu_seconds(path: str) -> float:
    # schedstat counts nanoseconds on a CPU; /proc/.../stat rounds to 10 ms ticks, too
    # coarse for a database backend that spends a fraction of a millisecond per login.
    return int(Path(path).read_text().split()[0]) / 1e9


def server_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of the service's event-loop thread and of its other threads (the
    argon2 pool: with PostgreSQL the service runs no other threads)."""
    loop = other = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            seconds = _cpu_seconds(f"{task}/schedstat")
            if task.name == str(pid):
                loop += seconds
            else:
                other += seconds
    return loop, other


async def backend_pids(url: str) -> list[int]:
    """The PostgreSQL backends serving the benchmark's database (the service's pool)."""
    database = Database(url)
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        )
        pids = [row.pid for row in rows]
    await database.dispose()
    return pids


def backends_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += _cpu_seconds(f"/proc/{pid}/schedstat")
    return total


class Connection:
    """A minimal HTTP/1.1 keep-alive client: the load generator must cost the machine as
    little as possible, since it shares the cores with the service (DESIGN §8: httpx
    costs about a millisecond per request)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> "Connection":
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def login_rate(
    port: int, seconds: float, connections: int, emails: list[str], probe=None
) -> tuple[float, dict[str, float]]:
    """Logins per second, and the CPU milliseconds each cost, by part (when `probe`
    gives the service's pid and database URL)."""
    bodies = [json.dumps({"email": e, "password": PASSWORD}).encode() for e in emails]
    ok = failed = 0
    counting = False

    async def run(conn: Connection, deadline: float, offset: int) -> None:
        nonlocal ok, failed
        i = offset
        while time.monotonic() < deadline:
            status, body = await conn.post("/api/v1/auth/login", bodies[i % len(bodies)])
            i += 1
            if not counting:
                continue
            if status == 200 and b"access_token" in body:
                ok += 1
            else:
                failed += 1

    pool = [await Connection.open(port) for _ in range(connections)]
    try:
        warm = time.monotonic() + 2.0
        await asyncio.gather(*(run(c, warm, i) for i, c in enumerate(pool)))
        pid, url = probe if probe else (None, None)
        pids = await backend_pids(url) if url else []
        before = (server_cpu(pid) if pid else (0.0, 0.0), backends_cpu(pids), time.process_time())
        counting = True
        started = time.monotonic()
        await asyncio.gather(*(run(c, started + seconds, i) for i, c in enumerate(pool)))
        elapsed = time.monotonic() - started
        after = (server_cpu(pid) if pid else (0.0, 0.0), backends_cpu(pids), time.process_time())
    finally:
        for conn in pool:
            conn.close()
    if failed:
        raise RuntimeError(f"{failed} logins failed during the run")
    per_login = 1000.0 / max(ok, 1)
    cost = {
        "service loop": (after[0][0] - before[0][0]) * per_login,
        "argon2 threads": (after[0][1] - before[0][1]) * per_login,  # + aiosqlite's
        "postgres": (after[1] - before[1]) * per_login,
        "load client": (after[2] - before[2]) * per_login,
    }
    return ok / elapsed, cost


async def create_accounts(url: str) -> list[str]:
    await asyncio.to_thread(upgrade, MIGRATIONS, url)
    hashing = PasswordHashing(Settings(environment="production"))
    stored = await hashing.hash(PASSWORD)  # the same cost for every account
    hashing.close()
    emails = [f"bench.{i}.{uuid.uuid4().hex[:6]}@example.com" for i in range(ACCOUNTS)]
    database = Database(url)
    async with database.sessions() as session:
        now = utcnow()
        session.add_all(
            User(
                email=email,
                full_name="Bench",
                password_hash=stored,
                email_verified=True,
                created_at=now,
                updated_at=now,
            )
            for email in emails
        )
        await session.commit()
    await database.dispose()
    return emails


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def auth_service(url: str, data_dir: Path):
    """`python -m wayfare_auth serve` on a free loopback port; yields (port, pid)."""
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "LOG_LEVEL": "WARNING",
        "AUTH_DATABASE_URL": url,
        "AUTH_PORT": str(port),
        "AUTH_SIGNING_KEYS_DIR": str(data_dir / "keys"),
        "AMQP_URL": "",  # a login emits no event; no broker in the measurement
        "DATA_DIR": str(data_dir),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "wayfare_auth", "serve"], env=env, stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the auth service did not start")
            time.sleep(0.1)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = parser.parse_args()
    workers = Settings(environment="production").hash_concurrency
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; hash concurrency {workers}"
    )

    with tempfile.TemporaryDirectory(prefix="bench-login-") as scratch:
        data_dir = Path(scratch)
        add_key(data_dir / "keys")  # production mode needs configured keys
        if args.sqlite:
            url = f"sqlite+aiosqlite:///{data_dir / 'auth.db'}"
        else:
            server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
                "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
            )
            url = await create_postgres_database(server)
        try:
            emails = await create_accounts(url)
            print(f"database: {sa.engine.make_url(url).get_backend_name()}, {len(emails)} accounts")
            bounds, rates, costs, verify_ms = [], [], [], []
            with auth_service(url, data_dir) as (port, pid):
                probe = (pid, None if args.sqlite else url)
                for n in range(args.rounds):
                    load = os.getloadavg()[0]
                    bound, verify_cpu = await argon2_bound(args.seconds, workers)
                    rate, cost = await login_rate(
                        port, args.seconds, args.connections, emails, probe
                    )
                    bounds.append(bound)
                    rates.append(rate)
                    costs.append(cost)
                    verify_ms.append(verify_cpu)
                    print(
                        f"round {n + 1}: argon2 bound {bound:.1f} verify/s, logins {rate:.1f}/s, "
                        f"ratio {rate / bound:.2f} (load average before: {load:.2f})"
                    )
        finally:
            if not args.sqlite:
                await drop_postgres_database(url)

    best = max(rates) / max(bounds)
    median = statistics.median(r / b for r, b in zip(rates, bounds, strict=True))
    print(
        f"argon2 bound: best {max(bounds):.1f}/s; logins: best {max(rates):.1f}/s; "
        f"ratio best/best {best:.2f}; median of the rounds' ratios {median:.2f} (target >= 0.90)"
    )
    # CPU time does not depend on what else the machine runs: the ratio it predicts for
    # a machine given to the benchmark alone is the argon2 share of a login's CPU.
    cost = {part: statistics.median(c[part] for c in costs) for part in costs[0]}
    total = sum(cost.values())
    print(
        "CPU per login (median of rounds, ms): "
        + ", ".join(f"{part} {ms:.2f}" for part, ms in cost.items())
        + f"; total {total:.2f}; raw verify {statistics.median(verify_ms):.2f}"
    )
    if not args.sqlite:  # with SQLite, aiosqlite's thread would count as a hashing thread
        print(f"argon2 share of a login's CPU: {cost['argon2 threads'] / total:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
