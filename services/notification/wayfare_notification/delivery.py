"""The delivery worker: sends the emails and SMS that handlers recorded, after their
commit, and logs every attempt.

    claim (short transaction: count the attempt, lease the row)  ->  send  ->  record outcome

A temporary failure (server down, timeout, 4xx) is retried after each of
NOTIFICATION_DELIVERY_RETRY_DELAYS, then the delivery is marked failed; a permanent one
(5xx: no such mailbox) fails at once. The one window left: the server accepted the message
and the worker died (or lost the database) before recording it; the lease runs out and the
message is sent again, with the same Message-ID. README "Delivery" explains the choice.
"""

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import structlog
from prometheus_client import Counter

from wayfare_common.db import Database, log_failure
from wayfare_notification.channels import Sender, SendFailed
from wayfare_notification.store import deliveries
from wayfare_notification.store.models import Delivery

log = structlog.get_logger("wayfare.notification.delivery")

ATTEMPTS = Counter(
    "wayfare_notification_delivery_attempts_total",
    "Attempts to send an email or SMS, by outcome",
    ["channel", "outcome"],  # sent | retry | failed
)


class DeliveryWorker:
    def __init__(
        self,
        database: Database,
        senders: Mapping[str, Sender],
        wake: asyncio.Event,
        *,
        retry_delays: Sequence[float],
        batch_size: int = 20,
        poll_interval: float = 1.0,
        lease: float = 300.0,
    ):
        self.database = database
        self.senders = senders
        self.wake = wake
        self.retry_delays = list(retry_delays)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.lease = timedelta(seconds=lease)

    async def run(self) -> None:
        """Promptly after a handler commits deliveries, and every poll interval for
        retries that fall due and rows of other replicas."""
        while True:
            self.wake.clear()
            try:
                claimed = await self.run_once()
            except Exception:
                log_failure(log, "delivery_worker_failed")
                claimed = 0
            if claimed >= self.batch_size:
                continue  # more may be due
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self.wake.wait()

    def _after_failure(self, attempt: int, permanent: bool) -> tuple[str, datetime | None]:
        if permanent or attempt > len(self.retry_delays):
            return "failed", None
        return "retry", datetime.now(UTC) + timedelta(seconds=self.retry_delays[attempt - 1])

    async def run_once(self) -> int:
        async with self.database.sessions() as session, session.begin():
            claimed = await deliveries.claim(session, self.batch_size, self.lease)
        await asyncio.gather(*(self._deliver(delivery) for delivery in claimed))
        return len(claimed)

    async def _deliver(self, delivery: Delivery) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        retry_at = None
        try:
            detail = await self.senders[delivery.channel].send(delivery)
            outcome = "sent"
        except SendFailed as failure:
            detail = failure.detail
            outcome, retry_at = self._after_failure(delivery.attempts, failure.permanent)
        except Exception as exc:  # a bug of ours: treated like a temporary failure
            log.exception("delivery_send_crashed", delivery_id=str(delivery.id))
            detail = f"{type(exc).__name__}: {exc}"
            outcome, retry_at = self._after_failure(delivery.attempts, permanent=False)
        duration_ms = round((loop.time() - started) * 1000)
        try:
            async with self.database.sessions() as session, session.begin():
                current = await deliveries.finish(
                    session,
                    delivery,
                    outcome=outcome,
                    detail=detail,
                    duration_ms=duration_ms,
                    retry_at=retry_at,
                )
        except Exception:
            # The at-least-once window: when the lease runs out it is sent again.
            log.exception(
                "delivery_outcome_not_recorded", delivery_id=str(delivery.id), outcome=outcome
            )
            return
        ATTEMPTS.labels(delivery.channel, outcome).inc()
        (log.info if outcome == "sent" else log.warning)(
            f"delivery_{outcome}",
            delivery_id=str(delivery.id),
            channel=delivery.channel,
            kind=delivery.kind,
            attempt=delivery.attempts,
            detail=detail,
            retry_at=retry_at.isoformat() if retry_at else None,
            superseded=not current or None,
        )
