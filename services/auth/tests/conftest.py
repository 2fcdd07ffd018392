import sys
from pathlib import Path

# The helpers beside this file (auth_support, fake_google) are imported by the tests.
sys.path.insert(0, str(Path(__file__).parent))

from auth_support import (
    auth_database_url,
    broker,
    client,
    events,
    make_settings,
    service,
)

__all__ = ["auth_database_url", "broker", "client", "events", "make_settings", "service"]
