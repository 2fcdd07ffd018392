"""The relay: publishes committed outbox rows, then marks them sent.

It claims a batch in a transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas
share the work without sending a row twice), publishes the whole batch with confirms in
flight, and marks the confirmed rows. A crash between the confirm and the mark sends the
row again later: consumers deduplicate by event id (the inbox).

Failures are told apart: when the broker refuses one message (unroutable, nacked) that
row backs off on its own; when the connection fails, nothing is charged to the rows and
the relay waits for the broker, which wakes it on reconnect.
"""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import structlog
from prometheus_client import Counter
from sqlalchemy import delete, or_, select, update

from wayfare_common.db import Database, log_failure
from wayfare_common.messaging.outbox import Outbox
from wayfare_common.messaging.publisher import Outgoing, Publisher, is_message_failure
from wayfare_common.messaging.tables import outbox as table

log = structlog.get_logger("wayfare.outbox")
PUBLISHED = Counter("wayfare_outbox_published_total", "Outbox rows confirmed by the broker")

MAX_BACKOFF = timedelta(seconds=60)
RETENTION = timedelta(days=1)  # sent rows kept this long, for inspection
HOUSEKEEPING_EVERY = 600.0


class Relay:
    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
    ):
        self.database = database
        self.outbox = outbox
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.publisher: Publisher | None = None  # set while connected to the broker
        self.published = 0  # rows this relay has sent, for metrics and tests
        # Concurrent batches need row locks that skip each other: PostgreSQL only.
        self.concurrency = 2 if database.dialect == "postgresql" else 1
        self._last_housekeeping = 0.0

    async def run(self) -> None:
        """Publish forever: promptly after a commit, and every poll interval for rows
        from other replicas, crashed processes and back-offs."""
        loop = asyncio.get_running_loop()
        while True:
            self.outbox.wake.clear()
            try:
                sent = await self.publish_pending()
            except Exception:
                log_failure(log, "outbox_relay_failed")
                sent = 0
            if sent >= self.batch_size * self.concurrency:
                continue  # more may be waiting
            if loop.time() - self._last_housekeeping > HOUSEKEEPING_EVERY:
                await self._housekeeping()
                self._last_housekeeping = loop.time()
            # asyncio.timeout, not wait_for: no inner task that could swallow a cancel.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self.outbox.wake.wait()

    async def publish_pending(self) -> int:
        """One pass; returns how many rows the broker confirmed. On PostgreSQL several
        batches are in flight at once (each claims its own rows), so one batch's database
        work overlaps another's wait for confirms."""
        if self.publisher is None:
            return 0
        sent = await asyncio.gather(*(self._publish_batch() for _ in range(self.concurrency)))
        return sum(sent)

    async def _publish_batch(self) -> int:
        publisher = self.publisher
        if publisher is None:
            return 0
        now = datetime.now(UTC)
        async with self.database.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(
                        table.c.seq, table.c.id, table.c.routing_key, table.c.body, table.c.attempts
                    )
                    .where(
                        table.c.published_at.is_(None),
                        or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= now),
                    )
                    .order_by(table.c.seq)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            results = await publisher.publish_many(
                [Outgoing(row.body, row.routing_key, str(row.id)) for row in rows]
            )
            sent = [row.seq for row, error in zip(rows, results, strict=True) if error is None]
            if sent:
                await session.execute(
                    update(table)
                    .where(table.c.seq.in_(sent))
                    .values(published_at=datetime.now(UTC))
                )
                self.published += len(sent)
                PUBLISHED.inc(len(sent))
            refused = [(row, e) for row, e in zip(rows, results, strict=True) if e is not None]
            for row, error in refused:
                if is_message_failure(error):
                    await self._back_off(session, row, error, now)
            if any(not is_message_failure(error) for _, error in refused):
                log.warning("outbox_publish_interrupted", sent=len(sent), pending=len(refused))
            return len(sent)

    async def _back_off(self, session, row, error: BaseException, now: datetime) -> None:
        """The broker refused this message (e.g. no queue is bound to its routing key yet):
        try it again later, without holding up the rows behind it."""
        attempts = row.attempts + 1
        await session.execute(
            update(table)
            .where(table.c.seq == row.seq)
            .values(
                attempts=attempts,
                next_attempt_at=now + min(timedelta(seconds=2**attempts), MAX_BACKOFF),
                last_error=str(error)[:1000],
            )
        )
        log.warning(
            "outbox_message_refused",
            event_id=str(row.id),
            routing_key=row.routing_key,
            attempts=attempts,
            error=str(error),
        )

    async def _housekeeping(self) -> None:
        try:
            async with self.database.sessions() as session, session.begin():
                await session.execute(
                    delete(table).where(table.c.published_at < datetime.now(UTC) - RETENTION)
                )
        except Exception:
            log_failure(log, "outbox_housekeeping_failed")
