"""Double charges are impossible: concurrent requests for one booking, with one key or
with many, make exactly one charge. The provider is slowed down so that the requests
really overlap while the first one is with it."""

import asyncio
import uuid

import sqlalchemy as sa

from wayfare_payment.store.models import ChargeAttempt

from payment_support import emitted, open_booking, pay

REQUESTS = 12


def slow_provider(client, seconds: float = 0.3) -> list:
    """Delay the sandbox's answers; returns the list of charges it was asked for."""
    provider = client.app.state.providers.default
    charge = provider.charge
    calls = []

    async def slow_charge(request):
        calls.append(request.attempt_id)
        await asyncio.sleep(seconds)
        return await charge(request)

    provider.charge = slow_charge
    return calls


async def attempts(client) -> int:
    async with client.app.state.database.sessions() as session:
        return await session.scalar(sa.select(sa.func.count()).select_from(ChargeAttempt))


async def test_concurrent_requests_with_one_key_charge_once(any_client, issuer):
    calls = slow_provider(any_client)
    event, _ = await open_booking(any_client)
    responses = await asyncio.gather(
        *(pay(any_client, issuer, event, "pm_card_visa", key="one-key") for _ in range(REQUESTS))
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 409}, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "idempotency_key_in_use"
            assert response.headers["Retry-After"] == "1"
    assert statuses.count(200) >= 1
    assert len({r.text for r in responses if r.status_code == 200}) == 1
    assert len(calls) == 1
    assert await attempts(any_client) == 1
    assert len(await emitted(any_client, "payment.succeeded")) == 1
    # Once the first has finished, every retry replays it.
    replay = await pay(any_client, issuer, event, "pm_card_visa", key="one-key")
    assert replay.json()["status"] == "succeeded"
    assert replay.headers["Idempotent-Replayed"] == "true"


async def test_concurrent_requests_with_many_keys_charge_once(any_client, issuer):
    calls = slow_provider(any_client)
    event, _ = await open_booking(any_client)
    responses = await asyncio.gather(
        *(
            pay(any_client, issuer, event, "pm_card_visa", key=str(uuid.uuid4()))
            for _ in range(REQUESTS)
        )
    )
    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 409]
    assert len(ok) == 1 and len(refused) == REQUESTS - 1, [r.text for r in responses]
    assert {r.json()["code"] for r in refused} <= {"payment_in_progress", "already_paid"}
    assert ok[0].json()["status"] == "succeeded"
    assert len(calls) == 1
    assert await attempts(any_client) == 1
    assert len(await emitted(any_client, "payment.succeeded")) == 1
