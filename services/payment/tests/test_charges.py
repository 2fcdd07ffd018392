"""Paying a booking through the sandbox provider: Stripe's test cards, retries, idempotency
keys and the refusals a client can meet."""

import uuid
from datetime import timedelta

from payment_support import (
    booking_created,
    customer,
    deliver,
    emitted,
    open_booking,
    pay,
    payment_of,
)


async def test_booking_created_opens_one_pending_payment(any_client, issuer):
    event = booking_created(amount="412.80")
    await deliver(any_client, event)
    await deliver(any_client, event)  # the same booking again, under a new event id
    response = await any_client.get(
        "/api/v1/payments",
        params={"booking_id": str(event.booking_id)},
        headers=customer(issuer, event.user_id),
    )
    assert response.status_code == 200
    [payment] = response.json()["data"]
    assert payment["status"] == "pending"
    assert payment["booking_id"] == str(event.booking_id)
    assert payment["amount"] == {"amount": "412.80", "currency": "EUR"}


SANDBOX_CARDS = [
    ("4242424242424242", "succeeded", None),
    ("4242 4242 4242 4242", "succeeded", None),
    ("pm_card_visa", "succeeded", None),
    ("4000000000000002", "failed", "card_declined"),
    ("pm_card_chargeDeclined", "failed", "card_declined"),
    ("4000000000009995", "failed", "insufficient_funds"),
    ("pm_card_chargeDeclinedInsufficientFunds", "failed", "insufficient_funds"),
    ("4000002500003155", "requires_action", None),
    ("pm_card_authenticationRequired", "requires_action", None),
]


async def test_sandbox_test_cards(client, issuer):
    # One service for all cards (a database per card would cost more than the checks).
    for method, status, reason in SANDBOX_CARDS:
        event, _ = await open_booking(client)
        response = await pay(client, issuer, event, method)
        assert response.status_code == 200, (method, response.text)
        body = response.json()
        assert (body["status"], body["failure_reason"]) == (status, reason), method
        succeeded = [
            e
            for e in await emitted(client, "payment.succeeded")
            if e.data["payment_id"] == body["id"]
        ]
        failed = [
            e for e in await emitted(client, "payment.failed") if e.data["payment_id"] == body["id"]
        ]
        assert (len(succeeded), len(failed)) == (status == "succeeded", status == "failed"), method
        if status == "succeeded":
            data = succeeded[0].data
            assert data["amount"] == {"amount": "412.80", "currency": "EUR"}
            assert data["provider"] == "sandbox"
            assert data["provider_reference"] == body["provider_reference"]
            assert succeeded[0].actor.user_id == str(event.user_id)
        if status == "failed":
            assert failed[0].data["reason"] == reason
        if status == "requires_action":
            assert body["next_action"]["type"] == "authenticate"
            assert body["next_action"]["confirm_url"] == f"/api/v1/payments/{body['id']}/confirm"


async def test_unknown_card_is_refused_and_nothing_is_stored(client, issuer):
    event, _ = await open_booking(client)
    response = await pay(client, issuer, event, "4111111111111111")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_payment_method"
    assert (await payment_of(client, event))["status"] == "pending"


async def test_a_declined_payment_can_be_paid_with_another_card(client, issuer):
    event, _ = await open_booking(client)
    assert (await pay(client, issuer, event, "4000000000000002")).json()["status"] == "failed"
    second = await pay(client, issuer, event, "4242424242424242")
    assert second.json()["status"] == "succeeded"
    assert second.json()["failure_reason"] is None
    assert [e.type for e in await emitted(client)] == ["payment.failed", "payment.succeeded"]


async def test_authentication_then_confirm(client, issuer):
    event, _ = await open_booking(client)
    payment = (await pay(client, issuer, event, "4000002500003155")).json()
    headers = customer(issuer, event.user_id)
    confirmed = await client.post(f"/api/v1/payments/{payment['id']}/confirm", headers=headers)
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "succeeded"
    again = await client.post(f"/api/v1/payments/{payment['id']}/confirm", headers=headers)
    assert again.json()["status"] == "succeeded"
    assert len(await emitted(client, "payment.succeeded")) == 1


async def test_failed_authentication(client, issuer):
    event, _ = await open_booking(client)
    payment = (await pay(client, issuer, event, "pm_card_authenticationRequired")).json()
    confirmed = await client.post(
        f"/api/v1/payments/{payment['id']}/confirm",
        json={"authenticated": False},
        headers=customer(issuer, event.user_id),
    )
    assert confirmed.json()["status"] == "failed"
    assert confirmed.json()["failure_reason"] == "payment_intent_authentication_failure"
    assert len(await emitted(client, "payment.failed")) == 1


async def test_same_key_same_body_replays_the_first_response(any_client, issuer):
    event, _ = await open_booking(any_client)
    first = await pay(any_client, issuer, event, "4242424242424242", key="k-1")
    again = await pay(any_client, issuer, event, "4242424242424242", key="k-1")
    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(await emitted(any_client, "payment.succeeded")) == 1


