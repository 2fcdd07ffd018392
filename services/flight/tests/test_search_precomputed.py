"""Search reads precomputed itineraries (store.itineraries): its pages must be byte for byte
the pages of the live computation from the flights themselves, on a seeded schedule and
after staff changes; staff changes show up in search at once; the result cache is bounded
and forgets on demand."""

import asyncio
import random
from collections import Counter
from datetime import datetime, time, timedelta

import orjson
import pytest
import sqlalchemy as sa

from wayfare_flight.domain.airports import busy_airports, lookup
from wayfare_flight.domain.fares import Party
from wayfare_flight.domain.schedule import epoch_minute
from wayfare_flight.store import itineraries as itinerary_store
from wayfare_flight.store.models import flights, itineraries
from wayfare_flight.store.search import CandidateQuery
from wayfare_flight.usecases import search as searching
from wayfare_flight.usecases.seed import seed

from flight_support import add_flight, admin, future_day, local

AIRPORTS = 20


def searches_on(day, rng: random.Random, n: int) -> list[searching.Search]:
    """Varied searches: pairs of airports and of cities, parties, cabins, sorts, filters."""
    codes = [a.iata_code for a in busy_airports(AIRPORTS)]
    out = []
    for k in range(n):
        origins, destinations = ([c] for c in rng.sample(codes, 2))
        if k % 10 == 0:
            origins, destinations = ["LHR", "LGW"], ["JFK", "EWR"]  # city-sized sets
        tz = lookup(origins[0]).zone
        after = time(0) if k % 3 else time(rng.randrange(6, 14))
        start = datetime.combine(day, after, tzinfo=tz)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
        if k % 4 == 0:
            end = datetime.combine(day, time(rng.randrange(14, 23)), tzinfo=tz)
        party = rng.choice([Party(1, 0, 0), Party(2, 1, 1), Party(1, 2, 0), Party(9, 0, 0)])
        query = CandidateQuery(
            origins=origins,
            destinations=destinations,
            day=day,
            cabin=rng.choice(["economy", "economy", "business", "premium_economy", "first"]),
            seats=party.seated,
            first_minute=epoch_minute(start),
            last_minute=epoch_minute(end) - (0 if k % 4 == 0 else 1),
            carriers=sorted(rng.sample(["AA", "BA", "DL", "LH", "UA", "AF"], 3))
            if k % 7 == 0
            else None,
            connections=k % 9 != 0,
        )
        out.append(
            searching.Search(
                query,
                party,
                sort=rng.choice(["price", "departure", "duration"]),
                max_price=rng.choice([None, None, 80_000, 200_000]),
                limit=rng.choice([20, 5, 100]),
            )
        )
    return out


async def assert_same_pages(client, searches) -> int:
    """Every search and every page after it, precomputed against live; offers seen."""
    pool = client.app.state.search_pool
    engine = client.app.state.database.engine
    seen = 0
    for search in searches:
        while True:
            fast = await searching.run(search, pool=pool, engine=engine)
            live = await searching.run_live(search, pool=pool, engine=engine)
            assert fast == live, search
            page = orjson.loads(fast)
            seen += len(page["data"])
            if page["next_cursor"] is None or search.limit > 5:
                break
            search = searching.Search(**{**_fields(search), "cursor": page["next_cursor"]})
    return seen


def _fields(search: searching.Search) -> dict:
    return {name: getattr(search, name) for name in searching.Search.__slots__}


async def table_rows(database) -> Counter:
    async with database.engine.connect() as connection:
        return Counter(tuple(row) for row in await connection.execute(sa.select(itineraries)))


