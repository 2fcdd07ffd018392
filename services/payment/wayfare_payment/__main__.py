"""`python -m wayfare_payment [serve|migrate|dead-letters ...]`"""

import sys

from wayfare_common.cli import main
from wayfare_payment.app import MIGRATIONS_DIR
from wayfare_payment.settings import Settings

if __name__ == "__main__":
    sys.exit(main(Settings, "wayfare_payment.app:create_app", MIGRATIONS_DIR))
