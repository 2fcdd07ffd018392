"""In-app notifications: always filtered by their owner, so another user's id is simply
not found."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.pagination import Page, PageParams, paginate
from wayfare_notification.store.models import Notification


async def page(
    session: AsyncSession, user_id: UUID, params: PageParams, *, unread_only: bool = False
) -> Page[Any]:
    """Newest first; items are `Notification` rows."""
    statement = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return await paginate(
        session,
        statement,
        [Notification.created_at, Notification.id],
        params,
        descending=True,
    )


async def get(session: AsyncSession, user_id: UUID, notification_id: UUID) -> Notification | None:
    return await session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
    )


async def mark_read(
    session: AsyncSession, user_id: UUID, notification_id: UUID
) -> Notification | None:
    """Marks it read (the first time only, so `read_at` says when it was first read)."""
    await session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=datetime.now(UTC))
    )
    return await session.scalar(
        select(Notification)
        .where(Notification.id == notification_id, Notification.user_id == user_id)
        .execution_options(populate_existing=True)
    )


async def mark_all_read(session: AsyncSession, user_id: UUID) -> int:
    result = await session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=datetime.now(UTC))
    )
    return result.rowcount


async def unread_count(session: AsyncSession, user_id: UUID) -> int:
    return await session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


async def since(
    session: AsyncSession, user_id: UUID, last_id: UUID, limit: int
) -> list[Notification]:
    """The user's notifications created after `last_id` (oldest first), for a stream
    that resumes; nothing when `last_id` is not one of theirs."""
    last = await get(session, user_id, last_id)
    if last is None:
        return []
    result = await session.scalars(
        select(Notification)
        .where(
            Notification.user_id == user_id,
            tuple_(Notification.created_at, Notification.id)
            > tuple_(
                literal(last.created_at, Notification.created_at.type),
                literal(last.id, Notification.id.type),
            ),
        )
        .order_by(Notification.created_at, Notification.id)
        .limit(limit)
    )
    return list(result)
