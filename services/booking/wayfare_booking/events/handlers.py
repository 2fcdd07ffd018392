"""What booking does when payment or flight tell it something. Each handler runs in the
consumer's inbox transaction (a redelivered event has no second effect) and works from
the booking's current status, so events may arrive in any order: a payment after the
booking expired is refunded, a hold expiry after a cancellation changes nothing."""

from datetime import UTC, datetime

from wayfare_booking.usecases import lifecycle
from wayfare_common.events.catalog import (
    HoldExpired,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
)
from wayfare_common.messaging.handlers import EventHandlers, HandlerContext

handlers = EventHandlers()


@handlers.on(PaymentSucceeded)
async def confirm_paid_booking(event: PaymentSucceeded, ctx: HandlerContext) -> None:
    await lifecycle.payment_succeeded(
        ctx.session,
        event,
        event_id=ctx.envelope.id,
        captured_at=ctx.envelope.occurred_at,
        emit=ctx.emit,
        now=datetime.now(UTC),
    )


@handlers.on(PaymentFailed)
async def record_failed_payment(event: PaymentFailed, ctx: HandlerContext) -> None:
    await lifecycle.payment_failed(
        ctx.session, event, event_id=ctx.envelope.id, now=datetime.now(UTC)
    )


@handlers.on(PaymentRefunded)
async def record_refund(event: PaymentRefunded, ctx: HandlerContext) -> None:
    await lifecycle.payment_refunded(
        ctx.session, event, event_id=ctx.envelope.id, now=datetime.now(UTC)
    )


@handlers.on(HoldExpired)
async def expire_unpaid_booking(event: HoldExpired, ctx: HandlerContext) -> None:
    await lifecycle.hold_expired(ctx.session, event.booking_id, ctx.emit, datetime.now(UTC))
