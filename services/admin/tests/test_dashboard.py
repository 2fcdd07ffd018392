"""Events in through the broker, dashboard figures out: hand-computed per currency, refunds
netted in their own period, bucketed by day, ISO week and month across a week and a month
boundary, on PostgreSQL and on SQLite. The scenario is in admin_scenario.py."""

import uuid
from datetime import UTC, datetime

import pytest
from admin_scenario import build, revenue, statuses

from wayfare_common.testing.plugin import eventually

from admin_support import Booking, envelope, flight_item, running_admin


@pytest.fixture(params=["postgres", "sqlite"])
async def any_admin(request, databases, tokens, owners, amqp_url, amqp_namespace):
    url = await databases.postgres() if request.param == "postgres" else databases.sqlite()
    async with running_admin(
        url, tokens, owners.url, amqp_url=amqp_url, amqp_namespace=amqp_namespace
    ) as client:
        yield client


async def test_dashboard_figures(any_admin, bus, owners, tokens):
    client = any_admin
    scenario = build(owners)
    await bus.deliver(client, *scenario.envelopes)
    # A duplicate delivery (same event id) counts once.
    await bus.publish(scenario.envelopes[1])
    assert await client.app.state.labels.fetch_once() == 6  # F1 F3 F4 F5, F9 (404), package
    headers = tokens.headers("9b0c8a57-4a0e-4a55-8a43-1d9f1b6a2c11")

    monthly = await client.get(
        "/api/v1/admin/dashboard",
        params={"from": "2025-06-01", "to": "2025-07-31", "granularity": "month"},
        headers=headers,
    )
    assert monthly.status_code == 200, monthly.text
    assert monthly.json() == {
        "from": "2025-06-01",
        "to": "2025-07-31",
        "granularity": "month",
        "time_zone": "UTC",
        "periods": [
            {
                "start": "2025-06-01",
                # P1 100 + P2 50 captured; P6's 20 refunded in June (its capture was in May).
                "revenue": [
                    revenue("EUR", "150.00", "20.00", "130.00"),
                    revenue("JPY", "0", "0", "0"),
                    revenue("USD", "0.00", "0.00", "0.00"),
                ],
                "bookings": statuses(confirmed=2, cancelled=1),  # B1 B7, B2
                "new_users": 2,  # U1 (last microsecond of June 29), U2
            },
            {
                "start": "2025-07-01",
                # P1's 30 refunded in July; P3 captured and refunded in July; P4 in yen.
                "revenue": [
                    revenue("EUR", "0.00", "30.00", "-30.00"),
                    revenue("JPY", "5000", "0", "5000"),
                    revenue("USD", "200.00", "200.00", "0.00"),
                ],
                # B3 pending, B6 B9 B10 confirmed, B5 completed, B4 expired; B8 was never
                # created (only confirmed): not counted.
                "bookings": statuses(pending=1, confirmed=3, completed=1, expired=1),
                "new_users": 1,  # U3; U4 only ever updated
            },
        ],
        "totals": {
            "revenue": [
                revenue("EUR", "150.00", "50.00", "100.00"),
                revenue("JPY", "5000", "0", "5000"),
                revenue("USD", "200.00", "200.00", "0.00"),
            ],
            "bookings": statuses(pending=1, confirmed=5, completed=1, cancelled=1, expired=1),
            "bookings_created": 9,
            "cancellation_rate": "0.1429",  # 1 / (5 + 1 + 1)
            "new_users": 3,
        },
        # Sold (confirmed or completed): B1 (2 seats) and B9 (1 seat, LHR-AMS-JFK) to
        # JFK from LHR; B6 (3 seats) CDG-NCE. B10's flight is unknown to the flight service.
        "top_routes": [
            {"origin": "LHR", "destination": "JFK", "bookings": 2, "seats": 3},
            {"origin": "CDG", "destination": "NCE", "bookings": 1, "seats": 3},
        ],
        "routes_unlabelled": 1,
        "top_packages": [
            {"package_id": str(scenario.package), "title": "Lisbon Week", "bookings": 2, "seats": 3}
        ],
    }

    weekly = await client.get(
        "/api/v1/admin/dashboard",
        params={"from": "2025-06-23", "to": "2025-07-13", "granularity": "week"},
        headers=headers,
    )
    assert weekly.status_code == 200, weekly.text
    body = weekly.json()
    assert [period["start"] for period in body["periods"]] == [
        "2025-06-23",
        "2025-06-30",
        "2025-07-07",
    ]
    assert [period["revenue"] for period in body["periods"]] == [
        # Sunday 06-29 22:00: P1.
        [revenue("EUR", "100.00", "0.00", "100.00"), revenue("USD", "0.00", "0.00", "0.00")],
        # Monday 06-30 00:00: P2; P1's refund on 07-01; P3 on Sunday 07-06 23:59:59.
        [revenue("EUR", "50.00", "30.00", "20.00"), revenue("USD", "200.00", "0.00", "200.00")],
        # P3's refund one second into Monday 07-07.
        [revenue("EUR", "0.00", "0.00", "0.00"), revenue("USD", "0.00", "200.00", "-200.00")],
    ]
    assert [period["bookings"] for period in body["periods"]] == [
        statuses(confirmed=1),
        statuses(pending=1, confirmed=1, completed=1, cancelled=1, expired=1),
        statuses(confirmed=3),
    ]
    assert [period["new_users"] for period in body["periods"]] == [1, 2, 0]
    assert body["totals"]["revenue"] == [
        revenue("EUR", "150.00", "30.00", "120.00"),
        revenue("USD", "200.00", "200.00", "0.00"),
    ]
    assert body["totals"]["cancellation_rate"] == "0.1429"

    daily = await client.get(
        "/api/v1/admin/dashboard",
        params={"from": "2025-06-29", "to": "2025-07-01", "granularity": "day"},
        headers=headers,
    )
    body = daily.json()
    assert [(p["start"], p["revenue"], p["new_users"]) for p in body["periods"]] == [
        ("2025-06-29", [revenue("EUR", "100.00", "0.00", "100.00")], 1),
        ("2025-06-30", [revenue("EUR", "50.00", "0.00", "50.00")], 1),
        ("2025-07-01", [revenue("EUR", "0.00", "30.00", "-30.00")], 1),
    ]
    assert body["periods"][1]["bookings"] == statuses(confirmed=1, cancelled=1)  # B7, B2
    assert body["totals"]["cancellation_rate"] == "0.5000"
    assert body["top_routes"] == []  # B2, the only flight booking, was cancelled
    assert body["top_packages"][0]["bookings"] == 1  # B7


