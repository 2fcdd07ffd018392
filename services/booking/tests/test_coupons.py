"""Coupons: staff manage them; bookings apply them with exact money, within their limits
(also when two customers race for the last use), and give a use back when they expire."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from wayfare_booking.store.models import Booking

from booking_support import booking_body, flight_item, package_item


async def new_coupon(booking, **body) -> dict:
    staff = booking.admin()
    response = await booking.client.post("/api/v1/coupons", json=body, headers=staff.headers)
    assert response.status_code == 201, response.text
    return response.json()


def cents(money: dict) -> int:
    return int(money["amount"].replace(".", ""))


async def test_staff_manage_coupons(booking):
    staff, ada = booking.admin(), booking.customer()
    body = {"code": "spring-25", "kind": "fixed", "amount": {"amount": "25.00", "currency": "EUR"}}
    forbidden = await booking.client.post("/api/v1/coupons", json=body, headers=ada.headers)
    assert forbidden.status_code == 403
    coupon = await new_coupon(
        booking, **body, minimum={"amount": "100.00", "currency": "EUR"}, max_uses=5
    )
    assert coupon["code"] == "SPRING-25" and coupon["currency"] == "EUR"
    assert coupon["uses"] == {"reserved": 0, "redeemed": 0, "released": 0}
    taken = await booking.client.post("/api/v1/coupons", json=body, headers=staff.headers)
    assert taken.status_code == 409 and taken.json()["code"] == "coupon_code_taken"
    for bad in (
        {"code": "NOAMOUNT", "kind": "fixed"},
        {"code": "BOTH", "kind": "percent", "percent": "10", "amount": body["amount"]},
        {"code": "TOOMUCH", "kind": "percent", "percent": "100.5"},
        {"code": "FINE", "kind": "percent", "percent": "10.125"},
        {**body, "code": "EXTRA", "uses": 3},
        {"code": "USD", "kind": "fixed", "amount": body["amount"], "currency": "USD"},
    ):
        response = await booking.client.post("/api/v1/coupons", json=bad, headers=staff.headers)
        assert response.status_code == 422, bad
    changed = await booking.client.patch(
        f"/api/v1/coupons/{coupon['id']}",
        json={"active": False, "max_uses": 1},
        headers=staff.headers,
    )
    assert changed.status_code == 200 and changed.json()["active"] is False
    listed = await booking.client.get("/api/v1/coupons", headers=staff.headers)
    assert [c["code"] for c in listed.json()["data"]] == ["SPRING-25"]
    assert (await booking.client.get("/api/v1/coupons", headers=ada.headers)).status_code == 403


async def test_a_percent_coupon_discounts_the_items_it_covers_exactly(booking):
    await new_coupon(
        booking, code="TREK125", kind="percent", percent="12.5", product_types=["package"]
    )
    ada = booking.customer()
    package = booking.flight.package
    items = [flight_item(booking.flight.flights["domestic"]), package_item(package, days=40)]
    created = await booking.booked(ada, booking_body(items, coupon="trek125"))
    package_price = created["items"][1]["price"]
    assert package_price == {"amount": "899.00", "currency": "EUR"}
    # 12.5 % of 899.00 = 112.375 -> 112.38 (half up), all on the package, none on the flight
    assert created["price"]["discount"] == {"amount": "112.38", "currency": "EUR"}
    assert created["items"][1]["discount"]["amount"] == "112.38"
    assert created["items"][0]["discount"]["amount"] == "0.00"
    price = created["price"]
    assert cents(price["total"]) == cents(price["base"]) + cents(price["fees"]) - 11238
    assert created["coupon_code"] == "TREK125"
    [event] = await booking.events("booking.created", created["id"])
    assert event["price"]["discount"]["amount"] == "112.38"
    assert event["amount"] == price["total"]

    flight_only = await booking.book(
        ada, booking_body([flight_item(booking.flight.flights["domestic"])], coupon="TREK125")
    )
    assert flight_only.status_code == 422
    assert flight_only.json()["code"] == "coupon_not_applicable"
    assert flight_only.json()["reason"] == "product_type"


async def test_coupon_rules_are_checked_before_anything_is_stored(booking):
    now = datetime.now(UTC)
    await new_coupon(
        booking,
        code="BIG",
        kind="fixed",
        amount={"amount": "50.00", "currency": "EUR"},
        minimum={"amount": "5000.00", "currency": "EUR"},
    )
    await new_coupon(
        booking,
        code="LATER",
        kind="percent",
        percent="5",
        valid_from=(now + timedelta(days=1)).isoformat(),
    )
    await new_coupon(
        booking,
        code="GONE",
        kind="percent",
        percent="5",
        valid_until=(now - timedelta(seconds=1)).isoformat(),
    )
    await new_coupon(booking, code="ONCE", kind="percent", percent="5", max_uses_per_customer=1)
    ada = booking.customer()
    items = [flight_item(booking.flight.flights["domestic"])]
    for code, reason in (
        ("BIG", "minimum_not_met"),
        ("LATER", "not_yet_valid"),
        ("GONE", "expired"),
        ("NOPE", "not_found"),
    ):
        response = await booking.book(ada, booking_body(items, coupon=code))
        assert response.status_code == 422, code
        assert response.json()["reason"] == reason, code
    await booking.booked(ada, booking_body(items, coupon="ONCE"))
    again = await booking.book(ada, booking_body(items, coupon="ONCE"))
    assert again.json()["reason"] == "customer_limit"
    async with booking.database.sessions() as session:
        stored = await session.scalar(sa.select(sa.func.count()).select_from(Booking))
    assert stored == 1
    # only the minimum needs the held prices: that hold went back; the rest held nothing
    assert sorted(await booking.flight.hold_statuses_of(ada.id)) == ["held", "released"]

    # a quote shows why, without refusing
    quote = await booking.client.post(
        "/api/v1/bookings/quote", json={"items": items, "coupon_code": "ONCE"}, headers=ada.headers
    )
    assert quote.status_code == 200
    assert quote.json()["coupon"] == {"code": "ONCE", "applied": False, "reason": "customer_limit"}
    assert quote.json()["price"]["discount"]["amount"] == "0.00"


async def test_the_last_use_goes_to_one_booking_and_comes_back_when_it_expires(booking):
    await new_coupon(
        booking,
        code="LAST",
        kind="fixed",
        amount={"amount": "10.00", "currency": "EUR"},
        max_uses=1,
    )
    items = [flight_item(booking.flight.flights["domestic"])]
    customers = [booking.customer() for _ in range(4)]
    responses = await asyncio.gather(
        *(booking.book(who, booking_body(items, coupon="LAST")) for who in customers)
    )
    won = [r for r in responses if r.status_code == 201]
    assert len(won) == 1, [r.text for r in responses]
    assert {r.json()["reason"] for r in responses if r.status_code != 201} == {"exhausted"}
    assert won[0].json()["price"]["discount"]["amount"] == "10.00"

    await booking.background.expire_once(datetime.now(UTC) + timedelta(hours=1))
    latecomer = booking.customer()
    response = await booking.book(latecomer, booking_body(items, coupon="LAST"))
    assert response.status_code == 201, response.text
    coupon = (await booking.client.get("/api/v1/coupons", headers=booking.admin().headers)).json()[
        "data"
    ][0]
    assert coupon["uses"] == {"reserved": 1, "redeemed": 0, "released": 1}


async def test_a_fixed_coupon_never_discounts_more_than_it_covers(booking):
    await new_coupon(
        booking, code="HUGE", kind="fixed", amount={"amount": "100000.00", "currency": "EUR"}
    )
    created = await booking.booked(
        booking.customer(),
        booking_body([flight_item(booking.flight.flights["domestic"])], coupon="HUGE"),
    )
    price = created["price"]
    assert price["discount"] == price["base"]
    assert price["total"] == price["fees"]
    assert uuid.UUID(created["id"])