async def test_same_key_other_body_is_refused(client, issuer):
    event, _ = await open_booking(client)
    await pay(client, issuer, event, "4000000000000002", key="k-2")
    other = await pay(client, issuer, event, "4242424242424242", key="k-2")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert (await payment_of(client, event))["status"] == "failed"


async def test_keys_belong_to_their_user(client, issuer):
    first, _ = await open_booking(client)
    second, _ = await open_booking(client)
    assert (await pay(client, issuer, first, "pm_card_visa", key="shared")).status_code == 200
    response = await pay(client, issuer, second, "pm_card_visa", key="shared")
    assert response.json()["status"] == "succeeded"
    assert response.json()["booking_id"] == str(second.booking_id)


async def test_already_paid_is_never_charged_again(client, issuer):
    event, _ = await open_booking(client)
    await pay(client, issuer, event, "pm_card_visa")
    again = await pay(client, issuer, event, "pm_card_visa")
    assert again.status_code == 409
    assert again.json()["code"] == "already_paid"
    assert len(await emitted(client, "payment.succeeded")) == 1


async def test_refusals(client, issuer):
    unknown = booking_created()
    response = await pay(client, issuer, unknown, "pm_card_visa")
    assert response.status_code == 409
    assert response.json()["code"] == "booking_not_known"
    assert response.headers["Retry-After"] == "1"
    # Once booking.created arrives, the same request (same key) goes through.
    await deliver(client, unknown)
    retried = await pay(client, issuer, unknown, "pm_card_visa", key=None)
    assert retried.json()["status"] == "succeeded"

    event, _ = await open_booking(client)
    stranger = await client.post(
        "/api/v1/payments",
        json={"booking_id": str(event.booking_id), "payment_method": "pm_card_visa"},
        headers={**customer(issuer, uuid.uuid4()), "Idempotency-Key": "x"},
    )
    assert stranger.status_code == 404

    no_key = await client.post(
        "/api/v1/payments",
        json={"booking_id": str(event.booking_id), "payment_method": "pm_card_visa"},
        headers=customer(issuer, event.user_id),
    )
    assert no_key.status_code == 400
    assert no_key.json()["code"] == "idempotency_key_required"

    anonymous = await client.post(
        "/api/v1/payments",
        json={"booking_id": str(event.booking_id), "payment_method": "pm_card_visa"},
        headers={"Idempotency-Key": "y"},
    )
    assert anonymous.status_code == 401

    late, _ = await open_booking(client, payable_in=timedelta(seconds=-1))
    response = await pay(client, issuer, late, "pm_card_visa")
    assert response.status_code == 409
    assert response.json()["code"] == "payment_window_closed"
    assert response.headers["content-type"] == "application/problem+json"


async def test_provider_outage_then_retry_with_the_same_key_charges_once(client, issuer):
    from wayfare_payment.domain.errors import ProviderUnavailable

    event, _ = await open_booking(client)
    provider = client.app.state.providers.default
    charge, calls = provider.charge, []

    async def flaky(request):
        calls.append(request.attempt_id)
        if len(calls) == 1:
            raise ProviderUnavailable()
        return await charge(request)

    provider.charge = flaky
    down = await pay(client, issuer, event, "pm_card_visa", key="retry-me")
    assert down.status_code == 503
    assert down.json()["code"] == "provider_unavailable"
    assert (await payment_of(client, event))["status"] == "processing"
    other_key = await pay(client, issuer, event, "pm_card_visa")
    assert other_key.json()["code"] == "payment_in_progress"

    retry = await pay(client, issuer, event, "pm_card_visa", key="retry-me")
    assert retry.json()["status"] == "succeeded"
    assert calls[0] == calls[1]  # the same attempt, so the same provider idempotency key
    assert len(await emitted(client, "payment.succeeded")) == 1


async def test_attempts_left_without_an_answer_are_settled_by_the_reconciler(client, issuer):
    from wayfare_common.events.envelope import EventContext
    from wayfare_payment.usecases import charges

    event, _ = await open_booking(client)
    app = client.app
    async with app.state.database.sessions() as session, session.begin():
        await charges.open_attempt(  # the request died right after this commit
            session,
            app.state.providers.default,
            booking_id=event.booking_id,
            user_id=event.user_id,
            payment_method="4000000000009995",
        )
    args = (app.state.database, app.state.providers, app.state.messaging.outbox)
    context = EventContext(producer="payment")
    assert await charges.reconcile_stale(*args, context, older_than=60) == 0  # too recent
    assert await charges.reconcile_stale(*args, context, older_than=0) == 1
    payment = await payment_of(client, event)
    assert (payment["status"], payment["failure_reason"]) == ("failed", "insufficient_funds")
    assert len(await emitted(client, "payment.failed")) == 1
