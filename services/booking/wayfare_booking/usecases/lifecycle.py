"""Everything that moves a booking after it was created: payment outcomes, hold expiry,
the payment deadline, cancellation and completion. Each change goes through the state
machine (domain/states.py) and records its event in the same transaction; each runs on a
booking locked FOR UPDATE, so a request and an event never interleave on one booking."""

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_booking.domain import states
from wayfare_booking.domain.refunds import RefundItem, RefundPolicy, RefundQuote
from wayfare_booking.domain.refunds import quote as refund_quote
from wayfare_booking.domain.states import Status
from wayfare_booking.events.payloads import confirmed
from wayfare_booking.store import bookings as store
from wayfare_booking.store import coupons as coupon_store
from wayfare_booking.store.models import Booking, PaymentRecord
from wayfare_common.events.catalog import (
    BookingCancelled,
    BookingCompleted,
    BookingExpired,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
)
from wayfare_common.events.envelope import SYSTEM, Actor, Event
from wayfare_common.money import Money
from wayfare_common.problems import Conflict

log = structlog.get_logger("wayfare.booking.lifecycle")

Emit = Callable[[Event], None]

LATE_PAYMENT = "late_payment"
PAYMENT_MISMATCH = "payment_mismatch"
HOLD_LOST = "hold_expired_before_confirmation"
CUSTOMER_REQUEST = "customer_request"

_STAMP = {
    Status.CONFIRMED: "confirmed_at",
    Status.EXPIRED: "expired_at",
    Status.CANCELLED: "cancelled_at",
    Status.COMPLETED: "completed_at",
}


def money(booking: Booking, minor: int) -> Money:
    return Money(minor, booking.currency)


def move(booking: Booking, target: Status, now: datetime) -> None:
    """The one place a status changes; IllegalTransition if the machine forbids it."""
    states.check(booking.status, target)
    booking.status = str(target)
    booking.updated_at = now
    setattr(booking, _STAMP[target], now)


def illegal(err: states.IllegalTransition) -> Conflict:
    return Conflict(
        f"This booking is {err.current}; it cannot become {err.target}.",
        code="invalid_transition",
        status_of_booking=str(err.current),
    )


# Payment outcomes


def _record(
    session: AsyncSession, event_id: uuid.UUID, event, kind: str, outcome: str, now: datetime
) -> None:
    amount = getattr(event, "amount", None)
    session.add(
        PaymentRecord(
            event_id=event_id,
            booking_id=event.booking_id,
            payment_id=event.payment_id,
            kind=kind,
            amount_minor=amount.minor if amount else None,
            currency=amount.currency if amount else None,
            reason=getattr(event, "reason", None),
            outcome=outcome,
            recorded_at=now,
        )
    )


async def payment_succeeded(
    session: AsyncSession,
    event: PaymentSucceeded,
    *,
    event_id: uuid.UUID,
    captured_at: datetime,
    emit: Emit,
    now: datetime,
) -> str:
    """Confirm a pending booking paid in time and in full. A payment that lands on a
    booking already expired or cancelled, arrives after the deadline, or does not match
    the price is handed back in full (booking.cancelled, which payment refunds); it never
    confirms. Returns what was done."""
    booking = await store.get(session, event.booking_id, lock=True)
    if booking is None:
        log.error("payment_for_unknown_booking", booking_id=str(event.booking_id))
        outcome = "unknown_booking"
    elif await store.success_recorded(session, event.payment_id):
        return "duplicate"  # the same payment again, under another event id
    elif booking.status == Status.PENDING_PAYMENT:
        if event.amount != money(booking, booking.total_minor):
            outcome = PAYMENT_MISMATCH
            move(booking, Status.CANCELLED, now)
            _give_back(booking, event, PAYMENT_MISMATCH, emit)
            await coupon_store.settle(session, booking.id, "released")
        elif captured_at > booking.payable_until:
            outcome = LATE_PAYMENT
            _expire(booking, emit, now)
            await coupon_store.settle(session, booking.id, "released")
            _give_back(booking, event, LATE_PAYMENT, emit)
        else:
            outcome = "confirmed"
            move(booking, Status.CONFIRMED, now)
            booking.paid_minor = event.amount.minor
            booking.payment_id = event.payment_id
            await coupon_store.settle(session, booking.id, "redeemed")
            emit(confirmed(booking, event.amount))
    elif booking.status in states.CLOSED:
        outcome = LATE_PAYMENT
        _give_back(booking, event, LATE_PAYMENT, emit)
    else:
        # Confirmed (or travelled) and paid by another payment: payment allows one payment
        # per booking, so this is a fault there; it is kept for staff to settle.
        log.error(
            "second_payment_for_booking",
            booking_id=str(booking.id),
            payment_id=str(event.payment_id),
        )
        outcome = "second_payment"
    _record(session, event_id, event, "succeeded", outcome, now)
    if booking is not None:
        log.info("payment_succeeded", booking_id=str(booking.id), outcome=outcome)
    return outcome


