"""Search: time zones, connections and their rules, sort, filters, pagination, party
prices and the 422s, on PostgreSQL (asyncpg path) and SQLite (Core path)."""

from datetime import datetime, timedelta

from flight_support import add_flight, future_day, local

DAY = future_day(12)
NEXT = DAY + timedelta(days=1)


async def network(client, issuer):
    """LHR to JFK: two directs; via DUB and KEF; and connections that break the rules."""
    f = {}
    f["direct_am"] = await add_flight(
        client, issuer, "BA117", "LHR", "JFK", local("LHR", DAY, 8, 0), local("JFK", DAY, 11, 0)
    )
    f["direct_pm"] = await add_flight(
        client, issuer, "VS25", "LHR", "JFK", local("LHR", DAY, 17, 0), local("JFK", DAY, 20, 5)
    )
    f["to_dub"] = await add_flight(
        client, issuer, "EI155", "LHR", "DUB", local("LHR", DAY, 7, 0), local("DUB", DAY, 8, 20)
    )
    # 60 min after landing: connects.
    f["dub_jfk"] = await add_flight(
        client, issuer, "EI105", "DUB", "JFK", local("DUB", DAY, 9, 20), local("JFK", DAY, 11, 50)
    )
    # 30 min after landing: too short to connect.
    f["dub_jfk_short"] = await add_flight(
        client, issuer, "EI107", "DUB", "JFK", local("DUB", DAY, 8, 50), local("JFK", DAY, 11, 20)
    )
    # 7 hours after landing: too long a layover.
    f["dub_jfk_late"] = await add_flight(
        client, issuer, "EI109", "DUB", "JFK", local("DUB", DAY, 15, 20), local("JFK", DAY, 17, 50)
    )
    f["to_kef"] = await add_flight(
        client, issuer, "FI451", "LHR", "KEF", local("LHR", DAY, 12, 0), local("KEF", DAY, 15, 0)
    )
    f["kef_jfk"] = await add_flight(
        client, issuer, "FI615", "KEF", "JFK", local("KEF", DAY, 17, 0), local("JFK", DAY, 19, 0)
    )
    # The next day: never in DAY's results.
    f["tomorrow"] = await add_flight(
        client, issuer, "BA119", "LHR", "JFK", local("LHR", NEXT, 8, 0)
    )
    return f


async def search(client, **params):
    query = {"origin": "LHR", "destination": "JFK", "date": DAY.isoformat(), **params}
    response = await client.get("/api/v1/flights/search", params=query)
    assert response.status_code == 200, response.text
    return response.json()


def flight_ids(offer):
    return [segment["flight_id"] for segment in offer["segments"]]


async def test_directs_and_connections_with_local_times(any_client, issuer):
    client = any_client
    f = await network(client, issuer)
    page = await search(client, limit=100)
    itineraries = {tuple(flight_ids(o)) for o in page["data"]}
    assert itineraries == {
        (f["direct_am"]["id"],),
        (f["direct_pm"]["id"],),
        (f["to_dub"]["id"], f["dub_jfk"]["id"]),
        (f["to_kef"]["id"], f["kef_jfk"]["id"]),
    }
    assert len(page["data"]) == 8  # a saver and a flex offer each
    direct = next(o for o in page["data"] if flight_ids(o) == [f["direct_am"]["id"]])
    segment = direct["segments"][0]
    # Local offsets of each airport's zone, whatever the season.
    assert datetime.fromisoformat(segment["departing_at"]) == datetime.fromisoformat(
        local("LHR", DAY, 8)
    )
    assert segment["departing_at"].startswith(f"{DAY.isoformat()}T08:00:00")
    assert segment["arriving_at"].startswith(f"{DAY.isoformat()}T11:00:00")
    assert segment["origin"]["time_zone"] == "Europe/London"
    assert segment["destination"]["time_zone"] == "America/New_York"
    assert segment["carrier"] == {"iata_code": "BA", "name": "British Airways"}
    assert direct["stops"] == 0 and direct["cabin"] == "economy"
    assert {"id", "price", "seats_available"} <= direct.keys()
    via = next(o for o in page["data"] if len(o["segments"]) == 2)
    assert via["stops"] == 1


