"""booking.confirmed / cancelled / expired through the real broker: idempotent, in any
order; and the sweeper expires holds and records flight.hold_expired in the outbox."""

import asyncio
import uuid

import aio_pika
import orjson
import sqlalchemy as sa

from wayfare_common.events.catalog import BookingCancelled, BookingConfirmed, BookingExpired
from wayfare_common.events.envelope import EventContext
from wayfare_common.messaging.tables import outbox
from wayfare_common.testing.plugin import eventually, wait_for_handled
from wayfare_flight.store.models import holds

from flight_support import add_flight, future_day, hold, local, offer_of, running, seats_left

DAY = future_day(4)
USER = uuid.uuid4()
MONEY = {"amount": "100.00", "currency": "EUR"}


def item(flight):
    return {
        "type": "flight",
        "offer_id": offer_of(flight),
        "flight_ids": [flight["id"]],
        "cabin": "economy",
        "seats": 2,
        "price": MONEY,
    }


def confirmed(booking, flight):
    return BookingConfirmed(
        booking_id=booking, reference="K7MX4P", user_id=USER, items=[item(flight)], amount=MONEY
    )


def cancelled(booking):
    return BookingCancelled(
        booking_id=booking,
        reference="K7MX4P",
        user_id=USER,
        reason="customer_request",
        refund=MONEY,
        cancelled_by={"user_id": str(USER), "role": "customer"},
    )


def expired(booking):
    return BookingExpired(booking_id=booking, reference="K7MX4P", user_id=USER)


async def publish(amqp_url, namespace, *events):
    envelopes = [EventContext(producer="booking").envelope(event) for event in events]
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{namespace}wayfare.events")
        for envelope in envelopes:
            await exchange.publish(
                aio_pika.Message(
                    envelope.to_json(), message_id=str(envelope.id), type=envelope.type
                ),
                routing_key=envelope.type,
            )
    finally:
        await connection.close()
    return [envelope.id for envelope in envelopes]


async def status_of(client, booking):
    async with client.app.state.database.sessions() as session:
        return await session.scalar(sa.select(holds.c.status).where(holds.c.booking_id == booking))


async def test_booking_events_sell_and_release_once_in_any_order(
    database_url, issuer, amqp_url, amqp_namespace
):
    async with running(
        database_url, issuer, amqp_url=amqp_url, amqp_namespace=amqp_namespace
    ) as client:
        await asyncio.wait_for(client.app.state.messaging.connection_ready(), 15)
        database = client.app.state.database
        flight = await add_flight(client, issuer, "BA117", "LHR", "JFK", local("LHR", DAY, 8))
        full = await seats_left(client, flight["id"])
        offer = [{"type": "flight", "offer_id": offer_of(flight), "seats": 2}]

        # Confirmed twice (a duplicate with a new id), then cancelled twice.
        sold = uuid.uuid4()
        assert (await hold(client, issuer, offer, booking_id=sold)).status_code == 201
        ids = await publish(
            amqp_url, amqp_namespace, confirmed(sold, flight), confirmed(sold, flight)
        )
        await wait_for_handled(database, ids)
        assert await status_of(client, sold) == "sold"
        assert await seats_left(client, flight["id"]) == full - 2
        ids = await publish(amqp_url, amqp_namespace, cancelled(sold), cancelled(sold))
        await wait_for_handled(database, ids)
        assert await status_of(client, sold) == "released"
        assert await seats_left(client, flight["id"]) == full

        # Cancelled before the confirmation arrives: the late confirmation sells nothing.
        crossed = uuid.uuid4()
        assert (await hold(client, issuer, offer, booking_id=crossed)).status_code == 201
        ids = await publish(amqp_url, amqp_namespace, cancelled(crossed))
        await wait_for_handled(database, ids)
        ids = await publish(amqp_url, amqp_namespace, confirmed(crossed, flight))
        await wait_for_handled(database, ids)
        assert await status_of(client, crossed) == "released"
        assert await seats_left(client, flight["id"]) == full

        # Expired: released once, even when the event comes twice.
        lapsed = uuid.uuid4()
        assert (await hold(client, issuer, offer, booking_id=lapsed)).status_code == 201
        ids = await publish(amqp_url, amqp_namespace, expired(lapsed), expired(lapsed))
        await wait_for_handled(database, ids)
        assert await status_of(client, lapsed) == "released"
        assert await seats_left(client, flight["id"]) == full

        # An event about a booking whose hold never arrived leaves a tombstone.
        ghost = uuid.uuid4()
        await wait_for_handled(database, await publish(amqp_url, amqp_namespace, expired(ghost)))
        late = await hold(client, issuer, offer, booking_id=ghost)
        assert late.status_code == 409 and late.json()["code"] == "hold_closed"


async def test_sweeper_expires_holds_and_records_the_event(any_client, issuer):
    client = any_client
    flight = await add_flight(client, issuer, "BA117", "LHR", "JFK", local("LHR", DAY, 8))
    full = await seats_left(client, flight["id"])
    booking = uuid.uuid4()
    response = await hold(
        client,
        issuer,
        [{"type": "flight", "offer_id": offer_of(flight), "seats": 3}],
        booking_id=booking,
        ttl_seconds=1,
    )
    assert response.status_code == 201
    hold_id = response.json()["id"]
    assert await seats_left(client, flight["id"]) == full - 3

    async def is_expired():
        return await status_of(client, booking) == "expired"

    await eventually(is_expired, timeout=10)
    assert await seats_left(client, flight["id"]) == full
    async with client.app.state.database.sessions() as session:
        bodies = (
            await session.scalars(
                sa.select(outbox.c.body).where(outbox.c.routing_key == "flight.hold_expired")
            )
        ).all()
    assert len(bodies) == 1
    data = orjson.loads(bodies[0])["data"]
    assert data == {
        "hold_id": hold_id,
        "booking_id": str(booking),
        "flight_id": flight["id"],
        "departure_id": None,
        "seats": 3,
    }
    # Selling an expired hold does nothing; the sweep is done once.
    assert await client.app.state.background.sweep_once() == 0
