"""The statements behind the admin listings, with their filters. Each listing sorts newest
first on an indexed NOT NULL key ending in the id, as keyset pages need."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_admin.store.models import audit_log, bookings, payments, users

USERS_ORDER = (users.c.created_at, users.c.user_id)
BOOKINGS_ORDER = (bookings.c.listed_at, bookings.c.booking_id)
PAYMENTS_ORDER = (payments.c.first_seen_at, payments.c.payment_id)
AUDIT_ORDER = (audit_log.c.seq,)


def users_query(
    *, include_inactive: bool = False, role: str | None = None, search: str | None = None
) -> sa.Select:
    stmt = sa.select(users)
    if not include_inactive:
        stmt = stmt.where(users.c.is_active.is_(True))
    if role:
        stmt = stmt.where(users.c.role == role)
    if search:
        needle = search.lower()
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(users.c.email).contains(needle, autoescape=True),
                sa.func.lower(users.c.full_name).contains(needle, autoescape=True),
            )
        )
    return stmt


def bookings_query(
    *,
    status: str | None = None,
    created_from: datetime | None = None,
    created_before: datetime | None = None,
    reference: str | None = None,
    customer: str | None = None,
) -> sa.Select:
    stmt = sa.select(bookings)
    if status:
        stmt = stmt.where(bookings.c.status == status)
    if created_from is not None:
        stmt = stmt.where(bookings.c.created_at >= created_from)
    if created_before is not None:
        stmt = stmt.where(bookings.c.created_at < created_before)
    if reference:
        stmt = stmt.where(bookings.c.reference == reference.upper())
    if customer:
        stmt = stmt.where(_customer(customer))
    return stmt


def _customer(customer: str) -> sa.ColumnElement[bool]:
    """A customer by user id, or by email: the account's current one or the booking's
    contact address."""
    try:
        return bookings.c.user_id == uuid.UUID(customer)
    except ValueError:
        email = customer.strip().lower()
        accounts = sa.select(users.c.user_id).where(sa.func.lower(users.c.email) == email)
        return sa.or_(
            sa.func.lower(bookings.c.contact_email) == email, bookings.c.user_id.in_(accounts)
        )


def payments_query(
    *,
    status: str | None = None,
    booking_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    currency: str | None = None,
) -> sa.Select:
    stmt = sa.select(payments)
    if status:
        stmt = stmt.where(payments.c.status == status)
    if booking_id is not None:
        stmt = stmt.where(payments.c.booking_id == booking_id)
    if user_id is not None:
        stmt = stmt.where(payments.c.user_id == user_id)
    if currency:
        stmt = stmt.where(payments.c.currency == currency.upper())
    return stmt


def audit_filters(
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    target_type: str | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
) -> list[sa.ColumnElement[bool]]:
    conditions = []
    if actor:
        conditions.append(audit_log.c.actor_user_id == actor)
    if action:
        conditions.append(audit_log.c.action == action)
    if target:
        conditions.append(audit_log.c.target_id == target)
    if target_type:
        conditions.append(audit_log.c.target_type == target_type)
    if since is not None:
        conditions.append(audit_log.c.occurred_at >= since)
    if before is not None:
        conditions.append(audit_log.c.occurred_at < before)
    return conditions


async def count(session: AsyncSession, stmt: sa.Select) -> int:
    return await session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
