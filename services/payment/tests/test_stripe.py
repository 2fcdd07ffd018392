"""The Stripe provider: the real `stripe` library against localstripe (PyPI) on loopback,
with the service on a real port so that localstripe's signed webhooks reach it.

localstripe's decline card is 4000000000000341 (it declines 4000000000000002 only when a
card is attached to a customer); test PaymentMethods are made through the API, as Stripe.js
would make them in a browser."""

import hashlib
import hmac
import json
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import stripe

from wayfare_common.testing.plugin import eventually
from wayfare_common.testing.processes import running_process

from payment_support import (
    STRIPE_KEY,
    WEBHOOK_SECRET,
    admin,
    cancellation,
    completed,
    customer,
    deliver,
    emitted,
    free_port,
    open_booking,
    pay,
    payment_of,
    serving,
)

pytest.importorskip(
    "localstripe", reason="localstripe comes with `pip install -e 'services/payment[test]'`"
)


@pytest.fixture(scope="session")
async def stripe_url(tmp_path_factory):

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = Path(__file__).parent / "stripe_server.py"
    async with running_process(
        [sys.executable, str(server), str(port)],
        url=url,
        log_path=tmp_path_factory.mktemp("localstripe") / "localstripe.log",
        ready_path="/js.stripe.com/v3/",
    ):
        yield url


@pytest.fixture
def stripe_client(stripe_url):
    return stripe.StripeClient(
        STRIPE_KEY, base_addresses={"api": stripe_url}, http_client=stripe.HTTPXClient()
    )


@pytest.fixture
async def service(database_url, issuer, stripe_url):
    async with serving(
        database_url,
        issuer,
        stripe_api_key=STRIPE_KEY,
        stripe_api_base=stripe_url,
        stripe_webhook_secret=WEBHOOK_SECRET,
    ) as client:
        # localstripe signs and posts its events here (one registration, replaced per test).
        async with httpx.AsyncClient() as http:
            registered = await http.post(
                f"{stripe_url}/_config/webhooks/wayfare",
                data={
                    "url": f"{client.base_url}/api/v1/payments/webhooks/stripe",
                    "secret": WEBHOOK_SECRET,
                },
            )
            assert registered.status_code == 200
        yield client


async def card(stripe_client, number: str) -> str:
    method = await stripe_client.v1.payment_methods.create_async(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    return method.id


async def test_card_payment(service, issuer, stripe_client):
    event, _ = await open_booking(service, amount="412.80")
    response = await pay(service, issuer, event, "pm_card_visa")
    body = response.json()
    assert (body["status"], body["provider"]) == ("succeeded", "stripe")
    intent = await stripe_client.v1.payment_intents.retrieve_async(body["provider_reference"])
    assert (intent.amount, intent.currency, intent.status) == (41280, "eur", "succeeded")
    assert intent.metadata["payment_id"] == body["id"]
    [succeeded] = await emitted(service, "payment.succeeded")
    assert succeeded.data["provider"] == "stripe"
    assert succeeded.data["provider_reference"] == intent.id


async def test_declined_card_and_raw_card_numbers(service, issuer, stripe_client):
    event, _ = await open_booking(service)
    declined = await pay(service, issuer, event, await card(stripe_client, "4000000000000341"))
    assert declined.json()["status"] == "failed"
    assert declined.json()["failure_reason"] == "card_declined"
    [failed] = await emitted(service, "payment.failed")
    assert failed.data["reason"] == "card_declined"
    raw = await pay(service, issuer, event, "4242424242424242")
    assert raw.status_code == 422
    assert raw.json()["code"] == "invalid_payment_method"


async def test_authentication_is_settled_by_the_signed_webhook(
    service, issuer, stripe_client, stripe_url
):
    event, _ = await open_booking(service, amount="99.00")
    body = (await pay(service, issuer, event, await card(stripe_client, "4000002500003155"))).json()
    assert body["status"] == "requires_action"
    action = body["next_action"]
    assert action["type"] == "use_stripe_sdk" and action["client_secret"]
    # What Stripe.js does in the browser once the customer passed the challenge:
    async with httpx.AsyncClient() as http:
        done = await http.post(
            f"{stripe_url}/v1/payment_intents/{action['provider_reference']}/_authenticate",
            data={"client_secret": action["client_secret"], "success": "true"},
            auth=(STRIPE_KEY, ""),
        )
        assert done.status_code == 200

    async def succeeded():
        return (await payment_of(service, event))["status"] == "succeeded"

    await eventually(succeeded, timeout=15, message="the webhook did not settle the payment")
    # /confirm afterwards finds it settled; nothing happens twice.
    confirmed = await service.post(
        f"/api/v1/payments/{body['id']}/confirm", headers=customer(issuer, event.user_id)
    )
    assert confirmed.json()["status"] == "succeeded"
    assert len(await emitted(service, "payment.succeeded")) == 1


async def test_refunds_full_and_partial(service, issuer, stripe_client):
    event, _ = await open_booking(service, amount="100.00")
    body = (await pay(service, issuer, event, "pm_card_visa")).json()
    await deliver(service, cancellation(event, "30.00"))
    staff = await service.post(
        f"/api/v1/payments/{body['id']}/refund",
        json={"reason": "the rest"},
        headers={**admin(issuer), "Idempotency-Key": "all"},
    )
    assert staff.status_code == 201, staff.text
    assert staff.json()["provider_reference"].startswith("re_")
    assert staff.json()["payment"]["status"] == "refunded"
    intent = await stripe_client.v1.payment_intents.retrieve_async(body["provider_reference"])
    charge = intent.latest_charge
    charge = (
        charge
        if not isinstance(charge, str)
        else await stripe_client.v1.charges.retrieve_async(charge)
    )
    assert charge.amount_refunded == 10000
    assert sorted(r.amount for r in charge.refunds.data) == [3000, 7000]


# Webhooks sent by hand, signed as Stripe signs them, to control their order.


def signed(payload: bytes, timestamp: int | None = None, secret: str = WEBHOOK_SECRET) -> dict:
    stamp = timestamp or int(time.time())
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return {
        "Stripe-Signature": f"t={stamp},v1={signature.hexdigest()}",
        "Content-Type": "application/json",
    }


def stripe_event(type_: str, obj: dict, event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "type": type_,
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": obj},
        }
    ).encode()


