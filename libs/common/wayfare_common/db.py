"""Async database helpers: one engine per service, SQLite or PostgreSQL by URL.

SQLite is the embedded default, so it is tuned to behave under concurrent writers:
WAL, a busy timeout and `BEGIN IMMEDIATE`, which takes the write lock at the start of a
transaction instead of failing half-way when two transactions upgrade at once.
"""

import importlib
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """Metadata for a service's models: `class Base(DeclarativeBase): metadata = new_metadata()`."""
    return MetaData(naming_convention=NAMING_CONVENTION)


# A 64-bit key that auto-increments everywhere: SQLite does so only for INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UtcDateTime(sa.types.TypeDecorator):
    """An aware datetime stored in UTC. SQLite keeps only the digits it is given and hands
    back naive values, so values are converted to UTC on the way in and marked UTC on the
    way out (PostgreSQL's timestamptz does both by itself). Naive values are refused."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def coerce_compared_value(self, op, value):
        # `column - timedelta(...)`: the other side is an interval, not a datetime.
        if isinstance(value, timedelta):
            return sa.Interval()
        return self

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: times must carry an offset")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def asyncpg_params(url: str, *, database: str | None = None) -> dict:
    """asyncpg's connection arguments for a SQLAlchemy PostgreSQL URL (`database`
    overrides the URL's, e.g. "postgres" to create or drop one)."""
    parsed = make_url(url)
    return {
        "host": parsed.host or "localhost",
        "port": parsed.port or 5432,
        "user": parsed.username,
        "password": parsed.password,
        "database": database or parsed.database or "postgres",
    }


async def connect_asyncpg(url: str, *, database: str | None = None) -> asyncpg.Connection:
    """A plain asyncpg connection, where SQLAlchemy is in the way: COPY, hot paths,
    administration (CREATE DATABASE), tests and benchmarks looking at the rows."""
    return await asyncpg.connect(**asyncpg_params(url, database=database))


def dialect_insert(dialect: str, table):
    """INSERT that takes ON CONFLICT clauses, in `dialect` ("postgresql" or "sqlite";
    e.g. `session.bind.dialect.name`). Imported on first use: a service on PostgreSQL
    never loads SQLite's dialect and driver, nor the reverse."""
    return importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert(table)


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, **kwargs
) -> AsyncEngine:
    """`pool_size` connections kept open, `max_overflow` more under load (PostgreSQL; a
    SQLite file has one writer anyway)."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _tune_sqlite(engine)
        return engine
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine.sync_engine, "checkout", _drop_if_closed)
    return engine


def _drop_if_closed(dbapi_connection, _record, _proxy) -> None:
    """A pooled connection that PostgreSQL closed while it idled (a restart, a failover,
    an idle timeout) is replaced before anyone uses it.

    SQLAlchemy's `pool_pre_ping` would ask the server instead: with asyncpg that is BEGIN,
    an empty query and ROLLBACK, three round trips before every transaction, which made
    up a third of a saga's database round trips (bench/README.md). The event loop has
    already read the server's goodbye from an idle socket, so the driver knows without
    asking. A connection lost silently (a network cut with no FIN) still fails its first
    statement: SQLAlchemy then invalidates the whole pool, that one request is a 503, and
    the next ones connect afresh."""
    if dbapi_connection.driver_connection.is_closed():
        raise sa.exc.DisconnectionError("the server closed this pooled connection")


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The engine and session factory of one service."""

    def __init__(self, url: str, **engine_kwargs):
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


# What the driver raises when PostgreSQL cannot be reached or drops the connection: down,
# restarting (57P01-57P03), out of connections, or no pooled connection came free in time.
_UNREACHABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    sa.exc.TimeoutError,
)


def causes(exc: BaseException, limit: int = 10) -> Iterator[BaseException]:
    """`exc` and what caused it, outermost first: the driver's error hides inside
    SQLAlchemy's (at most `limit`: a chain, not a cycle)."""
    seen: BaseException | None = exc
    for _ in range(limit):
        if seen is None:
            return
        yield seen
        seen = seen.__cause__ or seen.__context__


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the database cannot be reached right now,
    rather than that the statement or the data are wrong: worth a 503, and a retry."""
    return any(
        (isinstance(seen, sa.exc.DBAPIError) and seen.connection_invalidated)
        or isinstance(seen, _UNREACHABLE)
        # Connecting, asyncpg lets the socket's own errors through (reset, refused).
        or (isinstance(seen, OSError) and _raised_in_the_driver(seen))
        for seen in causes(exc)
    )


def nul_in_text(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is PostgreSQL refusing a NUL character in text:
    validation lets it through, so it is the client's data that is wrong (a 422)."""
    return any(isinstance(seen, asyncpg.CharacterNotInRepertoireError) for seen in causes(exc))


# The errors SQLAlchemy and the driver raise, for an app's exception handlers.
DRIVER_ERRORS = (sa.exc.SQLAlchemyError, asyncpg.PostgresError)


def _raised_in_the_driver(exc: BaseException) -> bool:
    traceback = exc.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_globals.get("__name__", "").startswith(("asyncpg", "sqlalchemy")):
            return True
        traceback = traceback.tb_next
    return False


def log_failure(log, event: str, **fields) -> None:
    """In an `except` block of a loop that runs again (relay, sweeps, workers): a
    database that cannot be reached is one warning line each time, not a traceback on
    every poll of an outage; anything else is logged with its traceback."""
    exc = sys.exc_info()[1]
    if exc is not None and database_unreachable(exc):
        log.warning(
            event,
            reason="database_unreachable",
            error=f"{type(exc).__name__}: {exc}"[:300],
            **fields,
        )
    else:
        log.exception(event, **fields)
