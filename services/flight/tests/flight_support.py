"""Helpers for the flight service's tests: settings, a running app, and shortcuts to add
flights, hold seats and read counts (imported by the tests; fixtures are in conftest)."""

import uuid
from datetime import UTC, datetime, time, timedelta

from wayfare_common.testing.apps import app_client
from wayfare_common.testing.tokens import TokenIssuer
from wayfare_flight.app import MIGRATIONS_DIR, create_app
from wayfare_flight.domain.airports import lookup
from wayfare_flight.settings import Settings


def make_settings(database_url: str, issuer: TokenIssuer, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        amqp_url="",
        environment="test",
        jwks_url=issuer.jwks_url,
        hold_sweep_interval=0.2,
        import_poll_interval=0.2,
        relay_poll_interval=0.2,
        retry_delays=[0.2, 0.4],
        amqp_reconnect_interval=0.5,
    )
    return Settings(**{**values, **overrides})


def running(database_url: str, issuer: TokenIssuer, **overrides):
    """The service in this process, over ASGI (no sockets)."""
    return app_client(create_app, make_settings(database_url, issuer, **overrides), MIGRATIONS_DIR)


def admin(issuer: TokenIssuer) -> dict:
    return issuer.bearer("admin")


def future_day(days: int = 10):
    return datetime.now(UTC).date() + timedelta(days=days)


def local(code: str, day, hh: int, mm: int = 0) -> str:
    """An RFC 3339 local time at an airport."""
    return datetime.combine(day, time(hh, mm), tzinfo=lookup(code).zone).isoformat()


async def add_flight(
    client, issuer, number, origin, destination, departing, arriving=None, **extra
):
    body = {
        "carrier_code": number[:2],
        "flight_number": number,
        "origin": origin,
        "destination": destination,
        "departing_at": departing,
        **({"arriving_at": arriving} if arriving else {}),
        **extra,
    }
    response = await client.post("/api/v1/flights", json=body, headers=admin(issuer))
    assert response.status_code == 201, response.text
    return response.json()


def offer_of(flight: dict, cabin: str = "economy", family: str = "saver") -> str:
    cabin_entry = next(c for c in flight["cabins"] if c["cabin"] == cabin)
    return next(f["offer_id"] for f in cabin_entry["fares"] if f["family"] == family)


async def hold(client, issuer, items, booking_id=None, user_id=None, **extra):
    booking_id = booking_id or uuid.uuid4()
    headers = issuer.bearer("customer", user_id=str(user_id or uuid.uuid4()))
    body = {"booking_id": str(booking_id), "items": items, **extra}
    return await client.post("/internal/holds", json=body, headers=headers)


async def seats_left(client, flight_id: str, cabin: str = "economy") -> int:
    response = await client.get(f"/api/v1/flights/{flight_id}")
    return next(c["seats_available"] for c in response.json()["cabins"] if c["cabin"] == cabin)


async def set_seats(client, flight_id: str, seats: int, cabin: str = "economy") -> None:
    """Leave exactly `seats` free in a cabin (test set-up, straight in the database)."""
    import sqlalchemy as sa

    from wayfare_flight.store.models import flight_cabins

    async with client.app.state.database.sessions() as session, session.begin():
        await session.execute(
            sa.update(flight_cabins)
            .where(
                flight_cabins.c.flight_id == uuid.UUID(flight_id), flight_cabins.c.cabin == cabin
            )
            .values(seats_available=seats)
        )
