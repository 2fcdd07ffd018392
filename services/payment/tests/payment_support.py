"""Helpers for the payment tests: the service in-process or on a port, events in and
out, tokens, and requests."""

import asyncio
import contextlib
import socket
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa
import uvicorn

from wayfare_common.events.catalog import BookingCancelled, BookingCompleted, BookingCreated
from wayfare_common.events.envelope import Actor, Envelope, Event, EventContext, parse_envelope
from wayfare_common.messaging.tables import outbox
from wayfare_common.migrations import upgrade
from wayfare_common.money import Money
from wayfare_common.testing.apps import app_client
from wayfare_common.testing.tokens import TokenIssuer
from wayfare_payment.app import MIGRATIONS_DIR, create_app
from wayfare_payment.settings import Settings

WEBHOOK_SECRET = "whsec_test_" + uuid.uuid4().hex
STRIPE_KEY = "sk_test_wayfare"


def make_settings(database_url: str, issuer: TokenIssuer, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        amqp_url="",
        environment="test",
        jwks_url=issuer.jwks_url,
        payout_interval=0,
        reconcile_interval=3600,
        relay_poll_interval=0.2,
        retry_delays=[0.2, 0.4],
        amqp_reconnect_interval=0.5,
    )
    return Settings(**{**values, **overrides})


def running(database_url: str, issuer: TokenIssuer, **overrides):
    """The service in this process, over ASGI (no sockets)."""
    return app_client(create_app, make_settings(database_url, issuer, **overrides), MIGRATIONS_DIR)


@contextlib.asynccontextmanager
async def serving(database_url: str, issuer: TokenIssuer, **overrides):
    """The service on a real loopback port (for callers such as localstripe's webhooks)."""
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, database_url)
    app = create_app(make_settings(database_url, issuer, **overrides))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            client.app = app
            yield client
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Events in and out.


def booking_created(
    user_id: uuid.UUID | None = None,
    amount: str = "412.80",
    currency: str = "EUR",
    booking_id: uuid.UUID | None = None,
    payable_in: timedelta = timedelta(minutes=30),
    items: list | None = None,
) -> BookingCreated:
    price = {"amount": amount, "currency": currency}
    return BookingCreated(
        booking_id=booking_id or uuid.uuid4(),
        reference="K7MX4P",
        user_id=user_id or uuid.uuid4(),
        contact_email="ada@example.com",
        items=items
        or [
            {
                "type": "flight",
                "offer_id": "off_1",
                "flight_ids": [str(uuid.uuid4())],
                "cabin": "economy",
                "seats": 2,
                "price": price,
            }
        ],
        passenger_count=2,
        amount=Money.of(amount, currency),
        payable_until=datetime.now(UTC) + payable_in,
    )


async def deliver(client, event: Event, actor: Actor | None = None, **data) -> Envelope:
    """Hand an event to the service's consumer, as a delivery from the broker would: the
    inbox row and the handler's effects in one transaction (tests over RabbitMQ itself are
    in test_broker.py). `data` adds raw fields to the envelope's payload."""
    context = EventContext(producer="booking", actor=actor or Actor(role="system"))
    envelope = context.envelope(event)
    if data:
        envelope = envelope.model_copy(update={"data": {**envelope.data, **data}})
    consumer = client.app.state.messaging.consumer
    event_cls, handler = consumer.handlers.get(envelope.type, envelope.version)
    await consumer._handle(envelope, event_cls.model_validate(envelope.data), handler)
    return envelope


async def redeliver(client, envelope: Envelope) -> None:
    consumer = client.app.state.messaging.consumer
    event_cls, handler = consumer.handlers.get(envelope.type, envelope.version)
    await consumer._handle(envelope, event_cls.model_validate(envelope.data), handler)


async def emitted(client, type_: str | None = None) -> list[Envelope]:
    """Events the service recorded in its outbox, oldest first."""
    async with client.app.state.database.sessions() as session:
        stmt = sa.select(outbox.c.body).order_by(outbox.c.seq)
        if type_:
            stmt = stmt.where(outbox.c.routing_key == type_)
        return [parse_envelope(body) for body in (await session.scalars(stmt))]


def customer(issuer: TokenIssuer, user_id: uuid.UUID) -> dict[str, str]:
    return issuer.bearer("customer", user_id=str(user_id))


def admin(issuer: TokenIssuer, user_id: uuid.UUID | None = None) -> dict[str, str]:
    return issuer.bearer("admin", user_id=str(user_id or ADMIN_ID))


ADMIN_ID = uuid.UUID("a0000000-0000-4000-8000-000000000001")


async def open_booking(client, **kwargs) -> tuple[BookingCreated, dict]:
    """A booking payment knows of, and its payment as the owner sees it."""
    event = booking_created(**kwargs)
    await deliver(client, event)
    return event, await payment_of(client, event)


async def payment_of(client, event: BookingCreated) -> dict:
    from wayfare_payment.api.schemas import PaymentOut
    from wayfare_payment.store.models import Payment

    async with client.app.state.database.sessions() as session:
        payment = await session.scalar(
            sa.select(Payment).where(Payment.booking_id == event.booking_id)
        )
        return PaymentOut.of(payment).model_dump(mode="json")


async def pay(client, issuer, event: BookingCreated, method: str, key: str | None = None):
    return await client.post(
        "/api/v1/payments",
        json={"booking_id": str(event.booking_id), "payment_method": method},
        headers={**customer(issuer, event.user_id), "Idempotency-Key": key or uuid.uuid4().hex},
    )


def cancellation(event: BookingCreated, refund: str, by: Actor | None = None) -> BookingCancelled:
    """booking.cancelled for `event`'s booking, refunding what booking decided."""
    actor = by or Actor(user_id=str(event.user_id), role="customer")
    return BookingCancelled(
        booking_id=event.booking_id,
        reference=event.reference,
        user_id=event.user_id,
        reason="customer_request",
        refund=Money.of(refund, event.amount.currency),
        cancelled_by=actor,
    )


def completed(vendor: uuid.UUID | None, amount: str, currency: str = "EUR") -> BookingCompleted:
    return BookingCompleted(
        booking_id=uuid.uuid4(), vendor_id=vendor, amount=Money.of(amount, currency)
    )
