from wayfare_common.testing.imports import loaded_after
from wayfare_common.testing.service_checks import check_service_basics
from wayfare_gateway.app import create_app
from wayfare_gateway.settings import Settings


async def test_starts_and_answers_health_checks():
    await check_service_basics(create_app, Settings, migrations_dir=None)


def test_the_gateway_loads_no_database_library():
    """It has no database: SQLAlchemy and asyncpg would be a fifth of its memory."""
    code = "from wayfare_gateway.app import create_app\ncreate_app()"
    assert loaded_after(code, "sqlalchemy", "asyncpg", "alembic") == set()
