"""Which message each event gives, and what it says. One function per message kind; each
returns a `Message` for one recipient, with amounts and times formatted for them."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from wayfare_common.events.catalog import (
    BookingCancelled,
    BookingCreated,
    BookingExpired,
    BookingItem,
    EmailVerificationRequested,
    FlightScheduleChanged,
    PackageImportCompleted,
    PasswordResetRequested,
    PaymentFailed,
    PaymentRefunded,
    PayoutSent,
)
from wayfare_common.money import Money
from wayfare_notification.domain import itinerary
from wayfare_notification.domain.formatting import clock, day, local_time, moment, money, plain
from wayfare_notification.domain.messages import Links, Message, Recipient

EMAIL_AND_APP = ("email", "in_app")
EVERYWHERE = ("email", "in_app", "sms")

CABINS = {
    "economy": "Economy",
    "premium_economy": "Premium Economy",
    "business": "Business",
    "first": "First",
}
PAYMENT_FAILURES = {
    "card_declined": "the card was declined",
    "insufficient_funds": "the card has insufficient funds",
    "expired_card": "the card has expired",
    "incorrect_cvc": "the card's security code was not accepted",
    "processing_error": "the payment provider could not process it",
    "authentication_required": "the bank asked for an authentication that was not completed",
}


def welcome(recipient: Recipient, links: Links) -> Message:
    return Message(
        kind="welcome",
        category="updates",
        channels=EMAIL_AND_APP,
        subject="Welcome to Wayfare",
        summary="Your account is ready: search flights and tour packages and book in a few steps.",
        link=links.home,
    )


def verify_email(event: EmailVerificationRequested, recipient: Recipient) -> Message:
    return Message(
        kind="verify_email",
        category="security",
        channels=("email",),
        subject="Confirm your email address",
        summary="Confirm your email address to finish setting up your Wayfare account.",
        link=event.verify_url,
        details={"expires": _moment(event.expires_at, recipient)},
    )


def password_reset(event: PasswordResetRequested, recipient: Recipient) -> Message:
    return Message(
        kind="password_reset",
        category="security",
        channels=("email",),
        subject="Reset your Wayfare password",
        summary="Someone asked to reset your Wayfare password. Use the link to choose a new one.",
        link=event.reset_url,
        details={"expires": _moment(event.expires_at, recipient)},
    )


def booking_received(
    event: BookingCreated, raw: Mapping[str, Any], recipient: Recipient, links: Links
) -> Message:
    amount = _money(event.amount, recipient)
    deadline = _moment(event.payable_until, recipient)
    return Message(
        kind="booking_received",
        category="transactional",
        channels=EMAIL_AND_APP,
        subject=f"Booking {event.reference} received: please pay by the deadline",
        summary=f"Pay {amount} by {deadline} to confirm booking {event.reference}.",
        link=links.booking(event.booking_id),
        details={
            "reference": event.reference,
            "amount": amount,
            "deadline": deadline,
            "passenger_count": event.passenger_count,
            "passengers": itinerary.passengers(raw),
            "items": _items(event.items, raw, recipient),
        },
        data=_booking_data(event.booking_id, event.reference),
    )


def booking_confirmed(
    *,
    booking_id: UUID,
    reference: str,
    items: Sequence[BookingItem],
    amount: Money,
    raw: Mapping[str, Any],
    payment_id: UUID | None,
    recipient: Recipient,
    links: Links,
) -> Message:
    paid = _money(amount, recipient)
    link = links.booking(booking_id)
    invoice = links.invoice(payment_id) if payment_id else None
    return Message(
        kind="booking_confirmed",
        category="transactional",
        channels=EVERYWHERE,
        subject=f"Booking {reference} is confirmed",
        summary=f"Booking {reference} is confirmed and paid ({paid}). Have a good trip!",
        link=link,
        details={
            "reference": reference,
            "amount": paid,
            "passengers": itinerary.passengers(raw),
            "items": _items(items, raw, recipient),
            "invoice_url": invoice,
        },
        data={**_booking_data(booking_id, reference), "invoice_url": invoice},
        sms=plain(f"Wayfare: booking {reference} is confirmed, {paid} paid. Details: {link}"),
    )


def payment_failed(
    event: PaymentFailed,
    reference: str | None,
    payable_until: datetime | None,
    recipient: Recipient,
    links: Links,
) -> Message:
    reason = PAYMENT_FAILURES.get(event.reason, event.reason.replace("_", " "))
    deadline = _moment(payable_until, recipient) if payable_until else None
    booking = f"booking {reference}" if reference else "your booking"
    return Message(
        kind="payment_failed",
        category="transactional",
        channels=EMAIL_AND_APP,
        subject=f"Payment for {booking} did not go through",
        summary=f"The payment for {booking} failed: {reason}. You can try again"
        + (f" until {deadline}." if deadline else "."),
        link=links.booking(event.booking_id),
        details={"reference": reference, "reason": reason, "deadline": deadline},
        data=_booking_data(event.booking_id, reference),
    )


def booking_expired(event: BookingExpired, recipient: Recipient, links: Links) -> Message:
    return Message(
        kind="booking_expired",
        category="transactional",
        channels=EMAIL_AND_APP,
        subject=f"Booking {event.reference} has expired",
        summary=f"Booking {event.reference} was not paid in time, so its seats were released.",
        link=links.home,
        details={"reference": event.reference},
        data=_booking_data(event.booking_id, event.reference),
    )


def booking_cancelled(
    event: BookingCancelled, was_paid: bool, recipient: Recipient, links: Links
) -> Message:
    refund = _money(event.refund, recipient) if event.refund.minor > 0 else None
    by_customer = event.cancelled_by.role == "customer"
    if refund:
        sms_refund = f"A refund of {refund} is on its way."
    elif was_paid:
        sms_refund = "No refund is due under its fare rules."
    else:
        sms_refund = "Nothing was charged."
    return Message(
        kind="booking_cancelled",
        category="transactional",
        channels=EVERYWHERE,
        subject=f"Booking {event.reference} is cancelled",
        summary=f"Booking {event.reference} is cancelled. {sms_refund}",
        link=links.booking(event.booking_id),
        details={
            "reference": event.reference,
            "refund": refund,
            "was_paid": was_paid,
            "by_customer": by_customer,
            "reason": None if by_customer else event.reason.replace("_", " "),
        },
        data={**_booking_data(event.booking_id, event.reference), "refund": event.refund.to_json()},
        sms=plain(f"Wayfare: booking {event.reference} is cancelled. {sms_refund}"),
    )


def refund_done(
    event: PaymentRefunded, reference: str | None, recipient: Recipient, links: Links
) -> Message:
    amount = _money(event.amount, recipient)
    booking = f"booking {reference}" if reference else "your booking"
    return Message(
        kind="refund_done",
        category="transactional",
        channels=EMAIL_AND_APP,
        subject=f"Your refund of {amount} has been issued",
        summary=f"We refunded {amount} for {booking} to the card you paid with.",
        link=links.booking(event.booking_id),
        details={"reference": reference, "amount": amount},
        data={**_booking_data(event.booking_id, reference), "amount": event.amount.to_json()},
    )


def schedule_changed(
    event: FlightScheduleChanged,
    bookings: Sequence[tuple[UUID, str | None]],
    recipient: Recipient,
    links: Links,
) -> Message:
    """To one person with one or more bookings on the flight. Times stay in the offsets
    the flight service gave them: each airport's local time."""
    locale = recipient.locale
    references = [reference for _, reference in bookings if reference]
    first_booking = bookings[0][0]
    return Message(
        kind="schedule_changed",
        category="transactional",
        channels=EMAIL_AND_APP,
        subject=f"Schedule change: flight {event.flight_number} on "
        f"{day(event.old_departing_at, locale)}",
        summary=f"Flight {event.flight_number} now departs at "
        f"{clock(event.new_departing_at, locale)} and arrives at "
        f"{clock(event.new_arriving_at, locale)} (local times).",
        link=links.booking(first_booking) if len(bookings) == 1 else links.home,
        details={
            "flight_number": event.flight_number,
            "old_departure": local_time(event.old_departing_at, None, locale),
            "old_arrival": local_time(event.old_arriving_at, None, locale),
            "new_departure": local_time(event.new_departing_at, None, locale),
            "new_arrival": local_time(event.new_arriving_at, None, locale),
            "references": references,
        },
        data={
            "flight_id": str(event.flight_id),
            "booking_ids": [str(booking_id) for booking_id, _ in bookings],
            "references": references,
        },
    )


