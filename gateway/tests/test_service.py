from wayfare_common.testing.service_checks import check_service_basics
from wayfare_gateway.app import create_app
from wayfare_gateway.settings import Settings


async def test_starts_and_answers_health_checks():
    await check_service_basics(create_app, Settings, migrations_dir=None)
