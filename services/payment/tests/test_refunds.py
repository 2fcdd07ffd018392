"""Refunds: the amount booking decided on cancellation (capped at what is left), staff
refunds, bank transfers recorded by staff, and payments that succeed after their booking
was cancelled or expired."""

import uuid

import sqlalchemy as sa

from wayfare_common.events.catalog import BookingExpired
from wayfare_common.events.envelope import Actor
from wayfare_payment.store.models import ChargeAttempt, Refund
from wayfare_payment.usecases import charges

from payment_support import (
    ADMIN_ID,
    admin,
    booking_created,
    cancellation,
    customer,
    deliver,
    emitted,
    open_booking,
    pay,
    payment_of,
    redeliver,
)


async def paid_booking(client, issuer, amount="100.00"):
    event, _ = await open_booking(client, amount=amount)
    response = await pay(client, issuer, event, "pm_card_visa")
    assert response.json()["status"] == "succeeded"
    return event, response.json()


async def test_cancellation_refunds_what_booking_decided_and_partial_refunds_add_up(
    any_client, issuer
):
    event, payment = await paid_booking(any_client, issuer)
    first = await deliver(any_client, cancellation(event, "30.00"), actor=Actor(role="customer"))
    await redeliver(any_client, first)  # a duplicate delivery has no second effect
    after = await payment_of(any_client, event)
    assert after["status"] == "partially_refunded"
    assert after["refunded"] == {"amount": "30.00", "currency": "EUR"}

    # Booking may decide a further refund (e.g. staff cancels on top); it adds up, and is
    # capped at what is left of the capture: 100 - 30 = 70, not 90.
    await deliver(any_client, cancellation(event, "90.00"))
    after = await payment_of(any_client, event)
    assert after["status"] == "refunded"
    assert after["refunded"] == {"amount": "100.00", "currency": "EUR"}
    await deliver(any_client, cancellation(event, "10.00"))  # nothing left: nothing happens

    refunds = await emitted(any_client, "payment.refunded")
    assert [r.data["amount"]["amount"] for r in refunds] == ["30.00", "70.00"]
    assert refunds[0].data["refunded_by"] == {"user_id": str(event.user_id), "role": "customer"}
    assert refunds[0].data["payment_id"] == payment["id"]


async def test_zero_refund_policy_refunds_nothing(client, issuer):
    event, _ = await paid_booking(client, issuer)
    await deliver(client, cancellation(event, "0.00"))
    assert (await payment_of(client, event))["status"] == "succeeded"
    assert await emitted(client, "payment.refunded") == []


async def test_cancellation_before_payment_closes_it(client, issuer):
    event, _ = await open_booking(client)
    await deliver(client, cancellation(event, "0.00"))
    assert (await payment_of(client, event))["status"] == "cancelled"
    response = await pay(client, issuer, event, "pm_card_visa")
    assert response.status_code == 409
    assert response.json()["code"] == "booking_closed"
    assert await emitted(client) == []


async def test_cancellation_before_creation_is_kept(client, issuer):
    event = booking_created()
    await deliver(client, cancellation(event, "0.00"))
    await deliver(client, event)
    assert (await payment_of(client, event))["status"] == "cancelled"
    assert (await pay(client, issuer, event, "pm_card_visa")).json()["code"] == "booking_closed"


async def test_expired_booking_cannot_be_paid(client, issuer):
    event, _ = await open_booking(client)
    await deliver(
        client,
        BookingExpired(
            booking_id=event.booking_id, reference=event.reference, user_id=event.user_id
        ),
    )
    assert (await payment_of(client, event))["status"] == "cancelled"
    assert (await pay(client, issuer, event, "pm_card_visa")).json()["code"] == "booking_closed"


async def test_challenge_completed_after_cancellation_is_refunded_in_full(any_client, issuer):
    event, _ = await open_booking(any_client, amount="250.00")
    payment = (await pay(any_client, issuer, event, "4000002500003155")).json()
    assert payment["status"] == "requires_action"
    await deliver(any_client, cancellation(event, "0.00"))
    assert (await payment_of(any_client, event))["status"] == "cancelled"

    confirmed = await any_client.post(
        f"/api/v1/payments/{payment['id']}/confirm", headers=customer(issuer, event.user_id)
    )
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "refunded"
    assert confirmed.json()["refunded"] == {"amount": "250.00", "currency": "EUR"}
    assert [e.type for e in await emitted(any_client)] == ["payment.succeeded", "payment.refunded"]
    refund = (await emitted(any_client, "payment.refunded"))[0]
    assert refund.data["amount"] == {"amount": "250.00", "currency": "EUR"}
    assert refund.data["refunded_by"]["role"] == "system"


async def test_charge_that_succeeds_while_the_booking_is_cancelled_is_refunded(client, issuer):
    """booking.cancelled arrives while the charge is with the provider."""
    event, _ = await open_booking(client, amount="80.00")
    app = client.app
    database, providers = app.state.database, app.state.providers
    async with database.sessions() as session, session.begin():
        attempt = await charges.open_attempt(
            session,
            providers.default,
            booking_id=event.booking_id,
            user_id=event.user_id,
            payment_method="pm_card_visa",
        )
    await deliver(client, cancellation(event, "40.00"))
    assert (await payment_of(client, event))["status"] == "processing"
    from wayfare_common.events.envelope import EventContext

    payment = await charges.drive(
        database,
        providers,
        app.state.messaging.outbox,
        EventContext(producer="payment"),
        attempt.id,
    )
    assert payment.status == "refunded"
    assert payment.refunded_minor == 8000  # in full, not the 40.00 of the policy
    assert [e.type for e in await emitted(client)] == ["payment.succeeded", "payment.refunded"]


