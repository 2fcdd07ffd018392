"""Alembic, driven from code: each service keeps its own history under
`services/<name>/migrations/` and its `env.py` is two lines that call `run_env`."""

import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.ext.asyncio import async_engine_from_config

from wayfare_common.db import is_sqlite
from wayfare_common.messaging.tables import messaging_metadata


def alembic_config(migrations_dir: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`. Call it where no event loop runs
    (from async code: `await asyncio.to_thread(upgrade, ...)`)."""
    if is_sqlite(url):
        from wayfare_common.db import create_engine  # creates the file's folder

        asyncio.run(create_engine(url).dispose())
    command.upgrade(alembic_config(migrations_dir, url), revision)


def run_env(service_metadata: MetaData, default_url: Callable[[], str]) -> None:
    """The body of a service's `migrations/env.py`."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url") or default_url()
    targets = [service_metadata, messaging_metadata]
    options = dict(target_metadata=targets, render_as_batch=is_sqlite(url), compare_type=True)

    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection):
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    async def main():
        section = {"sqlalchemy.url": url}
        engine = async_engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(run)
        await engine.dispose()

    asyncio.run(main())
