import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # payment_support, stripe_server

from payment_support import running


@pytest.fixture
async def client(database_url, issuer):
    async with running(database_url, issuer) as client:
        yield client


@pytest.fixture
async def any_client(any_database_url, issuer):
    """The service on PostgreSQL, then on SQLite."""
    async with running(any_database_url, issuer) as client:
        yield client
