"""Work the service does on its own, started and stopped with the app: the scheduled payout
run and the reconciler of charge attempts left without an answer. Both are safe with
several replicas: a payout run holds the payout lease (store/ledger.py), and an attempt is
settled under its payment's row lock with the provider's idempotency key."""

import structlog

from wayfare_common.db import Database
from wayfare_common.events.envelope import EventContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_common.tasks import BackgroundTasks
from wayfare_payment.domain.errors import PayoutRunInProgress
from wayfare_payment.providers.registry import Providers
from wayfare_payment.settings import Settings
from wayfare_payment.usecases import charges, payouts

log = structlog.get_logger("wayfare.payment.background")


class Background:
    def __init__(
        self, settings: Settings, database: Database, outbox: Outbox, providers: Providers
    ):
        self.settings = settings
        self.database = database
        self.outbox = outbox
        self.providers = providers
        self.context = EventContext(producer=settings.service_name)
        self.tasks = BackgroundTasks()

    def start(self) -> None:
        self.tasks.every(
            self.settings.reconcile_interval, self._reconcile, name="reconciler", wait_first=True
        )
        if self.settings.payout_interval > 0:
            self.tasks.every(
                self.settings.payout_interval, self.run_payouts, name="payouts", wait_first=True
            )

    async def stop(self) -> None:
        await self.tasks.stop()

    async def run_payouts(self) -> payouts.RunResult | None:
        try:
            result = await payouts.run(
                self.database,
                self.outbox,
                self.providers.default,
                self.settings.payout_minimum,
                self.context,
            )
        except PayoutRunInProgress:
            return None  # another replica (or staff) is on it
        if result.sent or result.failed or result.waiting:
            log.info(
                "payouts_run",
                sent=len(result.sent),
                failed=len(result.failed),
                waiting=len(result.waiting),
            )
        return result

    async def _reconcile(self) -> None:
        await charges.reconcile_stale(
            self.database,
            self.providers,
            self.outbox,
            self.context,
            self.settings.stale_attempt_after,
        )
