"""Holds: idempotency, all or nothing, chosen seats, the per-customer cap, release, the
internal re-pricing route, and 100 concurrent holds for the last seat."""

import asyncio
import uuid

from flight_support import add_flight, future_day, hold, local, offer_of, seats_left, set_seats

DAY = future_day(5)


async def two_flights(client, issuer):
    a = await add_flight(client, issuer, "BA117", "LHR", "JFK", local("LHR", DAY, 8))
    b = await add_flight(client, issuer, "AF22", "CDG", "JFK", local("CDG", DAY, 9))
    return a, b


async def test_hold_is_idempotent_per_booking(any_client, issuer):
    client = any_client
    a, _ = await two_flights(client, issuer)
    before = await seats_left(client, a["id"])
    booking, user = uuid.uuid4(), uuid.uuid4()
    items = [{"type": "flight", "offer_id": offer_of(a), "passengers": {"adults": 2, "infants": 1}}]
    first = await hold(client, issuer, items, booking_id=booking, user_id=user)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "held" and body["items"][0]["seats"] == 2
    assert body["items"][0]["flight_ids"] == [a["id"]]
    assert body["price"]["currency"] == "EUR"
    again = await hold(client, issuer, items, booking_id=booking, user_id=user)
    assert again.status_code == 200 and again.json() == body
    assert await seats_left(client, a["id"]) == before - 2  # infants take no seat

    other = await hold(
        client, issuer, [{**items[0], "passengers": {"adults": 1}}], booking_id=booking
    )
    assert other.status_code == 409 and other.json()["code"] == "booking_id_reused"


async def test_all_or_nothing_across_items(any_client, issuer):
    client = any_client
    a, b = await two_flights(client, issuer)
    await set_seats(client, b["id"], 1)
    before = await seats_left(client, a["id"])
    items = [
        {"type": "flight", "offer_id": offer_of(a), "seats": 2},
        {"type": "flight", "offer_id": offer_of(b), "seats": 2},
    ]
    response = await hold(client, issuer, items)
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "seats_unavailable" and problem["flight_id"] == b["id"]
    assert await seats_left(client, a["id"]) == before
    assert await seats_left(client, b["id"]) == 1


async def test_chosen_seats_are_never_held_twice(any_client, issuer):
    client = any_client
    a, _ = await two_flights(client, issuer)
    offer = offer_of(a)
    mine = await hold(
        client,
        issuer,
        [{"type": "flight", "offer_id": offer, "seats": 2, "seat_numbers": ["30a", "30B"]}],
    )
    assert mine.status_code == 201, mine.text
    assert mine.json()["items"][0]["seat_numbers"] == {a["id"]: ["30A", "30B"]}
    before = await seats_left(client, a["id"])
    clash = await hold(
        client,
        issuer,
        [{"type": "flight", "offer_id": offer, "seats": 2, "seat_numbers": ["31A", "30B"]}],
    )
    assert clash.status_code == 409 and clash.json()["code"] == "seat_taken"
    assert await seats_left(client, a["id"]) == before  # rolled back with the seat
    wrong = await hold(
        client, issuer, [{"type": "flight", "offer_id": offer, "seats": 1, "seat_numbers": ["2A"]}]
    )
    assert wrong.status_code == 422  # row 2 is business, not economy
    seatmap = (await client.get(f"/api/v1/flights/{a['id']}/seatmap")).json()
    economy = next(c for c in seatmap["cabins"] if c["cabin"] == "economy")
    row30 = next(r for r in economy["rows"] if r["row"] == 30)
    free = {s["number"]: s["free"] for s in row30["seats"]}
    assert free["30A"] is False and free["30B"] is False and free["30C"] is True


