"""Plain asyncpg connections to the service's PostgreSQL database, for the two places
where SQLAlchemy's overhead shows: the search hot path and COPY when seeding."""

import asyncpg
from sqlalchemy.engine import make_url


def connect_kwargs(url: str) -> dict:
    parsed = make_url(url)
    return {
        "host": parsed.host or "localhost",
        "port": parsed.port or 5432,
        "user": parsed.username,
        "password": parsed.password,
        "database": parsed.database,
    }


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(**connect_kwargs(url))


async def _keep_session(connection: asyncpg.Connection) -> None:
    """The search only reads and leaves no session state behind, so the pool skips
    asyncpg's default reset (RESET ALL, UNLISTEN ...), which halves throughput (DESIGN §8)."""


async def create_pool(url: str, size: int) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        min_size=1, max_size=size, reset=_keep_session, **connect_kwargs(url)
    )
