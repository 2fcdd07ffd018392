"""Where a provider's answer leaves a payment, whichever way it arrives (the answer to our
call, a /confirm, a webhook) and in whatever order. Every function here runs inside the
caller's transaction with the payment row locked, and records its events there.

- A success is final: a failure reported later for the same attempt changes nothing.
- The first captured attempt pays the booking. Any other attempt that is captured too (an
  abandoned 3-D Secure challenge completed later) is refunded at once, without events: the
  booking was paid once and stays so.
- A payment that succeeds for a booking already cancelled or expired is captured, announced
  (`payment.succeeded`) and refunded in full (`payment.refunded`) in the same transaction.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.events.catalog import PaymentFailed, PaymentRefunded, PaymentSucceeded
from wayfare_common.events.envelope import SYSTEM, Actor
from wayfare_common.money import Money
from wayfare_payment.domain.payments import (
    CAPTURED,
    AttemptStatus,
    BookingState,
    Status,
    status_after_refund,
)
from wayfare_payment.providers import ChargeOutcome, RefundRequest
from wayfare_payment.providers.registry import Providers
from wayfare_payment.store.models import ChargeAttempt, Payment, Refund
from wayfare_payment.usecases import Emit

_IDS = uuid.UUID("6f1c2b9e-8a44-4b43-9d7e-3c5a0e2f7b11")  # namespace of derived refund ids
_ENDED = (AttemptStatus.FAILED, AttemptStatus.CANCELLED)
_IN_FLIGHT = (Status.PROCESSING, Status.REQUIRES_ACTION)


def derived_id(*parts: object) -> uuid.UUID:
    """A refund id that a retry derives again, so the provider's idempotency key matches."""
    return uuid.uuid5(_IDS, ":".join(str(part) for part in parts))


async def settle(
    session: AsyncSession,
    providers: Providers,
    payment: Payment,
    attempt: ChargeAttempt,
    outcome: ChargeOutcome,
    emit: Emit,
) -> None:
    if attempt.status == AttemptStatus.SUCCEEDED and outcome.status != "succeeded":
        return
    if outcome.reference and not attempt.provider_reference:
        attempt.provider_reference = outcome.reference
    match outcome.status:
        case "succeeded":
            await _captured(session, providers, payment, attempt, emit)
        case "failed" | "cancelled":
            _failed(payment, attempt, outcome, emit)
        case "requires_action" | "processing" if attempt.status in _ENDED:
            return  # a stale report: the attempt has already failed or been cancelled
        case "requires_action":
            attempt.status = AttemptStatus.REQUIRES_ACTION
            attempt.next_action = outcome.next_action
            if _is_current(payment, attempt) and payment.status in _IN_FLIGHT:
                payment.status = Status.REQUIRES_ACTION
                payment.next_action = outcome.next_action
                payment.failure_reason = None
        case "processing":
            attempt.status = AttemptStatus.PROCESSING


def _is_current(payment: Payment, attempt: ChargeAttempt) -> bool:
    return payment.current_attempt_id == attempt.id


async def _captured(
    session: AsyncSession,
    providers: Providers,
    payment: Payment,
    attempt: ChargeAttempt,
    emit: Emit,
) -> None:
    if attempt.status == AttemptStatus.SUCCEEDED:
        return  # already settled: a replayed or crossed report
    attempt.status = AttemptStatus.SUCCEEDED
    attempt.next_action = None
    attempt.failure_reason = None
    if payment.captured_minor > 0 or payment.status in CAPTURED:
        await refund(
            session,
            providers,
            payment,
            payment.amount_minor,
            refund_id=derived_id(attempt.id, "duplicate"),
            source="duplicate_capture",
            reason="the booking was already paid by another charge",
            refunded_by=SYSTEM,
            emit=emit,
            attempt=attempt,
        )
        return
    payment.status = Status.SUCCEEDED
    payment.captured_minor = payment.amount_minor
    payment.captured_attempt_id = attempt.id
    payment.current_attempt_id = attempt.id
    payment.provider = attempt.provider
    payment.provider_reference = attempt.provider_reference
    payment.paid_at = datetime.now(UTC)
    payment.failure_reason = None
    payment.next_action = None
    emit(
        PaymentSucceeded(
            payment_id=payment.id,
            booking_id=payment.booking_id,
            user_id=payment.user_id,
            amount=payment.amount,
            provider=payment.provider,
            provider_reference=payment.provider_reference or str(attempt.id),
        )
    )
    if payment.booking_state != BookingState.OPEN:
        await refund(
            session,
            providers,
            payment,
            payment.amount_minor,
            refund_id=derived_id(attempt.id, "late"),
            source="late_payment",
            reason=f"the booking was {payment.booking_state} before the payment succeeded",
            refunded_by=SYSTEM,
            emit=emit,
        )


def _failed(payment: Payment, attempt: ChargeAttempt, outcome: ChargeOutcome, emit: Emit) -> None:
    attempt.status = (
        AttemptStatus.CANCELLED if outcome.status == "cancelled" else AttemptStatus.FAILED
    )
    attempt.failure_reason = outcome.failure_reason
    attempt.next_action = None
    if not _is_current(payment, attempt) or payment.status not in _IN_FLIGHT:
        return  # an older attempt, or a closed payment: the payment has moved on
    payment.next_action = None
    if payment.booking_state != BookingState.OPEN:
        payment.status = Status.CANCELLED
        return
    payment.status = Status.FAILED
    payment.failure_reason = outcome.failure_reason or "failed"
    emit(
        PaymentFailed(
            payment_id=payment.id,
            booking_id=payment.booking_id,
            user_id=payment.user_id,
            reason=payment.failure_reason,
        )
    )


async def refund(
    session: AsyncSession,
    providers: Providers,
    payment: Payment,
    amount_minor: int,
    *,
    refund_id: uuid.UUID,
    source: str,
    reason: str,
    refunded_by: Actor,
    emit: Emit,
    attempt: ChargeAttempt | None = None,
    provider_reference: str | None = None,
) -> Refund | None:
    """Give `amount_minor` back through the provider that holds the money, and record it.

    `refund_id` is the provider's idempotency key: the same id never refunds twice, here
    or at the provider. `attempt` is set for a duplicate capture, which is not the
    payment's money. `provider_reference` records a refund the provider already made (a
    dashboard refund reported by webhook) without asking for it again.
    """
    existing = await session.get(Refund, refund_id)
    if existing is not None or amount_minor <= 0:
        return existing
    duplicate = attempt is not None
    provider_name = attempt.provider if duplicate else payment.provider
    if provider_reference is None:
        charge = attempt.provider_reference if duplicate else payment.provider_reference
        provider = providers.get(provider_name)
        provider_reference = await provider.refund(
            RefundRequest(refund_id, charge or "", Money(amount_minor, payment.currency))
        )
    row = Refund(
        id=refund_id,
        payment_id=payment.id,
        attempt_id=attempt.id if duplicate else payment.captured_attempt_id,
        amount_minor=amount_minor,
        currency=payment.currency,
        source=source,
        reason=reason[:500],
        provider=provider_name or "manual",
        provider_reference=provider_reference,
        requested_by=refunded_by.user_id,
        requested_by_role=refunded_by.role,
    )
    session.add(row)
    if duplicate:
        return row
    payment.refunded_minor += amount_minor
    payment.status = status_after_refund(payment.captured_minor, payment.refunded_minor)
    emit(
        PaymentRefunded(
            payment_id=payment.id,
            booking_id=payment.booking_id,
            user_id=payment.user_id,
            amount=Money(amount_minor, payment.currency),
            refunded_by=refunded_by,
        )
    )
    return row
