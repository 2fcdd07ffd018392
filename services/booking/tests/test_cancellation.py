"""Cancellation: the quote shows the refund before anything changes, the policy table by
fare and time to departure, who may cancel and how, and illegal cancellations."""

import uuid
from datetime import UTC, datetime, timedelta

from wayfare_common.events.catalog import PaymentSucceeded

from booking_support import booking_body, envelope, eventually, flight_item, package_item


async def paid_booking(booking, item) -> tuple[dict, dict]:
    ada = booking.customer()
    created = await booking.booked(ada, booking_body([item]))
    payment = PaymentSucceeded(
        payment_id=uuid.uuid4(),
        booking_id=created["id"],
        user_id=ada.id,
        amount=created["price"]["total"],
        provider="sandbox",
        provider_reference="ch_test",
    )
    await booking.deliver(envelope(payment))
    return created, ada.headers


async def quote_of(booking, created, headers) -> dict:
    response = await booking.client.get(
        f"/api/v1/bookings/{created['id']}/cancellation", headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def cancel(booking, created, headers, **body):
    return await booking.client.post(
        f"/api/v1/bookings/{created['id']}/cancel", json=body, headers=headers
    )


def cents(money: dict) -> int:
    return int(money["amount"].replace(".", ""))


async def test_refundable_fare_refunds_the_fare_and_keeps_the_fees(booking):
    created, headers = await paid_booking(
        booking, flight_item(booking.flight.flights["domestic"], "flex")
    )
    quote = await quote_of(booking, created, headers)
    assert quote["cancellable"] and quote["status"] == "confirmed"
    assert quote["refund"] == created["items"][0]["price"]  # the whole fare
    assert quote["retained"] == created["price"]["fees"]  # our service fees
    assert [(line["rule"], line["percent"]) for line in quote["lines"]] == [
        ("refundable_fare", "100")
    ]
    assert await booking.status(created["id"]) == "confirmed"  # a quote changes nothing

    response = await cancel(booking, created, headers, expected_refund=quote["refund"])
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation"]["refund"] == quote["refund"]
    [event] = await booking.events("booking.cancelled", created["id"])
    assert event["refund"] == quote["refund"] and event["reason"] == "customer_request"
    assert event["cancelled_by"] == {"user_id": created["user_id"], "role": "customer"}
    # flight gives the sold seats back when it hears booking.cancelled
    await eventually(
        lambda: _hold_is(booking, created["id"], "released"), message="seats not released"
    )


async def _hold_is(booking, booking_id, status) -> bool:
    return (await booking.flight.hold(booking_id))["status"] == status


async def test_non_refundable_fare_refunds_half_until_the_cutoff_then_nothing(booking):
    early, headers = await paid_booking(booking, flight_item(booking.flight.flights["domestic"]))
    quote = await quote_of(booking, early, headers)
    fare = cents(early["items"][0]["price"])
    assert cents(quote["refund"]) == (fare + 1) // 2  # 50 %, half up
    assert quote["lines"][0]["rule"] == "non_refundable_fare"

    late, headers = await paid_booking(booking, flight_item(booking.flight.flights["soon"]))
    quote = await quote_of(booking, late, headers)
    assert quote["refund"] == {"amount": "0.00", "currency": "EUR"}
    assert quote["lines"][0]["rule"] == "non_refundable_fare_within_24h"
    assert quote["retained"] == late["price"]["total"]
    response = await cancel(booking, late, headers)
    assert response.status_code == 200
    [event] = await booking.events("booking.cancelled", late["id"])
    assert event["refund"]["amount"] == "0.00"


async def test_packages_refund_by_days_before_departure(booking):
    package = booking.flight.package
    far, headers = await paid_booking(booking, package_item(package, days=40))  # 40 days
    quote = await quote_of(booking, far, headers)
    assert quote["lines"][0]["rule"] == "package_30_days_or_more"
    assert quote["refund"] == far["items"][0]["price"]
    near, headers = await paid_booking(booking, package_item(package, days=10))  # 10 days
    quote = await quote_of(booking, near, headers)
    assert quote["lines"][0]["rule"] == "package_7_days_or_more"
    assert cents(quote["refund"]) == cents(near["items"][0]["price"]) * 25 // 100


async def test_cancelling_before_payment_refunds_nothing(booking):
    ada = booking.customer()
    created = await booking.booked(
        ada, booking_body([flight_item(booking.flight.flights["domestic"], "flex")])
    )
    quote = await quote_of(booking, created, ada.headers)
    assert quote["paid"]["amount"] == "0.00" and quote["refund"]["amount"] == "0.00"
    response = await cancel(booking, created, ada.headers, reason="changed my mind")
    assert response.status_code == 200
    [event] = await booking.events("booking.cancelled", created["id"])
    assert (event["reason"], event["refund"]["amount"]) == ("changed my mind", "0.00")
    await eventually(lambda: _hold_is(booking, created["id"], "released"), message="seats kept")


async def test_illegal_cancellations_change_nothing(booking):
    ada = booking.customer()
    created = await booking.booked(
        ada, booking_body([flight_item(booking.flight.flights["domestic"])])
    )
    assert (await cancel(booking, created, ada.headers)).status_code == 200
    before = (await booking.get(ada, created["id"])).json()
    again = await cancel(booking, created, ada.headers)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    problem = again.json()
    assert problem["code"] == "invalid_transition" and problem["status_of_booking"] == "cancelled"
    assert (await booking.get(ada, created["id"])).json() == before
    assert len(await booking.events("booking.cancelled", created["id"])) == 1

    expired = await booking.booked(
        ada, booking_body([flight_item(booking.flight.flights["domestic"])])
    )
    await booking.background.expire_once(datetime.now(UTC) + timedelta(hours=1))
    response = await cancel(booking, expired, ada.headers)
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
    assert await booking.status(expired["id"]) == "expired"
    assert len(await booking.events("booking.cancelled")) == 1


async def test_a_changed_refund_is_not_applied(booking):
    created, headers = await paid_booking(booking, flight_item(booking.flight.flights["domestic"]))
    response = await cancel(
        booking, created, headers, expected_refund={"amount": "9999.99", "currency": "EUR"}
    )
    assert response.status_code == 409 and response.json()["code"] == "refund_changed"
    assert await booking.status(created["id"]) == "confirmed"
    assert await booking.events("booking.cancelled") == []


async def test_customers_cannot_cancel_after_departure(booking):
    created, headers = await paid_booking(booking, flight_item(booking.flight.flights["domestic"]))
    from test_lifecycle import set_column

    await set_column(
        booking, created["id"], travel_starts_at=datetime.now(UTC) - timedelta(hours=1)
    )
    response = await cancel(booking, created, headers)
    assert response.status_code == 409 and response.json()["code"] == "travel_started"
    assert (await quote_of(booking, created, headers))["cancellable"] is False
    assert await booking.status(created["id"]) == "confirmed"


async def test_staff_cancel_with_a_reason_and_may_waive_the_policy(booking):
    created, headers = await paid_booking(booking, flight_item(booking.flight.flights["domestic"]))
    staff = booking.admin()
    no_reason = await cancel(booking, created, staff.headers)
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "body.reason"
    customer_waive = await cancel(booking, created, headers, waive_policy=True)
    assert customer_waive.status_code == 403
    waived_quote = await booking.client.get(
        f"/api/v1/bookings/{created['id']}/cancellation?waive_policy=true", headers=staff.headers
    )
    assert waived_quote.json()["refund"] == created["price"]["total"]
    assert await booking.status(created["id"]) == "confirmed"

    response = await cancel(
        booking, created, staff.headers, reason="flight cancelled by the carrier", waive_policy=True
    )
    assert response.status_code == 200, response.text
    [event] = await booking.events("booking.cancelled", created["id"])
    assert event["refund"] == created["price"]["total"]
    assert event["reason"] == "flight cancelled by the carrier"
    assert event["cancelled_by"] == {"user_id": str(staff.id), "role": "admin"}
    assert event["_actor"] == {"user_id": str(staff.id), "role": "admin"}
