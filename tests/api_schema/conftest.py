import sys
import tempfile
from pathlib import Path

from hypothesis.configuration import set_hypothesis_home_dir

# The helpers beside this file are imported by the tests.
sys.path.insert(0, str(Path(__file__).parent))

from contract_support import (
    admin_api,
    auth_api,
    booking_api,
    flight_api,
    notification_api,
    payment_api,
)

__all__ = [
    "admin_api",
    "auth_api",
    "booking_api",
    "flight_api",
    "notification_api",
    "payment_api",
]

# Hypothesis keeps caches (constants, unicode data) even without an example database: in
# the system's temporary directory, not as a .hypothesis folder in the repository.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "wayfare-api-schema-hypothesis")
