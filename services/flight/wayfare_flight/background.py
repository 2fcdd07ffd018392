"""Work the service does on its own, started and stopped with the app: the hold sweeper
and the package-import runner. Both are safe with several replicas: the sweeper claims
expired holds with SKIP LOCKED and conditional updates, and an import job is claimed by
one conditional update before it runs."""

import asyncio
import contextlib

import structlog

from wayfare_common.db import Database
from wayfare_common.events.envelope import EventContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_flight.settings import Settings
from wayfare_flight.usecases import holds, package_imports

log = structlog.get_logger("wayfare.flight.background")
SWEEP_BATCH = 100


class Background:
    def __init__(self, settings: Settings, database: Database, outbox: Outbox):
        self.settings = settings
        self.database = database
        self.outbox = outbox
        self._imports_wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._sweep_forever(), name="hold-sweeper"),
            asyncio.create_task(self._import_forever(), name="package-imports"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def wake_imports(self) -> None:
        self._imports_wake.set()

    async def sweep_once(self) -> int:
        """Expire what is due, a batch per transaction; returns how many holds expired."""
        context = EventContext(producer=self.settings.service_name)
        total = 0
        while True:
            async with self.database.sessions() as session, session.begin():
                expired = await holds.expire_due(
                    session,
                    lambda event: self.outbox.record(session, event, context),
                    limit=SWEEP_BATCH,
                )
            total += expired
            if expired < SWEEP_BATCH:
                return total

    async def _sweep_forever(self) -> None:
        while True:
            try:
                if expired := await self.sweep_once():
                    log.info("holds_expired", count=expired)
            except Exception:
                log.exception("hold_sweep_failed")
            await asyncio.sleep(self.settings.hold_sweep_interval)

    async def _import_forever(self) -> None:
        while True:
            self._imports_wake.clear()
            try:
                for job_id in await package_imports.runnable_jobs(self.database):
                    await package_imports.run(
                        self.database, self.outbox, job_id, self.settings.service_name
                    )
            except Exception:
                log.exception("package_import_failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.import_poll_interval):
                    await self._imports_wake.wait()
