"""Paying vendors. A run takes the payout lease (one replica at a time), then:

1. reserves, in one transaction, every vendor balance of at least the minimum: a `pending`
   payout and a ledger debit, so the money cannot be paid twice;
2. pays each pending payout through the provider, with the payout id as idempotency key
   (pending payouts left by a crashed run are paid by the next one, never twice);
3. marks it `sent` and records `payment.payout_sent`, or `failed` and credits the balance
   back, so that the next run tries again.
"""

import uuid
from dataclasses import dataclass, field

import structlog

from wayfare_common.db import Database
from wayfare_common.events.catalog import PayoutSent
from wayfare_common.events.envelope import EventContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_common.money import Money
from wayfare_payment.domain import ledger
from wayfare_payment.domain.errors import PayoutRunInProgress, ProviderRefused, ProviderUnavailable
from wayfare_payment.providers import PayoutRequest, Provider
from wayfare_payment.store import ledger as store
from wayfare_payment.store.models import LedgerEntry, Payout, now

log = structlog.get_logger("wayfare.payment.payouts")
LEASE_SECONDS = 300.0


@dataclass
class RunResult:
    sent: list[Payout] = field(default_factory=list)
    failed: list[Payout] = field(default_factory=list)
    waiting: list[Payout] = field(default_factory=list)  # provider unreachable: next run
    skipped: list[tuple[uuid.UUID, Money, str]] = field(default_factory=list)


async def run(
    database: Database, outbox: Outbox, provider: Provider, minimum: str, context: EventContext
) -> RunResult:
    holder = uuid.uuid4().hex
    async with database.sessions() as session, session.begin():
        if not await store.acquire_lease(session, holder, LEASE_SECONDS):
            raise PayoutRunInProgress("A payout run is already under way.")
    try:
        result = RunResult()
        await _reserve(database, provider, minimum, holder, result)
        async with database.sessions() as session:
            pending = await store.pending_payouts(session)
        for payout in pending:
            await _pay(database, outbox, provider, payout, context, result)
        return result
    finally:
        async with database.sessions() as session, session.begin():
            await store.release_lease(session, holder)


async def _reserve(
    database: Database, provider: Provider, minimum: str, holder: str, result: RunResult
) -> None:
    async with database.sessions() as session, session.begin():
        if not await store.still_holds_lease(session, holder, LEASE_SECONDS):
            raise PayoutRunInProgress("The payout lease was lost.")
        accounts = await store.destinations(session)
        for vendor_id, currency, balance in await store.vendor_balances(session):
            amount = Money(balance, currency)
            if not ledger.is_due(amount, minimum):
                continue
            destination = accounts.get(vendor_id)
            if provider.needs_payout_destination() and destination is None:
                result.skipped.append((vendor_id, amount, "no payout account"))
                continue
            payout = Payout(
                id=uuid.uuid4(),
                vendor_id=vendor_id,
                amount_minor=balance,
                currency=currency,
                status="pending",
                provider=provider.name,
                destination=destination,
            )
            session.add(payout)
            session.add(_entry(payout, "payout", -balance))


def _entry(payout: Payout, kind: str, minor: int) -> LedgerEntry:
    return LedgerEntry(
        account="vendor",
        vendor_id=payout.vendor_id,
        kind=kind,
        payout_id=payout.id,
        amount_minor=minor,
        currency=payout.currency,
    )


async def _pay(
    database: Database,
    outbox: Outbox,
    provider: Provider,
    payout: Payout,
    context: EventContext,
    result: RunResult,
) -> None:
    request = PayoutRequest(
        payout_id=payout.id,
        vendor_id=payout.vendor_id,
        amount=payout.amount,
        destination=payout.destination,
        metadata={"vendor_id": str(payout.vendor_id)},
    )
    try:
        reference = await provider.payout(request)
    except ProviderUnavailable:
        log.warning("payout_waiting", payout_id=str(payout.id))
        result.waiting.append(payout)
        return
    except ProviderRefused as err:
        async with database.sessions() as session, session.begin():
            row = await session.get(Payout, payout.id, with_for_update=True)
            if row.status == "pending":
                row.status = "failed"
                row.failure_reason = err.detail[:500]
                session.add(_entry(row, "payout_reversal", row.amount_minor))
        log.error("payout_failed", payout_id=str(payout.id), reason=err.detail)
        result.failed.append(row)
        return
    async with database.sessions() as session, session.begin():
        row = await session.get(Payout, payout.id, with_for_update=True)
        if row.status != "pending":
            return
        row.status = "sent"
        row.provider_reference = reference
        row.sent_at = now()
        outbox.record(
            session,
            PayoutSent(payout_id=row.id, vendor_id=row.vendor_id, amount=row.amount),
            context,
        )
    result.sent.append(row)
