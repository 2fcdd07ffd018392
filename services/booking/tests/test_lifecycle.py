"""The state machine driven by events through the real broker: payment outcomes
(duplicated, out of order, late), hold expiry (from the real flight sweeper), the
payment deadline, and completion after travel. Every transition, and what an illegal
one does (nothing, or a refund when money arrived)."""

import argparse
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from wayfare_booking.__main__ import complete_travelled
from wayfare_booking.store.models import Booking, CouponRedemption, PaymentRecord
from wayfare_common.events.catalog import (
    HoldExpired,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
)

from booking_support import (
    booking_body,
    envelope,
    eventually,
    flight_item,
    package_item,
    running_booking,
)

SYSTEM = {"user_id": None, "role": "system"}


def paid(created: dict, amount: dict | None = None, payment_id=None) -> PaymentSucceeded:
    return PaymentSucceeded(
        payment_id=payment_id or uuid.uuid4(),
        booking_id=created["id"],
        user_id=created["user_id"],
        amount=amount or created["price"]["total"],
        provider="sandbox",
        provider_reference="ch_test",
    )


async def set_column(booking, booking_id, **values) -> None:
    async with booking.database.sessions() as session, session.begin():
        await session.execute(
            sa.update(Booking).where(Booking.id == uuid.UUID(booking_id)).values(**values)
        )


async def new_booking(booking, items=None, **body) -> dict:
    items = items or [flight_item(booking.flight.flights["domestic"])]
    return await booking.booked(booking.customer(), booking_body(items, **body))


async def hold_status(booking, booking_id) -> str:
    return (await booking.flight.hold(booking_id))["status"]


async def test_payment_confirms_once_and_flight_sells_the_seats(booking):
    created = await new_booking(booking)
    event = envelope(paid(created))
    # the same event twice, and the same payment under a new event id
    await booking.deliver(
        event, event, envelope(paid(created, payment_id=event.data["payment_id"]))
    )
    assert await booking.status(created["id"]) == "confirmed"
    [confirmed] = await booking.events("booking.confirmed", created["id"])
    assert confirmed["amount"] == created["price"]["total"]
    assert confirmed["reference"] == created["reference"]
    assert confirmed["items"][0]["flight_ids"] == created["items"][0]["flight_ids"]
    await eventually(lambda: _is(booking, created["id"], "sold"), message="flight did not sell")
    read = await booking.client.get(
        f"/api/v1/bookings/{created['id']}",
        headers=booking.issuer.bearer("admin"),
    )
    assert read.json()["paid"] == created["price"]["total"]


async def _is(booking, booking_id, status) -> bool:
    return await hold_status(booking, booking_id) == status


async def test_a_failed_payment_keeps_the_booking_payable(booking):
    created = await new_booking(booking)
    failure = PaymentFailed(
        payment_id=uuid.uuid4(),
        booking_id=created["id"],
        user_id=created["user_id"],
        reason="card_declined",
    )
    await booking.deliver(envelope(failure))
    assert await booking.status(created["id"]) == "pending_payment"
    async with booking.database.sessions() as session:
        record = await session.scalar(sa.select(PaymentRecord))
    assert (record.kind, record.reason) == ("failed", "card_declined")
    await booking.deliver(envelope(paid(created)))
    assert await booking.status(created["id"]) == "confirmed"
    # a failure that arrives after the success changes nothing
    await booking.deliver(envelope(failure))
    assert await booking.status(created["id"]) == "confirmed"
    assert len(await booking.events("booking.confirmed", created["id"])) == 1


async def test_the_deadline_expires_unpaid_bookings_and_a_late_payment_is_refunded(booking):
    created = await new_booking(booking)
    other = await new_booking(booking)
    await booking.deliver(envelope(paid(other)))
    past = datetime.now(UTC) - timedelta(minutes=5)
    await set_column(booking, created["id"], payable_until=past)
    await set_column(booking, other["id"], payable_until=past)  # confirmed: left alone

    assert await booking.background.expire_once() == 1
    assert await booking.status(created["id"]) == "expired"
    assert await booking.status(other["id"]) == "confirmed"
    [expired] = await booking.events("booking.expired", created["id"])
    assert expired["reference"] == created["reference"]
    await eventually(lambda: _is(booking, created["id"], "released"), message="seats kept")
    assert await booking.background.expire_once() == 0

    await booking.deliver(envelope(paid(created)))
    assert await booking.status(created["id"]) == "expired"  # never confirmed
    assert await booking.events("booking.confirmed", created["id"]) == []
    [refund] = await booking.events("booking.cancelled", created["id"])
    assert refund["reason"] == "late_payment"
    assert refund["refund"] == created["price"]["total"]
    assert refund["cancelled_by"] == SYSTEM


