"""Queries on payments, their attempts and refunds. Rows that a transaction is about to
change are read `FOR UPDATE` (on SQLite, `BEGIN IMMEDIATE` already serialises writers)."""

import functools
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.db import dialect_insert
from wayfare_payment.domain.payments import AttemptStatus
from wayfare_payment.store.models import ChargeAttempt, Payment, Refund, WebhookReceipt


async def payment_for_update(session: AsyncSession, payment_id: uuid.UUID) -> Payment | None:
    return await session.scalar(
        sa.select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def payment_by_booking_for_update(
    session: AsyncSession, booking_id: uuid.UUID
) -> Payment | None:
    return await session.scalar(
        sa.select(Payment)
        .where(Payment.booking_id == booking_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def attempt(session: AsyncSession, attempt_id: uuid.UUID) -> ChargeAttempt | None:
    return await session.get(ChargeAttempt, attempt_id, populate_existing=True)


async def attempt_by_reference(
    session: AsyncSession, provider: str, reference: str
) -> ChargeAttempt | None:
    return await session.scalar(
        sa.select(ChargeAttempt).where(
            ChargeAttempt.provider == provider, ChargeAttempt.provider_reference == reference
        )
    )


async def stale_attempts(session: AsyncSession, before: datetime, limit: int = 50) -> list:
    """Attempts still `processing` since before `before` with no answer from the provider:
    their request died or timed out. (One the provider answered `processing` is settled by
    its webhook.)"""
    rows = await session.scalars(
        sa.select(ChargeAttempt.id)
        .where(
            ChargeAttempt.status == AttemptStatus.PROCESSING,
            ChargeAttempt.provider_reference.is_(None),
            ChargeAttempt.updated_at < before,
        )
        .order_by(ChargeAttempt.updated_at)
        .limit(limit)
    )
    return list(rows)


def payments_query(user_id: uuid.UUID | None, booking_id: uuid.UUID | None) -> sa.Select:
    """Payments a caller may list: their own, or everyone's for staff (user_id None)."""
    stmt = sa.select(Payment)
    if user_id is not None:
        stmt = stmt.where(Payment.user_id == user_id)
    if booking_id is not None:
        stmt = stmt.where(Payment.booking_id == booking_id)
    return stmt


async def refunds_of(session: AsyncSession, payment_id: uuid.UUID) -> list[Refund]:
    rows = await session.scalars(
        sa.select(Refund)
        .where(Refund.payment_id == payment_id)
        .order_by(Refund.created_at, Refund.id)
    )
    return list(rows)


async def refunded_from_attempt(session: AsyncSession, attempt_id: uuid.UUID) -> int:
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_minor), 0)).where(
            Refund.attempt_id == attempt_id
        )
    )
    return int(total or 0)


async def record_webhook(session: AsyncSession, event_id: str, provider: str, type_: str) -> bool:
    """Note a provider event as handled; False when it was already (a replay)."""
    insert = functools.partial(dialect_insert, session.bind.dialect.name)
    result = await session.execute(
        insert(WebhookReceipt)
        .values(event_id=event_id, provider=provider, type=type_)
        .on_conflict_do_nothing()
    )
    return result.rowcount == 1
