"""Stripe's webhook events, each handled once (its id is recorded in the same transaction
as its effect) and in any order: every event is applied through settlement, whose rules
(a success is final, the first capture pays, a refund is recorded once) give the same end
state whatever came first."""

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.db import Database
from wayfare_common.events.envelope import SYSTEM, EventContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_payment.domain.payments import AttemptStatus, refundable
from wayfare_payment.providers import ChargeOutcome
from wayfare_payment.providers.registry import Providers
from wayfare_payment.store import payments as store
from wayfare_payment.store.models import ChargeAttempt
from wayfare_payment.usecases.settlement import derived_id, refund, settle

log = structlog.get_logger("wayfare.payment.webhooks")


async def handle_stripe_event(
    database: Database,
    providers: Providers,
    outbox: Outbox,
    context: EventContext,
    event,
) -> str:
    """Returns what became of the event: handled, duplicate or ignored."""
    from wayfare_payment.providers.stripe_provider import outcome_of_intent  # see registry.py

    async with database.sessions() as session, session.begin():
        if not await store.record_webhook(session, event["id"], "stripe", event["type"]):
            return "duplicate"
        obj = event["data"]["object"]
        kind = event["type"]
        if kind.startswith("payment_intent."):
            intent_id, outcome = obj.get("id"), outcome_of_intent(obj)
        elif kind == "charge.refunded":
            intent_id, outcome = obj.get("payment_intent"), None
        else:
            return "ignored"
        attempt = await _attempt_of(session, obj, intent_id)
        if attempt is None:
            log.info("stripe_event_for_unknown_payment", type=kind, intent=intent_id)
            return "ignored"
        payment = await store.payment_for_update(session, attempt.payment_id)
        attempt = await store.attempt(session, attempt.id)

        def emit(e):
            outbox.record(session, e, context)

        if outcome is not None:
            await settle(session, providers, payment, attempt, outcome, emit)
            return "handled"
        # charge.refunded: a refunded charge was captured, whether or not its
        # payment_intent.succeeded has reached us yet.
        if attempt.status != AttemptStatus.SUCCEEDED:
            await settle(
                session, providers, payment, attempt, ChargeOutcome("succeeded", intent_id), emit
            )
        extra = int(obj.get("amount_refunded") or 0) - await store.refunded_from_attempt(
            session, attempt.id
        )
        duplicate = payment.captured_attempt_id != attempt.id
        if not duplicate:
            extra = min(extra, refundable(payment.captured_minor, payment.refunded_minor))
        if extra > 0:  # refunded at Stripe (the dashboard), not by us: record it
            await refund(
                session,
                providers,
                payment,
                extra,
                refund_id=derived_id(event["id"], "provider"),
                source="provider",
                reason="refunded at Stripe",
                refunded_by=SYSTEM,
                emit=emit,
                attempt=attempt if duplicate else None,
                provider_reference=obj.get("id"),
            )
        return "handled"


async def _attempt_of(session: AsyncSession, obj, intent_id: str | None) -> ChargeAttempt | None:
    metadata = obj.get("metadata") or {}
    if kind_id := metadata.get("attempt_id"):
        try:
            attempt = await store.attempt(session, uuid.UUID(str(kind_id)))
        except ValueError:
            attempt = None
        if attempt is not None:
            return attempt
    if intent_id:
        return await store.attempt_by_reference(session, "stripe", intent_id)
    return None