async def test_precomputed_search_equals_live_on_a_seeded_schedule(any_client, issuer):
    client = any_client
    database = client.app.state.database
    day = future_day(3)
    report = await seed(database, days=2, airports=AIRPORTS, start=day, packages=False)
    assert report["itineraries"] > report["flights"]
    rng = random.Random(4)
    assert await assert_same_pages(client, searches_on(day, rng, 40)) > 150

    # Staff changes: a new flight that connects both ways at a hub, a moved flight, a
    # cancelled one. The table must be what a full rebuild makes, and search still live.
    await add_flight(client, issuer, "BA901", "MAD", "LHR", local("MAD", day, 9, 0))
    await add_flight(client, issuer, "BA902", "LHR", "MAD", local("LHR", day, 16, 0))
    async with database.engine.connect() as connection:
        moved, cancelled = (
            await connection.execute(
                sa.select(flights.c.id, flights.c.origin)
                .where(flights.c.origin == "LHR", flights.c.departure_date == day)
                .order_by(flights.c.departure_minute)
                .offset(20)  # mid-day: flights landing at LHR connect to them
                .limit(2)
            )
        ).all()
    response = await client.patch(
        f"/api/v1/flights/{moved.id}",
        json={"departing_at": local("LHR", day, 12, 10)},
        headers=admin(issuer),
    )
    assert response.status_code == 200, response.text
    response = await client.patch(
        f"/api/v1/flights/{cancelled.id}", json={"status": "cancelled"}, headers=admin(issuer)
    )
    assert response.status_code == 200, response.text

    incremental = await table_rows(database)
    async with database.engine.begin() as connection:
        await itinerary_store.rebuild_days(
            connection, day - timedelta(days=2), day + timedelta(days=2)
        )
    assert await table_rows(database) == incremental

    around_lhr = [
        s
        for s in searches_on(day, random.Random(5), 200)
        if {"LHR", "MAD"} & {*s.query.origins, *s.query.destinations}
    ]
    await assert_same_pages(client, around_lhr[:25])


async def test_a_staff_change_shows_up_in_search_at_once(any_client, issuer):
    client = any_client
    assert client.app.state.search_cache is not None  # the service caches pages by default
    day = future_day(9)
    params = {"origin": "LHR", "destination": "JFK", "date": day.isoformat(), "limit": 100}

    async def found(**extra) -> set[tuple[str, ...]]:
        response = await client.get("/api/v1/flights/search", params={**params, **extra})
        assert response.status_code == 200, response.text
        return {tuple(s["flight_number"] for s in o["segments"]) for o in response.json()["data"]}

    assert await found() == set()
    direct = await add_flight(
        client, issuer, "BA117", "LHR", "JFK", local("LHR", day, 8), local("JFK", day, 11)
    )
    assert await found() == {("BA117",)}
    await add_flight(
        client, issuer, "EI155", "LHR", "DUB", local("LHR", day, 7), local("DUB", day, 8, 20)
    )
    second = await add_flight(
        client, issuer, "EI105", "DUB", "JFK", local("DUB", day, 9, 20), local("JFK", day, 11, 50)
    )
    assert await found() == {("BA117",), ("EI155", "EI105")}
    # The second leg leaves too soon after the first lands (30 minutes): no connection.
    await client.patch(
        f"/api/v1/flights/{second['id']}",
        json={"departing_at": local("DUB", day, 8, 50)},
        headers=admin(issuer),
    )
    assert await found() == {("BA117",)}
    # The direct moves to the next day, then is cancelled.
    await client.patch(
        f"/api/v1/flights/{direct['id']}",
        json={"departing_at": local("LHR", day + timedelta(days=1), 8)},
        headers=admin(issuer),
    )
    assert await found() == set()
    assert await found(date=(day + timedelta(days=1)).isoformat()) == {("BA117",)}
    await client.patch(
        f"/api/v1/flights/{direct['id']}", json={"status": "cancelled"}, headers=admin(issuer)
    )
    assert await found(date=(day + timedelta(days=1)).isoformat()) == set()


async def test_search_cache_expires_forgets_and_shares_reads():
    cache = searching.SearchCache(ttl=0.2, max_bytes=10)
    reads = 0

    async def read(page: bytes = b"page"):
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.01)
        return page

    # Concurrent misses of one key share one read.
    pages = await asyncio.gather(*(cache.get(("k",), read) for _ in range(5)))
    assert pages == [b"page"] * 5 and reads == 1
    assert await cache.get(("k",), read) == b"page" and reads == 1
    await asyncio.sleep(0.25)  # expired
    await cache.get(("k",), read)
    assert reads == 2
    cache.clear()
    await cache.get(("k",), read)
    assert reads == 3
    # Bounded by bytes: the least recently used page goes first.
    await cache.get(("a",), lambda: read(b"aaaa"))
    await cache.get(("b",), lambda: read(b"bbbb"))
    assert len(cache) == 2  # k (4 bytes) went
    assert await cache.get(("a",), read) == b"aaaa" and reads == 5

    # A failed read is not kept.
    async def fail():
        raise ValueError("no")

    for _ in range(2):
        with pytest.raises(ValueError):
            await cache.get(("x",), fail)
    assert ("x",) not in cache._pages
