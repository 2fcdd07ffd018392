"""Applies one event to the read models, through the pure rules in domain/. The live
consumer and rebuild-read-models both come through here, so they cannot disagree."""

from datetime import UTC

from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_admin.domain import bookings, payments, users
from wayfare_admin.domain.stamps import Stamp
from wayfare_admin.store import readmodels
from wayfare_common.events.catalog import (
    BookingCancelled,
    BookingCompleted,
    BookingConfirmed,
    BookingCreated,
    BookingExpired,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
    UserRegistered,
    UserUpdated,
)
from wayfare_common.events.envelope import Envelope, Event

USER_RULES = {UserRegistered: users.on_registered, UserUpdated: users.on_updated}
BOOKING_RULES = {
    BookingCreated: bookings.on_created,
    BookingConfirmed: bookings.on_confirmed,
    BookingCancelled: bookings.on_cancelled,
    BookingExpired: bookings.on_expired,
    BookingCompleted: bookings.on_completed,
}
PAYMENT_RULES = {PaymentSucceeded: payments.on_succeeded, PaymentFailed: payments.on_failed}
PROJECTED = (*USER_RULES, *BOOKING_RULES, *PAYMENT_RULES, PaymentRefunded)


async def project(
    session: AsyncSession, envelope: Envelope, event: Event, *, lock: bool = True
) -> None:
    """Other event types change no read model (they are archived all the same).

    `lock=False` is for the rebuild, which holds every read model exclusively already; it
    must not wait for an entity lock that a handler it is blocking holds."""
    stamp = Stamp(envelope.id, envelope.occurred_at.astimezone(UTC))
    kind = type(event)

    async def lock_entity(entity: str, key) -> None:
        if lock:
            await readmodels.lock_entity(session, entity, key)

    if rule := USER_RULES.get(kind):
        await lock_entity("user", event.user_id)
        before = await readmodels.load_user(session, event.user_id)
        await readmodels.save_user(session, rule(before, event, stamp), before is not None)
    elif rule := BOOKING_RULES.get(kind):
        await lock_entity("booking", event.booking_id)
        before = await readmodels.load_booking(session, event.booking_id)
        await readmodels.save_booking(session, rule(before, event, stamp), before)
    elif rule := PAYMENT_RULES.get(kind):
        await lock_entity("payment", event.payment_id)
        before = await readmodels.load_payment(session, event.payment_id)
        await readmodels.save_payment(session, rule(before, event, stamp), before is not None)
    elif isinstance(event, PaymentRefunded):
        await lock_entity("payment", event.payment_id)
        before = await readmodels.load_payment(session, event.payment_id)
        after, refund = payments.on_refunded(before, event, stamp)
        await readmodels.save_payment(session, after, before is not None)
        await readmodels.add_refund(session, refund)
