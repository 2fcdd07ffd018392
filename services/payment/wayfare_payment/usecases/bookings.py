"""The booking's life as payment hears of it (booking.created, .cancelled, .expired,
.completed). Each runs in the consumer's inbox transaction, and each is idempotent by the
booking id as well, since booking may send the same fact twice under new event ids.
Events may arrive in any order: a cancellation before the booking's creation is kept and
applied when the creation arrives; one during a charge is applied when the charge settles
(settlement.py refunds a late success in full)."""

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.events.catalog import BookingCancelled, BookingCompleted, BookingCreated
from wayfare_common.events.envelope import SYSTEM, Actor
from wayfare_common.money import CurrencyMismatch, Money
from wayfare_payment.domain import ledger
from wayfare_payment.domain.payments import (
    CAPTURED,
    BookingState,
    Status,
    capped_refund,
)
from wayfare_payment.providers.registry import Providers
from wayfare_payment.store import payments as store
from wayfare_payment.store.models import BookingClosure, LedgerEntry, Payment
from wayfare_payment.usecases import Emit
from wayfare_payment.usecases.settlement import derived_id, refund

log = structlog.get_logger("wayfare.payment.bookings")


def _breakdown(data: dict[str, Any], name: str, currency: str) -> int | None:
    """`price.fees` / `price.discount` when booking sends its price breakdown."""
    price = data.get("price")
    value = price.get(name) if isinstance(price, dict) else None
    if not isinstance(value, dict):
        return None
    try:
        money = Money.of(str(value["amount"]), str(value["currency"]))
    except (KeyError, ValueError, TypeError):
        return None
    return money.minor if money.currency == currency else None


async def open_payment(
    session: AsyncSession, event: BookingCreated, raw: dict[str, Any]
) -> Payment | None:
    existing = await session.scalar(
        sa.select(Payment).where(Payment.booking_id == event.booking_id)
    )
    if existing is not None:
        return None
    closure = await session.get(BookingClosure, event.booking_id)
    currency = event.amount.currency
    payment = Payment(
        id=uuid.uuid4(),
        booking_id=event.booking_id,
        booking_reference=event.reference,
        user_id=event.user_id,
        contact_email=event.contact_email,
        amount_minor=event.amount.minor,
        currency=currency,
        status=Status.PENDING if closure is None else Status.CANCELLED,
        items=[item.model_dump(mode="json") for item in event.items],
        fees_minor=_breakdown(raw, "fees", currency),
        discount_minor=_breakdown(raw, "discount", currency),
        payable_until=event.payable_until,
        booking_state=BookingState.OPEN if closure is None else closure.state,
        booking_closed_at=None if closure is None else closure.closed_at,
        captured_minor=0,
        refunded_minor=0,
    )
    session.add(payment)
    return payment


async def close_booking(
    session: AsyncSession,
    providers: Providers,
    *,
    booking_id: uuid.UUID,
    state: BookingState,
    refund_amount: Money | None,
    refunded_by: Actor,
    refund_id: uuid.UUID,
    emit: Emit,
) -> None:
    """The booking was cancelled (with the refund booking decided) or expired."""
    payment = await store.payment_by_booking_for_update(session, booking_id)
    if payment is None:
        if await session.get(BookingClosure, booking_id) is None:
            session.add(BookingClosure(booking_id=booking_id, state=state))
        return
    if payment.booking_state == BookingState.OPEN:
        payment.booking_state = state
        payment.booking_closed_at = datetime.now(UTC)
    status = Status(payment.status)
    if status in (Status.PENDING, Status.FAILED, Status.REQUIRES_ACTION):
        payment.status = Status.CANCELLED
        payment.next_action = None
        return
    if status not in CAPTURED or refund_amount is None:
        return  # processing: settlement refunds a late success in full
    if refund_amount.currency != payment.currency:
        raise CurrencyMismatch(
            f"booking refunds {refund_amount.currency} on a {payment.currency} payment"
        )
    amount = capped_refund(refund_amount.minor, payment.captured_minor, payment.refunded_minor)
    if amount < refund_amount.minor:
        log.warning(
            "refund_capped",
            booking_id=str(booking_id),
            requested=refund_amount.minor,
            refunded=amount,
        )
    await refund(
        session,
        providers,
        payment,
        amount,
        refund_id=refund_id,
        source="booking_cancelled",
        reason="the booking was cancelled",
        refunded_by=refunded_by,
        emit=emit,
    )


async def cancelled(
    session: AsyncSession,
    providers: Providers,
    event: BookingCancelled,
    event_id: uuid.UUID,
    emit: Emit,
) -> None:
    await close_booking(
        session,
        providers,
        booking_id=event.booking_id,
        state=BookingState.CANCELLED,
        refund_amount=event.refund,
        refunded_by=event.cancelled_by,
        refund_id=derived_id(event_id, "cancelled"),
        emit=emit,
    )


async def expired(
    session: AsyncSession, providers: Providers, booking_id: uuid.UUID, emit: Emit
) -> None:
    await close_booking(
        session,
        providers,
        booking_id=booking_id,
        state=BookingState.EXPIRED,
        refund_amount=None,
        refunded_by=SYSTEM,
        refund_id=derived_id(booking_id, "expired"),
        emit=emit,
    )


async def completed(session: AsyncSession, event: BookingCompleted) -> bool:
    """Credit the package's vendor with its share; False if there is nothing to credit."""
    if event.vendor_id is None:
        return False  # a flight-only booking: no vendor to pay
    already = await session.scalar(
        sa.select(LedgerEntry.id).where(
            LedgerEntry.booking_id == event.booking_id, LedgerEntry.kind == "earning"
        )
    )
    if already is not None:
        return False
    vendor, platform = ledger.split(event.amount)
    for account, vendor_id, share in (
        ("vendor", event.vendor_id, vendor),
        ("platform", None, platform),
    ):
        session.add(
            LedgerEntry(
                account=account,
                vendor_id=vendor_id,
                kind="earning",
                booking_id=event.booking_id,
                amount_minor=share.minor,
                currency=share.currency,
            )
        )
    return True
