"""The read models after the scenario's events (out of order, duplicated), the archive,
and rebuild-read-models as a real process: the same read models and figures again."""

import asyncio
import os
import sys
import uuid

import sqlalchemy as sa
from admin_scenario import at, build

from wayfare_admin.store.models import bookings, event_archive, payments, users
from wayfare_common.events import catalog

from admin_support import envelope, refunded

ADMIN = "9b0c8a57-4a0e-4a55-8a43-1d9f1b6a2c11"


async def get_all(client, path: str, headers, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        query = {**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        items += response.json()["data"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


async def snapshot(client, headers) -> dict:
    """Everything the read models show: listings and dashboards."""
    result = {
        "users": await get_all(client, "/api/v1/admin/users", headers, include_inactive="true"),
        "bookings": await get_all(client, "/api/v1/admin/bookings", headers),
        "payments": await get_all(client, "/api/v1/admin/payments", headers),
    }
    for granularity, first, last in (
        ("month", "2025-05-01", "2025-07-31"),
        ("week", "2025-06-23", "2025-07-20"),
    ):
        response = await client.get(
            "/api/v1/admin/dashboard",
            params={"from": first, "to": last, "granularity": granularity},
            headers=headers,
        )
        result[granularity] = response.json()
    return result


async def test_read_models_follow_events_in_any_order(admin, bus, owners, tokens):
    scenario = build(owners)
    await bus.deliver(admin, *scenario.envelopes)
    headers = tokens.headers(ADMIN)
    b, p, u = scenario.bookings, scenario.payments, scenario.users

    found = {row["id"]: row for row in await get_all(admin, "/api/v1/admin/bookings", headers)}
    assert len(found) == 10
    # Completed, confirmed and created arrived in that order: all facts are there.
    b5 = found[str(b["B5"].booking_id)]
    assert b5["status"] == "completed"
    assert b5["reference"] == b["B5"].reference
    assert b5["amount"] == {"amount": "240.00", "currency": "EUR"}
    assert b5["created_at"] == "2025-07-05T10:00:00Z"
    assert b5["confirmed_at"] == "2025-07-05T10:05:00Z"
    assert b5["completed_at"] == "2025-07-20T10:00:00Z"
    assert b5["passenger_count"] == 2
    assert [item["type"] for item in b5["items"]] == ["package"]
    assert b5["items"][0]["package_id"] == str(scenario.package)
    # The cancellation overtook the confirmation: still cancelled, with its facts.
    b2 = found[str(b["B2"].booking_id)]
    assert b2["status"] == "cancelled"
    assert b2["confirmed_at"] == "2025-06-30T09:05:00Z"
    assert b2["cancellation"] == {
        "reason": "customer_request",
        "refund": {"amount": "30.00", "currency": "EUR"},
        "by": {"user_id": str(b["B2"].user_id), "role": "customer"},
    }
    # Only the confirmation of B8 arrived: a partial row, completed when created arrives.
    b8 = found[str(b["B8"].booking_id)]
    assert (b8["status"], b8["created_at"], b8["contact_email"]) == ("confirmed", None, None)
    b9 = found[str(b["B9"].booking_id)]
    assert b9["items"][0]["first_flight_id"] == str(scenario.flights["F3"])
    assert b9["items"][0]["last_flight_id"] == str(scenario.flights["F4"])

    paid = {row["id"]: row for row in await get_all(admin, "/api/v1/admin/payments", headers)}
    assert len(paid) == 6
    # The refund overtook the capture.
    assert paid[str(p["P1"])]["status"] == "partially_refunded"
    assert paid[str(p["P1"])]["captured"] == {"amount": "100.00", "currency": "EUR"}
    assert paid[str(p["P1"])]["refunded"] == {"amount": "30.00", "currency": "EUR"}
    assert paid[str(p["P3"])]["status"] == "refunded"
    assert paid[str(p["P4"])]["captured"] == {"amount": "5000", "currency": "JPY"}
    assert paid[str(p["P5"])]["status"] == "failed"
    assert paid[str(p["P5"])]["failure_reason"] == "card_declined"

    listed = {row["id"]: row for row in await get_all(admin, "/api/v1/admin/users", headers)}
    assert str(u["U4"]) not in listed  # deactivated: hidden unless asked for
    everyone = await get_all(admin, "/api/v1/admin/users", headers, include_inactive="true")
    assert {row["id"] for row in everyone} == {str(user) for user in u.values()}
    # The update is newer than the registration, which arrived after it.
    assert listed[str(u["U3"])]["full_name"] == "Grace Hopper (updated)"
    assert listed[str(u["U3"])]["registered_at"] == "2025-07-01T00:00:00Z"

    # Every event is archived once, the duplicate included.
    await bus.deliver(admin, scenario.envelopes[0])  # same id again: acknowledged, ignored
    async with admin.app.state.database.sessions() as session:
        archived = await session.scalar(sa.select(sa.func.count()).select_from(event_archive))
    assert archived == len(scenario.envelopes)


async def test_events_without_a_read_model_are_archived_with_secrets_redacted(admin, bus):
    user = uuid.uuid4()
    reset = envelope(
        catalog.PasswordResetRequested(
            user_id=user,
            email="ada@example.com",
            reset_url="http://localhost:8000/reset-password?token=secret-token",
            expires_at="2025-06-01T11:00:00Z",
        ),
        at("2025-06-01T10:00:00Z"),
    )
    changed = envelope(
        catalog.FlightScheduleChanged(
            flight_id=uuid.uuid4(),
            flight_number="WF1",
            old_departing_at="2025-07-01T08:00:00+02:00",
            old_arriving_at="2025-07-01T10:30:00+01:00",
            new_departing_at="2025-07-01T09:15:00+02:00",
            new_arriving_at="2025-07-01T11:45:00+01:00",
        ),
        at("2025-06-01T10:00:00Z"),
        correlation_id="req-42",
    )
    await bus.deliver(admin, reset, changed)
    async with admin.app.state.database.sessions() as session:
        rows = {
            row.type: row
            for row in await session.execute(
                sa.select(event_archive).order_by(event_archive.c.type)
            )
        }
    assert (
        rows["auth.password_reset_requested"].data["reset_url"] == "http://localhost:8000/redacted"
    )
    assert "secret-token" not in str(rows["auth.password_reset_requested"].data)
    assert rows["flight.schedule_changed"].data == changed.data
    assert rows["flight.schedule_changed"].correlation_id == "req-42"
    assert rows["flight.schedule_changed"].producer == "flight"


async def test_rebuild_from_the_archive_gives_the_same_read_models(
    admin, bus, owners, tokens, admin_database
):
    scenario = build(owners)
    await bus.deliver(admin, *scenario.envelopes)
    await admin.app.state.labels.fetch_once()
    headers = tokens.headers(ADMIN)
    before = await snapshot(admin, headers)
    assert before["month"]["totals"]["bookings_created"] == 9

    # Damage the read models, as a bug or a bad hand-edit would.
    async with admin.app.state.database.sessions() as session, session.begin():
        await session.execute(sa.delete(bookings))
        await session.execute(sa.update(payments).values(captured_minor=1))
        await session.execute(sa.update(users).values(full_name="?"))
    damaged = await snapshot(admin, headers)
    assert damaged != before

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wayfare_admin",
        "rebuild-read-models",
        env={**os.environ, "ADMIN_DATABASE_URL": admin_database, "AMQP_URL": ""},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert out.decode().strip().splitlines()[-1] == (
        f'{{"events": {len(scenario.envelopes)}, "projected": {len(scenario.envelopes)}, '
        '"skipped": 0}'
    )
    assert await snapshot(admin, headers) == before


async def test_concurrent_events_about_one_payment_lose_no_update(admin, bus, tokens):
    """The consumer handles many events at once; forty refunds of one payment arriving
    together must all count (entity locks), however they interleave."""
    payment = uuid.uuid4()
    refunds = [
        envelope(refunded(payment, f"{i}.00", "EUR"), at("2025-06-01T10:00:00Z"))
        for i in range(1, 41)
    ]
    await bus.deliver(admin, *refunds)
    response = await admin.get("/api/v1/admin/payments", headers=tokens.headers(ADMIN))
    [row] = response.json()["data"]
    assert row["refunded"] == {"amount": "820.00", "currency": "EUR"}  # 1 + 2 + ... + 40
