"""`python -m wayfare_admin [serve|migrate|dead-letters ...]`"""

import sys

from wayfare_admin.app import MIGRATIONS_DIR
from wayfare_admin.settings import Settings
from wayfare_common.cli import main

if __name__ == "__main__":
    sys.exit(main(Settings, "wayfare_admin.app:create_app", MIGRATIONS_DIR))
