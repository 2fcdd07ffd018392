"""In-app notifications through the API: each user sees and marks only their own."""

import uuid

from wayfare_common.testing.plugin import wait_for_handled

from notification_support import booking_created, user_registered


async def notify(service, bus, user_id, count: int) -> None:
    """`count` booking notifications for the user (plus none else: no user projection
    needed, booking.created carries the contact email)."""
    envelopes = [await bus.publish(booking_created(user_id)) for _ in range(count)]
    await wait_for_handled(service.database, [e.id for e in envelopes])


async def test_read_state_is_per_user_and_another_users_notification_is_not_found(service, bus):
    ada, alan = uuid.uuid4(), uuid.uuid4()
    await notify(service, bus, ada, 2)
    await notify(service, bus, alan, 1)
    client = service.client
    as_ada, as_alan = service.headers(ada), service.headers(alan)

    adas = (await client.get("/api/v1/notifications", headers=as_ada)).json()["data"]
    [alans] = (await client.get("/api/v1/notifications", headers=as_alan)).json()["data"]
    assert [n["kind"] for n in adas] == ["booking_received", "booking_received"]
    assert all(n["read_at"] is None for n in adas)

    # Alan can neither read nor mark Ada's notification: for him it does not exist.
    for method, path in [("GET", ""), ("POST", "/read")]:
        response = await client.request(
            method, f"/api/v1/notifications/{adas[0]['id']}{path}", headers=as_alan
        )
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "notification_not_found"

    response = await client.post(f"/api/v1/notifications/{adas[0]['id']}/read", headers=as_ada)
    assert response.status_code == 200
    first_read = response.json()["read_at"]
    assert first_read is not None
    again = await client.post(f"/api/v1/notifications/{adas[0]['id']}/read", headers=as_ada)
    assert again.json()["read_at"] == first_read  # when it was first read

    async def unread(headers) -> int:
        response = await client.get("/api/v1/notifications/unread-count", headers=headers)
        return response.json()["unread"]

    assert (await unread(as_ada), await unread(as_alan)) == (1, 1)
    unread_list = await client.get("/api/v1/notifications?unread=true", headers=as_ada)
    assert [n["id"] for n in unread_list.json()["data"]] == [adas[1]["id"]]

    response = await client.post("/api/v1/notifications/read-all", headers=as_ada)
    assert response.json() == {"marked_read": 1}
    assert (await unread(as_ada), await unread(as_alan)) == (0, 1)
    assert alans["read_at"] is None


async def test_the_list_pages_newest_first(service, bus):
    user = uuid.uuid4()
    registered = user_registered(user_id=user)
    await bus.publish(registered)
    await notify(service, bus, user, 4)
    headers = service.headers(user)

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await service.client.get("/api/v1/notifications", params=params, headers=headers)
        ).json()
        assert len(page["data"]) <= 2
        seen += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and len({n["id"] for n in seen}) == 5
    stamps = [n["created_at"] for n in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert "welcome" in {n["kind"] for n in seen}
    booking = next(n for n in seen if n["kind"] == "booking_received")
    assert booking["category"] == "transactional"
    assert booking["link"] == f"http://wayfare.test/bookings/{booking['data']['booking_id']}"
    assert booking["title"].startswith(f"Booking {booking['data']['reference']} received")


async def test_every_route_needs_a_token(service):
    for method, path in [
        ("GET", "/api/v1/notifications"),
        ("GET", "/api/v1/notifications/unread-count"),
        ("POST", "/api/v1/notifications/read-all"),
        ("POST", f"/api/v1/notifications/{uuid.uuid4()}/read"),
        ("GET", "/api/v1/notifications/preferences"),
        ("GET", "/api/v1/notifications/stream"),
    ]:
        response = await service.client.request(method, path)
        assert response.status_code == 401, (method, path)
        assert response.json()["code"] == "missing_token"
