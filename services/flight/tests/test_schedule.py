"""The generated schedule is deterministic and realistic enough; staff changes of time
emit flight.schedule_changed."""

from datetime import date, datetime

import orjson
import sqlalchemy as sa

from wayfare_common.messaging.tables import outbox
from wayfare_flight.domain.aircraft import block_minutes
from wayfare_flight.domain.airports import busy_airports, lookup
from wayfare_flight.domain.schedule import generate, plan_routes
from wayfare_flight.store.models import flights
from wayfare_flight.usecases.seed import seed

from flight_support import add_flight, admin, future_day, local


def test_generator_is_deterministic_and_local():
    routes = plan_routes(busy_airports(30), seed=7)
    start = date(2030, 3, 28)  # spans Europe's switch to summer time
    first = list(generate(routes, start, 4, seed=7))
    second = list(generate(plan_routes(busy_airports(30), seed=7), start, 4, seed=7))
    assert first == second
    other = list(generate(plan_routes(busy_airports(30), seed=8), start, 1, seed=8))
    assert {f[0] for f, _ in other}.isdisjoint({f[0] for f, _ in first})
    for flight, cabins in first:
        origin = lookup(flight[3])
        local_departure = flight[5].astimezone(origin.zone)
        assert local_departure.date() == flight[7]
        assert 6 <= local_departure.hour <= 22
        assert (flight[6] - flight[5]).total_seconds() / 60 == block_minutes(flight[12])
        assert flight[9] - flight[8] == block_minutes(flight[12])  # epoch minutes agree
        cabin_names = [c[1] for c in cabins]
        if flight[12] > 4500:
            assert cabin_names == ["first", "business", "premium_economy", "economy"]
        fares = {c[1]: c[7] for c in cabins}
        assert fares["business"] > fares["economy"]
        assert all(c[8] > c[7] for c in cabins)  # flex above saver


async def test_seed_loads_once_and_search_finds_it(client, issuer):
    database = client.app.state.database
    day = future_day(2)
    report = await seed(database, days=2, airports=12, start=day)
    assert report["flights"] > 100
    again = await seed(database, days=2, airports=12, start=day)
    assert again["packages_created"] == 0
    async with database.sessions() as session:
        assert (
            await session.scalar(sa.select(sa.func.count()).select_from(flights))
            == report["flights"]
        )
    found = await client.get(
        "/api/v1/flights/search",
        params={"origin": "ATL", "destination": "LHR", "date": day.isoformat(), "limit": 100},
    )
    assert found.status_code == 200 and found.json()["data"]


async def test_time_change_emits_schedule_changed(any_client, issuer):
    client = any_client
    day = future_day(8)
    flight = await add_flight(
        client, issuer, "LH400", "FRA", "JFK", local("FRA", day, 10), local("JFK", day, 13)
    )
    unchanged = await client.patch(
        f"/api/v1/flights/{flight['id']}", json={"status": "scheduled"}, headers=admin(issuer)
    )
    assert unchanged.status_code == 200
    moved = await client.patch(
        f"/api/v1/flights/{flight['id']}",
        json={"departing_at": local("FRA", day, 11, 30)},
        headers=admin(issuer),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["arriving_at"].startswith(f"{day.isoformat()}T14:30:00")
    assert (
        await client.patch(
            f"/api/v1/flights/{flight['id']}", json={"status": "cancelled"}, headers=issuer.bearer()
        )
    ).status_code == 403
    async with client.app.state.database.sessions() as session:
        bodies = (
            await session.scalars(
                sa.select(outbox.c.body).where(outbox.c.routing_key == "flight.schedule_changed")
            )
        ).all()
    assert len(bodies) == 1
    event = orjson.loads(bodies[0])
    assert datetime.fromisoformat(event["data"]["old_departing_at"]) == datetime.fromisoformat(
        local("FRA", day, 10)
    )
    assert event["data"]["new_departing_at"].startswith(f"{day.isoformat()}T11:30:00")
    assert event["actor"]["role"] == "admin"
    # A moved flight is found on its new time, a cancelled one not at all.
    await client.patch(
        f"/api/v1/flights/{flight['id']}", json={"status": "cancelled"}, headers=admin(issuer)
    )
    found = await client.get(
        "/api/v1/flights/search",
        params={"origin": "FRA", "destination": "JFK", "date": day.isoformat()},
    )
    assert found.json()["data"] == []
