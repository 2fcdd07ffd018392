"""Single-use tokens: a token is used once its jti is stored here."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_auth.store.models import UsedToken
from wayfare_common.db import dialect_insert


async def mark_used(session: AsyncSession, jti: str, purpose: str, expires_at: datetime) -> bool:
    """True the first time `jti` is marked, False ever after (also under races)."""
    result = await session.execute(
        dialect_insert(session.bind.dialect.name, UsedToken)
        .values(jti=jti, purpose=purpose, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["jti"])
    )
    return result.rowcount == 1


async def purge(session: AsyncSession, now: datetime) -> None:
    await session.execute(sa.delete(UsedToken).where(UsedToken.expires_at < now))
