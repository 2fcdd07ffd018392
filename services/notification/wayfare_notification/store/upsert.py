from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.db import dialect_insert


def insert(session: AsyncSession, table):
    """INSERT with ON CONFLICT support in the session's dialect (PostgreSQL or SQLite)."""
    return dialect_insert(session.bind.dialect.name, table)
