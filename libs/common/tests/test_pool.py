"""The connection pool after PostgreSQL has closed its connections (a restart, a
failover, an idle timeout): the next transaction gets a live connection, without the
three round trips of a pre-ping before every transaction."""

import asyncio

import sqlalchemy as sa

from wayfare_common.db import Database, connect_asyncpg


async def _server_pids(database: Database) -> set[int]:
    """Backend pids of the connections now in the pool (each checked out at once)."""
    sessions = [database.sessions() for _ in range(3)]
    try:
        return {
            (await s.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one() for s in sessions
        }
    finally:
        for session in sessions:
            await session.close()


async def _terminate(url: str, pids: set[int]) -> None:
    admin = await connect_asyncpg(url)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", list(pids)
        )
    finally:
        await admin.close()


async def test_connections_the_server_closed_are_replaced_before_use(postgres_url):
    database = Database(postgres_url, pool_size=3, max_overflow=0)
    try:
        old = await _server_pids(database)
        assert len(old) == 3
        await _terminate(postgres_url, old)
        await asyncio.sleep(0.2)  # the server's goodbye reaches the idle sockets

        # Every pooled connection is dead; each of these transactions still succeeds.
        for _ in range(3):
            async with database.sessions.begin() as session:
                pid = (await session.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
                assert pid not in old
        assert not (await _server_pids(database)) & old
    finally:
        await database.dispose()


async def test_a_transaction_sends_nothing_to_check_its_connection(postgres_url):
    """What pool_pre_ping would add before every transaction: BEGIN, an empty query, ROLLBACK."""
    database = Database(postgres_url, pool_size=1, max_overflow=0)
    sent: list[str] = []
    try:
        async with database.engine.connect() as connection:  # the pool's one connection
            raw = await connection.get_raw_connection()
            raw.driver_connection.add_query_logger(lambda record: sent.append(record.query))
        for _ in range(3):
            async with database.sessions.begin() as session:
                await session.execute(sa.text("SELECT 1"))
        # (The SELECT runs as a prepared statement, which the query logger does not see.)
        assert sent == ["BEGIN;", "COMMIT;"] * 3
    finally:
        await database.dispose()