async def test_dashboard_refuses_bad_ranges(admin, tokens):
    headers = tokens.headers("9b0c8a57-4a0e-4a55-8a43-1d9f1b6a2c11")
    backwards = await admin.get(
        "/api/v1/admin/dashboard",
        params={"from": "2025-07-01", "to": "2025-06-01"},
        headers=headers,
    )
    assert backwards.status_code == 422
    assert backwards.json()["code"] == "invalid_range"
    too_many = await admin.get(
        "/api/v1/admin/dashboard",
        params={"from": "2000-01-01", "to": "2025-01-01"},
        headers=headers,
    )
    assert too_many.status_code == 422
    unknown = await admin.get(
        "/api/v1/admin/dashboard", params={"granularity": "year"}, headers=headers
    )
    assert unknown.status_code == 422


async def test_labels_are_fetched_in_the_background(
    admin_database, tokens, owners, bus, amqp_url, amqp_namespace
):
    flight = uuid.uuid4()
    owners.add_flight(flight, "OSL", "BGO")
    booking = Booking([flight_item(flight, seats=2)])
    async with running_admin(
        admin_database,
        tokens,
        owners.url,
        amqp_url=amqp_url,
        amqp_namespace=amqp_namespace,
        labels_interval=0.1,
    ) as client:
        await bus.deliver(
            client,
            envelope(booking.created(), datetime(2025, 6, 1, 10, tzinfo=UTC)),
            envelope(booking.confirmed(), datetime(2025, 6, 1, 10, 5, tzinfo=UTC)),
        )

        async def routes():
            response = await client.get(
                "/api/v1/admin/dashboard",
                params={"from": "2025-06-01", "to": "2025-06-01"},
                headers=tokens.headers(uuid.uuid4()),
            )
            return response.json()["top_routes"]

        found = await eventually(routes, timeout=10)
        assert found == [{"origin": "OSL", "destination": "BGO", "bookings": 1, "seats": 2}]
