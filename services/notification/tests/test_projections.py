"""The contact projection keeps the newest state, whatever order auth's events come in,
and a deactivated account only hears about its bookings and money."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from wayfare_common.testing.plugin import wait_for_handled
from wayfare_notification.store.models import Contact, Notification

from notification_support import booking_created, user_registered, user_updated, wait_for_mail


async def test_older_events_never_overwrite_newer_contact_data(service, bus):
    registered = user_registered(full_name="Ada Lovelace")
    now = datetime.now(UTC)
    newer = user_updated(registered, full_name="Ada King", phone="+441632960961")
    older = user_updated(registered, full_name="Ada Byron", phone="+441632960000")
    envelopes = [
        await bus.publish(newer, occurred_at=now),
        await bus.publish(older, occurred_at=now - timedelta(minutes=5)),
        await bus.publish(registered, occurred_at=now - timedelta(days=1)),
    ]
    await wait_for_handled(service.database, [e.id for e in envelopes])
    [contact] = await service.rows(
        sa.select(Contact.full_name, Contact.phone, Contact.email).where(
            Contact.user_id == registered.user_id
        )
    )
    assert tuple(contact) == ("Ada King", "+441632960961", registered.email)


async def test_a_deactivated_account_gets_booking_mail_but_no_welcome(service, bus, smtp_server):
    registered = user_registered()
    deactivated = await bus.publish(user_updated(registered, is_active=False))
    await wait_for_handled(service.database, [deactivated.id])
    welcome = await bus.publish(registered)
    created = booking_created(registered.user_id, email=registered.email)
    booking = await bus.publish(created)
    await wait_for_handled(service.database, [welcome.id, booking.id])

    [message] = await wait_for_mail(smtp_server, registered.email)
    assert message["Subject"].startswith(f"Booking {created.reference} received")
    kinds = await service.rows(
        sa.select(Notification.kind).where(Notification.user_id == registered.user_id)
    )
    assert kinds == [("booking_received",)]
