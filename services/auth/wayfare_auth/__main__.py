"""`python -m wayfare_auth [serve|migrate|create-admin|rotate-key|retire-key|dead-letters ...]`"""

import sys

from wayfare_auth.app import MIGRATIONS_DIR
from wayfare_auth.commands import COMMANDS
from wayfare_auth.settings import Settings
from wayfare_common.cli import main

if __name__ == "__main__":
    sys.exit(main(Settings, "wayfare_auth.app:create_app", MIGRATIONS_DIR, commands=COMMANDS))
