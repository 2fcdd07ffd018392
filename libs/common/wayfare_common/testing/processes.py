"""Real processes for tests that cross process boundaries: start one, wait (bounded)
until it answers, and always stop it, its children included, with its log at hand."""

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


@dataclass
class RunningProcess:
    process: asyncio.subprocess.Process
    log_path: Path
    url: str

    def log(self, tail: int = 40) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-tail:])


@contextlib.asynccontextmanager
async def running_process(
    args: list[str],
    *,
    url: str,
    log_path: Path,
    env: dict[str, str] | None = None,
    ready_path: str = "/healthz",
    timeout: float = 30.0,
) -> AsyncIterator[RunningProcess]:
    """Run `args` (e.g. `[sys.executable, "-m", "wayfare_gateway"]`) until `url +
    ready_path` answers 200; fail the test with the log's tail if it does not in time."""
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *args,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    running = RunningProcess(process, log_path, url)
    try:
        await _wait_until_ready(running, ready_path, timeout)
        yield running
    finally:
        await stop(process)


def python_module(module: str) -> list[str]:
    return [sys.executable, "-m", module]


async def stop(process: asyncio.subprocess.Process, grace: float = 5.0) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


async def _wait_until_ready(running: RunningProcess, path: str, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(timeout=1) as client:
        while asyncio.get_running_loop().time() < deadline:
            if running.process.returncode is not None:
                pytest.fail(
                    f"{running.url} exited with {running.process.returncode}:\n{running.log()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(running.url + path)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    pytest.fail(f"{running.url}{path} did not answer within {timeout} s:\n{running.log()}")
