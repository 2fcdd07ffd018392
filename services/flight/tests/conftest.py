import sys
from pathlib import Path

import pytest

from wayfare_common.testing.tokens import TokenIssuer

sys.path.insert(0, str(Path(__file__).parent))

from flight_support import running


@pytest.fixture(scope="session")
async def issuer():
    issuer = TokenIssuer()
    async with issuer.serve() as jwks:
        issuer.jwks_url = jwks.url
        yield issuer


@pytest.fixture
async def client(database_url, issuer):
    async with running(database_url, issuer) as client:
        yield client


@pytest.fixture(params=["postgres", "sqlite"])
async def any_client(request, issuer, tmp_path, postgres_server_url):
    """The service on PostgreSQL, then on SQLite."""
    from wayfare_common.testing.plugin import create_postgres_database, drop_postgres_database

    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'flight.db'}"
    else:
        if postgres_server_url is None:
            pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")
        url = await create_postgres_database(postgres_server_url)
    try:
        async with running(url, issuer) as client:
            yield client
    finally:
        if request.param == "postgres":
            await drop_postgres_database(url)
