import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_auth.store import fastpath
from wayfare_auth.store.models import User, utcnow


async def by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(sa.select(User).where(User.email == email))


async def by_id(
    session: AsyncSession, user_id: uuid.UUID, *, for_update: bool = False
) -> User | None:
    statement = sa.select(User).where(User.id == user_id)
    if for_update:
        statement = statement.with_for_update()  # ignored by SQLite, which locks on BEGIN
    return await session.scalar(statement)


def listing(include_inactive: bool) -> sa.Select:
    statement = sa.select(User)
    if not include_inactive:
        statement = statement.where(User.is_active.is_(True))
    return statement


_REHASH = fastpath.Statement(
    sa.update(User.__table__)
    .where(User.id == sa.bindparam("user_id"))
    # Named in full: a compiled statement carries no Python-side defaults (onupdate).
    .values(password_hash=sa.bindparam("password_hash"), updated_at=sa.bindparam("updated_at"))
)


async def set_password_hash(db: fastpath.LoginDB, user_id: uuid.UUID, password_hash: str) -> None:
    """A rehash at login (new parameters): the same password, so nothing else changes."""
    params = {"user_id": user_id, "password_hash": password_hash, "updated_at": utcnow()}
    await _REHASH.execute(db, params)
