"""The login path's statements, run on a plain asyncpg pool on PostgreSQL.

DESIGN §8: a statement through SQLAlchemy's async layer costs several times the CPU of
the same statement through asyncpg (measured here: about 0.3 ms against 0.07 ms), and a
checkout from SQLAlchemy's pool adds a pre-ping round trip and its bookkeeping; a login's
CPU is what competes with its password hash (bench/login.md). So on PostgreSQL the login
path takes a connection from a small asyncpg pool of its own (one per login slot), where
each statement commits on its own. Each statement is still written once, in SQLAlchemy
Core, and compiled once for asyncpg (SQL text and parameter order); on SQLite it runs
through the request's SQLAlchemy session instead, committed with `commit`.
"""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wayfare_common.db import is_postgres

_ASYNCPG = asyncpg_dialect()

# Where a login-path statement runs: an asyncpg connection, or a SQLAlchemy session.
LoginDB = asyncpg.Connection | AsyncSession


class Statement:
    """A Core statement and its asyncpg form. The caller passes every named parameter:
    the compiled form applies no Python-side column defaults; values written into the
    statement itself (such as `.limit(1)`) are kept."""

    def __init__(self, statement: sa.Executable):
        self.statement = statement
        compiled = statement.compile(dialect=_ASYNCPG)
        self.sql = str(compiled)
        self.order = compiled.positiontup or []
        self.constants = {
            name: bind.value for name, bind in compiled.binds.items() if not bind.required
        }

    async def fetchrow(self, db: LoginDB, params: dict[str, Any]) -> Any:
        """The first row or None (asyncpg's Record or SQLAlchemy's RowMapping: by name)."""
        if isinstance(db, AsyncSession):
            return (await db.execute(self.statement, params)).mappings().first()
        return await db.fetchrow(self.sql, *self._args(params))

    async def execute(self, db: LoginDB, params: dict[str, Any]) -> None:
        if isinstance(db, AsyncSession):
            await db.execute(self.statement, params)
        else:
            await db.execute(self.sql, *self._args(params))

    def _args(self, params: dict[str, Any]) -> list[Any]:
        return [params[name] if name in params else self.constants[name] for name in self.order]


async def commit(db: LoginDB) -> None:
    """Commit what the statements did (asyncpg has committed each already)."""
    if isinstance(db, AsyncSession):
        await db.commit()


async def create_pool(url: str, size: int) -> asyncpg.Pool | None:
    """The login path's pool on PostgreSQL, else None (SQLite uses the session)."""
    if not is_postgres(url):
        return None
    parsed = make_url(url)
    return await asyncpg.create_pool(
        host=parsed.host or "localhost",
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
        min_size=1,
        max_size=size,
        reset=_no_reset,
    )


async def _no_reset(connection: asyncpg.Connection) -> None:
    """The login statements leave no session state, so the pool skips asyncpg's default
    reset (RESET ALL, UNLISTEN ...), which halves throughput (DESIGN §8)."""


@contextlib.asynccontextmanager
async def connection(
    pool: asyncpg.Pool | None, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[LoginDB]:
    """A connection of the login pool, or (SQLite) a new session: commit with `commit`."""
    if pool is None:
        async with sessions() as session:
            yield session
    else:
        async with pool.acquire() as acquired:
            yield acquired
