import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_auth.store.models import BackupCode


async def replace_backup_codes(
    session: AsyncSession, user_id: uuid.UUID, hashes: list[str]
) -> None:
    await delete_backup_codes(session, user_id)
    session.add_all(BackupCode(user_id=user_id, code_hash=code_hash) for code_hash in hashes)


async def delete_backup_codes(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(sa.delete(BackupCode).where(BackupCode.user_id == user_id))


async def use_backup_code(
    session: AsyncSession, user_id: uuid.UUID, code_hash: str, now: datetime
) -> bool:
    result = await session.execute(
        sa.update(BackupCode)
        .where(
            BackupCode.user_id == user_id,
            BackupCode.code_hash == code_hash,
            BackupCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return result.rowcount == 1


async def unused_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    return await session.scalar(
        sa.select(sa.func.count())
        .select_from(BackupCode)
        .where(BackupCode.user_id == user_id, BackupCode.used_at.is_(None))
    )
