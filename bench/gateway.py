"""Gateway benchmark: requests/s through the gateway against requests/s straight to the
same service, beside nginx proxying the same route.

    .venv/bin/python bench/gateway.py [--seconds 10] [--connections 32]

Needs `wrk` (Debian package wrk); nginx (nginx-light) is used when installed. Every
process runs on this machine, on loopback; each run is bounded by --seconds.

Scenarios: `trivial` (a route of a real Wayfare app that does no work) always; `search`
(the flight service's search on seeded inventory) when the flight service is installed.
"""

import argparse
import asyncio
import contextlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from wayfare_common.testing.smtp import free_port
from wayfare_common.testing.tokens import TokenIssuer

HERE = Path(__file__).parent


LOGS = Path(tempfile.mkdtemp(prefix="bench-gateway-"))


@contextlib.contextmanager
def process(args, env=None, cwd=None):
    """Run a process for the benchmark, its output in a log under LOGS."""
    log = (LOGS / f"{Path(args[-1]).stem}-{len(list(LOGS.iterdir()))}.log").open("wb")
    proc = subprocess.Popen(
        args, env={**os.environ, **(env or {})}, cwd=cwd, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.1)
    raise SystemExit(f"{url} did not come up within {timeout} s")


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> dict:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{url}: {non_2xx.group(1)} failed responses (logs in {LOGS})\n{out}")

    def latency(p):
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {"rps": rps, "p50": latency(50), "p99": latency(99)}


@contextlib.contextmanager
def nginx_proxy(upstream_port: int):
    if not shutil.which("nginx"):
        yield None
        return
    port = free_port()
    prefix = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    (prefix / "logs").mkdir()
    (prefix / "nginx.conf").write_text(f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  upstream app {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
""")
    subprocess.run(["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf")], check=True)
    try:
        yield port
    finally:
        subprocess.run(["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-s", "stop"])


def scenario(name: str, upstream_port: int, path: str, gateway_env: dict, args, token: str) -> None:
    gateway_port = free_port()
    env = {
        **gateway_env,
        "GATEWAY_PORT": str(gateway_port),
        "ENVIRONMENT": "production",
        "AMQP_URL": "",
        "GATEWAY_USER_RATE": "100000000/minute",
        "GATEWAY_ANONYMOUS_RATE": "100000000/minute",
    }  # measure the proxy, not the limiter
    headers = {"Authorization": f"Bearer {token}"}
    with (
        process([sys.executable, "-m", "wayfare_gateway"], env=env),
        nginx_proxy(upstream_port) as nginx,
    ):
        wait_until_up(f"http://127.0.0.1:{gateway_port}/healthz")
        targets = {
            "direct": f"http://127.0.0.1:{upstream_port}{path}",
            "gateway": f"http://127.0.0.1:{gateway_port}{path}",
        }
        if nginx:
            targets["nginx"] = f"http://127.0.0.1:{nginx}{path}"
        for url in targets.values():  # warm up: pools, caches, JWKS
            wrk(url, 2, args.connections, headers)
        results = {
            label: wrk(url, args.seconds, args.connections, headers)
            for label, url in targets.items()
        }
    direct = results["direct"]["rps"]
    print(f"\n{name}: {path}")
    for label, result in results.items():
        print(
            f"  {label:8} {result['rps']:9.0f} req/s  p50 {result['p50']:6.2f} ms  "
            f"p99 {result['p99']:6.2f} ms  ratio {result['rps'] / direct:.2f}"
        )


@contextlib.contextmanager
def flight_service(cache_seconds: float):
    """The real flight service on a seeded PostgreSQL database (a few days, 30 airports)."""
    from wayfare_common.testing.plugin import create_postgres_database, drop_postgres_database

    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    url = asyncio.run(create_postgres_database(server))
    env = {
        "FLIGHT_DATABASE_URL": url,
        "AMQP_URL": "",
        "ENVIRONMENT": "production",
        "FLIGHT_SEED_ON_EMPTY": "false",
        "LOG_LEVEL": "WARNING",
        "FLIGHT_SEARCH_CACHE_SECONDS": str(cache_seconds),
    }
    try:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "wayfare_flight",
                "seed",
                "--days",
                "3",
                "--airports",
                "30",
                "--no-packages",
            ],
            env={**os.environ, **env},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = free_port()
        with process(
            [sys.executable, "-m", "wayfare_flight"], env={**env, "FLIGHT_PORT": str(port)}
        ):
            wait_until_up(f"http://127.0.0.1:{port}/healthz")
            yield port
    finally:
        asyncio.run(drop_postgres_database(url))


def busy_route(port: int) -> str:
    """A search path that finds offers (direct and one-stop) on the seeded schedule."""
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 2 * 86400))
    for origin, destination in [("LHR", "JFK"), ("ATL", "LAX"), ("DXB", "LHR"), ("CDG", "JFK")]:
        path = (
            f"/api/v1/flights/search?origin={origin}&destination={destination}&date={day}&adults=2"
        )
        data = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=10).json().get("data", [])
        if len(data) >= 5:
            return path
    raise SystemExit("no busy route found in the seeded schedule")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only-trivial", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; wrk -t1 -c{args.connections} -d{args.seconds}s"
    )

    issuer = TokenIssuer()
    token = issuer.mint("customer")

    async def serve_jwks_forever(ready):
        async with issuer.serve() as jwks:
            ready.set_result(jwks.url)
            await asyncio.Event().wait()

    loop = asyncio.new_event_loop()
    ready = loop.create_future()
    threading.Thread(
        target=lambda: loop.run_until_complete(serve_jwks_forever(ready)), daemon=True
    ).start()
    while not ready.done():
        time.sleep(0.05)
    gateway_env = {
        "JWKS_URL": ready.result(),
        "JWT_ISSUER": issuer.issuer,
        "JWT_AUDIENCE": issuer.audience,
    }

    upstream_port = free_port()
    with process([sys.executable, str(HERE / "ping_service.py"), str(upstream_port)]):
        wait_until_up(f"http://127.0.0.1:{upstream_port}/healthz")
        scenario(
            "trivial",
            upstream_port,
            "/api/v1/flights/ping",
            {**gateway_env, "GATEWAY_FLIGHT_URL": f"http://127.0.0.1:{upstream_port}"},
            args,
            token,
        )
    if args.only_trivial:
        return
    # Flight search as deployed (2 s result cache), and with every search computed.
    for label, cache in (("search, result cache on", 2.0), ("search, result cache off", 0.0)):
        with flight_service(cache) as flight_port:
            path = busy_route(flight_port)
            flight_env = {**gateway_env, "GATEWAY_FLIGHT_URL": f"http://127.0.0.1:{flight_port}"}
            scenario(label, flight_port, path, flight_env, args, token)


if __name__ == "__main__":
    main()