def import_finished(event: PackageImportCompleted, recipient: Recipient, links: Links) -> Message:
    counts = f"{event.created} created, {event.updated} updated, {event.rejected} rejected"
    return Message(
        kind="import_finished",
        category="transactional",
        channels=EMAIL_AND_APP,
        subject=f"Package import finished: {counts}",
        summary=f"Your tour-package import finished: {counts}.",
        link=links.packages,
        details={
            "created": event.created,
            "updated": event.updated,
            "rejected": event.rejected,
            "rejected_rows": [{"row": r.row, "reason": r.reason} for r in event.rejected_rows],
            "more_rejected": max(event.rejected - len(event.rejected_rows), 0),
        },
        data={"job_id": str(event.job_id), "created": event.created, "rejected": event.rejected},
    )


def payout_sent(event: PayoutSent, recipient: Recipient, links: Links) -> Message:
    amount = _money(event.amount, recipient)
    return Message(
        kind="payout_sent",
        category="transactional",
        channels=EMAIL_AND_APP,
        subject=f"Payout of {amount} sent",
        summary=f"We sent you a payout of {amount} for your completed tour-package bookings.",
        link=links.payouts,
        details={"amount": amount},
        data={"payout_id": str(event.payout_id), "amount": event.amount.to_json()},
    )