async def test_customer_cap(any_client, issuer):
    client = any_client
    a, b = await two_flights(client, issuer)
    user = uuid.uuid4()
    first = await hold(
        client, issuer, [{"type": "flight", "offer_id": offer_of(a), "seats": 9}], user_id=user
    )
    second = await hold(
        client, issuer, [{"type": "flight", "offer_id": offer_of(b), "seats": 9}], user_id=user
    )
    assert first.status_code == 201 and second.status_code == 201
    third = await hold(
        client, issuer, [{"type": "flight", "offer_id": offer_of(b), "seats": 1}], user_id=user
    )
    assert third.status_code == 409 and third.json()["code"] == "hold_limit_reached"
    # Releasing one gives the room back.
    released = await client.delete(
        f"/internal/holds/{first.json()['booking_id']}",
        headers=issuer.bearer("customer", user_id=str(user)),
    )
    assert released.status_code == 200
    fourth = await hold(
        client, issuer, [{"type": "flight", "offer_id": offer_of(b), "seats": 1}], user_id=user
    )
    assert fourth.status_code == 201


async def test_release_is_idempotent_and_final(any_client, issuer):
    client = any_client
    a, _ = await two_flights(client, issuer)
    before = await seats_left(client, a["id"])
    booking, user = uuid.uuid4(), uuid.uuid4()
    items = [{"type": "flight", "offer_id": offer_of(a), "seats": 3}]
    assert (await hold(client, issuer, items, booking_id=booking, user_id=user)).status_code == 201
    owner = issuer.bearer("customer", user_id=str(user))
    # Another customer can neither read nor release it: to them it does not exist.
    stranger = issuer.bearer("customer", user_id=str(uuid.uuid4()))
    for method in ("GET", "DELETE"):
        response = await client.request(method, f"/internal/holds/{booking}", headers=stranger)
        assert response.status_code == 404 and response.json()["code"] == "hold_not_found"
    assert await seats_left(client, a["id"]) == before - 3
    seen = await client.get(f"/internal/holds/{booking}", headers=owner)
    assert seen.status_code == 200 and seen.json()["status"] == "held"
    for _ in range(2):
        response = await client.delete(f"/internal/holds/{booking}", headers=owner)
        assert response.status_code == 200 and response.json()["status"] == "released"
        assert await seats_left(client, a["id"]) == before
    again = await hold(client, issuer, items, booking_id=booking)
    assert again.status_code == 409 and again.json()["code"] == "hold_closed"
    # A release that overtakes its hold request: the late hold is refused.
    late = uuid.uuid4()
    assert (
        await client.delete(f"/internal/holds/{late}", headers=issuer.bearer())
    ).status_code == 200
    refused = await hold(client, issuer, items, booking_id=late)
    assert refused.status_code == 409 and refused.json()["code"] == "hold_closed"
    assert await seats_left(client, a["id"]) == before


async def test_internal_routes_need_a_token_and_reprice(any_client, issuer):
    client = any_client
    a, _ = await two_flights(client, issuer)
    offer = offer_of(a, "business", "flex")
    assert (await client.get(f"/internal/offers/{offer}")).status_code == 401
    response = await client.get(
        f"/internal/offers/{offer}", params={"adults": 2, "children": 1}, headers=issuer.bearer()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["cabin"] == "business" and body["fare"]["refundable"] is True
    adult = next(
        f
        for f in next(c for c in a["cabins"] if c["cabin"] == "business")["fares"]
        if f["family"] == "flex"
    )["price_per_adult"]
    assert body["price_per_passenger"]["adult"] == adult
    gone = await client.get("/internal/offers/AQAAbm90YW5vZmZlcg", headers=issuer.bearer())
    assert gone.status_code == 404 and gone.json()["code"] == "offer_not_found"
    await set_seats(client, a["id"], 1, "business")
    full = await client.get(
        f"/internal/offers/{offer}", params={"adults": 2}, headers=issuer.bearer()
    )
    assert full.status_code == 409 and full.json()["code"] == "seats_unavailable"


async def test_hundred_concurrent_holds_for_the_last_seat(any_client, issuer):
    client = any_client
    a, _ = await two_flights(client, issuer)
    await set_seats(client, a["id"], 1)
    items = [{"type": "flight", "offer_id": offer_of(a), "seats": 1}]
    responses = await asyncio.gather(*(hold(client, issuer, items) for _ in range(100)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1 and codes.count(409) == 99, codes
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"seats_unavailable"}
    assert await seats_left(client, a["id"]) == 0
