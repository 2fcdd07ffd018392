"""`python -m wayfare_<service>`: run one service alone, migrate it, or work on its
dead letters. Every service's `__main__` (and the gateway's, which has no migrations) is
a call to `main()` with its own parts."""

import argparse
import asyncio
import json
import multiprocessing
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from wayfare_common.logging import configure_logging
from wayfare_common.settings import ServiceSettings


@dataclass(frozen=True)
class Command:
    """A service's own subcommand, e.g. auth's `create-admin` or flight's `seed`.
    `run` gets the settings and the parsed arguments and returns the exit code; the
    database is migrated first when the service has migrations."""

    help: str
    run: Callable[[ServiceSettings, argparse.Namespace], Awaitable[int]]
    arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


def main(
    settings_factory: Callable[[], ServiceSettings],
    app_factory: str,
    migrations_dir: Path | None,
    argv: list[str] | None = None,
    commands: dict[str, Command] | None = None,
    websockets: bool = False,
) -> int:
    """`websockets`: the app serves WebSocket upgrades (the gateway passes them through);
    without, uvicorn does not load a WebSocket implementation."""
    extra = commands or {}
    parser = argparse.ArgumentParser(prog=f"python -m {app_factory.split('.')[0]}")
    subcommands = parser.add_subparsers(dest="command")
    for name, command in extra.items():
        command.arguments(subcommands.add_parser(name, help=command.help))
    subcommands.add_parser(
        "serve", help="migrate (unless <SERVICE>_AUTO_MIGRATE=false) and serve (default)"
    )
    if migrations_dir is not None:
        subcommands.add_parser("migrate", help="apply the database migrations and exit")
    dead = subcommands.add_parser("dead-letters", help="list, replay or purge dead letters")
    dead.add_argument("action", choices=["list", "replay", "purge"])
    dead.add_argument("--id", action="append", dest="ids", help="only these message ids")
    args = parser.parse_args(argv)
    settings = settings_factory()
    # Logs go to stderr, so that `dead-letters list | jq` reads only the letters.
    configure_logging(
        service=settings.service_name, level=settings.log_level, json=not settings.is_development
    )

    if args.command == "migrate":
        upgrade(migrations_dir, settings.database_url)
        print(f"{settings.service_name}: database is up to date")
        return 0
    if args.command in extra:
        if migrations_dir is not None:
            upgrade(migrations_dir, settings.database_url)
        return asyncio.run(extra[args.command].run(settings, args))
    if args.command == "dead-letters":
        return asyncio.run(_dead_letters(settings, args.action, args.ids))

    if settings.auto_migrate and migrations_dir is not None:
        code = _upgrade_in_child(migrations_dir, settings.database_url)
        if code != 0:
            print(f"{settings.service_name}: migrations failed (exit {code})", file=sys.stderr)
            return 1
    uvicorn.run(
        app_factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        ws="websockets" if websockets else "none",
        # Open event streams would otherwise hold a shutdown until their tokens expire.
        timeout_graceful_shutdown=5,
    )
    return 0


def upgrade(migrations_dir: Path, url: str) -> None:
    # Imported here: Alembic is loaded only by a process that migrates.
    from wayfare_common.migrations import upgrade as alembic_upgrade

    alembic_upgrade(migrations_dir, url)


def _upgrade_in_child(migrations_dir: Path, url: str) -> int:
    """Migrate in a forked child, so that alembic, the migration scripts and what they
    load (about 7 MB) stay out of the serving process; returns the child's exit code."""
    child = multiprocessing.get_context("fork").Process(
        target=upgrade, args=(migrations_dir, url), name="migrate"
    )
    child.start()
    child.join()
    return child.exitcode


async def _dead_letters(settings: ServiceSettings, action: str, ids: list[str] | None) -> int:
    from wayfare_common.messaging.deadletters import DeadLetters

    if not settings.amqp_url:
        print("AMQP_URL is empty: there is no broker to read dead letters from", file=sys.stderr)
        return 2
    async with DeadLetters.connect(settings) as dead_letters:
        if action == "list":
            letters = await dead_letters.list()
            for letter in letters:
                print(json.dumps(letter, default=str))
            print(f"{len(letters)} dead letter(s) in {dead_letters.queue_name}", file=sys.stderr)
        elif action == "replay":
            count = await dead_letters.replay(ids)
            print(f"replayed {count} dead letter(s) to {settings.service_name}", file=sys.stderr)
        else:
            count = await dead_letters.purge(ids)
            print(f"purged {count} dead letter(s)", file=sys.stderr)
    return 0
