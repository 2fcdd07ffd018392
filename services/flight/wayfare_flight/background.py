"""Work the service does on its own, started and stopped with the app: the hold sweeper
and the package-import runner. Both are safe with several replicas: the sweeper claims
expired holds with SKIP LOCKED and conditional updates, and an import job is claimed by
one conditional update before it runs."""

import asyncio

import structlog

from wayfare_common.db import Database
from wayfare_common.events.envelope import EventContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_common.tasks import BackgroundTasks
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
        self.tasks = BackgroundTasks()

    def start(self) -> None:
        self.tasks.every(self.settings.hold_sweep_interval, self._sweep, name="hold-sweeper")
        self.tasks.every(
            self.settings.import_poll_interval,
            self._run_imports,
            name="package-imports",
            wake=self._imports_wake,
        )

    async def stop(self) -> None:
        await self.tasks.stop()

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

    async def _sweep(self) -> None:
        if expired := await self.sweep_once():
            log.info("holds_expired", count=expired)

    async def _run_imports(self) -> None:
        for job_id in await package_imports.runnable_jobs(self.database):
            await package_imports.run(
                self.database, self.outbox, job_id, self.settings.service_name
            )
