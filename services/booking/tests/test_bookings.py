"""Creating bookings against the real flight service: the booking's shape and price, the
hold behind it, booking.created, passengers and their types, passports, ownership, lists,
name corrections and mass assignment."""

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from wayfare_booking.store.models import Booking, IdempotencyKey
from wayfare_common.events.catalog import BookingCreated, PaymentSucceeded

from booking_support import (
    adult,
    booking_body,
    envelope,
    flight_item,
    package_item,
    passport,
    today,
)


async def count(booking, model=Booking) -> int:
    async with booking.database.sessions() as session:
        return await session.scalar(sa.select(sa.func.count()).select_from(model))


async def test_a_booking_is_priced_held_and_announced(booking):
    flight = booking.flight
    ada = booking.customer()
    body = booking_body(
        [flight_item(flight.flights["domestic"])],
        passengers=[adult(), adult("Charles", "Babbage", "1971-12-26")],
    )
    before = datetime.now(UTC)
    response = await booking.book(ada, body)
    assert response.status_code == 201, response.text
    created = response.json()
    # DESIGN §7's minimum shape
    assert {
        "id",
        "reference",
        "status",
        "items",
        "passengers",
        "price",
        "payable_until",
        "created_at",
    } <= created.keys()
    assert created["status"] == "pending_payment"
    assert response.headers["Location"] == f"/api/v1/bookings/{created['id']}"
    price = created["price"]
    for part in ("base", "fees", "discount", "total"):
        assert price[part]["currency"] == "EUR" and isinstance(price[part]["amount"], str)
    # default fees: 4.90 per booking + 1.50 per passenger on flights
    assert price["fees"]["amount"] == "7.90"
    assert [line["name"] for line in price["fee_lines"]] == ["service_fee", "passenger_fee"]
    base = flight_price = created["items"][0]["price"]
    assert base["amount"] == price["base"]["amount"]
    total = int(flight_price["amount"].replace(".", "")) + 790  # exact, in cents
    assert price["total"]["amount"] == f"{total // 100}.{total % 100:02d}"
    assert [p["type"] for p in created["passengers"]] == ["adult", "adult"]
    payable_until = datetime.fromisoformat(created["payable_until"])
    assert timedelta(minutes=14) < payable_until - before <= timedelta(minutes=15, seconds=5)

    # the seats are held at flight for this booking id, a little beyond the deadline
    hold = await flight.hold(created["id"])
    assert hold["status"] == "held"
    assert hold["items"][0]["seats"] == 2
    assert datetime.fromisoformat(hold["expires_at"]) == payable_until + timedelta(seconds=60)

    [event] = await booking.events("booking.created", created["id"])
    parsed = BookingCreated.model_validate(event)
    assert parsed.reference == created["reference"]
    assert parsed.user_id == ada.id
    assert parsed.contact_email == "ada@example.com"
    assert parsed.passenger_count == 2
    assert parsed.amount.to_json() == price["total"]
    assert parsed.items[0].seats == 2 and parsed.items[0].cabin == "economy"
    assert event["price"]["fees"] == {"amount": "7.90", "currency": "EUR"}
    assert event["passengers"] == [
        {"given_name": "Ada", "family_name": "Lovelace", "type": "adult"},
        {"given_name": "Charles", "family_name": "Babbage", "type": "adult"},
    ]
    assert event["_actor"] == {"user_id": str(ada.id), "role": "customer"}

    read = await booking.get(ada, created["id"])
    assert read.status_code == 200 and read.json() == created


async def test_quote_matches_the_booking_and_holds_nothing(booking):
    package = booking.flight.package
    ada = booking.customer()
    items = [package_item(package, days=40)]

    async def places() -> dict:
        detail = (await booking.flight.http.get(f"/api/v1/packages/{package['id']}")).json()
        return {d["id"]: d["places_available"] for d in detail["departures"]}

    before = await places()
    quote = await booking.client.post(
        "/api/v1/bookings/quote",
        json={"items": items, "party": {"adults": 2, "children": 1}},
        headers=ada.headers,
    )
    assert quote.status_code == 200, quote.text
    priced = quote.json()
    # 3 x 899.00 = 2697.00; fees 4.90 + 2 % of 2697.00 (53.94); no per-passenger fee on packages
    assert priced["price"]["base"] == {"amount": "2697.00", "currency": "EUR"}
    assert priced["price"]["fees"] == {"amount": "58.84", "currency": "EUR"}
    assert priced["price"]["total"] == {"amount": "2755.84", "currency": "EUR"}
    assert await places() == before  # a quote holds nothing

    created = await booking.booked(
        ada,
        booking_body(
            items,
            passengers=[
                adult(),
                adult("Bo", "Lee", "1990-01-01"),
                adult("Cy", "Lee", "2016-05-05"),
            ],
        ),
    )
    assert created["price"] == priced["price"]
    assert [p["type"] for p in created["passengers"]] == ["adult", "adult", "child"]
    assert created["items"][0]["vendor_id"] == package["vendor_id"]
    departure = items[0]["departure_id"]
    assert (await places())[departure] == before[departure] - 3


