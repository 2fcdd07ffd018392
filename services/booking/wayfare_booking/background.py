"""Work the service does on its own, started and stopped with the app: expiring bookings
left unpaid past their deadline (and its grace), completing bookings whose travel is
over, and forgetting old idempotency keys. Safe with several replicas: due bookings are
claimed with FOR UPDATE SKIP LOCKED and moved through the state machine."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import structlog

from wayfare_booking.settings import Settings
from wayfare_booking.store import bookings as store
from wayfare_booking.store import idempotency
from wayfare_booking.usecases import lifecycle
from wayfare_common.db import Database
from wayfare_common.events.envelope import EventContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_common.tasks import BackgroundTasks

log = structlog.get_logger("wayfare.booking.background")
BATCH = 100


class Background:
    def __init__(self, settings: Settings, database: Database, outbox: Outbox):
        self.settings = settings
        self.database = database
        self.outbox = outbox
        self.context = EventContext(producer=settings.service_name)
        self.tasks = BackgroundTasks()

    def start(self) -> None:
        self.tasks.every(self.settings.sweep_interval, self._expire, name="booking-expiry")
        self.tasks.every(
            self.settings.completion_interval, self._complete, name="booking-completion"
        )

    async def stop(self) -> None:
        await self.tasks.stop()

    async def _expire(self) -> None:
        if done := await self.expire_once():
            log.info("bookings_expired", count=done)

    async def _complete(self) -> None:
        if done := await self.complete_once():
            log.info("bookings_completed", count=done)
        await self.forget_old_idempotency_keys()

    async def expire_once(self, now: datetime | None = None) -> int:
        """Expire pending bookings past payable_until + grace; returns how many."""
        now = now or datetime.now(UTC)
        before = now - timedelta(seconds=self.settings.payment_grace_seconds)
        return await self._batches(store.due_to_expire, before, lifecycle.expire, now)

    async def complete_once(self, travel_ended_before: datetime | None = None) -> int:
        """Complete confirmed bookings whose travel ended before the given time (by
        default, the completion delay ago); returns how many."""
        now = datetime.now(UTC)
        before = travel_ended_before or now - timedelta(hours=self.settings.completion_delay_hours)

        async def complete(session, booking, emit, now):
            lifecycle.complete(booking, emit, now)

        return await self._batches(store.due_to_complete, before, complete, now)

    async def forget_old_idempotency_keys(self) -> None:
        retention = timedelta(hours=self.settings.idempotency_retention_hours)
        async with self.database.sessions() as session, session.begin():
            await idempotency.purge_older_than(session, datetime.now(UTC) - retention)

    async def _batches(self, due, before: datetime, act: Callable[..., Awaitable], now) -> int:
        total = 0
        while True:
            async with self.database.sessions() as session, session.begin():
                bookings = await due(session, before, BATCH)
                for booking in bookings:
                    await act(
                        session,
                        booking,
                        lambda event, s=session: self.outbox.record(s, event, self.context),
                        now,
                    )
            total += len(bookings)
            if len(bookings) < BATCH:
                return total
