"""End to end over RabbitMQ: booking's events reach the payment service through its queue,
and what payment records in its outbox is published for the other services."""

import asyncio
import json

import aio_pika

from wayfare_common.events.envelope import Actor, EventContext
from wayfare_common.testing.plugin import wait_for_handled

from payment_support import booking_created, cancellation, pay, running


async def test_booking_events_in_payment_events_out(database_url, amqp_url, amqp_namespace, issuer):
    async with running(
        database_url, issuer, amqp_url=amqp_url, amqp_namespace=amqp_namespace
    ) as client:
        app = client.app
        await asyncio.wait_for(app.state.messaging.connection_ready(), 15)
        connection = await aio_pika.connect(amqp_url)
        try:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(f"{amqp_namespace}wayfare.events")
            listener = await channel.declare_queue(exclusive=True, auto_delete=True)
            await listener.bind(exchange, "payment.#")
            booking = EventContext(producer="booking", actor=Actor(role="system"))

            async def publish(event):
                envelope = booking.envelope(event)
                await exchange.publish(
                    aio_pika.Message(envelope.to_json(), message_id=str(envelope.id)),
                    routing_key=envelope.type,
                )
                await wait_for_handled(app.state.database, [envelope.id])

            async def next_event() -> dict:
                message = await listener.get(timeout=10, fail=False)
                deadline = asyncio.get_running_loop().time() + 10
                while message is None and asyncio.get_running_loop().time() < deadline:
                    await asyncio.sleep(0.1)
                    message = await listener.get(fail=False)
                assert message is not None, "no payment event was published"
                await message.ack()
                return json.loads(message.body)

            event = booking_created(amount="150.00")
            await publish(event)
            response = await pay(client, issuer, event, "pm_card_visa")
            assert response.json()["status"] == "succeeded"
            succeeded = await next_event()
            assert succeeded["type"] == "payment.succeeded"
            assert succeeded["data"]["booking_id"] == str(event.booking_id)
            assert succeeded["producer"] == "payment"

            await publish(cancellation(event, "150.00"))
            refunded = await next_event()
            assert refunded["type"] == "payment.refunded"
            assert refunded["data"]["amount"] == {"amount": "150.00", "currency": "EUR"}
        finally:
            await connection.close()
