"""booking.created opens the payment; booking.cancelled refunds what booking decided (or
closes an unpaid payment); booking.expired closes it; booking.completed credits the package
vendor. Each runs in the consumer's inbox transaction, and what it emits is recorded there.

booking.expired is not in DESIGN's list for payment; handling it stops an expired booking
from being charged at all, rather than charged and refunded."""

from wayfare_common.events.catalog import (
    BookingCancelled,
    BookingCompleted,
    BookingCreated,
    BookingExpired,
)
from wayfare_common.messaging.handlers import EventHandlers, HandlerContext
from wayfare_payment.providers.registry import Providers
from wayfare_payment.usecases import bookings


def build_handlers(providers: Providers) -> EventHandlers:
    handlers = EventHandlers()

    @handlers.on(BookingCreated)
    async def open_payment(event: BookingCreated, ctx: HandlerContext) -> None:
        await bookings.open_payment(ctx.session, event, ctx.envelope.data)

    @handlers.on(BookingCancelled)
    async def refund_cancelled(event: BookingCancelled, ctx: HandlerContext) -> None:
        await bookings.cancelled(ctx.session, providers, event, ctx.envelope.id, ctx.emit)

    @handlers.on(BookingExpired)
    async def close_expired(event: BookingExpired, ctx: HandlerContext) -> None:
        await bookings.expired(ctx.session, providers, event.booking_id, ctx.emit)

    @handlers.on(BookingCompleted)
    async def credit_vendor(event: BookingCompleted, ctx: HandlerContext) -> None:
        await bookings.completed(ctx.session, event)

    return handlers
