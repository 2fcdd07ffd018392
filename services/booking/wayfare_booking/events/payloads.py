"""Booking's events from its stored bookings, with the catalog's optional parts filled in
(segments, passengers, the confirming payment) so consumers need not ask for them."""

from wayfare_common.events.catalog import BookingConfirmed, FlightItem, PackageItem
from wayfare_common.money import Money


def event_item(item: dict) -> FlightItem | PackageItem:
    """A stored booking item as the catalog's FlightItem / PackageItem (its segments go
    along where the catalog has a field for them)."""
    if item["type"] == "flight":
        return FlightItem.model_validate(item)
    return PackageItem.model_validate(item)


def passenger_names(booking) -> list[dict]:
    return [
        {"given_name": p.given_name, "family_name": p.family_name, "type": p.type}
        for p in booking.passengers
    ]


def confirmed(booking, amount: Money) -> BookingConfirmed:
    """booking.confirmed; the payment id and names go along where the catalog has them."""
    return BookingConfirmed.model_validate(
        {
            "booking_id": booking.id,
            "reference": booking.reference,
            "user_id": booking.user_id,
            "items": [event_item(item) for item in booking.items],
            "amount": amount,
            "payment_id": booking.payment_id,
            "passengers": passenger_names(booking),
        }
    )