def _give_back(booking: Booking, event: PaymentSucceeded, reason: str, emit: Emit) -> None:
    """Ask payment to refund all of `event`'s amount (booking.cancelled carries refunds)."""
    if event.amount.currency == booking.currency:
        booking.paid_minor += event.amount.minor
        booking.refund_minor = (booking.refund_minor or 0) + event.amount.minor
    if booking.cancel_reason is None:
        booking.cancel_reason = reason
        booking.cancelled_by = SYSTEM.model_dump()
    emit(
        BookingCancelled(
            booking_id=booking.id,
            reference=booking.reference,
            user_id=booking.user_id,
            reason=reason,
            refund=event.amount,
            cancelled_by=SYSTEM,
        )
    )


async def payment_failed(
    session: AsyncSession, event: PaymentFailed, *, event_id: uuid.UUID, now: datetime
) -> None:
    """The booking stays payable until its deadline: the customer may try again."""
    booking = await store.get(session, event.booking_id)
    outcome = "recorded" if booking is not None else "unknown_booking"
    _record(session, event_id, event, "failed", outcome, now)
    if booking is not None:
        booking.updated_at = now


async def payment_refunded(
    session: AsyncSession, event: PaymentRefunded, *, event_id: uuid.UUID, now: datetime
) -> None:
    booking = await store.get(session, event.booking_id, lock=True)
    outcome = "unknown_booking"
    if booking is not None:
        outcome = "recorded"
        if event.amount.currency == booking.currency:
            booking.refunded_minor = min(
                booking.refunded_minor + event.amount.minor, booking.paid_minor
            )
            booking.updated_at = now
    _record(session, event_id, event, "refunded", outcome, now)


# Expiry


def _expire(booking: Booking, emit: Emit, now: datetime) -> None:
    move(booking, Status.EXPIRED, now)
    emit(
        BookingExpired(booking_id=booking.id, reference=booking.reference, user_id=booking.user_id)
    )


async def expire(session: AsyncSession, booking: Booking, emit: Emit, now: datetime) -> None:
    """Unpaid in time: seats go back (flight hears booking.expired), the coupon use too."""
    _expire(booking, emit, now)
    await coupon_store.settle(session, booking.id, "released")
    log.info("booking_expired", booking_id=str(booking.id))


async def hold_expired(
    session: AsyncSession, booking_id: uuid.UUID, emit: Emit, now: datetime
) -> str:
    booking = await store.get(session, booking_id, lock=True)
    if booking is None:
        return "unknown_booking"
    if booking.status == Status.PENDING_PAYMENT:
        await expire(session, booking, emit, now)
        return "expired"
    if booking.status == Status.CONFIRMED:
        # The hold lapsed before our confirmation reached flight: the seats were never
        # sold. The customer gets everything back rather than a booking without seats.
        log.error("hold_lost_after_confirmation", booking_id=str(booking.id))
        refund = money(booking, booking.paid_minor - booking.refunded_minor)
        _cancel(booking, refund, HOLD_LOST, SYSTEM, emit, now)
        return "cancelled"
    return "ignored"  # expired or cancelled already: the seats are back anyway


