"""Queries on the vendor ledger, payouts and the payout lease."""

import functools
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.db import dialect_insert
from wayfare_payment.store.models import LedgerEntry, Payout, PayoutLease, VendorAccount

LEASE_ID = 1


async def vendor_balances(session: AsyncSession) -> list[tuple[uuid.UUID, str, int]]:
    """(vendor, currency, balance in minor units) for every vendor with a ledger."""
    rows = await session.execute(
        sa.select(
            LedgerEntry.vendor_id, LedgerEntry.currency, sa.func.sum(LedgerEntry.amount_minor)
        )
        .where(LedgerEntry.account == "vendor")
        .group_by(LedgerEntry.vendor_id, LedgerEntry.currency)
        .order_by(LedgerEntry.vendor_id, LedgerEntry.currency)
    )
    return [(vendor, currency, int(total)) for vendor, currency, total in rows]


async def platform_balances(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        sa.select(LedgerEntry.currency, sa.func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.account == "platform")
        .group_by(LedgerEntry.currency)
    )
    return {currency: int(total) for currency, total in rows}


async def destinations(session: AsyncSession) -> dict[uuid.UUID, str]:
    rows = await session.execute(sa.select(VendorAccount.vendor_id, VendorAccount.stripe_account))
    return {vendor_id: account for vendor_id, account in rows}


async def pending_payouts(session: AsyncSession) -> list[Payout]:
    rows = await session.scalars(
        sa.select(Payout).where(Payout.status == "pending").order_by(Payout.created_at)
    )
    return list(rows)


def payouts_query(vendor_id: uuid.UUID | None, status: str | None) -> sa.Select:
    stmt = sa.select(Payout)
    if vendor_id is not None:
        stmt = stmt.where(Payout.vendor_id == vendor_id)
    if status is not None:
        stmt = stmt.where(Payout.status == status)
    return stmt


async def acquire_lease(session: AsyncSession, holder: str, seconds: float) -> bool:
    """Take the payout lease if nobody holds it (or its holder's time ran out). One
    conditional UPDATE decides between replicas; the caller commits."""
    insert = functools.partial(dialect_insert, session.bind.dialect.name)
    await session.execute(insert(PayoutLease).values(id=LEASE_ID).on_conflict_do_nothing())
    now = datetime.now(UTC)
    result = await session.execute(
        sa.update(PayoutLease)
        .where(
            PayoutLease.id == LEASE_ID,
            sa.or_(PayoutLease.locked_until.is_(None), PayoutLease.locked_until < now),
        )
        .values(holder=holder, locked_until=now + timedelta(seconds=seconds))
    )
    return result.rowcount == 1


async def still_holds_lease(session: AsyncSession, holder: str, seconds: float) -> bool:
    """Extend the lease if we still hold it. Its row lock also orders reservations made by
    a holder whose time ran out and its successor."""
    now = datetime.now(UTC)
    result = await session.execute(
        sa.update(PayoutLease)
        .where(PayoutLease.id == LEASE_ID, PayoutLease.holder == holder)
        .values(locked_until=now + timedelta(seconds=seconds))
    )
    return result.rowcount == 1


async def release_lease(session: AsyncSession, holder: str) -> None:
    await session.execute(
        sa.update(PayoutLease)
        .where(PayoutLease.id == LEASE_ID, PayoutLease.holder == holder)
        .values(holder=None, locked_until=None)
    )
