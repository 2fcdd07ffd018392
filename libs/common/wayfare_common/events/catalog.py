"""The event catalog of DESIGN §4: one payload model per routing key.

Each class is the `data` of an envelope whose `type` is the class's `type`. Ids are UUIDs,
times are timezone-aware, amounts are `Money`. Every model carries one example, which the
tests validate and the AsyncAPI document shows. docs/events.md says how to add or version
an event.
"""

from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    StringConstraints,
    model_validator,
)

from wayfare_common.events.envelope import Actor, Event
from wayfare_common.money import Money

# email-validator is not a dependency; auth validates addresses properly at registration.
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Url = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://\S+$")]
# DESIGN §5: six characters from an alphabet without 0, O, 1 and I.
BookingReference = Annotated[str, StringConstraints(pattern=r"^[A-HJ-NP-Z2-9]{6}$")]
UserRole = Literal["customer", "vendor", "admin"]
Cabin = Literal["economy", "premium_economy", "business", "first"]


def _example(**data: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [data]})


class _Part(BaseModel):
    """A value inside a payload: ignores unknown fields, like the payloads themselves."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# Fixed ids for the examples.
_USER = "0b6f6c1e-6a8e-4f57-9a43-2f0c1d5e7a10"
_VENDOR = "5c1e2a77-0d3b-4c59-8f6e-7b2a9d4c3e21"
_BOOKING = "9d2b7c4a-1f3e-4a8b-b6d5-3c7e1a2f9b84"
_FLIGHT = "3e8a1c5d-7b2f-4d6a-9c1e-5f4b2a8d7c63"
_PACKAGE = "7a4c2e9b-3d1f-4b8a-a5c6-1e9d3b7f2a45"
_DEPARTURE = "2f9b6d3a-8c4e-4a1b-b7d2-6e3c9a5f1b78"
_PAYMENT = "6b3d8f2a-5e1c-4c7b-9a4d-8f2e6b1c3d96"
_MONEY = {"amount": "412.80", "currency": "EUR"}
_CUSTOMER = {"user_id": _USER, "role": "customer"}


# auth


class UserRegistered(Event):
    """Auth, when an account is created (by registration or a first Google sign-in)."""

    type = "auth.user_registered"
    model_config = _example(
        user_id=_USER, email="ada@example.com", full_name="Ada Lovelace", role="customer"
    )

    user_id: UUID
    email: Email
    full_name: str
    role: UserRole = "customer"


class EmailVerificationRequested(Event):
    """Auth, when a user registers or asks for a new verification link; notification mails
    the single-use link, which stops working at `expires_at`."""

    type = "auth.email_verification_requested"
    model_config = _example(
        user_id=_USER,
        email="ada@example.com",
        verify_url="http://localhost:8000/verify-email?token=abc123",
        expires_at="2025-06-02T10:00:00Z",
    )

    user_id: UUID
    email: Email
    verify_url: Url
    expires_at: AwareDatetime


class PasswordResetRequested(Event):
    """Auth, when someone asks to reset the password of an existing account; notification
    mails the single-use link, which stops working at `expires_at`."""

    type = "auth.password_reset_requested"
    model_config = _example(
        user_id=_USER,
        email="ada@example.com",
        reset_url="http://localhost:8000/reset-password?token=def456",
        expires_at="2025-06-01T11:00:00Z",
    )

    user_id: UUID
    email: Email
    reset_url: Url
    expires_at: AwareDatetime


class UserUpdated(Event):
    """Auth, after any change to a user's profile, role or active flag. It carries the whole
    current state, not the change, so consumers simply overwrite their projection."""

    type = "auth.user_updated"
    model_config = _example(
        user_id=_USER,
        email="ada@example.com",
        full_name="Ada King",
        phone="+441632960961",
        role="customer",
        is_active=True,
    )

    user_id: UUID
    email: Email
    full_name: str
    phone: str | None = None
    role: UserRole
    is_active: bool


class SessionRevoked(Event):
    """Auth, on logout or when a session is revoked (refresh-token reuse, deactivation).
    The gateway refuses the access token `token_id` (its `jti`) until `expires_at`, when it
    would have expired anyway."""

    type = "auth.session_revoked"
    model_config = _example(
        user_id=_USER,
        token_id="01J0Z8Q4R6T9V2X5Y7A3C8E1G4",
        session_id="8c5a3e1f-2b7d-4e9a-b1c6-4d8f2a7e5c39",
        expires_at="2025-06-01T10:15:00Z",
    )

    user_id: UUID
    token_id: str
    session_id: UUID | None = None
    expires_at: AwareDatetime


# flight


class HoldExpired(Event):
    """Flight, when a seat hold for an unpaid booking runs out and its seats return to sale.
    The hold is on a flight or on a package departure; booking expires the booking."""

    type = "flight.hold_expired"
    model_config = _example(
        hold_id="4d7b2e9c-6a3f-4c1d-8e5b-9a2c7f4e1d60",
        booking_id=_BOOKING,
        flight_id=_FLIGHT,
        seats=2,
    )

    hold_id: UUID
    booking_id: UUID
    flight_id: UUID | None = None
    departure_id: UUID | None = None
    seats: PositiveInt

    @model_validator(mode="after")
    def _held_on_one_thing(self) -> Self:
        if (self.flight_id is None) == (self.departure_id is None):
            raise ValueError("a hold is on either a flight_id or a departure_id")
        return self


class FlightScheduleChanged(Event):
    """Flight, when a flight's departure or arrival time changes; notification tells the
    travellers booked on it."""

    type = "flight.schedule_changed"
    model_config = _example(
        flight_id=_FLIGHT,
        flight_number="WF123",
        old_departing_at="2025-07-01T08:00:00+02:00",
        old_arriving_at="2025-07-01T10:30:00+01:00",
        new_departing_at="2025-07-01T09:15:00+02:00",
        new_arriving_at="2025-07-01T11:45:00+01:00",
    )

    flight_id: UUID
    flight_number: str
    old_departing_at: AwareDatetime
    old_arriving_at: AwareDatetime
    new_departing_at: AwareDatetime
    new_arriving_at: AwareDatetime


class RejectedRow(_Part):
    row: Annotated[int, Field(ge=1, description="1-based row number in the uploaded file.")]
    reason: str


class PackageImportCompleted(Event):
    """Flight, when a tour-package import job finishes; notification tells whoever started
    it. `rejected_rows` lists the first rejected rows (at most 100) with the reason."""

    type = "flight.package_import_completed"
    model_config = _example(
        job_id="1c8e4a2f-9b5d-4f3a-a7c1-2e6d8b4f9a17",
        requested_by=_VENDOR,
        created=12,
        updated=3,
        rejected=1,
        rejected_rows=[{"row": 7, "reason": "departure date is in the past"}],
    )

    job_id: UUID
    requested_by: UUID
    created: NonNegativeInt
    updated: NonNegativeInt
    rejected: NonNegativeInt
    rejected_rows: list[RejectedRow] = []


# booking


class Place(_Part):
    iata_code: str
    name: str | None = None
    city: str | None = None
    country: str | None = None
    time_zone: str | None = None


class Carrier(_Part):
    iata_code: str
    name: str | None = None


class Segment(_Part):
    """One flight of an itinerary (DESIGN §7's segment), times in each airport's offset."""

    flight_id: UUID
    flight_number: str
    carrier: Carrier | None = None
    origin: Place
    destination: Place
    departing_at: AwareDatetime
    arriving_at: AwareDatetime


class FlightItem(_Part):
    """Seats on the flights of one offer; `price` is for all of them. `segments`, when
    present, lets consumers show the itinerary without asking the flight service."""

    type: Literal["flight"] = "flight"
    offer_id: str
    flight_ids: list[UUID] = Field(min_length=1, description="In travel order.")
    cabin: Cabin
    seats: PositiveInt
    price: Money
    segments: list[Segment] = []


class PackageItem(_Part):
    """Places on one departure of a tour package; `price` is for all of them."""

    type: Literal["package"] = "package"
    package_id: UUID
    departure_id: UUID
    vendor_id: UUID
    seats: PositiveInt
    price: Money


BookingItem = Annotated[FlightItem | PackageItem, Field(discriminator="type")]


class Passenger(_Part):
    given_name: str
    family_name: str
    type: Literal["adult", "child", "infant"]


class PriceBreakdown(_Part):
    """How `amount` is made: base fares, plus fees, minus the discount."""

    base: Money
    fees: Money
    discount: Money
    total: Money


_ITEMS = [
    {
        "type": "flight",
        "offer_id": "off_3e8a1c5d_economy",
        "flight_ids": [_FLIGHT],
        "cabin": "economy",
        "seats": 2,
        "price": {"amount": "298.00", "currency": "EUR"},
    },
    {
        "type": "package",
        "package_id": _PACKAGE,
        "departure_id": _DEPARTURE,
        "vendor_id": _VENDOR,
        "seats": 2,
        "price": {"amount": "114.80", "currency": "EUR"},
    },
]


class BookingCreated(Event):
    """Booking, when a booking is stored as `pending_payment` with its seats held; payment
    opens a payment for `amount`, due by `payable_until`."""

    type = "booking.created"
    model_config = _example(
        booking_id=_BOOKING,
        reference="K7MX4P",
        user_id=_USER,
        contact_email="ada@example.com",
        items=_ITEMS,
        passenger_count=2,
        amount=_MONEY,
        payable_until="2025-06-01T10:30:00Z",
    )

    booking_id: UUID
    reference: BookingReference
    user_id: UUID
    contact_email: Email
    items: list[BookingItem] = Field(min_length=1)
    passenger_count: PositiveInt
    amount: Money
    payable_until: AwareDatetime
    price: PriceBreakdown | None = None
    passengers: list[Passenger] = []
    coupon_code: str | None = None


class BookingConfirmed(Event):
    """Booking, when the payment for a pending booking succeeded; flight sells the held
    seats, notification sends the itinerary and receipt."""

    type = "booking.confirmed"
    model_config = _example(
        booking_id=_BOOKING,
        reference="K7MX4P",
        user_id=_USER,
        items=_ITEMS,
        amount=_MONEY,
        payment_id=_PAYMENT,
        passengers=[{"given_name": "Ada", "family_name": "Lovelace", "type": "adult"}],
    )

    booking_id: UUID
    reference: BookingReference
    user_id: UUID
    items: list[BookingItem] = Field(min_length=1)
    amount: Money
    payment_id: UUID | None = Field(None, description="The payment that confirmed it.")
    passengers: list[Passenger] = []


class BookingCancelled(Event):
    """Booking, when a customer or staff cancels a booking; flight releases the seats and
    payment refunds `refund` (zero when the policy refunds nothing)."""

    type = "booking.cancelled"
    model_config = _example(
        booking_id=_BOOKING,
        reference="K7MX4P",
        user_id=_USER,
        reason="customer_request",
        refund={"amount": "206.40", "currency": "EUR"},
        cancelled_by=_CUSTOMER,
    )

    booking_id: UUID
    reference: BookingReference
    user_id: UUID
    reason: str
    refund: Money
    cancelled_by: Actor


class BookingExpired(Event):
    """Booking, when a pending booking was not paid in time (after `flight.hold_expired` or
    its own deadline); flight releases any seats still held."""

    type = "booking.expired"
    model_config = _example(booking_id=_BOOKING, reference="K7MX4P", user_id=_USER)

    booking_id: UUID
    reference: BookingReference
    user_id: UUID


class BookingCompleted(Event):
    """Booking, when the travel of a confirmed booking is over; payment credits the package
    vendor (`vendor_id`, absent for flight-only bookings) with its share of `amount`."""

    type = "booking.completed"
    model_config = _example(booking_id=_BOOKING, vendor_id=_VENDOR, amount=_MONEY)

    booking_id: UUID
    vendor_id: UUID | None = None
    amount: Money


# payment


class PaymentSucceeded(Event):
    """Payment, when a booking's payment is captured (directly or by a provider webhook);
    booking confirms the booking, or refunds it when it has expired meanwhile."""

    type = "payment.succeeded"
    model_config = _example(
        payment_id=_PAYMENT,
        booking_id=_BOOKING,
        user_id=_USER,
        amount=_MONEY,
        provider="sandbox",
        provider_reference="ch_3PqR8sT2uV4wX6yZ",
    )

    payment_id: UUID
    booking_id: UUID
    user_id: UUID
    amount: Money
    provider: str
    provider_reference: str


class PaymentFailed(Event):
    """Payment, when an attempt to pay a booking is declined or fails; the booking stays
    payable until its deadline."""

    type = "payment.failed"
    model_config = _example(
        payment_id=_PAYMENT, booking_id=_BOOKING, user_id=_USER, reason="card_declined"
    )

    payment_id: UUID
    booking_id: UUID
    user_id: UUID
    reason: str


class PaymentRefunded(Event):
    """Payment, when money went back to the customer (a cancellation, or a payment that
    arrived after its booking expired); `refunded_by` is who caused it."""

    type = "payment.refunded"
    model_config = _example(
        payment_id=_PAYMENT,
        booking_id=_BOOKING,
        user_id=_USER,
        amount={"amount": "206.40", "currency": "EUR"},
        refunded_by=_CUSTOMER,
    )

    payment_id: UUID
    booking_id: UUID
    user_id: UUID
    amount: Money
    refunded_by: Actor


class PayoutSent(Event):
    """Payment, when a vendor's accumulated share (80% of completed package bookings) is
    paid out, in payouts of at least 50.00."""

    type = "payment.payout_sent"
    model_config = _example(
        payout_id="8e2c5a9f-4b7d-4a1e-b3c8-7d1f5e9a2c04",
        vendor_id=_VENDOR,
        amount={"amount": "91.84", "currency": "EUR"},
    )

    payout_id: UUID
    vendor_id: UUID
    amount: Money


# notification


class NotificationCreated(Event):
    """Notification, when an in-app notification was stored. Its replicas fan it out to
    the owner's open streams (each replica has a queue of its own for it)."""

    type = "notification.created"
    model_config = _example(
        id="4d7e1b9c-2a5f-4c8e-9b3d-6f1a8e2c7b50",
        user_id=_USER,
        kind="booking_confirmed",
        category="transactional",
        title="Booking K7QX2M is confirmed",
        body="Have a good trip.",
        link="/bookings/9d2b7c4a-1f3e-4a8b-b6d5-3c7e1a2f9b84",
        data={"reference": "K7QX2M"},
        created_at="2025-06-01T10:00:00Z",
    )

    id: UUID
    user_id: UUID
    kind: str
    category: str
    title: str
    body: str
    link: str | None = None
    data: dict[str, Any] = {}
    created_at: AwareDatetime