# Cancellation


def _refund_items(booking: Booking) -> list[RefundItem]:
    items = []
    for item in booking.items:
        net = Money.of(**item["price"]) - Money.of(**item["discount"])
        if item["type"] == "flight":
            items.append(
                RefundItem(
                    "flight",
                    net,
                    refundable=bool(item["fare"]["refundable"]),
                    departs_at=datetime.fromisoformat(item["segments"][0]["departing_at"]),
                )
            )
        else:
            items.append(
                RefundItem("package", net, starts_on=date.fromisoformat(item["starts_on"]))
            )
    return items


def cancellation_quote(
    booking: Booking, policy: RefundPolicy, now: datetime, *, waive: bool = False
) -> RefundQuote:
    balance = money(booking, booking.paid_minor - booking.refunded_minor)
    return refund_quote(
        _refund_items(booking),
        money(booking, booking.fees_minor),
        balance,
        policy,
        now,
        waive=waive,
    )


def _cancel(
    booking: Booking, refund: Money, reason: str, actor: Actor, emit: Emit, now: datetime
) -> None:
    move(booking, Status.CANCELLED, now)
    booking.refund_minor = refund.minor
    booking.cancel_reason = reason
    booking.cancelled_by = actor.model_dump()
    emit(
        BookingCancelled(
            booking_id=booking.id,
            reference=booking.reference,
            user_id=booking.user_id,
            reason=reason,
            refund=refund,
            cancelled_by=actor,
        )
    )


async def cancel(
    session: AsyncSession,
    booking: Booking,
    *,
    actor: Actor,
    reason: str | None,
    waive: bool,
    expected_refund: Money | None,
    policy: RefundPolicy,
    emit: Emit,
    now: datetime | None = None,
) -> RefundQuote:
    """Cancel by the customer or staff, refunding by policy (staff may waive it)."""
    now = now or datetime.now(UTC)
    try:
        states.check(booking.status, Status.CANCELLED)
    except states.IllegalTransition as err:
        raise illegal(err) from None
    staff = actor.role == "admin"
    if not staff and now >= booking.travel_starts_at:
        raise Conflict("The trip has begun; it can no longer be cancelled.", code="travel_started")
    quoted = cancellation_quote(booking, policy, now, waive=waive)
    if expected_refund is not None and expected_refund != quoted.refund:
        raise Conflict(
            "The refund has changed since it was quoted; review it and try again.",
            code="refund_changed",
            refund=quoted.refund.to_json(),
        )
    was_pending = booking.status == Status.PENDING_PAYMENT
    _cancel(booking, quoted.refund, reason or CUSTOMER_REQUEST, actor, emit, now)
    if was_pending:  # a confirmed booking's coupon use stays spent
        await coupon_store.settle(session, booking.id, "released")
    log.info("booking_cancelled", booking_id=str(booking.id), refund=str(quoted.refund))
    return quoted


# Completion


def completion_event(booking: Booking) -> BookingCompleted:
    """Packages: the vendor and the price of its places (payment pays the vendor its
    share of that, not of our fees). Flights only: no vendor, the amount paid."""
    packages = [item for item in booking.items if item["type"] == "package"]
    if not packages:
        return BookingCompleted(booking_id=booking.id, amount=money(booking, booking.paid_minor))
    amount = sum((Money.of(**item["price"]) for item in packages), money(booking, 0))
    return BookingCompleted(
        booking_id=booking.id, vendor_id=uuid.UUID(packages[0]["vendor_id"]), amount=amount
    )


def complete(booking: Booking, emit: Emit, now: datetime) -> None:
    move(booking, Status.COMPLETED, now)
    emit(completion_event(booking))
