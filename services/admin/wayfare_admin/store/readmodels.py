"""Loading and saving the read models' views (domain dataclasses) row by row."""

import hashlib
import uuid
from dataclasses import asdict, fields, replace
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_admin.domain.bookings import BookingView, ItemView
from wayfare_admin.domain.payments import PaymentView, RefundRecord
from wayfare_admin.domain.users import UserView
from wayfare_admin.store.models import (
    READ_MODELS,
    booking_items,
    bookings,
    payment_refunds,
    payments,
    users,
)

V = TypeVar("V")


def dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name


async def lock_entity(session: AsyncSession, kind: str, key: uuid.UUID) -> None:
    """Serialise the writers of one booking, payment or user until the transaction ends.

    The consumer handles several events at once; two about the same booking would both
    read the row and one update would be lost (or both would insert it). PostgreSQL: a
    transaction-scoped advisory lock, which also covers rows that do not exist yet.
    SQLite: nothing to do, its transactions start with BEGIN IMMEDIATE and run one at a
    time."""
    if dialect(session) == "postgresql":
        digest = hashlib.blake2b(f"{kind}:{key}".encode(), digest_size=8).digest()
        await session.execute(
            sa.select(sa.func.pg_advisory_xact_lock(int.from_bytes(digest, "big", signed=True)))
        )


async def _load(session: AsyncSession, table: sa.Table, view: type[V], key: Any) -> V | None:
    pk = table.primary_key.columns.values()[0]
    row = (await session.execute(sa.select(table).where(pk == key))).mappings().first()
    if row is None:
        return None
    names = {f.name for f in fields(view)}  # type: ignore[arg-type]
    return view(**{name: value for name, value in row.items() if name in names})


async def _save(session: AsyncSession, table: sa.Table, view: Any, existed: bool) -> None:
    values = {f.name: getattr(view, f.name) for f in fields(view) if f.name in table.c}
    pk = table.primary_key.columns.values()[0]
    if existed:
        await session.execute(sa.update(table).where(pk == values[pk.name]).values(values))
    else:
        await session.execute(sa.insert(table).values(values))


async def load_user(session: AsyncSession, user_id: uuid.UUID) -> UserView | None:
    return await _load(session, users, UserView, user_id)


async def save_user(session: AsyncSession, view: UserView, existed: bool) -> None:
    await _save(session, users, view, existed)


async def load_booking(session: AsyncSession, booking_id: uuid.UUID) -> BookingView | None:
    view = await _load(session, bookings, BookingView, booking_id)
    if view is None:
        return None
    rows = await session.execute(
        sa.select(booking_items)
        .where(booking_items.c.booking_id == booking_id)
        .order_by(booking_items.c.position)
    )
    names = {f.name for f in fields(ItemView)}
    items = tuple(
        ItemView(**{k: v for k, v in row.items() if k in names}) for row in rows.mappings()
    )
    return replace(view, items=items)


async def save_booking(
    session: AsyncSession, view: BookingView, before: BookingView | None
) -> None:
    await _save(session, bookings, view, before is not None)
    if (before.items if before else ()) == view.items:
        return
    await session.execute(
        sa.delete(booking_items).where(booking_items.c.booking_id == view.booking_id)
    )
    if view.items:
        await session.execute(
            sa.insert(booking_items),
            [
                {**asdict(item), "booking_id": view.booking_id, "position": position}
                for position, item in enumerate(view.items)
            ],
        )


async def load_payment(session: AsyncSession, payment_id: uuid.UUID) -> PaymentView | None:
    return await _load(session, payments, PaymentView, payment_id)


async def save_payment(session: AsyncSession, view: PaymentView, existed: bool) -> None:
    await _save(session, payments, view, existed)


async def add_refund(session: AsyncSession, refund: RefundRecord) -> None:
    await session.execute(sa.insert(payment_refunds).values(asdict(refund)))


async def clear(session: AsyncSession) -> None:
    """Empty every read model (not the archive, not the audit log). On PostgreSQL one
    TRUNCATE: its lock makes event handlers running meanwhile wait for the rebuild to
    commit, so that none of their effects is lost between the clearing and the replay."""
    if dialect(session) == "postgresql":
        names = ", ".join(table.name for table in READ_MODELS)
        await session.execute(sa.text(f"TRUNCATE {names}"))
    else:
        for table in READ_MODELS:
            await session.execute(sa.delete(table))