async def send(service, payload: bytes, headers: dict | None = None) -> httpx.Response:
    return await service.post(
        "/api/v1/payments/webhooks/stripe", content=payload, headers=headers or signed(payload)
    )


async def intent_of(stripe_client, intent_id: str, **changes) -> dict:
    intent = (await stripe_client.v1.payment_intents.retrieve_async(intent_id)).to_dict()
    return {**intent, **changes}


async def test_webhook_signature_is_checked(service):
    payload = stripe_event("payment_intent.succeeded", {"id": "pi_x", "object": "payment_intent"})
    stale = await send(service, payload, signed(payload, timestamp=int(time.time()) - 301))
    forged = await send(service, payload, signed(payload, secret="whsec_someone_else"))
    tampered = await send(service, payload + b" ", signed(payload))
    missing = await send(service, payload, {"Content-Type": "application/json"})
    for response in (stale, forged, tampered, missing):
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_signature"
    fresh = await send(service, payload, signed(payload, timestamp=int(time.time()) - 250))
    assert fresh.status_code == 200
    assert fresh.json()["outcome"] == "ignored"  # not one of ours


async def test_a_webhook_replayed_five_times_has_one_effect(service, issuer, stripe_client):
    event, _ = await open_booking(service)
    body = (await pay(service, issuer, event, await card(stripe_client, "4000002500003155"))).json()
    intent = body["next_action"]["provider_reference"]
    obj = await intent_of(stripe_client, intent, status="succeeded")
    payload = stripe_event("payment_intent.succeeded", obj)
    outcomes = [(await send(service, payload)).json()["outcome"] for _ in range(5)]
    assert outcomes == ["handled"] + ["duplicate"] * 4
    assert (await payment_of(service, event))["status"] == "succeeded"
    assert len(await emitted(service, "payment.succeeded")) == 1


async def test_success_of_an_earlier_attempt_after_a_later_attempt_failed(
    service, issuer, stripe_client
):
    event, _ = await open_booking(service, amount="70.00")
    challenged = (
        await pay(service, issuer, event, await card(stripe_client, "4000002500003155"))
    ).json()
    declined = (
        await pay(service, issuer, event, await card(stripe_client, "4000000000000341"))
    ).json()
    assert declined["status"] == "failed"
    first = challenged["next_action"]["provider_reference"]

    # The earlier attempt's challenge is passed after all: Stripe reports success ...
    succeeded = stripe_event(
        "payment_intent.succeeded", await intent_of(stripe_client, first, status="succeeded")
    )
    # ... and a failure report of that same intent, from before, arrives after it.
    failed = stripe_event(
        "payment_intent.payment_failed",
        await intent_of(
            stripe_client,
            first,
            status="requires_payment_method",
            last_payment_error={"code": "card_declined", "decline_code": "do_not_honor"},
        ),
    )
    assert (await send(service, succeeded)).status_code == 200
    assert (await send(service, failed)).status_code == 200
    payment = await payment_of(service, event)
    assert (payment["status"], payment["provider_reference"]) == ("succeeded", first)
    assert [e.type for e in await emitted(service)] == ["payment.failed", "payment.succeeded"]


