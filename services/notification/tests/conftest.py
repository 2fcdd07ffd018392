import sys
from pathlib import Path

# The helpers beside this file are imported by the tests.
sys.path.insert(0, str(Path(__file__).parent))

from notification_support import bus, make_settings, service, sms_provider, tokens

__all__ = ["bus", "make_settings", "service", "sms_provider", "tokens"]