def _items(
    items: Sequence[BookingItem], raw: Mapping[str, Any], recipient: Recipient
) -> list[dict[str, Any]]:
    """One entry per booked item, with its flights in local times when the event has them."""
    locale = recipient.locale
    raw_items = itinerary.raw_items(raw)
    lines = []
    for index, item in enumerate(items):
        raw_item = raw_items[index] if index < len(raw_items) else {}
        if item.type == "flight":
            seats = "1 seat" if item.seats == 1 else f"{item.seats} seats"
            title = f"Flight, {CABINS.get(item.cabin, item.cabin)}, {seats}"
            flights = [
                {
                    "number": " ".join(p for p in (segment.flight_number, _carrier(segment)) if p),
                    "route": f"{segment.origin.label} → {segment.destination.label}",
                    "departs": local_time(segment.departing_at, segment.origin.time_zone, locale),
                    "arrives": local_time(
                        segment.arriving_at, segment.destination.time_zone, locale
                    ),
                }
                for segment in itinerary.segments(raw_item)
            ]
        else:
            places = "1 place" if item.seats == 1 else f"{item.seats} places"
            title = f"Tour package, {places}"
            flights = []
        lines.append({"title": title, "price": _money(item.price, recipient), "flights": flights})
    return lines


def _carrier(segment: itinerary.Segment) -> str | None:
    return f"({segment.carrier.name})" if segment.carrier and segment.carrier.name else None


def _booking_data(booking_id: UUID, reference: str | None) -> dict[str, Any]:
    return {"booking_id": str(booking_id), "reference": reference}


def _money(amount: Money, recipient: Recipient) -> str:
    return money(amount, recipient.locale)


def _moment(when: datetime, recipient: Recipient) -> str:
    return moment(when, recipient.time_zone, recipient.locale)
