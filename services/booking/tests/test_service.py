import uuid

from wayfare_booking.app import MIGRATIONS_DIR, create_app
from wayfare_booking.settings import Settings
from wayfare_common.events.catalog import PaymentSucceeded
from wayfare_common.testing.service_checks import check_service_basics

from booking_support import booking_body, envelope, flight_item, running_booking


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


async def test_migrates_both_ways_on_sqlite(sqlite_url):
    await check_service_basics(create_app, Settings, MIGRATIONS_DIR, database_url=sqlite_url)


async def test_a_booking_lives_on_sqlite(sqlite_url, amqp_server_url, namespace, issuer, flight):
    """The embedded default: reference retries (savepoints), locks and JSON on SQLite."""
    repeating = iter(["K7MX4P", "K7MX4P", "Q2W3ER"])
    async with running_booking(
        sqlite_url, amqp_server_url, namespace, issuer, flight, references=lambda: next(repeating)
    ) as booking:
        ada = booking.customer()
        body = booking_body([flight_item(flight.flights["domestic"], "flex")])
        first = await booking.booked(ada, body)
        second = await booking.booked(ada, body)
        assert (first["reference"], second["reference"]) == ("K7MX4P", "Q2W3ER")
        payment = PaymentSucceeded(
            payment_id=uuid.uuid4(),
            booking_id=first["id"],
            user_id=ada.id,
            amount=first["price"]["total"],
            provider="sandbox",
            provider_reference="ch_sqlite",
        )
        await booking.deliver(envelope(payment))
        assert await booking.status(first["id"]) == "confirmed"
        cancel = await booking.client.post(
            f"/api/v1/bookings/{first['id']}/cancel", headers=ada.headers
        )
        assert cancel.status_code == 200
        assert cancel.json()["cancellation"]["refund"] == first["items"][0]["price"]
        listed = await booking.client.get("/api/v1/bookings", headers=ada.headers)
        assert [b["status"] for b in listed.json()["data"]] == ["pending_payment", "cancelled"]
