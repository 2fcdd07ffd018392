"""`python -m wayfare_payment [serve|migrate|run-payouts|dead-letters ...]`"""

import argparse
import json
import sys

from wayfare_common.cli import Command, main
from wayfare_common.db import Database
from wayfare_common.events.envelope import EventContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_payment.app import MIGRATIONS_DIR
from wayfare_payment.domain.errors import PayoutRunInProgress
from wayfare_payment.providers.registry import build_providers
from wayfare_payment.settings import Settings
from wayfare_payment.usecases import payouts


async def run_payouts(settings: Settings, args: argparse.Namespace) -> int:
    """One payout run now (as the scheduler or staff would); its events wait in the outbox
    until the service's relay sends them."""
    database = Database(settings.database_url)
    try:
        result = await payouts.run(
            database,
            Outbox(),
            build_providers(settings).default,
            settings.payout_minimum,
            EventContext(producer=settings.service_name),
        )
    except PayoutRunInProgress:
        print("a payout run is already under way", file=sys.stderr)
        return 1
    finally:
        await database.dispose()
    for payout in result.sent + result.failed + result.waiting:
        print(
            json.dumps(
                {
                    "payout_id": str(payout.id),
                    "vendor_id": str(payout.vendor_id),
                    "amount": payout.amount.to_json(),
                    "status": payout.status,
                }
            )
        )
    print(
        f"sent {len(result.sent)}, failed {len(result.failed)}, waiting {len(result.waiting)}, "
        f"skipped {len(result.skipped)}",
        file=sys.stderr,
    )
    return 0


COMMANDS = {"run-payouts": Command("pay every vendor owed at least the minimum, now", run_payouts)}

if __name__ == "__main__":
    sys.exit(main(Settings, "wayfare_payment.app:create_app", MIGRATIONS_DIR, commands=COMMANDS))
