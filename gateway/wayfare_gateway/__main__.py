"""`python -m wayfare_gateway`: serve the gateway (it has nothing to migrate)."""

import sys

from wayfare_common.cli import main
from wayfare_gateway.settings import Settings

if __name__ == "__main__":
    sys.exit(main(Settings, "wayfare_gateway.app:create_app", None, websockets=True))
