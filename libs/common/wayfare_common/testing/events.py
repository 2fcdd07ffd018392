"""The events that follow a `booking.created` in a test: what payment and booking would
publish once it is paid. For tests that feed a consumer the saga's events by hand."""

import uuid

from wayfare_common.events import catalog


def payment_succeeded(
    created: catalog.BookingCreated, payment_id: uuid.UUID | None = None
) -> catalog.PaymentSucceeded:
    return catalog.PaymentSucceeded(
        payment_id=payment_id or uuid.uuid4(),
        booking_id=created.booking_id,
        user_id=created.user_id,
        amount=created.amount,
        provider="sandbox",
        provider_reference="ch_test",
    )


def booking_confirmed(
    created: catalog.BookingCreated, payment_id: uuid.UUID | None = None
) -> catalog.BookingConfirmed:
    return catalog.BookingConfirmed(
        booking_id=created.booking_id,
        reference=created.reference,
        user_id=created.user_id,
        items=created.items,
        amount=created.amount,
        payment_id=payment_id,
    )
