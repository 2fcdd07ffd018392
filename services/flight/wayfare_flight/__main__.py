"""`python -m wayfare_flight [serve|migrate|dead-letters ...]`"""

import sys

from wayfare_common.cli import main
from wayfare_flight.app import MIGRATIONS_DIR
from wayfare_flight.settings import Settings

if __name__ == "__main__":
    sys.exit(main(Settings, "wayfare_flight.app:create_app", MIGRATIONS_DIR))
