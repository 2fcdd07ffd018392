"""booking.confirmed sells the held seats; booking.cancelled and booking.expired give them
back. Each runs in the consumer's inbox transaction, so a redelivered event has no second
effect; and each works from the hold's status, so events that cross are harmless: a
cancellation or expiry that arrives before its confirmation leaves the hold released, and
the late confirmation finds it released and does not sell the seats again."""

from wayfare_common.events.catalog import BookingCancelled, BookingConfirmed, BookingExpired
from wayfare_common.messaging.handlers import EventHandlers, HandlerContext
from wayfare_flight.usecases import holds

handlers = EventHandlers()


@handlers.on(BookingConfirmed)
async def sell_held_seats(event: BookingConfirmed, ctx: HandlerContext) -> None:
    await holds.sell(ctx.session, event.booking_id)


@handlers.on(BookingCancelled)
async def release_cancelled_seats(event: BookingCancelled, ctx: HandlerContext) -> None:
    await holds.release(ctx.session, event.booking_id, include_sold=True)


@handlers.on(BookingExpired)
async def release_expired_seats(event: BookingExpired, ctx: HandlerContext) -> None:
    await holds.release(ctx.session, event.booking_id, include_sold=False)
