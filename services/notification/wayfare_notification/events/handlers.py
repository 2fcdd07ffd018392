"""One handler per event a person should hear about (and the projections they need).

Each runs inside the consumer's inbox transaction: its rows (projection, notification,
deliveries, the live push in the outbox) commit together with the record that the event
was handled, so a redelivered event has no second effect. A handler that cannot tell yet
whom to write to raises `RecipientUnknown`: the messaging layer retries it later.
"""

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.events.catalog import (
    BookingCancelled,
    BookingConfirmed,
    BookingCreated,
    BookingExpired,
    EmailVerificationRequested,
    FlightScheduleChanged,
    PackageImportCompleted,
    PasswordResetRequested,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
    PayoutSent,
    UserRegistered,
    UserUpdated,
)
from wayfare_common.messaging.handlers import EventHandlers, HandlerContext
from wayfare_notification.domain import compose
from wayfare_notification.domain.messages import Recipient
from wayfare_notification.notifier import Notifier
from wayfare_notification.store import bookings, contacts
from wayfare_notification.store.models import Booking
from wayfare_notification.store.recipients import RecipientUnknown


def build_handlers(notifier: Notifier) -> EventHandlers:
    handlers = EventHandlers()
    links = notifier.links

    async def booking_recipient(
        session: AsyncSession, user_id: UUID, booking: Booking
    ) -> Recipient:
        # Booking mail goes to the address given for the booking, which booking.created
        # carries. Events of a booking can be handled before its booking.created (they
        # are handled concurrently): retry until it is known, rather than fall back to
        # the account's address, which may be someone else's inbox.
        if booking.contact_email is None:
            raise RecipientUnknown(
                f"booking {booking.booking_id} has no contact yet (booking.created)"
            )
        return await notifier.recipient(session, user_id, email=booking.contact_email)

    # auth

    @handlers.on(UserRegistered)
    async def user_registered(event: UserRegistered, ctx: HandlerContext) -> None:
        await contacts.record_registered(ctx.session, event, ctx.envelope.occurred_at)
        recipient = await notifier.recipient(ctx.session, event.user_id)
        await notifier.send(ctx, recipient, compose.welcome(recipient, links))

    @handlers.on(UserUpdated)
    async def user_updated(event: UserUpdated, ctx: HandlerContext) -> None:
        await contacts.record_updated(ctx.session, event, ctx.envelope.occurred_at)

    @handlers.on(EmailVerificationRequested)
    async def email_verification_requested(
        event: EmailVerificationRequested, ctx: HandlerContext
    ) -> None:
        # To the address being verified, which may not be the account's address yet.
        recipient = await notifier.recipient(ctx.session, event.user_id, email=event.email)
        await notifier.send(ctx, recipient, compose.verify_email(event, recipient))

    @handlers.on(PasswordResetRequested)
    async def password_reset_requested(event: PasswordResetRequested, ctx: HandlerContext) -> None:
        recipient = await notifier.recipient(ctx.session, event.user_id, email=event.email)
        await notifier.send(ctx, recipient, compose.password_reset(event, recipient))

    # booking

    @handlers.on(BookingCreated)
    async def booking_created(event: BookingCreated, ctx: HandlerContext) -> None:
        booking = await bookings.for_update(ctx.session, event.booking_id)
        booking.user_id = event.user_id
        booking.reference = event.reference
        booking.contact_email = event.contact_email
        booking.payable_until = event.payable_until
        bookings.set_status(booking, "pending_payment")
        flights = [id_ for item in event.items if item.type == "flight" for id_ in item.flight_ids]
        await bookings.record_flights(ctx.session, event.booking_id, flights)
        recipient = await booking_recipient(ctx.session, event.user_id, booking)
        message = compose.booking_received(event, ctx.envelope.data, recipient, links)
        await notifier.send(ctx, recipient, message)

    @handlers.on(BookingConfirmed)
    async def booking_confirmed(event: BookingConfirmed, ctx: HandlerContext) -> None:
        booking = await _booking(ctx, event.booking_id, event.user_id, event.reference)
        bookings.set_status(booking, "confirmed")
        if event.payment_id is not None:
            booking.payment_id = event.payment_id  # the invoice link, whatever the order
        recipient = await booking_recipient(ctx.session, event.user_id, booking)
        message = compose.booking_confirmed(
            booking_id=event.booking_id,
            reference=event.reference,
            items=event.items,
            amount=event.amount,
            raw=ctx.envelope.data,
            payment_id=booking.payment_id,
            recipient=recipient,
            links=links,
        )
        await notifier.send(ctx, recipient, message)

    @handlers.on(BookingExpired)
    async def booking_expired(event: BookingExpired, ctx: HandlerContext) -> None:
        booking = await _booking(ctx, event.booking_id, event.user_id, event.reference)
        bookings.set_status(booking, "expired")
        recipient = await booking_recipient(ctx.session, event.user_id, booking)
        await notifier.send(ctx, recipient, compose.booking_expired(event, recipient, links))

    @handlers.on(BookingCancelled)
    async def booking_cancelled(event: BookingCancelled, ctx: HandlerContext) -> None:
        booking = await _booking(ctx, event.booking_id, event.user_id, event.reference)
        was_paid = booking.payment_id is not None or booking.status == "confirmed"
        bookings.set_status(booking, "cancelled")
        recipient = await booking_recipient(ctx.session, event.user_id, booking)
        message = compose.booking_cancelled(event, was_paid, recipient, links)
        await notifier.send(ctx, recipient, message)

    # payment

    @handlers.on(PaymentSucceeded)
    async def payment_succeeded(event: PaymentSucceeded, ctx: HandlerContext) -> None:
        # No message of its own: the confirmation that follows carries the invoice link.
        booking = await _booking(ctx, event.booking_id, event.user_id)
        booking.payment_id = event.payment_id

    @handlers.on(PaymentFailed)
    async def payment_failed(event: PaymentFailed, ctx: HandlerContext) -> None:
        booking = await _booking(ctx, event.booking_id, event.user_id)
        recipient = await booking_recipient(ctx.session, event.user_id, booking)
        still_payable = booking.status == "pending_payment"
        message = compose.payment_failed(
            event,
            booking.reference,
            booking.payable_until if still_payable else None,
            recipient,
            links,
        )
        await notifier.send(ctx, recipient, message)

    @handlers.on(PaymentRefunded)
    async def payment_refunded(event: PaymentRefunded, ctx: HandlerContext) -> None:
        booking = await _booking(ctx, event.booking_id, event.user_id)
        recipient = await booking_recipient(ctx.session, event.user_id, booking)
        message = compose.refund_done(event, booking.reference, recipient, links)
        await notifier.send(ctx, recipient, message)

    @handlers.on(PayoutSent)
    async def payout_sent(event: PayoutSent, ctx: HandlerContext) -> None:
        recipient = await notifier.recipient(ctx.session, event.vendor_id)
        await notifier.send(ctx, recipient, compose.payout_sent(event, recipient, links))

    # flight

    @handlers.on(FlightScheduleChanged)
    async def flight_schedule_changed(event: FlightScheduleChanged, ctx: HandlerContext) -> None:
        """One message per person with live bookings on the flight, naming them all."""
        by_user: dict[UUID, list[Booking]] = {}
        for booking in await bookings.live_on_flight(ctx.session, event.flight_id):
            if booking.user_id is not None:
                by_user.setdefault(booking.user_id, []).append(booking)
        for user_id, held in by_user.items():
            recipient = await booking_recipient(ctx.session, user_id, held[0])
            refs = [(booking.booking_id, booking.reference) for booking in held]
            await notifier.send(
                ctx, recipient, compose.schedule_changed(event, refs, recipient, links)
            )

    @handlers.on(PackageImportCompleted)
    async def package_import_completed(event: PackageImportCompleted, ctx: HandlerContext) -> None:
        recipient = await notifier.recipient(ctx.session, event.requested_by)
        await notifier.send(ctx, recipient, compose.import_finished(event, recipient, links))

    return handlers


async def _booking(
    ctx: HandlerContext, booking_id: UUID, user_id: UUID, reference: str | None = None
) -> Booking:
    """The booking's projection, locked, with what this event knows filled in."""
    booking = await bookings.for_update(ctx.session, booking_id)
    booking.user_id = booking.user_id or user_id
    booking.reference = booking.reference or reference
    return booking