async def test_refund_reported_before_the_success(service, issuer, stripe_client):
    event, _ = await open_booking(service, amount="100.00")
    body = (await pay(service, issuer, event, await card(stripe_client, "4000002500003155"))).json()
    intent_id = body["next_action"]["provider_reference"]
    charge = {
        "id": f"ch_{uuid.uuid4().hex[:14]}",
        "object": "charge",
        "amount": 10000,
        "amount_refunded": 4000,
        "currency": "eur",
        "payment_intent": intent_id,
        "refunded": False,
        "status": "succeeded",
    }
    assert (await send(service, stripe_event("charge.refunded", charge))).json()[
        "outcome"
    ] == "handled"
    late = stripe_event(
        "payment_intent.succeeded", await intent_of(stripe_client, intent_id, status="succeeded")
    )
    assert (await send(service, late)).json()["outcome"] == "handled"

    payment = await payment_of(service, event)
    assert payment["status"] == "partially_refunded"
    assert payment["refunded"] == {"amount": "40.00", "currency": "EUR"}
    assert [e.type for e in await emitted(service)] == ["payment.succeeded", "payment.refunded"]
    # A later charge.refunded with the same total adds nothing.
    again = stripe_event("charge.refunded", charge)
    assert (await send(service, again)).status_code == 200
    assert len(await emitted(service, "payment.refunded")) == 1


async def test_payouts_are_stripe_transfers(service, issuer, stripe_url):
    staff = admin(issuer)
    paid, unset, closed = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for vendor, account in ((paid, "acct_1VendorPaid"), (closed, "acct_closed")):
        response = await service.put(
            f"/api/v1/payments/vendors/{vendor}/payout-account",
            json={"stripe_account": account},
            headers=staff,
        )
        assert response.status_code == 204
    for vendor in (paid, unset, closed):
        await deliver(service, completed(vendor, "100.00"))

    result = (await service.post("/api/v1/payments/payouts/run", headers=staff)).json()
    [sent] = result["sent"]
    assert sent["vendor_id"] == str(paid) and sent["provider_reference"].startswith("tr_")
    assert [s["vendor_id"] for s in result["skipped"]] == [str(unset)]
    [failed] = result["failed"]
    assert failed["vendor_id"] == str(closed) and "No such destination" in failed["failure_reason"]

    async with httpx.AsyncClient() as http:
        transfers = (await http.get(f"{stripe_url}/v1/transfers", auth=(STRIPE_KEY, ""))).json()
    [transfer] = [t for t in transfers["data"] if t["metadata"].get("payout_id") == sent["id"]]
    assert (transfer["amount"], transfer["currency"], transfer["destination"]) == (
        8000,
        "eur",
        "acct_1VendorPaid",
    )
    balances = (await service.get("/api/v1/payments/payouts/balances", headers=staff)).json()
    owed = {b["vendor_id"]: b["balance"]["amount"] for b in balances["vendors"]}
    # The failed transfer's money is owed again; the unpaid vendor still waits for an account.
    assert owed == {str(paid): "0.00", str(unset): "80.00", str(closed): "80.00"}
    assert len(await emitted(service, "payment.payout_sent")) == 1


async def test_a_stale_requires_action_does_not_reopen_a_failed_payment(
    service, issuer, stripe_client
):
    event, _ = await open_booking(service)
    body = (await pay(service, issuer, event, await card(stripe_client, "4000002500003155"))).json()
    intent_id = body["next_action"]["provider_reference"]
    waiting = await intent_of(stripe_client, intent_id)  # requires_action, as sent back then
    failed = await intent_of(
        stripe_client,
        intent_id,
        status="requires_payment_method",
        last_payment_error={"code": "payment_intent_authentication_failure"},
    )
    await send(service, stripe_event("payment_intent.payment_failed", failed))
    await send(service, stripe_event("payment_intent.requires_action", waiting))
    payment = await payment_of(service, event)
    assert (payment["status"], payment["failure_reason"]) == (
        "failed",
        "payment_intent_authentication_failure",
    )
    assert payment["next_action"] is None
    assert len(await emitted(service, "payment.failed")) == 1
