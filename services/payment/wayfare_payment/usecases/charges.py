"""Charging a booking: open an attempt (one transaction that also claims the payment, so
two requests can never both charge it), call the provider outside any transaction, then
settle what it answered. The attempt id is the provider's idempotency key, so an attempt
driven twice (a retried request, the reconciler after a crash) is charged once."""

import uuid
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.db import Database
from wayfare_common.events.envelope import EventContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_payment.domain.errors import (
    BookingNotKnown,
    NothingToConfirm,
    PaymentNotFound,
    PaymentWindowClosed,
)
from wayfare_payment.domain.payments import (
    CAPTURED,
    AttemptStatus,
    BookingState,
    Status,
    check_can_charge,
)
from wayfare_payment.providers import ChargeOutcome, ChargeRequest, Provider
from wayfare_payment.providers.registry import Providers
from wayfare_payment.store import payments as store
from wayfare_payment.store.models import ChargeAttempt, IdempotencyKey, Payment
from wayfare_payment.usecases.settlement import settle

log = structlog.get_logger("wayfare.payment.charges")


async def open_attempt(
    session: AsyncSession,
    provider: Provider,
    *,
    booking_id: uuid.UUID,
    user_id: uuid.UUID,
    payment_method: str,
    key: IdempotencyKey | None = None,
) -> ChargeAttempt:
    """Claim the booking's payment for a new attempt; the caller commits."""
    method = provider.payment_method(payment_method)
    payment = await store.payment_by_booking_for_update(session, booking_id)
    if payment is None:
        raise BookingNotKnown("This booking is not known to payments yet; try again in a moment.")
    if payment.user_id != user_id:
        raise PaymentNotFound("There is no such booking.")
    check_can_charge(Status(payment.status), BookingState(payment.booking_state))
    if datetime.now(UTC) > payment.payable_until:
        raise PaymentWindowClosed("The time to pay this booking has run out.")
    attempt = ChargeAttempt(
        id=uuid.uuid4(),
        payment_id=payment.id,
        provider=provider.name,
        payment_method=method,
        status=AttemptStatus.PROCESSING,
    )
    session.add(attempt)
    payment.status = Status.PROCESSING
    payment.current_attempt_id = attempt.id
    payment.failure_reason = None
    payment.next_action = None
    if key is not None:
        key.attempt_id = attempt.id
    return attempt


def charge_request(payment: Payment, attempt: ChargeAttempt) -> ChargeRequest:
    return ChargeRequest(
        attempt_id=attempt.id,
        payment_id=payment.id,
        booking_id=payment.booking_id,
        amount=payment.amount,
        payment_method=attempt.payment_method,
    )


async def drive(
    database: Database,
    providers: Providers,
    outbox: Outbox,
    context: EventContext,
    attempt_id: uuid.UUID,
) -> Payment:
    """Charge a `processing` attempt and settle the outcome. Raises ProviderUnavailable
    when the provider cannot say; the attempt then stays `processing` for a retry."""
    async with database.sessions() as session:
        attempt = await store.attempt(session, attempt_id)
        payment = await session.get(Payment, attempt.payment_id)
    if attempt.status != AttemptStatus.PROCESSING:
        return payment
    outcome = await providers.get(attempt.provider).charge(charge_request(payment, attempt))
    return await record_outcome(database, providers, outbox, context, attempt_id, outcome)


async def record_outcome(
    database: Database,
    providers: Providers,
    outbox: Outbox,
    context: EventContext,
    attempt_id: uuid.UUID,
    outcome: ChargeOutcome,
) -> Payment:
    async with database.sessions() as session, session.begin():
        attempt = await store.attempt(session, attempt_id)
        payment = await store.payment_for_update(session, attempt.payment_id)
        attempt = await store.attempt(session, attempt_id)  # as of the lock
        await settle(
            session,
            providers,
            payment,
            attempt,
            outcome,
            lambda event: outbox.record(session, event, context),
        )
    return payment


async def confirm(
    database: Database,
    providers: Providers,
    outbox: Outbox,
    context: EventContext,
    *,
    payment_id: uuid.UUID,
    user_id: uuid.UUID,
    authenticated: bool,
) -> Payment:
    """After `requires_action`: ask the provider where the payment now stands."""
    async with database.sessions() as session:
        payment = await session.get(Payment, payment_id)
        if payment is None or payment.user_id != user_id:
            raise PaymentNotFound("There is no such payment.")
        if payment.status in CAPTURED:
            return payment  # already settled (the webhook was quicker): nothing to do
        attempt = (
            await store.attempt(session, payment.current_attempt_id)
            if payment.current_attempt_id
            else None
        )
    # The attempt, not the payment, decides: a customer may complete a challenge after the
    # booking was cancelled, and that money must then come back (settlement refunds it).
    if attempt is None or attempt.status != AttemptStatus.REQUIRES_ACTION:
        raise NothingToConfirm(f"The payment is {payment.status}; there is nothing to confirm.")
    provider = providers.get(attempt.provider)
    outcome = await provider.confirm(
        charge_request(payment, attempt), attempt.provider_reference or "", authenticated
    )
    return await record_outcome(database, providers, outbox, context, attempt.id, outcome)


async def reconcile_stale(
    database: Database,
    providers: Providers,
    outbox: Outbox,
    context: EventContext,
    older_than: float,
) -> int:
    """Drive again attempts left `processing` (their request crashed or timed out)."""
    before = datetime.now(UTC) - timedelta(seconds=older_than)
    async with database.sessions() as session:
        stale = await store.stale_attempts(session, before)
    settled = 0
    for attempt_id in stale:
        try:
            await drive(database, providers, outbox, context, attempt_id)
            settled += 1
        except Exception as exc:  # the provider still cannot say: next round
            log.warning("stale_attempt_not_settled", attempt_id=str(attempt_id), error=str(exc))
    return settled
