"""Wait until a service's database is at the head of its migrations.

    python /opt/wayfare/wait_for_migrations.py wayfare_booking [--timeout 600] [--interval 2]

On Kubernetes the migration Job applies the migrations and each pod's init container runs
this, so that no pod of a new version serves before its schema is there (the service runs
with <NAME>_AUTO_MIGRATE=false). It only reads: the Job stays the one writer. Exit 0 once
the database is at head, 1 when --timeout seconds pass first (the pod then restarts and
says why in its log).
"""

import argparse
import asyncio
import importlib
import sys
import time

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import pool
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from wayfare_common.migrations import alembic_config


async def current_heads(url: str) -> set[str]:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            heads = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_heads()
            )
    finally:
        await engine.dispose()
    return set(heads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", help="the service's package, e.g. wayfare_booking")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between looks")
    args = parser.parse_args(argv)

    migrations_dir = importlib.import_module(f"{args.package}.app").MIGRATIONS_DIR
    url = importlib.import_module(f"{args.package}.settings").Settings().database_url
    where = make_url(url).render_as_string(hide_password=True)
    wanted = set(ScriptDirectory.from_config(alembic_config(migrations_dir, url)).get_heads())

    deadline = time.monotonic() + args.timeout
    while True:
        try:
            found = asyncio.run(current_heads(url))
            state = f"at {', '.join(sorted(found)) or 'no revision'}"
        except Exception as err:  # not reachable yet: keep waiting, say why at the end
            found, state = None, f"unreachable ({type(err).__name__}: {err})"
        if found == wanted:
            print(f"{args.package}: {where} is at head ({', '.join(sorted(wanted))})")
            return 0
        if time.monotonic() >= deadline:
            print(
                f"{args.package}: {where} is {state}, not at head "
                f"({', '.join(sorted(wanted))}) after {args.timeout:.0f} s: has the migration "
                "Job run? (kubectl get jobs; kubectl logs job/<name>)",
                file=sys.stderr,
            )
            return 1
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
