"""Once per event: duplicates, SMTP outages, refused recipients, and events that come
before the person they are for."""

import asyncio
import uuid

import sqlalchemy as sa
from aiosmtpd.controller import Controller

from wayfare_common.devtools.mailcatcher import SERVER_NAME, MailHandler
from wayfare_common.testing.events import booking_confirmed
from wayfare_common.testing.plugin import eventually, wait_for_handled
from wayfare_common.testing.proxy import TcpProxy
from wayfare_common.testing.smtp import free_port
from wayfare_notification.store.models import Delivery, DeliveryAttempt

from notification_support import (
    booking_created,
    consumed,
    eventually_rows,
    running,
    user_registered,
    wait_for_mail,
)


def attempts_of(delivery_kind: str):
    return (
        sa.select(DeliveryAttempt.attempt, DeliveryAttempt.outcome, DeliveryAttempt.detail)
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(Delivery.kind == delivery_kind)
        .order_by(DeliveryAttempt.attempt)
    )


async def test_the_same_event_delivered_five_times_gives_one_email(service, bus, smtp_server):
    registered = user_registered()
    duplicates_before = consumed("duplicate", registered.type)
    envelope = await bus.publish(registered)
    await asyncio.gather(*(bus.publish(registered, envelope=envelope) for _ in range(4)))

    await wait_for_handled(service.database, [envelope.id])
    await eventually(
        lambda: consumed("duplicate", registered.type) - duplicates_before == 4,
        message="the four copies were not all seen",
    )
    await wait_for_mail(smtp_server, registered.email)
    await eventually_rows(
        service,
        sa.select(Delivery.status).where(Delivery.event_id == envelope.id),
        lambda rows: rows == [("sent",)],
    )
    await asyncio.sleep(0.5)  # several worker polls: nothing else may come
    assert [str(m["Subject"]) for m in smtp_server.messages] == ["Welcome to Wayfare"]
    # and one in-app notification
    response = await service.client.get(
        "/api/v1/notifications", headers=service.headers(registered.user_id)
    )
    assert [n["kind"] for n in response.json()["data"]] == ["welcome"]


async def test_smtp_down_then_up_the_email_arrives_once(make_settings, tokens, bus, smtp_server):
    async with TcpProxy(smtp_server.host, smtp_server.port) as proxy:
        settings = make_settings(
            smtp_port=proxy.port, delivery_retry_delays=[0.2, 0.4, 0.8, 1.6, 3.2]
        )
        async with running(settings, tokens) as service:
            await proxy.cut()
            registered = user_registered()
            await bus.publish(registered)
            failures = await eventually_rows(
                service, attempts_of("welcome"), lambda rows: len(rows) >= 2
            )
            assert all(outcome == "retry" for _, outcome, _ in failures)
            assert smtp_server.messages == []

            proxy.restore()
            [message] = await wait_for_mail(smtp_server, registered.email)
            log = await eventually_rows(
                service, attempts_of("welcome"), lambda rows: rows[-1][1] == "sent"
            )
            await asyncio.sleep(0.5)

    assert len(smtp_server.messages) == 1
    assert message["Subject"] == "Welcome to Wayfare"
    outcomes = [outcome for _, outcome, _ in log]
    assert outcomes[-1] == "sent" and set(outcomes[:-1]) == {"retry"}
    assert [attempt for attempt, _, _ in log] == list(range(1, len(log) + 1))
    assert "Disconnected" in log[0][2] or "Connect" in log[0][2], log[0][2]


class RefusingHandler(MailHandler):
    """A mail server that has no mailbox for nobody@..."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


async def test_a_refused_recipient_fails_at_once_and_is_logged(make_settings, tokens, bus):
    received = []
    port = free_port()
    controller = Controller(
        RefusingHandler(on_message=received.append),
        hostname="127.0.0.1",
        port=port,
        server_hostname=SERVER_NAME,
    )
    controller.start()
    try:
        async with running(make_settings(smtp_port=port), tokens) as service:
            await bus.publish(user_registered(email=f"nobody.{uuid.uuid4().hex[:6]}@example.com"))
            log = await eventually_rows(service, attempts_of("welcome"), lambda rows: rows)
            await asyncio.sleep(0.5)  # a retry would come within 0.2 s
            [(status, attempts)] = await service.rows(
                sa.select(Delivery.status, Delivery.attempts).where(Delivery.kind == "welcome")
            )
    finally:
        controller.stop()
    assert (status, attempts) == ("failed", 1)
    assert [(attempt, outcome) for attempt, outcome, _ in log] == [(1, "failed")]
    assert "550 5.1.1 No such user here" in log[0][2]
    assert received == []


async def test_a_booking_event_before_its_user_waits_for_the_user(service, bus, smtp_server):
    """booking.confirmed for a user and a booking this service has not heard of: nothing
    says where to write, so the handler refuses and the messaging layer retries; once
    the registration and the booking's own booking.created (which carries the address
    given for the booking) are handled, each email goes out once."""
    registered = user_registered(full_name="Late Comer")
    created = booking_created(registered.user_id, email=registered.email)
    confirmed = await bus.publish(booking_confirmed(created))
    retried_before = consumed("retried", "booking.confirmed")
    await eventually(lambda: consumed("retried", "booking.confirmed") > retried_before)
    assert smtp_server.messages == []

    await bus.publish(registered)
    await bus.publish(created)
    await wait_for_handled(service.database, [confirmed.id])
    messages = await wait_for_mail(smtp_server, registered.email, 3)
    subjects = sorted(str(m["Subject"]) for m in messages)
    assert subjects == [
        f"Booking {created.reference} is confirmed",
        f"Booking {created.reference} received: please pay by the deadline",
        "Welcome to Wayfare",
    ]
