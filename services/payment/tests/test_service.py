from wayfare_common.testing.imports import loaded_after
from wayfare_common.testing.service_checks import check_service_basics
from wayfare_payment.app import MIGRATIONS_DIR, create_app
from wayfare_payment.settings import Settings


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


def test_a_process_without_stripe_configured_does_not_load_it():
    """stripe and the requests library it imports are 5 MB of every payment process."""
    code = (
        "from wayfare_payment.app import create_app\n"
        "from wayfare_payment.providers.registry import build_providers\n"
        "from wayfare_payment.settings import Settings\n"
        "create_app()\n"
        "build_providers(Settings(stripe_api_key=''))\n"
    )
    assert loaded_after(code, "stripe", "requests") == set()
