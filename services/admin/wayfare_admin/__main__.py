"""`python -m wayfare_admin [serve|migrate|rebuild-read-models|dead-letters ...]`"""

import argparse
import json
import sys

from wayfare_admin.app import MIGRATIONS_DIR
from wayfare_admin.settings import Settings
from wayfare_common.cli import Command, main
from wayfare_common.db import Database


async def _rebuild(settings: Settings, args: argparse.Namespace) -> int:
    from wayfare_admin.rebuild import rebuild_read_models

    database = Database(settings.database_url)
    try:
        report = await rebuild_read_models(database)
    finally:
        await database.dispose()
    print(json.dumps(report))
    return 0


COMMANDS = {
    "rebuild-read-models": Command(
        help="empty the read models and replay every archived event into them",
        run=_rebuild,
    )
}

if __name__ == "__main__":
    sys.exit(main(Settings, "wayfare_admin.app:create_app", MIGRATIONS_DIR, commands=COMMANDS))
