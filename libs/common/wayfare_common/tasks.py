"""Periodic work a service does on its own (sweepers, schedulers, reconcilers), started
and stopped with the app: each job runs, then waits its interval or until woken; a
failure is logged and the job goes on."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from wayfare_common.db import log_failure

log = structlog.get_logger("wayfare.tasks")


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task] = []

    def every(
        self,
        interval: float,
        work: Callable[[], Awaitable[object]],
        *,
        name: str,
        wake: asyncio.Event | None = None,
        wait_first: bool = False,
    ) -> None:
        """Run `work` every `interval` seconds (sooner when `wake` is set)."""
        self._tasks.append(
            asyncio.create_task(self._loop(interval, work, name, wake, wait_first), name=name)
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    @staticmethod
    async def _loop(interval, work, name, wake, wait_first) -> None:
        wake = wake or asyncio.Event()
        if wait_first:
            await _wait(wake, interval)
        while True:
            wake.clear()
            try:
                await work()
            except Exception:
                log_failure(log, "background_task_failed", task=name)
            await _wait(wake, interval)


async def _wait(wake: asyncio.Event, interval: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(interval):
            await wake.wait()
