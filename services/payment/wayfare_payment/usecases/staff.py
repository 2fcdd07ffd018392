"""What staff do by hand: refund (full or partial, with a reason) and record a bank
transfer as payment. Both name the acting admin: in the event's envelope (the request's
actor) and, for refunds, in `refunded_by`."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.events.catalog import PaymentSucceeded
from wayfare_common.events.envelope import Actor
from wayfare_common.money import Money
from wayfare_payment.domain.errors import NotRefundable, PaymentNotFound, RefundExceedsCaptured
from wayfare_payment.domain.payments import (
    CAPTURED,
    BookingState,
    Status,
    check_can_mark_paid,
    check_staff_refund,
    refundable,
)
from wayfare_payment.providers.registry import Providers
from wayfare_payment.store import payments as store
from wayfare_payment.store.models import Payment, Refund
from wayfare_payment.usecases import Emit
from wayfare_payment.usecases.settlement import refund


async def staff_refund(
    session: AsyncSession,
    providers: Providers,
    *,
    payment_id: uuid.UUID,
    amount: Money | None,
    reason: str,
    admin: Actor,
    refund_id: uuid.UUID,
    emit: Emit,
) -> tuple[Payment, Refund]:
    payment = await store.payment_for_update(session, payment_id)
    if payment is None:
        raise PaymentNotFound("There is no such payment.")
    existing = await session.get(Refund, refund_id)
    if existing is not None:  # this very request, done before a crash
        return payment, existing
    if payment.status not in CAPTURED:
        raise NotRefundable(f"The payment is {payment.status}; nothing was captured.")
    if amount is not None and amount.currency != payment.currency:
        raise RefundExceedsCaptured(f"The payment is in {payment.currency}.")
    minor = (
        amount.minor
        if amount is not None
        else refundable(payment.captured_minor, payment.refunded_minor)
    )
    check_staff_refund(minor, payment.captured_minor, payment.refunded_minor)
    row = await refund(
        session,
        providers,
        payment,
        minor,
        refund_id=refund_id,
        source="staff",
        reason=reason,
        refunded_by=admin,
        emit=emit,
    )
    return payment, row


async def mark_paid(
    session: AsyncSession,
    *,
    payment_id: uuid.UUID,
    reason: str,
    reference: str,
    admin: Actor,
    emit: Emit,
) -> Payment:
    payment = await store.payment_for_update(session, payment_id)
    if payment is None:
        raise PaymentNotFound("There is no such payment.")
    check_can_mark_paid(Status(payment.status), BookingState(payment.booking_state))
    payment.status = Status.SUCCEEDED
    payment.captured_minor = payment.amount_minor
    payment.provider = "manual"
    payment.provider_reference = reference
    payment.manual_reference = reference
    payment.manual_reason = reason
    payment.marked_paid_by = admin.user_id
    payment.paid_at = datetime.now(UTC)
    payment.failure_reason = None
    payment.next_action = None
    emit(
        PaymentSucceeded(
            payment_id=payment.id,
            booking_id=payment.booking_id,
            user_id=payment.user_id,
            amount=payment.amount,
            provider="manual",
            provider_reference=reference,
        )
    )
    return payment