async def test_a_payment_captured_after_the_deadline_is_refunded_not_confirmed(booking):
    created = await new_booking(booking)
    deadline = datetime.fromisoformat(created["payable_until"])
    await booking.deliver(envelope(paid(created), occurred_at=deadline + timedelta(seconds=1)))
    assert await booking.status(created["id"]) == "expired"
    assert len(await booking.events("booking.expired", created["id"])) == 1
    [refund] = await booking.events("booking.cancelled", created["id"])
    assert refund["reason"] == "late_payment"

    # captured in time, arriving within the grace (the sweeper has not run): confirmed
    on_time = await new_booking(booking)
    deadline = datetime.fromisoformat(on_time["payable_until"])
    await set_column(booking, on_time["id"], payable_until=datetime.now(UTC) - timedelta(seconds=5))
    await booking.deliver(
        envelope(paid(on_time), occurred_at=datetime.now(UTC) - timedelta(seconds=10))
    )
    assert await booking.status(on_time["id"]) == "confirmed"


async def test_a_payment_after_cancellation_is_refunded_in_full(booking):
    created = await new_booking(booking)
    ada = booking.issuer.bearer("customer", user_id=created["user_id"])
    cancel = await booking.client.post(f"/api/v1/bookings/{created['id']}/cancel", headers=ada)
    assert cancel.status_code == 200
    await booking.deliver(envelope(paid(created)))
    assert await booking.status(created["id"]) == "cancelled"
    cancelled = await booking.events("booking.cancelled", created["id"])
    assert [(c["reason"], c["refund"]["amount"]) for c in cancelled] == [
        ("customer_request", "0.00"),
        ("late_payment", created["price"]["total"]["amount"]),
    ]


async def test_a_payment_that_does_not_match_the_price_is_refunded(booking):
    created = await new_booking(booking)
    await booking.deliver(envelope(paid(created, {"amount": "1.00", "currency": "EUR"})))
    assert await booking.status(created["id"]) == "cancelled"
    [refund] = await booking.events("booking.cancelled", created["id"])
    assert (refund["reason"], refund["refund"]["amount"]) == ("payment_mismatch", "1.00")


async def test_flight_hold_expiry_expires_the_booking(
    database_url, amqp_server_url, namespace, issuer, flight
):
    """The real flight sweeper expires the hold; flight.hold_expired reaches booking."""
    async with running_booking(
        database_url,
        amqp_server_url,
        namespace,
        issuer,
        flight,
        payment_window_minutes=0.05,  # 3 s
        payment_grace_seconds=0,
    ) as booking:
        created = await new_booking(booking)
        await eventually(
            lambda: _status_is(booking, created["id"], "expired"),
            timeout=20,
            message="flight.hold_expired did not expire the booking",
        )
        assert await hold_status(booking, created["id"]) == "expired"
        [expired] = await booking.events("booking.expired", created["id"])
        assert expired["booking_id"] == created["id"]
        # a duplicate, or one for another flight of the hold, changes nothing
        late = HoldExpired(
            hold_id=uuid.uuid4(), booking_id=created["id"], flight_id=uuid.uuid4(), seats=1
        )
        await booking.deliver(envelope(late, producer="flight"))
        assert len(await booking.events("booking.expired", created["id"])) == 1


async def _status_is(booking, booking_id, status) -> bool:
    return await booking.status(booking_id) == status


async def test_a_hold_lost_before_confirmation_reached_flight_is_refunded(booking):
    created = await new_booking(booking)
    await booking.deliver(envelope(paid(created)))
    lost = HoldExpired(
        hold_id=uuid.uuid4(),
        booking_id=created["id"],
        flight_id=created["items"][0]["flight_ids"][0],
        seats=1,
    )
    await booking.deliver(envelope(lost, producer="flight"))
    assert await booking.status(created["id"]) == "cancelled"
    [refund] = await booking.events("booking.cancelled", created["id"])
    assert refund["refund"] == created["price"]["total"]
    assert refund["reason"] == "hold_expired_before_confirmation"


async def test_events_for_closed_or_unknown_bookings_change_nothing(booking):
    created = await new_booking(booking)
    ada = booking.issuer.bearer("customer", user_id=created["user_id"])
    await booking.client.post(f"/api/v1/bookings/{created['id']}/cancel", headers=ada)
    expired = HoldExpired(
        hold_id=uuid.uuid4(), booking_id=created["id"], flight_id=uuid.uuid4(), seats=1
    )
    unknown = HoldExpired(
        hold_id=uuid.uuid4(), booking_id=uuid.uuid4(), flight_id=uuid.uuid4(), seats=1
    )
    await booking.deliver(
        envelope(expired, producer="flight"), envelope(unknown, producer="flight")
    )
    assert await booking.status(created["id"]) == "cancelled"
    assert await booking.events("booking.expired") == []
    assert len(await booking.events("booking.cancelled")) == 1


