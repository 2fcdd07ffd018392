from wayfare_auth.app import MIGRATIONS_DIR, create_app
from wayfare_auth.settings import Settings
from wayfare_common.testing.service_checks import check_service_basics


async def test_starts_without_a_broker(database_url):
    await check_service_basics(create_app, Settings, MIGRATIONS_DIR, database_url=database_url)


async def test_starts_with_a_broker(database_url, amqp_url, amqp_namespace):
    await check_service_basics(
        create_app,
        Settings,
        MIGRATIONS_DIR,
        database_url=database_url,
        amqp_url=amqp_url,
        amqp_namespace=amqp_namespace,
    )
