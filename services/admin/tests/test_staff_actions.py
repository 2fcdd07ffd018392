"""Staff actions reach the owning service over real HTTP with the admin's own token and
request id, come back as the owner answered, and are audited with the admin's id and
the outcome; so are events that a staff member caused."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from wayfare_common.events.envelope import Actor

from admin_support import Booking, envelope, flight_item, refunded, running_admin

ADMIN = uuid.UUID("9b0c8a57-4a0e-4a55-8a43-1d9f1b6a2c11")


@pytest.fixture
async def admin_http(admin_database, tokens, owners):
    """The admin service without a broker: staff actions need none."""
    async with running_admin(admin_database, tokens, owners.url) as client:
        yield client


async def audit_entries(client, tokens, **params) -> list[dict]:
    response = await client.get("/api/v1/admin/audit", params=params, headers=tokens.headers(ADMIN))
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_each_action_is_forwarded_with_the_admins_token_and_audited(
    admin_http, owners, tokens
):
    user, booking, payment = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    token = tokens.token(ADMIN)
    cases = [
        ("POST", f"/users/{user}/deactivate", {"reason": "fraud"}, {},
         "auth", f"/api/v1/users/{user}/deactivate", None, "user.deactivate", "user", user),
        ("POST", f"/users/{user}/reactivate", None, {},
         "auth", f"/api/v1/users/{user}/reactivate", None, "user.reactivate", "user", user),
        ("PUT", f"/users/{user}/role", {"role": "vendor", "reason": "signed"}, {},
         "auth", f"/api/v1/users/{user}/role", {"role": "vendor"}, "user.change_role", "user", user),
        ("POST", f"/bookings/{booking}/cancel", {"reason": "duplicate booking"}, {},
         "booking", f"/api/v1/bookings/{booking}/cancel", {"reason": "duplicate booking"},
         "booking.cancel", "booking", booking),
        ("POST", f"/payments/{payment}/refund",
         {"amount": {"amount": "12.50", "currency": "EUR"}, "reason": "goodwill"},
         {"Idempotency-Key": "refund-1"},
         "payment", f"/api/v1/payments/{payment}/refund",
         {"amount": {"amount": "12.50", "currency": "EUR"}, "reason": "goodwill"},
         "payment.refund", "payment", payment),
        ("POST", f"/payments/{payment}/mark-paid", {"reason": "bank transfer", "reference": "SEPA-1"},
         {}, "payment", f"/api/v1/payments/{payment}/mark-paid",
         {"reason": "bank transfer", "reference": "SEPA-1"}, "payment.mark_paid", "payment", payment),
    ]  # fmt: skip
    for method, path, body, extra, _, owner_path, owner_body, action, kind, target in cases:
        request_id = uuid.uuid4().hex
        headers = {"Authorization": f"Bearer {token}", "X-Request-ID": request_id, **extra}
        response = await admin_http.request(
            method, "/api/v1/admin" + path, json=body, headers=headers
        )
        assert response.status_code == 200, (path, response.text)
        assert response.json()["path"] == owner_path  # the owner's answer, as it came

        received = owners.received[-1]
        assert (received.method, received.path, received.json) == (method, owner_path, owner_body)
        assert received.headers["authorization"] == f"Bearer {token}"
        assert received.headers["x-request-id"] == request_id
        if "Idempotency-Key" in extra:
            assert received.headers["idempotency-key"] == extra["Idempotency-Key"]

        [entry] = await audit_entries(admin_http, tokens, limit=1)
        assert response.headers["X-Audit-Seq"] == str(entry["seq"])
        assert entry["actor"] == {"user_id": str(ADMIN), "role": "admin"}
        assert entry["action"] == action
        assert entry["target"] == {"type": kind, "id": str(target)}
        assert entry["details"]["request_id"] == request_id
        assert entry["details"]["reason"] == (body or {}).get("reason")
        assert entry["details"]["outcome"] == {"status": 200, "code": None}
    refund = await audit_entries(admin_http, tokens, action="payment.refund")
    assert refund[0]["details"]["request"] == {
        "amount": {"amount": "12.50", "currency": "EUR"},
        "idempotency_key": "refund-1",
    }
    assert len(owners.received) == len(cases)
    assert [e["seq"] for e in await audit_entries(admin_http, tokens)] == [6, 5, 4, 3, 2, 1]


async def test_refusals_and_unreachable_owners_are_answered_and_audited(
    admin_http, owners, tokens, admin_database
):
    headers = tokens.headers(ADMIN)
    user = uuid.uuid4()
    owners.replies[("POST", f"/api/v1/users/{user}/deactivate")] = (
        409,
        {"status": 409, "code": "own_account", "title": "Conflict"},
    )
    refused = await admin_http.post(f"/api/v1/admin/users/{user}/deactivate", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "own_account"
    [entry] = await audit_entries(admin_http, tokens, action="user.deactivate")
    assert entry["details"]["outcome"] == {"status": 409, "code": "own_account"}

    owners.replies[("POST", f"/api/v1/users/{user}/reactivate")] = (500, {"detail": "boom"})
    failed = await admin_http.post(f"/api/v1/admin/users/{user}/reactivate", headers=headers)
    assert failed.status_code == 502
    assert failed.json()["code"] == "owner_error"
    assert "boom" not in failed.text

    # A refund needs an idempotency key; without one nothing is sent or recorded.
    payment = uuid.uuid4()
    keyless = await admin_http.post(
        f"/api/v1/admin/payments/{payment}/refund", json={"reason": "x"}, headers=headers
    )
    assert keyless.status_code == 400
    assert keyless.json()["code"] == "idempotency_key_required"
    assert not await audit_entries(admin_http, tokens, action="payment.refund")

    # The payment service is down: 503, and the attempt is on record.
    async with running_admin(admin_database, tokens) as down:  # owners on a closed port
        answer = await down.post(
            f"/api/v1/admin/payments/{payment}/refund",
            json={"reason": "goodwill"},
            headers={**headers, "Idempotency-Key": "k"},
        )
        assert answer.status_code == 503
        assert answer.json()["code"] == "owner_unreachable"
        [entry] = await audit_entries(down, tokens, action="payment.refund")
        assert entry["details"]["outcome"] == {"status": None, "code": "owner_unreachable"}
        assert entry["target"]["id"] == str(payment)

    # The booking service takes longer than the admin waits: 504, the action may have
    # happened, and the record says so.
    booking = uuid.uuid4()
    owners.delays[("POST", f"/api/v1/bookings/{booking}/cancel")] = 2.0
    async with running_admin(admin_database, tokens, owners.url, owner_timeout=0.3) as slow:
        answer = await slow.post(
            f"/api/v1/admin/bookings/{booking}/cancel", json={"reason": "x"}, headers=headers
        )
        assert answer.status_code == 504
        assert answer.json()["code"] == "owner_no_answer"
        [entry] = await audit_entries(slow, tokens, action="booking.cancel")
        assert entry["details"]["outcome"] == {"status": None, "code": "owner_no_answer"}


async def test_concurrent_actions_form_one_chain(admin_http, tokens):
    headers = tokens.headers(ADMIN)
    responses = await asyncio.gather(
        *(
            admin_http.post(
                f"/api/v1/admin/bookings/{uuid.uuid4()}/cancel",
                json={"reason": f"batch {i}"},
                headers=headers,
            )
            for i in range(30)
        )
    )
    assert sorted(int(r.headers["X-Audit-Seq"]) for r in responses) == list(range(1, 31))
    verified = await admin_http.get("/api/v1/admin/audit/verify", headers=headers)
    assert verified.json()["valid"] is True
    assert verified.json()["rows_checked"] == 30


async def test_events_caused_by_staff_are_audited(admin, bus, tokens):
    staff = Actor(user_id=str(ADMIN), role="admin")
    booking = Booking([flight_item(uuid.uuid4())])
    payment = uuid.uuid4()
    when = datetime(2025, 6, 1, 10, tzinfo=UTC)
    by_staff = envelope(
        booking.cancelled("100.00", by=staff), when, actor=staff, correlation_id="req-7"
    )
    # Payment reacts to the cancellation: its envelope's actor is the system, but the
    # payload names the admin who caused the refund.
    refund = envelope(refunded(payment, "100.00", "EUR", booking.booking_id, by=staff), when)
    by_customer = envelope(Booking([flight_item(uuid.uuid4())]).cancelled(), when)
    await bus.deliver(admin, by_staff, refund, by_customer)

    entries = {e["action"]: e for e in await audit_entries(admin, tokens, actor=str(ADMIN))}
    assert set(entries) == {"booking.cancelled", "payment.refunded"}
    cancelled = entries["booking.cancelled"]
    assert cancelled["target"] == {"type": "booking", "id": str(booking.booking_id)}
    assert cancelled["occurred_at"] == "2025-06-01T10:00:00Z"
    assert cancelled["details"]["event_id"] == str(by_staff.id)
    assert cancelled["details"]["correlation_id"] == "req-7"
    assert cancelled["details"]["data"]["reason"] == "customer_request"
    assert entries["payment.refunded"]["target"] == {"type": "payment", "id": str(payment)}
    assert len(await audit_entries(admin, tokens)) == 2  # the customer's is not audited
