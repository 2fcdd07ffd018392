"""`python -m wayfare_booking [serve|migrate|complete-travelled|dead-letters ...]`"""

import argparse
import sys
from datetime import UTC, datetime

from wayfare_booking.app import MIGRATIONS_DIR
from wayfare_booking.background import Background
from wayfare_booking.settings import Settings
from wayfare_common.cli import Command, main
from wayfare_common.db import Database
from wayfare_common.messaging.outbox import Outbox


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _complete_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--travel-ended-before",
        type=_moment,
        metavar="ISO-8601",
        help="complete bookings whose travel ended before this moment (default: the "
        "completion delay ago); a moment still to come is refused in production",
    )


async def complete_travelled(settings: Settings, args: argparse.Namespace) -> int:
    """What the hourly completion does, now. A later moment completes trips that have not
    ended yet, so that demos and tests can follow a booking to its vendor payout without
    waiting for the trip; production refuses it, as it would pay vendors early. The
    events wait in the outbox until the service's relay sends them."""
    before = args.travel_ended_before
    if before is not None and before > datetime.now(UTC) and settings.environment == "production":
        print("refused: travel cannot have ended in the future in production", file=sys.stderr)
        return 2
    database = Database(settings.database_url)
    try:
        done = await Background(settings, database, Outbox()).complete_once(before)
    finally:
        await database.dispose()
    print(f"completed {done} booking(s)", file=sys.stderr)
    return 0


COMMANDS = {
    "complete-travelled": Command(
        "complete the confirmed bookings whose travel is over, now",
        complete_travelled,
        _complete_arguments,
    )
}

if __name__ == "__main__":
    sys.exit(main(Settings, "wayfare_booking.app:create_app", MIGRATIONS_DIR, commands=COMMANDS))
