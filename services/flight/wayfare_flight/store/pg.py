"""Plain asyncpg connections to the service's PostgreSQL database, for the two places
where SQLAlchemy's overhead shows: the search hot path and COPY when seeding."""

import asyncpg

from wayfare_common.db import asyncpg_params, connect_asyncpg


async def connect(url: str) -> asyncpg.Connection:
    return await connect_asyncpg(url)


async def _keep_session(connection: asyncpg.Connection) -> None:
    """The search only reads and leaves no session state behind, so the pool skips
    asyncpg's default reset (RESET ALL, UNLISTEN ...), which halves throughput (DESIGN §8)."""


async def create_pool(url: str, size: int) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        min_size=1, max_size=size, reset=_keep_session, **asyncpg_params(url)
    )