async def test_refunds_are_recorded(booking):
    created = await new_booking(
        booking, items=[flight_item(booking.flight.flights["domestic"], "flex")]
    )
    payment = paid(created)
    await booking.deliver(envelope(payment))
    ada = booking.issuer.bearer("customer", user_id=created["user_id"])
    cancel = await booking.client.post(f"/api/v1/bookings/{created['id']}/cancel", headers=ada)
    refund = cancel.json()["cancellation"]["refund"]
    refunded = PaymentRefunded(
        payment_id=payment.payment_id,
        booking_id=created["id"],
        user_id=created["user_id"],
        amount=refund,
        refunded_by={"user_id": created["user_id"], "role": "customer"},
    )
    event = envelope(refunded)
    await booking.deliver(event, event)
    read = await booking.client.get(f"/api/v1/bookings/{created['id']}", headers=ada)
    assert read.json()["refunded"] == refund
    assert read.json()["paid"] == created["price"]["total"]


async def test_travelled_bookings_complete_with_the_package_vendor(booking):
    package = booking.flight.package
    trip = await new_booking(booking, items=[package_item(package)])
    flight_only = await new_booking(booking)
    unpaid = await new_booking(booking)
    for created in (trip, flight_only):
        await booking.deliver(envelope(paid(created)))
    ended = datetime.now(UTC) - timedelta(days=2)
    for created in (trip, flight_only, unpaid):
        await set_column(booking, created["id"], travel_ends_at=ended)
    not_yet = await new_booking(booking)
    await booking.deliver(envelope(paid(not_yet)))

    assert await booking.background.complete_once() == 2
    assert await booking.status(trip["id"]) == "completed"
    assert await booking.status(flight_only["id"]) == "completed"
    assert await booking.status(unpaid["id"]) == "pending_payment"
    assert await booking.status(not_yet["id"]) == "confirmed"
    [done] = await booking.events("booking.completed", trip["id"])
    assert done["vendor_id"] == package["vendor_id"]
    assert done["amount"] == trip["items"][0]["price"]  # the vendor's places, not our fees
    [done] = await booking.events("booking.completed", flight_only["id"])
    assert done["vendor_id"] is None and done["amount"] == flight_only["price"]["total"]
    assert await booking.background.complete_once() == 0

    # completed is final: a cancellation is an illegal transition and changes nothing
    staff = booking.admin()
    response = await booking.client.post(
        f"/api/v1/bookings/{trip['id']}/cancel", json={"reason": "test"}, headers=staff.headers
    )
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
    assert await booking.status(trip["id"]) == "completed"


async def test_complete_travelled_command_can_run_ahead_only_outside_production(booking):
    """`python -m wayfare_booking complete-travelled --travel-ended-before ...`: what the
    e2e package journey uses to reach the vendor payout without waiting for the trip."""
    trip = await new_booking(booking, items=[package_item(booking.flight.package)])
    await booking.deliver(envelope(paid(trip)))
    settings = booking.app.state.settings
    ahead = argparse.Namespace(travel_ended_before=datetime.now(UTC) + timedelta(days=400))

    production = settings.model_copy(update={"environment": "production"})
    assert await complete_travelled(production, ahead) == 2
    assert await booking.status(trip["id"]) == "confirmed"

    assert await complete_travelled(settings, argparse.Namespace(travel_ended_before=None)) == 0
    assert await booking.status(trip["id"]) == "confirmed"  # the trip has not ended
    assert await complete_travelled(settings, ahead) == 0
    assert await booking.status(trip["id"]) == "completed"
    [done] = await booking.events("booking.completed", trip["id"])
    assert done["amount"] == trip["items"][0]["price"]


async def test_coupon_uses_follow_the_booking(booking):
    staff = booking.admin()
    response = await booking.client.post(
        "/api/v1/coupons",
        json={"code": "life10", "kind": "percent", "percent": "10"},
        headers=staff.headers,
    )
    assert response.status_code == 201, response.text
    confirmed = await new_booking(booking, coupon="LIFE10")
    expired = await new_booking(booking, coupon="LIFE10")
    await booking.deliver(envelope(paid(confirmed)))
    await set_column(booking, expired["id"], payable_until=datetime.now(UTC) - timedelta(hours=1))
    await booking.background.expire_once()
    async with booking.database.sessions() as session:
        result = await session.execute(
            sa.select(CouponRedemption.booking_id, CouponRedemption.status)
        )
        rows = {booking_id: status for booking_id, status in result}
    assert rows == {
        uuid.UUID(confirmed["id"]): "redeemed",
        uuid.UUID(expired["id"]): "released",
    }