async def test_sorts_are_ordered(any_client, issuer):
    client = any_client
    await network(client, issuer)
    by_price = (await search(client, sort="price", limit=100))["data"]
    prices = [float(o["price"]["amount"]) for o in by_price]
    assert prices == sorted(prices)
    by_departure = (await search(client, sort="departure", limit=100))["data"]
    departures = [datetime.fromisoformat(o["segments"][0]["departing_at"]) for o in by_departure]
    assert departures == sorted(departures)
    assert by_departure[0]["segments"][0]["flight_number"] == "EI155"
    by_duration = (await search(client, sort="duration", limit=100))["data"]
    durations = [o["duration_minutes"] for o in by_duration]
    assert durations == sorted(durations)
    assert by_duration[0]["stops"] == 0


async def test_filters(any_client, issuer):
    client = any_client
    f = await network(client, issuer)
    direct_only = (await search(client, max_stops=0, limit=100))["data"]
    assert {o["stops"] for o in direct_only} == {0}
    irish = (await search(client, carriers="EI", limit=100))["data"]
    assert {tuple(flight_ids(o)) for o in irish} == {(f["to_dub"]["id"], f["dub_jfk"]["id"])}
    afternoon = (await search(client, depart_after="11:00", depart_before="18:00", limit=100))[
        "data"
    ]
    assert {o["segments"][0]["flight_number"] for o in afternoon} == {"VS25", "FI451"}
    cheapest = float((await search(client, limit=1))["data"][0]["price"]["amount"])
    capped = (await search(client, max_price=f"{cheapest:.2f}", limit=100))["data"]
    assert capped and all(float(o["price"]["amount"]) <= cheapest for o in capped)
    city = (await search(client, origin="LON", destination="NYC", limit=100))["data"]
    assert len(city) == 8


async def test_pages_are_stable_and_complete(any_client, issuer):
    client = any_client
    await network(client, issuer)
    for sort in ("price", "departure", "duration"):
        everything = [o["id"] for o in (await search(client, sort=sort, limit=100))["data"]]
        seen, cursor = [], None
        while True:
            params = {"sort": sort, "limit": 3, **({"cursor": cursor} if cursor else {})}
            page = await search(client, **params)
            seen += [o["id"] for o in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == everything
    response = await client.get(
        "/api/v1/flights/search",
        params={
            "origin": "LHR",
            "destination": "JFK",
            "date": DAY.isoformat(),
            "cursor": "nonsense",
        },
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"


async def test_party_price(any_client, issuer):
    client = any_client
    flight = await add_flight(client, issuer, "BA117", "LHR", "JFK", local("LHR", DAY, 8, 0))
    saver = next(f for f in flight["cabins"][-1]["fares"] if f["family"] == "saver")
    economy = next(c for c in flight["cabins"] if c["cabin"] == "economy")
    adult = int(
        next(f for f in economy["fares"] if f["family"] == "saver")["price_per_adult"][
            "amount"
        ].replace(".", "")
    )
    assert saver
    page = await search(client, adults=2, children=1, infants=1, sort="price", limit=1)
    offer = page["data"][0]
    child = (adult * 75 + 50) // 100
    infant = (adult * 10 + 50) // 100
    total = 2 * adult + child + infant
    assert offer["price"] == {"amount": f"{total // 100}.{total % 100:02d}", "currency": "EUR"}
    assert offer["price_per_passenger"]["child"]["amount"] == f"{child // 100}.{child % 100:02d}"
    business = (await search(client, cabin="business", limit=1))["data"][0]
    assert float(business["price"]["amount"]) > adult / 100


async def test_bad_searches_are_422_with_field_errors(client):
    base = {"origin": "LHR", "destination": "JFK", "date": DAY.isoformat()}
    cases = [
        ({"origin": "QQQ"}, "query.origin"),
        ({"destination": "ZZZ"}, "query.destination"),
        ({"date": (future_day(-3)).isoformat()}, "query.date"),
        ({"adults": 0}, "query.adults"),
        ({"adults": 9, "children": 1}, "query.adults"),
        ({"adults": 1, "infants": 2}, "query.infants"),
        ({"adults": 10}, "query.adults"),
        ({"max_price": "12.345"}, "query.max_price"),
    ]
    for change, field in cases:
        response = await client.get("/api/v1/flights/search", params={**base, **change})
        assert response.status_code == 422, (change, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]], (change, response.text)
