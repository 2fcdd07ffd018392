"""The dashboard's figures: SQL aggregates over the read models, grouped by period.

Periods follow domain/periods.py: UTC days, ISO weeks starting on Monday, calendar
months, each named by its first day. PostgreSQL: date_trunc on the UTC wall clock.
SQLite: its date functions on the date part of the stored UTC text ('weekday 0' moves to
the coming Sunday, or stays on a Sunday; six days back is that week's Monday). Only the
date part, because SQLite reads times to the millisecond and rounds: 23:59:59.9995 would
become the next day.
"""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_admin.domain.periods import Granularity
from wayfare_admin.store.models import (
    booking_items,
    bookings,
    catalog_labels,
    payment_refunds,
    payments,
    users,
)
from wayfare_admin.store.readmodels import dialect

# Bookings that sold something: the ones top routes and packages count.
SOLD = ("confirmed", "completed")


def period_of(column: sa.ColumnElement, granularity: Granularity, backend: str):
    # Constants are literal SQL, not parameters: PostgreSQL would otherwise see the
    # SELECT's and the GROUP BY's expressions as different (each with its own parameter).
    def constant(text: str):
        return sa.literal_column(f"'{text}'")

    if backend == "postgresql":
        utc = sa.func.timezone(constant("UTC"), column)
        return sa.cast(sa.func.date_trunc(constant(granularity), utc), sa.Date)
    day = sa.func.substr(column, 1, 10)  # 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
    if granularity == "day":
        expr = day
    elif granularity == "week":
        expr = sa.func.date(day, constant("weekday 0"), constant("-6 days"))
    else:
        expr = sa.func.strftime(constant("%Y-%m-01"), day)
    return sa.type_coerce(expr, sa.Date)


@dataclass(frozen=True)
class Window:
    start: datetime  # inclusive
    end: datetime  # exclusive
    granularity: Granularity


async def captured(session: AsyncSession, window: Window) -> list[tuple[date, str, int]]:
    """Captured amounts per period and currency, by the time of capture."""
    column = payments.c.succeeded_at
    period = period_of(column, window.granularity, dialect(session))
    stmt = (
        sa.select(period, payments.c.currency, sa.func.sum(payments.c.captured_minor))
        .where(column >= window.start, column < window.end, payments.c.captured_minor.isnot(None))
        .group_by(period, payments.c.currency)
    )
    return [(day, currency, int(total)) for day, currency, total in await session.execute(stmt)]


async def refunded(session: AsyncSession, window: Window) -> list[tuple[date, str, int]]:
    """Refunded amounts per period and currency, by the time of the refund."""
    column = payment_refunds.c.refunded_at
    period = period_of(column, window.granularity, dialect(session))
    stmt = (
        sa.select(period, payment_refunds.c.currency, sa.func.sum(payment_refunds.c.amount_minor))
        .where(column >= window.start, column < window.end)
        .group_by(period, payment_refunds.c.currency)
    )
    return [(day, currency, int(total)) for day, currency, total in await session.execute(stmt)]


async def bookings_by_status(session: AsyncSession, window: Window) -> list[tuple[date, str, int]]:
    """Bookings created in each period, by their status now."""
    column = bookings.c.created_at
    period = period_of(column, window.granularity, dialect(session))
    stmt = (
        sa.select(period, bookings.c.status, sa.func.count())
        .where(column >= window.start, column < window.end)
        .group_by(period, bookings.c.status)
    )
    return [tuple(row) for row in await session.execute(stmt)]


async def new_users(session: AsyncSession, window: Window) -> list[tuple[date, int]]:
    column = users.c.registered_at
    period = period_of(column, window.granularity, dialect(session))
    stmt = (
        sa.select(period, sa.func.count())
        .where(column >= window.start, column < window.end)
        .group_by(period)
    )
    return [tuple(row) for row in await session.execute(stmt)]


def _sold_items(window: Window, kind: str) -> list[sa.ColumnElement[bool]]:
    return [
        booking_items.c.kind == kind,
        bookings.c.status.in_(SOLD),
        bookings.c.created_at >= window.start,
        bookings.c.created_at < window.end,
    ]


async def top_routes(session: AsyncSession, window: Window, limit: int) -> list[sa.Row]:
    """Origin to destination of each sold flight item (first flight's origin, last
    flight's destination), by the number of bookings, then seats."""
    origin, destination = catalog_labels.alias("origin"), catalog_labels.alias("destination")
    bookings_count = sa.func.count(sa.distinct(booking_items.c.booking_id)).label("bookings")
    seats = sa.func.sum(booking_items.c.seats).label("seats")
    stmt = (
        sa.select(origin.c.origin, destination.c.destination, bookings_count, seats)
        .select_from(
            booking_items.join(bookings, bookings.c.booking_id == booking_items.c.booking_id)
            .join(origin, origin.c.ref_id == booking_items.c.first_flight_id)
            .join(destination, destination.c.ref_id == booking_items.c.last_flight_id)
        )
        .where(*_sold_items(window, "flight"), origin.c.found, destination.c.found)
        .group_by(origin.c.origin, destination.c.destination)
        .order_by(bookings_count.desc(), seats.desc(), origin.c.origin, destination.c.destination)
        .limit(limit)
    )
    return list(await session.execute(stmt))


async def unlabelled_route_bookings(session: AsyncSession, window: Window) -> int:
    """Sold bookings with a flight whose airports are not known (yet): left out of
    top_routes, and counted so that the gap shows."""
    origin, destination = catalog_labels.alias("origin"), catalog_labels.alias("destination")
    stmt = (
        sa.select(sa.func.count(sa.distinct(booking_items.c.booking_id)))
        .select_from(
            booking_items.join(bookings, bookings.c.booking_id == booking_items.c.booking_id)
            .outerjoin(origin, origin.c.ref_id == booking_items.c.first_flight_id)
            .outerjoin(destination, destination.c.ref_id == booking_items.c.last_flight_id)
        )
        .where(
            *_sold_items(window, "flight"),
            sa.or_(
                sa.not_(sa.func.coalesce(origin.c.found, sa.false())),
                sa.not_(sa.func.coalesce(destination.c.found, sa.false())),
            ),
        )
    )
    return await session.scalar(stmt)


async def top_packages(session: AsyncSession, window: Window, limit: int) -> list[sa.Row]:
    bookings_count = sa.func.count(sa.distinct(booking_items.c.booking_id)).label("bookings")
    seats = sa.func.sum(booking_items.c.seats).label("seats")
    stmt = (
        sa.select(booking_items.c.package_id, catalog_labels.c.title, bookings_count, seats)
        .select_from(
            booking_items.join(
                bookings, bookings.c.booking_id == booking_items.c.booking_id
            ).outerjoin(catalog_labels, catalog_labels.c.ref_id == booking_items.c.package_id)
        )
        .where(*_sold_items(window, "package"))
        .group_by(booking_items.c.package_id, catalog_labels.c.title)
        .order_by(bookings_count.desc(), seats.desc(), booking_items.c.package_id)
        .limit(limit)
    )
    return list(await session.execute(stmt))
