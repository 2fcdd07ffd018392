"""The vendor ledger and payouts: 80/20 on completed package bookings, exact to the minor
unit; payouts per vendor and currency once the balance reaches 50.00; one run at a time,
however many replicas or staff trigger one."""

import asyncio
import uuid

import sqlalchemy as sa

from wayfare_common.events.envelope import EventContext
from wayfare_common.money import Money
from wayfare_payment.domain.ledger import split
from wayfare_payment.store.models import LedgerEntry, Payout
from wayfare_payment.usecases import payouts

from payment_support import admin, completed, customer, deliver, emitted, running


def test_split_is_exact_and_rounds_the_vendor_share_half_up():
    cases = {
        "100.00": ("80.00", "20.00"),
        "100.01": ("80.01", "20.00"),  # 80.008 -> 80.01
        "0.05": ("0.04", "0.01"),
        "0.01": ("0.01", "0.00"),  # 0.008 -> 0.01
        "114.80": ("91.84", "22.96"),
        "62.50": ("50.00", "12.50"),
    }
    for amount, (vendor, platform) in cases.items():
        total = Money.of(amount, "EUR")
        shares = split(total)
        assert shares == (Money.of(vendor, "EUR"), Money.of(platform, "EUR")), amount
        assert shares[0] + shares[1] == total
    assert split(Money.of("1001", "JPY")) == (Money.of("801", "JPY"), Money.of("200", "JPY"))


async def ledger_of(client) -> list[tuple]:
    async with client.app.state.database.sessions() as session:
        rows = await session.execute(
            sa.select(
                LedgerEntry.account,
                LedgerEntry.kind,
                LedgerEntry.amount_minor,
                LedgerEntry.currency,
            ).order_by(LedgerEntry.account, LedgerEntry.kind)
        )
        return [tuple(row) for row in rows]


async def run(client):
    response = await client.post("/api/v1/payments/payouts/run", headers=admin(client.issuer))
    assert response.status_code == 200, response.text
    return response.json()


async def test_completed_package_bookings_credit_the_vendor_once(client, issuer):
    vendor = uuid.uuid4()
    event = completed(vendor, "100.01")
    envelope = await deliver(client, event)
    await deliver(client, event)  # the same completion again, under a new event id
    await deliver(client, completed(None, "300.00"))  # flight only: no vendor
    assert await ledger_of(client) == [
        ("platform", "earning", 2000, "EUR"),
        ("vendor", "earning", 8001, "EUR"),
    ]
    assert envelope.type == "booking.completed"
    balances = await client.get("/api/v1/payments/payouts/balances", headers=admin(issuer))
    assert balances.json() == {
        "vendors": [{"vendor_id": str(vendor), "balance": {"amount": "80.01", "currency": "EUR"}}],
        "platform": [{"amount": "20.00", "currency": "EUR"}],
    }


async def test_vendors_are_paid_from_50_per_currency(client, issuer):
    client.issuer = issuer
    rich, poor = uuid.uuid4(), uuid.uuid4()
    await deliver(client, completed(rich, "62.50"))  # 50.00 EUR: exactly the minimum
    await deliver(client, completed(rich, "62.48"))  # +49.98 EUR
    await deliver(client, completed(rich, "50.00", "USD"))  # 40.00 USD: below
    await deliver(client, completed(poor, "62.48"))  # 49.98 EUR: below

    result = await run(client)
    assert [(p["vendor_id"], p["amount"]) for p in result["sent"]] == [
        (str(rich), {"amount": "99.98", "currency": "EUR"})
    ]
    [sent] = await emitted(client, "payment.payout_sent")
    assert sent.data == {
        "payout_id": result["sent"][0]["id"],
        "vendor_id": str(rich),
        "amount": {"amount": "99.98", "currency": "EUR"},
    }
    assert (await run(client))["sent"] == []  # nothing due any more

    await deliver(client, completed(poor, "0.03"))  # 49.98 + 0.02 = 50.00
    await deliver(client, completed(rich, "12.50", "USD"))  # 40.00 + 10.00 = 50.00 USD
    result = await run(client)
    assert sorted(
        (p["vendor_id"], p["amount"]["amount"], p["amount"]["currency"]) for p in result["sent"]
    ) == sorted([(str(poor), "50.00", "EUR"), (str(rich), "50.00", "USD")])
    balances = (await client.get("/api/v1/payments/payouts/balances", headers=admin(issuer))).json()
    assert {b["balance"]["amount"] for b in balances["vendors"]} == {"0.00"}

    listed = await client.get("/api/v1/payments/payouts", headers=admin(issuer))
    assert len(listed.json()["data"]) == 3
    own = await client.get(
        "/api/v1/payments/payouts", headers=issuer.bearer("vendor", user_id=str(poor))
    )
    assert [p["vendor_id"] for p in own.json()["data"]] == [str(poor)]
    denied = await client.get("/api/v1/payments/payouts", headers=customer(issuer, uuid.uuid4()))
    assert denied.status_code == 403
    assert (
        await client.post("/api/v1/payments/payouts/run", headers=customer(issuer, poor))
    ).status_code == 403


async def test_concurrent_runs_pay_each_vendor_once(any_client, issuer):
    vendors = [uuid.uuid4() for _ in range(5)]
    for vendor in vendors:
        await deliver(any_client, completed(vendor, "100.00"))
    app = any_client.app
    provider = app.state.providers.default
    pay = provider.payout
    calls = []

    async def slow_payout(request):
        calls.append(request.payout_id)
        await asyncio.sleep(0.05)
        return await pay(request)

    provider.payout = slow_payout
    context = EventContext(producer="payment")
    runs = await asyncio.gather(
        *(
            payouts.run(app.state.database, app.state.messaging.outbox, provider, "50.00", context)
            for _ in range(6)
        ),
        return_exceptions=True,
    )
    done = [r for r in runs if isinstance(r, payouts.RunResult)]
    refused = [r for r in runs if not isinstance(r, payouts.RunResult)]
    assert all(type(r).__name__ == "PayoutRunInProgress" for r in refused), refused
    assert sum(len(r.sent) for r in done) == 5
    assert len(calls) == 5
    assert len(await emitted(any_client, "payment.payout_sent")) == 5
    async with app.state.database.sessions() as session:
        amounts = (await session.scalars(sa.select(Payout.amount_minor))).all()
    assert sorted(amounts) == [8000] * 5


async def test_the_scheduled_run_pays_by_itself(database_url, issuer):
    async with running(database_url, issuer, payout_interval=0.2) as client:
        vendor = uuid.uuid4()
        await deliver(client, completed(vendor, "70.00"))
        from wayfare_common.testing.plugin import eventually

        async def paid():
            return await emitted(client, "payment.payout_sent")

        [sent] = await eventually(paid, timeout=10)
        assert sent.data["vendor_id"] == str(vendor)
        assert sent.data["amount"] == {"amount": "56.00", "currency": "EUR"}
