"""`make run`'s Procfile brings the whole suite up: every part answers its health checks.

The suite runs as real processes under honcho, on free ports, with its data in a temporary
folder and its broker objects under a namespace of its own.
"""

import asyncio
import os
import re
import signal
import sys
import time
import uuid
from asyncio.subprocess import Process
from pathlib import Path

import aio_pika
import httpx
import pytest

from wayfare_common.messaging.topology import Topology
from wayfare_common.settings import ServiceSettings
from wayfare_common.testing.smtp import free_port

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("gateway", "auth", "flight", "booking", "payment", "notification", "admin")
STARTUP_TIMEOUT = 60.0

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


async def test_every_part_starts_and_is_ready(amqp_url, tmp_path):
    ports = {name: free_port() for name in PARTS}
    namespace = f"test-{uuid.uuid4().hex[:10]}."
    env = {
        **os.environ,
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
        "MAILCATCHER_PORT": str(free_port()),
        "DATA_DIR": str(tmp_path / "data"),
        "AMQP_URL": amqp_url,
        "AMQP_NAMESPACE": namespace,
        # The Procfile says `python`: this environment's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    log_path = tmp_path / "honcho.log"
    with log_path.open("wb") as log:
        # `-e /dev/null`: a developer's .env must not change what is tested.
        suite = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "honcho", "start", "-f", ROOT / "Procfile", "-e", "/dev/null"),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        waiting = await _wait_until_ready(suite, ports)
        assert not waiting, (
            f"not ready (waited up to {STARTUP_TIMEOUT:.0f} s): {waiting}\n{_tail(log_path)}"
        )
        assert (tmp_path / "data" / "mail").is_dir()
        assert {f"{name}.db" for name in PARTS if name != "gateway"} <= {
            path.name for path in (tmp_path / "data").iterdir()
        }
    finally:
        await _stop(suite, log_path)
        await _delete_broker_objects(amqp_url, namespace)


async def _wait_until_ready(suite: Process, ports: dict[str, int]) -> dict[str, str]:
    """Polls until every part answers; returns the parts still waiting (with why)."""
    waiting = {name: "no answer" for name in ports}
    deadline = time.monotonic() + STARTUP_TIMEOUT
    async with httpx.AsyncClient(timeout=2) as client:
        while waiting and time.monotonic() < deadline and suite.returncode is None:
            for name in list(waiting):
                try:
                    for path in ("/healthz", "/readyz"):
                        response = await client.get(f"http://127.0.0.1:{ports[name]}{path}")
                        if response.status_code != 200:
                            raise ValueError(f"{path} {response.status_code} {response.text}")
                    del waiting[name]
                except (httpx.HTTPError, ValueError) as error:
                    waiting[name] = str(error)
            await asyncio.sleep(0.5)
    if suite.returncode is not None:
        waiting["honcho"] = f"exited with {suite.returncode}"
    return waiting


async def _stop(suite: Process, log_path: Path) -> None:
    """honcho stops its children on SIGTERM (SIGKILL after 5 s); each child has a
    process group of its own, so anything left over is killed by the pids honcho logged."""
    if suite.returncode is None:
        os.killpg(suite.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(suite.wait(), 20)
        except TimeoutError:
            os.killpg(suite.pid, signal.SIGKILL)
            await asyncio.wait_for(suite.wait(), 5)
    for pid in _started_pids(log_path):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # stopped already, as it should have


def _started_pids(log_path: Path) -> list[int]:
    return [int(pid) for pid in re.findall(r"started \(pid=(\d+)\)", log_path.read_text())]


async def _delete_broker_objects(amqp_url: str, namespace: str) -> None:
    """What the parts declared under the test's namespace (they run in other processes,
    so the plugin's bookkeeping does not know about it)."""
    delays = tuple(ServiceSettings.model_fields["retry_delays"].default)
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in PARTS:
            topology = Topology(service=name, namespace=namespace, retry_delays=delays)
            queues = [topology.queue_name, topology.dead_letter_queue]
            queues += [topology.retry_queue(attempt) for attempt in range(len(delays))]
            for queue in queues:
                await channel.queue_delete(queue)  # a no-op when it does not exist
        await channel.exchange_delete(f"{namespace}wayfare.events")


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
