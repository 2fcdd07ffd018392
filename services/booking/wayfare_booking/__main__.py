"""`python -m wayfare_booking [serve|migrate|dead-letters ...]`"""

import sys

from wayfare_booking.app import MIGRATIONS_DIR
from wayfare_booking.settings import Settings
from wayfare_common.cli import main

if __name__ == "__main__":
    sys.exit(main(Settings, "wayfare_booking.app:create_app", MIGRATIONS_DIR))