async def test_no_hold_no_booking(booking):
    flight = booking.flight
    tight = await flight.add_flight(
        "LH110", "FRA", "BER", (datetime.now(UTC) + timedelta(days=6)).isoformat()
    )
    await flight.set_seats(tight["id"], 1)
    ada = booking.customer()
    key = str(uuid.uuid4())
    body = booking_body(
        [flight_item(tight)], passengers=[adult(), adult("Bo", "Lee", "1990-01-01")]
    )
    response = await booking.book(ada, body, key=key)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "seats_unavailable"
    assert await count(booking) == 0
    assert await booking.events("booking.created") == []
    assert await count(booking, IdempotencyKey) == 0  # the key may be used again

    await flight.set_seats(tight["id"], 5)
    again = await booking.book(ada, body, key=key)
    assert again.status_code == 201, again.text


async def test_passenger_types_come_from_the_birth_date_on_the_travel_date(booking):
    flight = booking.flight
    day = datetime.fromisoformat(flight.flights["domestic"]["departing_at"]).date()
    twelve_that_day = day.replace(year=day.year - 12)
    infant = day.replace(year=day.year - 1)
    ada = booking.customer()
    created = await booking.booked(
        ada,
        booking_body(
            [flight_item(flight.flights["domestic"])],
            passengers=[
                adult(),
                adult("Tim", "Lee", twelve_that_day.isoformat()),
                adult("Ivy", "Lee", infant.isoformat(), type="infant"),
            ],
        ),
    )
    assert [p["type"] for p in created["passengers"]] == ["adult", "adult", "infant"]
    assert created["items"][0]["passengers"] == {"adults": 2, "children": 0, "infants": 1}
    assert created["items"][0]["seats"] == 2  # infants sit on a lap

    mismatch = await booking.book(
        ada,
        booking_body(
            [flight_item(flight.flights["domestic"])],
            passengers=[adult(), adult("Tim", "Lee", twelve_that_day.isoformat(), type="child")],
        ),
    )
    assert mismatch.status_code == 422, mismatch.text
    assert mismatch.json()["errors"][0]["field"] == "body.passengers.1.type"
    no_adult = await booking.book(
        ada,
        booking_body(
            [flight_item(flight.flights["domestic"])],
            passengers=[adult("Kid", "Lee", (day - timedelta(days=365 * 5)).isoformat())],
        ),
    )
    assert no_adult.status_code == 422
    assert await count(booking) == 1


async def test_international_trips_need_passports(booking):
    flight = booking.flight
    ada = booking.customer()
    items = [flight_item(flight.flights["international"])]
    missing = await booking.book(ada, booking_body(items))
    assert missing.status_code == 422 and missing.json()["code"] == "passport_required"
    expiring = await booking.book(
        ada, booking_body(items, passengers=[adult(passport=passport(today().isoformat()))])
    )
    assert expiring.status_code == 422
    assert expiring.json()["errors"][0]["field"] == "body.passengers.0.passport.expires_on"
    assert await count(booking) == 0

    created = await booking.booked(
        ada, booking_body(items, passengers=[adult(passport=passport())])
    )
    assert created["passengers"][0]["passport"]["number"] == "C01X00T47"
    # domestic: no passport needed
    await booking.booked(ada, booking_body([flight_item(flight.flights["domestic"])]))


async def test_mass_assignment_is_refused(booking):
    ada = booking.customer()
    body = booking_body([flight_item(booking.flight.flights["domestic"])])
    for extra in (
        {"status": "confirmed"},
        {"price": {"total": {"amount": "0.01", "currency": "EUR"}}},
        {"user_id": str(uuid.uuid4())},
        {"reference": "AAAAAA"},
    ):
        response = await booking.book(ada, {**body, **extra})
        assert response.status_code == 422, extra
        assert response.json()["code"] == "validation_error"
    sneaky = {**body, "passengers": [{**adult(), "type": "adult", "id": str(uuid.uuid4())}]}
    assert (await booking.book(ada, sneaky)).status_code == 422
    assert await count(booking) == 0

    created = await booking.booked(ada, body)
    passenger = created["passengers"][0]["id"]
    patch = await booking.client.patch(
        f"/api/v1/bookings/{created['id']}/passengers/{passenger}",
        json={"birth_date": "2020-01-01"},
        headers=ada.headers,
    )
    assert patch.status_code == 422


