"""`python -m wayfare_notification [serve|migrate|dead-letters ...]`"""

import sys

from wayfare_common.cli import main
from wayfare_notification.app import MIGRATIONS_DIR
from wayfare_notification.settings import Settings

if __name__ == "__main__":
    sys.exit(main(Settings, "wayfare_notification.app:create_app", MIGRATIONS_DIR))
