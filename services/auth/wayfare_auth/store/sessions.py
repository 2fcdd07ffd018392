import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_auth.store import fastpath
from wayfare_auth.store.models import RotatedRefreshToken, Session, User

_INSERT = fastpath.Statement(sa.insert(Session.__table__))  # on every login
_COLUMNS = [column.name for column in Session.__table__.columns]


async def add(db: fastpath.LoginDB, **values) -> None:
    """Insert a session row: one statement, no unit-of-work bookkeeping."""
    await _INSERT.execute(db, {**dict.fromkeys(_COLUMNS), **values})


async def by_refresh_hash(session: AsyncSession, token_hash: str) -> tuple[Session, User] | None:
    """The session whose current refresh token this is, and its user, locked until commit:
    of two refreshes racing with one token, the second finds it already replaced."""
    row = (
        await session.execute(
            sa.select(Session, User)
            .join(User, User.id == Session.user_id)
            .where(Session.refresh_hash == token_hash)
            .with_for_update(of=Session)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def session_of_rotated(session: AsyncSession, token_hash: str) -> Session | None:
    """The session of a refresh token that was replaced already (so this is a reuse)."""
    return await session.scalar(
        sa.select(Session)
        .join(RotatedRefreshToken, RotatedRefreshToken.session_id == Session.id)
        .where(RotatedRefreshToken.token_hash == token_hash)
        .with_for_update(of=Session)
    )


async def with_user(
    session: AsyncSession, session_id: uuid.UUID, *, lock: bool = False
) -> tuple[Session, User] | None:
    """The session and its user; `lock` holds the session row until commit (PostgreSQL)."""
    statement = (
        sa.select(Session, User)
        .join(User, User.id == Session.user_id)
        .where(Session.id == session_id)
    )
    if lock:
        statement = statement.with_for_update(of=Session)
    row = (await session.execute(statement)).first()
    return (row[0], row[1]) if row else None


async def live(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> list[Session]:
    """The user's sessions that are neither revoked nor past their absolute expiry."""
    result = await session.scalars(
        sa.select(Session)
        .where(Session.user_id == user_id, Session.revoked_at.is_(None), Session.expires_at > now)
        .order_by(Session.created_at)
        .with_for_update()
    )
    return list(result)


async def purge_expired(session: AsyncSession, before: datetime) -> None:
    """Delete sessions (and their rotated tokens) whose absolute expiry is before `before`."""
    expired = sa.select(Session.id).where(Session.expires_at < before).scalar_subquery()
    await session.execute(
        sa.delete(RotatedRefreshToken).where(RotatedRefreshToken.session_id.in_(expired))
    )
    await session.execute(sa.delete(Session).where(Session.expires_at < before))