async def test_other_customers_get_404(booking):
    flight = booking.flight
    ada, eve = booking.customer(), booking.customer()
    created = await booking.booked(ada, booking_body([flight_item(flight.flights["domestic"])]))
    path = f"/api/v1/bookings/{created['id']}"
    passenger = created["passengers"][0]["id"]
    for method, url, body in (
        ("GET", path, None),
        ("GET", f"{path}/cancellation", None),
        ("POST", f"{path}/cancel", {}),
        ("PATCH", f"{path}/passengers/{passenger}", {"given_name": "Eve"}),
    ):
        response = await booking.client.request(method, url, json=body, headers=eve.headers)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["code"] == "booking_not_found"
    unknown = await booking.client.get(f"/api/v1/bookings/{uuid.uuid4()}", headers=ada.headers)
    assert unknown.status_code == 404
    assert (await booking.status(created["id"])) == "pending_payment"
    assert (await booking.get(ada, created["id"])).json()["passengers"][0]["given_name"] == "Ada"
    staff = await booking.get(booking.admin(), created["id"])
    assert staff.status_code == 200
    assert (await booking.client.get(path)).status_code == 401


async def test_lists_are_the_callers_own_filtered_and_paged(booking):
    flight = booking.flight
    ada, eve = booking.customer(), booking.customer()
    items = [flight_item(flight.flights["domestic"])]
    ids = [(await booking.booked(ada, booking_body(items)))["id"] for _ in range(3)]
    await booking.booked(eve, booking_body(items))
    total = (await booking.get(ada, ids[0])).json()["price"]["total"]
    await booking.deliver(
        envelope(
            PaymentSucceeded(
                payment_id=uuid.uuid4(),
                booking_id=ids[0],
                user_id=ada.id,
                amount=total,
                provider="sandbox",
                provider_reference="ch_1",
            )
        )
    )
    first = await booking.client.get("/api/v1/bookings?limit=2", headers=ada.headers)
    assert first.status_code == 200
    page = first.json()
    assert [b["id"] for b in page["data"]] == ids[::-1][:2]
    second = await booking.client.get(
        f"/api/v1/bookings?limit=2&cursor={page['next_cursor']}", headers=ada.headers
    )
    assert [b["id"] for b in second.json()["data"]] == [ids[0]]
    assert second.json()["next_cursor"] is None
    confirmed = await booking.client.get("/api/v1/bookings?status=confirmed", headers=ada.headers)
    assert [b["id"] for b in confirmed.json()["data"]] == [ids[0]]
    bad = await booking.client.get("/api/v1/bookings?status=paid", headers=ada.headers)
    assert bad.status_code == 422


async def test_names_can_be_corrected_only_before_payment(booking):
    ada = booking.customer()
    created = await booking.booked(
        ada, booking_body([flight_item(booking.flight.flights["domestic"])])
    )
    passenger = created["passengers"][0]["id"]
    url = f"/api/v1/bookings/{created['id']}/passengers/{passenger}"
    fixed = await booking.client.patch(
        url, json={"given_name": "Augusta  Ada", "family_name": "King"}, headers=ada.headers
    )
    assert fixed.status_code == 200, fixed.text
    person = fixed.json()["passengers"][0]
    assert (person["given_name"], person["family_name"]) == ("Augusta Ada", "King")
    assert (
        await booking.client.patch(url, json={"given_name": "R2D2"}, headers=ada.headers)
    ).status_code == 422
    missing = await booking.client.patch(
        f"/api/v1/bookings/{created['id']}/passengers/{uuid.uuid4()}",
        json={"given_name": "Eve"},
        headers=ada.headers,
    )
    assert missing.status_code == 404
    cancel = await booking.client.post(
        f"/api/v1/bookings/{created['id']}/cancel", headers=ada.headers
    )
    assert cancel.status_code == 200
    late = await booking.client.patch(url, json={"given_name": "Ada"}, headers=ada.headers)
    assert late.status_code == 409 and late.json()["code"] == "booking_not_editable"
    assert (await booking.get(ada, created["id"])).json()["passengers"][0][
        "given_name"
    ] == "Augusta Ada"
