import sys
from pathlib import Path

# The helpers beside this file are imported by the tests.
sys.path.insert(0, str(Path(__file__).parent))

from admin_support import (
    admin,
    admin_database,
    admin_postgres,
    admin_sqlite,
    bus,
    databases,
    owners,
    tokens,
)

__all__ = [
    "admin",
    "admin_database",
    "admin_postgres",
    "admin_sqlite",
    "bus",
    "databases",
    "owners",
    "tokens",
]