async def test_staff_refunds(any_client, issuer):
    _, payment = await paid_booking(any_client, issuer, amount="120.00")
    url = f"/api/v1/payments/{payment['id']}/refund"
    body = {"amount": {"amount": "20.00", "currency": "EUR"}, "reason": "goodwill"}
    headers = {**admin(issuer), "Idempotency-Key": "refund-1"}

    first = await any_client.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["amount"] == {"amount": "20.00", "currency": "EUR"}
    assert first.json()["payment"]["status"] == "partially_refunded"
    replay = await any_client.post(url, json=body, headers=headers)
    assert replay.json() == first.json()
    other = await any_client.post(url, json={**body, "reason": "other"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"

    too_much = await any_client.post(
        url,
        json={"amount": {"amount": "100.01", "currency": "EUR"}, "reason": "x"},
        headers={**admin(issuer), "Idempotency-Key": "refund-2"},
    )
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "refund_exceeds_captured"
    assert too_much.json()["refundable"] == 10000

    rest = await any_client.post(
        url, json={"reason": "the rest"}, headers={**admin(issuer), "Idempotency-Key": "refund-3"}
    )
    assert rest.json()["amount"] == {"amount": "100.00", "currency": "EUR"}
    assert rest.json()["payment"]["status"] == "refunded"
    nothing = await any_client.post(
        url, json={"reason": "again"}, headers={**admin(issuer), "Idempotency-Key": "refund-4"}
    )
    assert nothing.status_code == 409
    assert nothing.json()["code"] == "not_refundable"

    refunds = await emitted(any_client, "payment.refunded")
    assert [r.data["amount"]["amount"] for r in refunds] == ["20.00", "100.00"]
    for envelope in refunds:
        assert envelope.actor == Actor(user_id=str(ADMIN_ID), role="admin")
        assert envelope.data["refunded_by"] == {"user_id": str(ADMIN_ID), "role": "admin"}


async def test_only_staff_refund_and_mark_paid(client, issuer):
    event, payment = await paid_booking(client, issuer)
    owner = customer(issuer, event.user_id)
    response = await client.post(
        f"/api/v1/payments/{payment['id']}/refund",
        json={"reason": "me"},
        headers={**owner, "Idempotency-Key": "r"},
    )
    assert response.status_code == 403
    response = await client.post(
        f"/api/v1/payments/{payment['id']}/mark-paid",
        json={"reason": "me", "reference": "x"},
        headers=owner,
    )
    assert response.status_code == 403


async def test_mark_paid_by_bank_transfer(client, issuer):
    event, payment = await open_booking(client, amount="75.50")
    staff = admin(issuer)
    url = f"/api/v1/payments/{payment['id']}/mark-paid"
    body = {"reason": "paid by bank transfer", "reference": "SEPA-0601-17"}
    response = await client.post(url, json=body, headers=staff)
    assert response.status_code == 200
    assert response.json()["status"] == "succeeded"
    assert response.json()["provider"] == "manual"
    again = await client.post(url, json=body, headers=staff)
    assert again.status_code == 409
    assert again.json()["code"] == "already_paid"
    assert (await pay(client, issuer, event, "pm_card_visa")).json()["code"] == "already_paid"

    [succeeded] = await emitted(client, "payment.succeeded")
    assert succeeded.actor == Actor(user_id=str(ADMIN_ID), role="admin")
    assert succeeded.data["provider_reference"] == "SEPA-0601-17"

    refund = await client.post(
        f"/api/v1/payments/{payment['id']}/refund",
        json={"amount": {"amount": "5.50", "currency": "EUR"}, "reason": "overcharged"},
        headers={**staff, "Idempotency-Key": "manual-refund"},
    )
    assert refund.status_code == 201
    assert refund.json()["payment"]["refunded"]["amount"] == "5.50"


async def test_a_second_capture_is_given_back_without_events(client, issuer):
    """An abandoned challenge completed after another card paid: that money goes back."""
    event, _ = await open_booking(client, amount="60.00")
    challenged = (await pay(client, issuer, event, "4000002500003155")).json()
    assert (await pay(client, issuer, event, "pm_card_visa")).json()["status"] == "succeeded"
    async with client.app.state.database.sessions() as session:
        first = await session.scalar(
            sa.select(ChargeAttempt)
            .where(ChargeAttempt.payment_id == uuid.UUID(challenged["id"]))
            .order_by(ChargeAttempt.created_at)
        )
    from wayfare_common.events.envelope import EventContext
    from wayfare_payment.providers import ChargeOutcome

    payment = await charges.record_outcome(
        client.app.state.database,
        client.app.state.providers,
        client.app.state.messaging.outbox,
        EventContext(producer="payment"),
        first.id,
        ChargeOutcome("succeeded", first.provider_reference),
    )
    assert payment.status == "succeeded"
    assert payment.refunded_minor == 0
    assert [e.type for e in await emitted(client)] == ["payment.succeeded"]
    async with client.app.state.database.sessions() as session:
        [given_back] = (await session.scalars(sa.select(Refund))).all()
    assert (given_back.attempt_id, given_back.amount_minor) == (first.id, 6000)
    assert given_back.source == "duplicate_capture"
