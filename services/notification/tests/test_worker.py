"""The delivery worker on PostgreSQL: replicas share the pending deliveries without
sending one twice (FOR UPDATE SKIP LOCKED), and each email's Message-ID names its
delivery."""

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from wayfare_common.db import Database
from wayfare_common.testing.plugin import eventually
from wayfare_notification.channels.email import EmailSender
from wayfare_notification.channels.sms import ConsoleSms
from wayfare_notification.delivery import DeliveryWorker
from wayfare_notification.settings import Settings
from wayfare_notification.store.models import Delivery, DeliveryAttempt

from notification_support import migrate


async def test_two_replicas_send_each_delivery_once(postgres_url, smtp_server):
    settings = Settings(
        database_url=postgres_url,
        amqp_url="",
        environment="test",
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_from="Wayfare <no-reply@wayfare.test>",
    )
    await migrate(settings)
    databases = [Database(postgres_url), Database(postgres_url)]
    ids = [uuid.uuid4() for _ in range(40)]
    async with databases[0].sessions() as session:
        session.add_all(
            Delivery(
                id=id_,
                event_id=uuid.uuid4(),
                channel="email",
                recipient=f"person{i}@example.com",
                kind="welcome",
                subject=f"Message {i}",
                body_text="Hello",
                body_html="<p>Hello</p>",
                status="pending",
                attempts=0,
                next_attempt_at=datetime.now(UTC),
            )
            for i, id_ in enumerate(ids)
        )
        await session.commit()

    senders = {"email": EmailSender(settings), "sms": ConsoleSms()}
    workers = [
        DeliveryWorker(
            database, senders, asyncio.Event(), retry_delays=[1.0], batch_size=5, poll_interval=0.05
        )
        for database in databases
    ]
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    try:
        await smtp_server.wait_for(40)

        async def all_sent():
            async with databases[0].sessions() as session:
                return (
                    await session.scalar(
                        sa.select(sa.func.count()).where(Delivery.status == "sent")
                    )
                    == 40
                )

        await eventually(all_sent)
        await asyncio.sleep(0.3)
        async with databases[0].sessions() as session:
            log = (
                await session.execute(
                    sa.select(DeliveryAttempt.delivery_id, DeliveryAttempt.attempt)
                )
            ).all()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for database in databases:
            await database.dispose()

    assert len(smtp_server.messages) == 40
    message_ids = sorted(str(m["Message-ID"]) for m in smtp_server.messages)
    assert message_ids == sorted(f"<{id_}@wayfare.test>" for id_ in ids)
    assert sorted(log) == sorted((id_, 1) for id_ in ids)
