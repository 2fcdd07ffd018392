"""Listings: filters, `total` on request, and keyset pages that neither repeat nor skip
rows when new ones arrive between two pages."""

import uuid
from datetime import UTC, datetime, timedelta

from admin_support import Booking, envelope, flight_item, paid, registered, updated

ADMIN = "9b0c8a57-4a0e-4a55-8a43-1d9f1b6a2c11"
START = datetime(2025, 3, 1, 12, tzinfo=UTC)


def created_at(booking: Booking, minutes: int):
    return envelope(booking.created(), START + timedelta(minutes=minutes))


async def test_bookings_pages_are_stable_under_inserts(admin, bus, tokens):
    headers = tokens.headers(ADMIN)
    first = [Booking([flight_item(uuid.uuid4())]) for _ in range(25)]
    await bus.deliver(admin, *(created_at(b, i * 10) for i, b in enumerate(first)))

    page = await admin.get(
        "/api/v1/admin/bookings", params={"limit": 10, "total": "true"}, headers=headers
    )
    assert page.status_code == 200, page.text
    assert page.json()["total"] == 25
    seen = [row["id"] for row in page.json()["data"]]
    # Newest first.
    assert seen == [str(b.booking_id) for b in reversed(first)][:10]

    # Meanwhile: five newer bookings (they belong before the cursor) and two older ones
    # (after it, so they show up on a later page), each one inserted once.
    newer = [Booking([flight_item(uuid.uuid4())]) for _ in range(5)]
    older = [Booking([flight_item(uuid.uuid4())]) for _ in range(2)]
    await bus.deliver(
        admin,
        *(created_at(b, 1000 + i) for i, b in enumerate(newer)),
        *(created_at(b, -100 - i) for i, b in enumerate(older)),
    )
    cursor = page.json()["next_cursor"]
    while cursor:
        page = await admin.get(
            "/api/v1/admin/bookings", params={"limit": 10, "cursor": cursor}, headers=headers
        )
        assert "total" not in page.json()  # only on request
        seen += [row["id"] for row in page.json()["data"]]
        cursor = page.json()["next_cursor"]

    assert len(seen) == len(set(seen)) == 27
    expected = [str(b.booking_id) for b in reversed(first)] + [str(b.booking_id) for b in older]
    assert seen == expected

    bad = await admin.get("/api/v1/admin/bookings", params={"cursor": "nope"}, headers=headers)
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_cursor"


async def test_booking_filters(admin, bus, tokens):
    headers = tokens.headers(ADMIN)
    customer = uuid.uuid4()
    mine = Booking([flight_item(uuid.uuid4())], user_id=customer, email="Grace@Example.com")
    other = Booking([flight_item(uuid.uuid4())])
    late = Booking([flight_item(uuid.uuid4())])
    await bus.deliver(
        admin,
        envelope(mine.created(), datetime(2025, 5, 31, 23, 59, tzinfo=UTC)),
        envelope(other.created(), datetime(2025, 6, 1, 0, 0, tzinfo=UTC)),
        envelope(late.created(), datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)),
        envelope(late.expired(), datetime(2025, 7, 1, 0, 30, tzinfo=UTC)),
        envelope(registered(customer, "grace@example.com"), datetime(2025, 1, 1, tzinfo=UTC)),
    )

    async def ids(**params) -> list[str]:
        response = await admin.get("/api/v1/admin/bookings", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [row["id"] for row in response.json()["data"]]

    assert await ids(status="expired") == [str(late.booking_id)]
    assert await ids(**{"from": "2025-06-01", "to": "2025-06-30"}) == [
        str(late.booking_id),
        str(other.booking_id),
    ]
    assert await ids(to="2025-05-31") == [str(mine.booking_id)]
    assert await ids(reference=other.reference.lower()) == [str(other.booking_id)]
    assert await ids(customer=str(customer)) == [str(mine.booking_id)]
    assert await ids(customer="GRACE@example.com") == [str(mine.booking_id)]
    refused = await admin.get("/api/v1/admin/bookings", params={"status": "lost"}, headers=headers)
    assert refused.status_code == 422


async def test_users_and_payments_filters(admin, bus, tokens):
    headers = tokens.headers(ADMIN)
    ada, bob, eve = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    day = datetime(2025, 6, 1, tzinfo=UTC)
    await bus.deliver(
        admin,
        envelope(registered(ada, "ada@example.com", "Ada Lovelace"), day),
        envelope(registered(bob, "bob@example.com", "Bob", role="vendor"), day + timedelta(1)),
        envelope(registered(eve, "eve@example.com", "Eve"), day + timedelta(2)),
        envelope(updated(eve, "eve@example.com", "Eve", active=False), day + timedelta(3)),
    )

    async def users(**params) -> list[str]:
        response = await admin.get("/api/v1/admin/users", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [row["email"] for row in response.json()["data"]]

    assert await users() == ["bob@example.com", "ada@example.com"]
    assert await users(include_inactive="true") == [
        "eve@example.com",
        "bob@example.com",
        "ada@example.com",
    ]
    assert await users(role="vendor") == ["bob@example.com"]
    assert await users(q="LOVE") == ["ada@example.com"]
    assert await users(q="%") == []  # a wildcard is a character here
    counted = await admin.get("/api/v1/admin/users", params={"total": "true"}, headers=headers)
    assert counted.json()["total"] == 2

    booking = uuid.uuid4()
    one, two = uuid.uuid4(), uuid.uuid4()
    await bus.deliver(
        admin,
        envelope(paid(one, "10.00", "EUR", booking_id=booking, user_id=ada), day),
        envelope(paid(two, "12.00", "USD", user_id=bob), day + timedelta(1)),
    )

    async def payments(**params) -> list[str]:
        response = await admin.get("/api/v1/admin/payments", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [row["id"] for row in response.json()["data"]]

    assert await payments() == [str(two), str(one)]
    assert await payments(currency="usd") == [str(two)]
    assert await payments(booking_id=str(booking)) == [str(one)]
    assert await payments(user_id=str(bob)) == [str(two)]
    assert await payments(status="refunded") == []
