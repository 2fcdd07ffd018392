"""Who sees what: a customer sees their own payments only (another's is a 404, as if it did
not exist), staff see everyone's; lists are cursor-paginated."""

import uuid

from payment_support import admin, customer, open_booking, pay


async def test_a_customer_cannot_see_another_customers_payment(client, issuer):
    event, payment = await open_booking(client)
    await pay(client, issuer, event, "pm_card_visa")
    stranger = customer(issuer, uuid.uuid4())
    for path in (
        f"/api/v1/payments/{payment['id']}",
        f"/api/v1/payments/{payment['id']}/invoice.pdf",
    ):
        response = await client.get(path, headers=stranger)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    listed = await client.get(
        "/api/v1/payments", params={"booking_id": str(event.booking_id)}, headers=stranger
    )
    assert listed.json() == {"data": [], "next_cursor": None}
    confirm = await client.post(f"/api/v1/payments/{payment['id']}/confirm", headers=stranger)
    assert confirm.status_code == 404

    own = await client.get(
        f"/api/v1/payments/{payment['id']}", headers=customer(issuer, event.user_id)
    )
    assert own.status_code == 200
    assert own.json()["status"] == "succeeded"
    staff = await client.get(f"/api/v1/payments/{payment['id']}", headers=admin(issuer))
    assert staff.json() == own.json()
    assert (await client.get(f"/api/v1/payments/{payment['id']}")).status_code == 401


async def test_lists_are_paginated_and_scoped(client, issuer):
    user = uuid.uuid4()
    mine = [(await open_booking(client, user_id=user))[1]["id"] for _ in range(5)]
    await open_booking(client)  # someone else's
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get("/api/v1/payments", params=params, headers=customer(issuer, user))
        ).json()
        seen += [p["id"] for p in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(mine) and len(seen) == 5
    everyone = await client.get("/api/v1/payments", params={"limit": 100}, headers=admin(issuer))
    assert len(everyone.json()["data"]) == 6
    bad = await client.get("/api/v1/payments", params={"cursor": "nope"}, headers=admin(issuer))
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_cursor"
