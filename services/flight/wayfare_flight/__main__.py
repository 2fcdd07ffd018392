"""`python -m wayfare_flight [serve|migrate|seed|dead-letters ...]`"""

import argparse
import json
import sys
from datetime import date

from wayfare_common.cli import Command, main
from wayfare_common.db import Database
from wayfare_flight.app import MIGRATIONS_DIR
from wayfare_flight.settings import Settings


def _seed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=int, default=21, help="days of schedule (default 21)")
    parser.add_argument(
        "--airports", type=int, default=60, help="the N busiest airports (default 60, max ~335)"
    )
    parser.add_argument("--seed", type=int, default=1, help="same seed, same flights (default 1)")
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=None,
        help="first day, YYYY-MM-DD (default tomorrow)",
    )
    parser.add_argument("--no-packages", action="store_true", help="flights only")


async def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from wayfare_flight.usecases.seed import seed

    database = Database(settings.database_url)
    try:
        report = await seed(
            database,
            days=args.days,
            airports=args.airports,
            seed=args.seed,
            start=args.start,
            packages=not args.no_packages,
        )
    finally:
        await database.dispose()
    print(json.dumps(report))
    return 0


COMMANDS = {
    "seed": Command(
        help="load a generated schedule (and demo tour packages); existing flights are kept",
        run=_seed,
        arguments=_seed_arguments,
    )
}

if __name__ == "__main__":
    sys.exit(main(Settings, "wayfare_flight.app:create_app", MIGRATIONS_DIR, commands=COMMANDS))
