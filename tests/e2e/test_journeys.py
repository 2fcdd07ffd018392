"""End-to-end journeys (issue 10): the whole suite as real processes, PostgreSQL,
RabbitMQ and an SMTP server; a person's browser talks only to the gateway.

The suite starts once for this module (conftest's `suite`); each journey uses people of
its own, so the journeys do not depend on each other's order.
"""

import asyncio
import io
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest

from suite_support import (
    PASSWORD,
    PAYMENT_WINDOW_SECONDS,
    adult,
    bearer,
    cabin_seats,
    expect,
    find_direct_offers,
    links_in,
    money,
    new_email,
    poll,
    register_verify_login,
    run_command,
    show,
    text_of,
    travel_date,
    wait_for_mail,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.slow,
    pytest.mark.timeout(300),
]

CENT = Decimal("0.01")


async def pay(
    client: httpx.AsyncClient, tokens: dict, booking_id: str, method: str, step: str
) -> httpx.Response:
    """POST /payments, as a checkout page would: while payment has not yet heard of the
    booking (409 + Retry-After), wait as told and try again with the same key (bounded)."""
    key = str(uuid.uuid4())
    deadline = time.monotonic() + 20
    while True:
        response = await client.post(
            "/api/v1/payments",
            json={"booking_id": booking_id, "payment_method": method},
            headers={**bearer(tokens), "Idempotency-Key": key},
        )
        if response.status_code != 409 or "retry-after" not in response.headers:
            return response
        if time.monotonic() > deadline:
            pytest.fail(f"[{step}] payment kept answering 409 for 20 s: {show(response)}")
        await asyncio.sleep(min(float(response.headers["retry-after"]), 1.0))


async def book(
    client: httpx.AsyncClient, tokens: dict, offer: dict, email: str, passengers: list[dict]
) -> tuple[dict, str]:
    key = str(uuid.uuid4())
    body = {
        "items": [{"type": "flight", "offer_id": offer["id"]}],
        "passengers": passengers,
        "contact": {"email": email},
    }
    response = await client.post(
        "/api/v1/bookings", json=body, headers={**bearer(tokens), "Idempotency-Key": key}
    )
    booking = expect(response, 201, "book")
    return booking, key


async def booking_in(
    client, tokens, booking_id: str, status: str, step: str, timeout: float = 25
) -> dict:
    seen: dict = {}

    async def reached():
        response = await client.get(f"/api/v1/bookings/{booking_id}", headers=bearer(tokens))
        seen["last"] = show(response)
        if response.status_code == 200 and response.json()["status"] == status:
            return response.json()
        return None

    return await poll(reached, step=step, timeout=timeout, last=lambda: seen.get("last", ""))


async def flight_seats(client, flight_id: str, cabin: str) -> int:
    flight = expect(await client.get(f"/api/v1/flights/{flight_id}"), 200, "read the flight")
    return cabin_seats(flight, cabin)


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


async def test_a_customer_books_pays_cancels_and_is_refunded(suite, client):
    smtp = suite.smtp
    email = new_email("grace")

    # 1. Sign up, confirm the address from the email, sign in.
    user, tokens = await register_verify_login(client, smtp, email, "Grace Hopper")
    auth = bearer(tokens)
    me = expect(await client.get("/api/v1/users/me", headers=auth), 200, "read my profile")
    assert me["id"] == user["id"] and me["email_verified"] is True, f"[read my profile] {me}"

    # 2. Search flights for two adults (DESIGN §7's offer shape).
    day = travel_date(2)
    route, offers = await find_direct_offers(client, adults=2, day=day)
    savers = [o for o in offers if o.get("fare", {}).get("family") == "saver"]
    offer = savers[0] if savers else offers[0]
    for key in ("id", "cabin", "stops", "segments", "price", "seats_available"):
        assert key in offer, f"[search flights] offer has no {key!r}: {offer}"
    [segment] = offer["segments"]
    for key in ("flight_id", "flight_number", "carrier", "origin", "destination"):
        assert key in segment, f"[search flights] segment has no {key!r}: {segment}"
    assert {"iata_code", "name"} <= set(segment["carrier"]), f"[search flights] {segment}"
    assert segment["origin"]["iata_code"] == route[0], f"[search flights] {segment}"
    assert segment["destination"]["iata_code"] == route[1], f"[search flights] {segment}"
    assert segment["departing_at"] and segment["arriving_at"], f"[search flights] {segment}"
    assert set(offer["price"]) >= {"amount", "currency"}, f"[search flights] {offer['price']}"
    flight_id, cabin = segment["flight_id"], offer["cabin"]
    seats_before = await flight_seats(client, flight_id, cabin)

    # 3. Book two passengers; a double-click (same key, same body) is the same booking.
    passengers = [adult("Grace", "Hopper", "1980-12-09"), adult("Howard", "Aiken", "1979-03-08")]
    booking, key = await book(client, tokens, offer, email, passengers)
    assert booking["status"] == "pending_payment", f"[book] {booking}"
    assert len(booking["reference"]) == 6, f"[book] {booking}"
    assert len(booking["passengers"]) == 2, f"[book] {booking}"
    price = booking["price"]
    total = money(price["total"])
    assert total == money(price["base"]) + money(price["fees"]) - money(price["discount"]), (
        f"[book] total is not base + fees - discount: {price}"
    )
    assert money(price["base"]) == money(offer["price"]), (
        f"[book] the booking's base price {price['base']} is not the searched {offer['price']}"
    )
    replay = await client.post(
        "/api/v1/bookings",
        json={
            "items": [{"type": "flight", "offer_id": offer["id"]}],
            "passengers": passengers,
            "contact": {"email": email},
        },
        headers={**auth, "Idempotency-Key": key},
    )
    replayed = expect(replay, 201, "book again with the same Idempotency-Key")
    assert replayed["id"] == booking["id"], f"[book again] a second booking: {replayed}"
    assert replay.headers.get("idempotent-replayed") == "true", f"[book again] {replay.headers}"
    held = await flight_seats(client, flight_id, cabin)
    assert held == seats_before - 2, f"[book] seats {seats_before} -> {held}, expected 2 held"
    await wait_for_mail(
        smtp, email, f"Booking {booking['reference']} received", step="booking email"
    )

    # 4. Pay with the sandbox's good card.
    payment = expect(await pay(client, tokens, booking["id"], "pm_card_visa", "pay"), 200, "pay")
    assert payment["status"] == "succeeded", f"[pay] {payment}"
    assert payment["booking_id"] == booking["id"], f"[pay] {payment}"
    assert money(payment["amount"]) == total, f"[pay] amount {payment['amount']} != {total}"

    # 5. The booking is confirmed.
    confirmed = await booking_in(client, tokens, booking["id"], "confirmed", "booking confirmed")
    assert money(confirmed["paid"]) == total, f"[booking confirmed] {confirmed['paid']}"

    # 6. The confirmation email, with the invoice link; the PDF through the gateway.
    message = await wait_for_mail(
        smtp, email, f"Booking {booking['reference']} is confirmed", step="confirmation email"
    )
    text = text_of(message)
    invoice_links = [link for link in links_in(text) if link.endswith("/invoice.pdf")]
    assert invoice_links, f"[confirmation email] no invoice link in:\n{text}"
    invoice_url = httpx.URL(invoice_links[0])
    assert str(invoice_url).startswith(suite.gateway_url), (
        f"[confirmation email] the invoice link does not lead to the gateway: {invoice_url}"
    )
    assert invoice_url.path == f"/api/v1/payments/{payment['id']}/invoice.pdf", (
        f"[confirmation email] {invoice_url} is not this payment's invoice"
    )
    anonymous = await client.get(invoice_url.path)
    assert anonymous.status_code == 401, f"[invoice without a token] {show(anonymous)}"
    pdf = await client.get(invoice_url.path, headers=auth)
    assert pdf.status_code == 200, f"[download invoice] {show(pdf)}"
    assert pdf.headers["content-type"].startswith("application/pdf"), (
        f"[download invoice] {pdf.headers}"
    )
    assert pdf.content.startswith(b"%PDF"), f"[download invoice] not a PDF: {pdf.content[:40]!r}"
    try:
        import pypdf
    except ImportError:  # pragma: no cover - the dev environment has it
        pypdf = None
    if pypdf is not None:
        reader = pypdf.PdfReader(io.BytesIO(pdf.content))
        pdf_text = "\n".join(page.extract_text() or "" for page in reader.pages)
        amount = f"{total:.2f}"
        assert amount in pdf_text or f"{total:,.2f}" in pdf_text, (
            f"[download invoice] {amount} not in the invoice:\n{pdf_text}"
        )
        assert booking["reference"] in pdf_text, f"[download invoice] no reference:\n{pdf_text}"

    # 7. In-app notifications for the booking.
    async def notified():
        response = await client.get("/api/v1/notifications", headers=auth)
        page = expect(response, 200, "in-app notifications")
        kinds = {n["kind"] for n in page["data"]}
        return page if {"booking_received", "booking_confirmed"} <= kinds else None

    page = await poll(notified, step="in-app notifications", timeout=15)
    mine = [n for n in page["data"] if n["kind"] == "booking_confirmed"]
    assert mine[0]["data"].get("booking_id") == booking["id"], f"[in-app notifications] {mine}"
    unread = expect(
        await client.get("/api/v1/notifications/unread-count", headers=auth), 200, "unread count"
    )
    assert unread["unread"] >= 2, f"[unread count] {unread}"

    # 8. Cancellation quote, by policy: saver fare >= 24 h ahead: 50 %; flex: 100 %;
    #    fees retained.
    quote = expect(
        await client.get(f"/api/v1/bookings/{booking['id']}/cancellation", headers=auth),
        200,
        "cancellation quote",
    )
    [item] = confirmed["items"]
    percent = Decimal(100) if item["fare"]["refundable"] else Decimal(50)
    expected_refund = half_up(money(item["price"]) * percent / 100)
    assert quote["cancellable"] is True, f"[cancellation quote] {quote}"
    assert money(quote["paid"]) == total, f"[cancellation quote] {quote}"
    assert money(quote["refund"]) == expected_refund, (
        f"[cancellation quote] refund {quote['refund']} != {percent}% of {item['price']}: {quote}"
    )
    assert money(quote["retained"]) == total - expected_refund, f"[cancellation quote] {quote}"

    # 9. Cancel with the quoted refund.
    cancelled = expect(
        await client.post(
            f"/api/v1/bookings/{booking['id']}/cancel",
            json={"reason": "plans changed", "expected_refund": quote["refund"]},
            headers=auth,
        ),
        200,
        "cancel",
    )
    assert cancelled["status"] == "cancelled", f"[cancel] {cancelled}"
    assert money(cancelled["cancellation"]["refund"]) == expected_refund, f"[cancel] {cancelled}"

    # 10. Refunded per policy: payment shows it, the booking too, and the emails arrive.
    seen: dict = {}

    async def refunded():
        response = await client.get(f"/api/v1/payments/{payment['id']}", headers=auth)
        seen["last"] = show(response)
        body = expect(response, 200, "payment shows the refund")
        return body if money(body["refunded"]) == expected_refund else None

    refunded_payment = await poll(
        refunded, step="payment shows the refund", timeout=25, last=lambda: seen["last"]
    )
    expected_status = "refunded" if expected_refund == total else "partially_refunded"
    assert refunded_payment["status"] == expected_status, f"[payment refund] {refunded_payment}"

    async def booking_knows():
        body = expect(
            await client.get(f"/api/v1/bookings/{booking['id']}", headers=auth),
            200,
            "booking shows the refund",
        )
        return body if money(body["refunded"]) == expected_refund else None

    await poll(booking_knows, step="booking shows the refund", timeout=20)
    await wait_for_mail(
        smtp, email, f"Booking {booking['reference']} is cancelled", step="cancellation email"
    )
    refund_mail = await wait_for_mail(smtp, email, "Your refund of", step="refund email")
    assert f"{expected_refund:.2f}" in str(refund_mail["Subject"]).replace(",", ""), (
        f"[refund email] {refund_mail['Subject']!r} does not name {expected_refund}"
    )

    # 11. The seats are back on sale.
    async def seats_back():
        return await flight_seats(client, flight_id, cabin) == seats_before

    await poll(
        seats_back,
        step="seats back",
        timeout=20,
        last=lambda: f"expected {seats_before} seats available",
    )


async def customer(client, smtp, label: str, name: str) -> tuple[dict, dict, str]:
    email = new_email(label)
    user, tokens = await register_verify_login(client, smtp, email, name)
    return user, tokens, email


async def test_a_declined_card_then_a_good_one(suite, client):
    smtp = suite.smtp
    _, tokens, email = await customer(client, smtp, "alan", "Alan Turing")
    auth = bearer(tokens)
    _, offers = await find_direct_offers(client, adults=1, day=travel_date(2))
    booking, _ = await book(
        client, tokens, offers[0], email, [adult("Alan", "Turing", "1972-06-23")]
    )
    total = money(booking["price"]["total"])

    # The first card is declined: the person is told why, and may try again.
    declined = expect(
        await pay(client, tokens, booking["id"], "pm_card_chargeDeclined", "declined card"),
        200,
        "declined card",
    )
    assert declined["status"] == "failed", f"[declined card] {declined}"
    assert "declined" in (declined.get("failure_reason") or ""), f"[declined card] {declined}"
    await wait_for_mail(smtp, email, "did not go through", step="payment failed email")
    still = expect(
        await client.get(f"/api/v1/bookings/{booking['id']}", headers=auth), 200, "still payable"
    )
    assert still["status"] == "pending_payment", f"[still payable] {still}"

    # Then a good card (typed as a number, with spaces).
    paid = expect(
        await pay(client, tokens, booking["id"], "4242 4242 4242 4242", "good card"),
        200,
        "good card",
    )
    assert paid["status"] == "succeeded", f"[good card] {paid}"
    assert money(paid["captured"]) == total, f"[good card] {paid}"
    await booking_in(client, tokens, booking["id"], "confirmed", "booking confirmed")

    # One payment for the booking, paid once; one confirmation.
    listed = expect(
        await client.get("/api/v1/payments", params={"booking_id": booking["id"]}, headers=auth),
        200,
        "my payments",
    )
    assert [p["id"] for p in listed["data"]] == [paid["id"]], f"[my payments] {listed}"
    assert listed["data"][0]["status"] == "succeeded", f"[my payments] {listed}"
    again = await pay(client, tokens, booking["id"], "pm_card_visa", "pay twice")
    assert again.status_code == 409, f"[pay twice] {show(again)}"
    assert again.json().get("code") == "already_paid", f"[pay twice] {show(again)}"
    subject = f"Booking {booking['reference']} is confirmed"
    await wait_for_mail(smtp, email, subject, step="confirmation email")
    await asyncio.sleep(1.0)  # a duplicate would come right behind
    confirmations = [m for m in smtp.messages if str(m["Subject"]) == subject]
    assert len(confirmations) == 1, f"[confirmation email] {len(confirmations)} sent"


ADMIN_ROUTES = (
    # admin service
    ("GET", "/api/v1/admin/dashboard", None),
    ("GET", "/api/v1/admin/users", None),
    ("GET", "/api/v1/admin/bookings", None),
    ("GET", "/api/v1/admin/payments", None),
    ("GET", "/api/v1/admin/audit", None),
    ("GET", "/api/v1/admin/audit/verify", None),
    ("GET", "/api/v1/admin/audit/export?format=csv", None),
    ("POST", "/api/v1/admin/users/{user}/deactivate", {"reason": "x"}),
    ("POST", "/api/v1/admin/users/{user}/reactivate", {"reason": "x"}),
    ("PUT", "/api/v1/admin/users/{user}/role", {"role": "admin"}),
    ("POST", "/api/v1/admin/bookings/{booking}/cancel", {"reason": "x"}),
    ("POST", "/api/v1/admin/payments/{payment}/refund", {"reason": "x"}),
    ("POST", "/api/v1/admin/payments/{payment}/mark-paid", {"reason": "x", "reference": "y"}),
    # staff routes of the owners
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users/{user}/deactivate", None),
    ("POST", "/api/v1/users/{user}/reactivate", None),
    ("PUT", "/api/v1/users/{user}/role", {"role": "admin"}),
    ("GET", "/api/v1/coupons", None),
    ("POST", "/api/v1/coupons", {"code": "FREE100", "kind": "percent", "percent": "100"}),
    ("POST", "/api/v1/payments/{payment}/refund", {"reason": "x"}),
    ("POST", "/api/v1/payments/{payment}/mark-paid", {"reason": "x", "reference": "y"}),
    ("GET", "/api/v1/payments/payouts/balances", None),
    ("POST", "/api/v1/payments/payouts/run", None),
    ("PUT", "/api/v1/payments/vendors/{user}/payout-account", {"stripe_account": "acct_1"}),
    ("POST", "/api/v1/flights", {}),
    ("PATCH", "/api/v1/flights/{flight}", {"status": "cancelled"}),
    ("POST", "/api/v1/packages", {}),
)


async def test_security_sweep(suite, client):
    smtp = suite.smtp
    # The first customer books, pays and has notifications.
    first, tokens, email = await customer(client, smtp, "ada", "Ada Lovelace")
    auth = bearer(tokens)
    _, offers = await find_direct_offers(client, adults=1, day=travel_date(2))
    flight_id = offers[0]["segments"][0]["flight_id"]
    booking, _ = await book(client, tokens, offers[0], email, [adult("Ada", "King", "1985-12-10")])
    payment = expect(
        await pay(client, tokens, booking["id"], "pm_card_visa", "first customer pays"),
        200,
        "first customer pays",
    )
    await booking_in(client, tokens, booking["id"], "confirmed", "first booking confirmed")

    async def notifications():
        page = expect(
            await client.get("/api/v1/notifications", headers=auth), 200, "first's notifications"
        )
        return page["data"]

    notification = (await poll(notifications, step="first's notifications", timeout=15))[0]
    passenger = booking["passengers"][0]["id"]
    ids = {
        "booking": booking["id"],
        "payment": payment["id"],
        "user": first["id"],
        "flight": flight_id,
        "notification": notification["id"],
    }

    # A second customer gets 404 on every id-bearing route of the first.
    _, other_tokens, _ = await customer(client, smtp, "eve", "Eve Mallory")
    other = bearer(other_tokens)
    b, p, n = ids["booking"], ids["payment"], ids["notification"]
    foreign = (
        ("GET", f"/api/v1/bookings/{b}", None),
        ("GET", f"/api/v1/bookings/{b}/cancellation", None),
        ("POST", f"/api/v1/bookings/{b}/cancel", {}),
        ("PATCH", f"/api/v1/bookings/{b}/passengers/{passenger}", {"given_name": "Eve"}),
        ("GET", f"/api/v1/payments/{p}", None),
        ("GET", f"/api/v1/payments/{p}/invoice.pdf", None),
        ("POST", f"/api/v1/payments/{p}/confirm", {"authenticated": True}),
        ("GET", f"/api/v1/notifications/{n}", None),
        ("POST", f"/api/v1/notifications/{n}/read", None),
    )
    leaks = []
    for method, path, body in foreign:
        response = await client.request(method, path, json=body, headers=other)
        if response.status_code != 404:
            leaks.append(show(response))
    assert not leaks, "[second customer] not 404:\n" + "\n".join(leaks)
    listed = expect(
        await client.get("/api/v1/payments", params={"booking_id": b}, headers=other),
        200,
        "second customer lists the first's payments",
    )
    assert listed["data"] == [], f"[second customer lists payments] {listed}"
    theirs = expect(await client.get("/api/v1/bookings", headers=other), 200, "second's bookings")
    assert theirs["data"] == [], f"[second customer's bookings] {theirs}"
    stranger_pays = await pay(client, other_tokens, b, "pm_card_visa", "second pays first's")
    assert stranger_pays.status_code == 404, f"[second customer pays] {show(stranger_pays)}"
    # ... and the first customer's things are unchanged.
    mine = expect(await client.get(f"/api/v1/bookings/{b}", headers=auth), 200, "first's booking")
    assert mine["status"] == "confirmed", f"[first's booking] {mine}"
    assert mine["passengers"][0]["given_name"] == "Ada", f"[first's booking] {mine}"

    # Every admin route: 401 anonymous, 403 as a customer.
    wrong = []
    for method, template, body in ADMIN_ROUTES:
        path = template.format(**ids)
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        anonymous = await client.request(method, path, json=body, headers=headers)
        if anonymous.status_code != 401:
            wrong.append("anonymous: " + show(anonymous))
        as_customer = await client.request(method, path, json=body, headers={**headers, **auth})
        if as_customer.status_code != 403:
            wrong.append("customer: " + show(as_customer))
    assert not wrong, "[admin routes] not refused:\n" + "\n".join(wrong)

    # Privileged fields in bodies are refused, not applied.
    sneaky = new_email("mallory")
    signed_up = await client.post(
        "/api/v1/auth/register",
        json={
            "email": sneaky,
            "password": PASSWORD,
            "full_name": "Mallory Admin",
            "role": "admin",
            "email_verified": True,
            "is_active": True,
        },
    )
    assert signed_up.status_code == 422, f"[register with privileged fields] {show(signed_up)}"
    made_admin = await client.patch("/api/v1/users/me", json={"role": "admin"}, headers=auth)
    assert made_admin.status_code == 422, f"[role in profile] {show(made_admin)}"
    self_confirmed = await client.post(
        "/api/v1/bookings",
        json={
            "items": [{"type": "flight", "offer_id": offers[0]["id"]}],
            "passengers": [adult("Ada", "King", "1985-12-10")],
            "contact": {"email": email},
            "status": "confirmed",
            "price": {"amount": "0.01", "currency": "EUR"},
        },
        headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert self_confirmed.status_code == 422, f"[status in booking] {show(self_confirmed)}"
    me = expect(await client.get("/api/v1/users/me", headers=auth), 200, "my role")
    assert me["role"] == "customer", f"[my role] {me}"

    # Oversized bodies: 413 at the front door.
    huge = await client.post(
        "/api/v1/bookings",
        content=b'{"items": [], "x": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={**auth, "Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"},
    )
    assert huge.status_code == 413, f"[oversized body] {show(huge)}"

    # limit=100000 is capped at 100: a search with more than 100 offers gives 100 and a
    # cursor to the rest (city codes: every airport of the city, so well over 100 offers);
    # lists of one's own things answer (capped) instead of failing.
    capped = None
    for origin, destination in (("NYC", "ATL"), ("ATL", "NYC"), ("NYC", "LON")):
        page = expect(
            await client.get(
                "/api/v1/flights/search",
                params={
                    "origin": origin,
                    "destination": destination,
                    "date": travel_date(2).isoformat(),
                    "limit": 100000,
                },
            ),
            200,
            "search with limit=100000",
        )
        assert len(page["data"]) <= 100, f"[limit=100000] {len(page['data'])} offers"
        if page["next_cursor"]:
            capped = page
            break
    assert capped is not None, "[limit=100000] no search had more than 100 offers to cap"
    assert len(capped["data"]) == 100, f"[limit=100000] {len(capped['data'])} offers + a cursor"
    rest = expect(
        await client.get(
            "/api/v1/flights/search",
            params={
                "origin": origin,
                "destination": destination,
                "date": travel_date(2).isoformat(),
                "limit": 100000,
                "cursor": capped["next_cursor"],
            },
        ),
        200,
        "next page after the cap",
    )
    first_ids = {offer["id"] for offer in capped["data"]}
    assert rest["data"], "[limit=100000] the cursor leads to nothing"
    assert not first_ids & {offer["id"] for offer in rest["data"]}, "[limit=100000] repeats"
    for path in ("/api/v1/bookings", "/api/v1/payments", "/api/v1/notifications"):
        response = await client.get(path, params={"limit": 100000}, headers=auth)
        assert response.status_code == 200, f"[limit=100000 on {path}] {show(response)}"
        assert len(response.json()["data"]) <= 100, f"[limit=100000 on {path}]"


async def test_an_unpaid_booking_expires_and_frees_its_seats(suite, client):
    smtp = suite.smtp
    _, tokens, email = await customer(client, smtp, "charles", "Charles Babbage")
    auth = bearer(tokens)
    _, offers = await find_direct_offers(client, adults=1, day=travel_date(2))
    offer = offers[0]
    flight_id, cabin = offer["segments"][0]["flight_id"], offer["cabin"]
    seats_before = await flight_seats(client, flight_id, cabin)
    booking, _ = await book(
        client, tokens, offer, email, [adult("Charles", "Babbage", "1971-12-26")]
    )
    held = await flight_seats(client, flight_id, cabin)
    assert held == seats_before - 1, f"[book] seats {seats_before} -> {held}"

    # Nobody pays: past its deadline (30 s here, + 2 s grace) the booking expires.
    expired = await booking_in(
        client,
        tokens,
        booking["id"],
        "expired",
        "booking expires",
        timeout=PAYMENT_WINDOW_SECONDS + 20,
    )
    assert money(expired["paid"]) == 0, f"[booking expires] {expired}"
    await wait_for_mail(
        smtp, email, f"Booking {booking['reference']} has expired", step="expiry email"
    )

    async def seats_back():
        return await flight_seats(client, flight_id, cabin) == seats_before

    await poll(seats_back, step="seats back after expiry", timeout=20)

    # Too late to pay now: refused, and nothing is charged.
    late = await pay(client, tokens, booking["id"], "pm_card_visa", "pay after expiry")
    assert late.status_code == 409, f"[pay after expiry] {show(late)}"
    payments = expect(
        await client.get("/api/v1/payments", params={"booking_id": booking["id"]}, headers=auth),
        200,
        "payments of the expired booking",
    )
    assert all(money(p["captured"]) == 0 for p in payments["data"]), f"[payments] {payments}"


def eur(figures: list[dict], field: str) -> Decimal:
    for entry in figures:
        if entry["currency"] == "EUR":
            return money(entry[field])
    return Decimal(0)


async def test_staff_refund_and_deactivation_are_audited(suite, client, staff):
    smtp = suite.smtp
    admin, admin_tokens = staff
    admin_auth = bearer(admin_tokens)

    async def dashboard() -> dict:
        return expect(
            await client.get("/api/v1/admin/dashboard", headers=admin_auth), 200, "dashboard"
        )["totals"]

    before = await dashboard()

    # A customer books and pays.
    user, tokens, email = await customer(client, smtp, "linus", "Linus Pauling")
    auth = bearer(tokens)
    _, offers = await find_direct_offers(client, adults=1, day=travel_date(2))
    booking, _ = await book(
        client, tokens, offers[0], email, [adult("Linus", "Pauling", "1961-02-28")]
    )
    payment = expect(
        await pay(client, tokens, booking["id"], "pm_card_visa", "customer pays"), 200, "pay"
    )
    total = money(payment["amount"])
    await booking_in(client, tokens, booking["id"], "confirmed", "booking confirmed")

    # Staff refund part of it (a goodwill gesture) through the back office.
    refund_amount = Decimal("10.00")
    refund = await client.post(
        f"/api/v1/admin/payments/{payment['id']}/refund",
        json={"amount": {"amount": "10.00", "currency": "EUR"}, "reason": "goodwill"},
        headers={**admin_auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    expect(refund, 201, "staff refund")
    assert refund.headers.get("x-audit-seq"), f"[staff refund] no X-Audit-Seq: {refund.headers}"
    await wait_for_mail(smtp, email, "Your refund of", step="refund email")

    async def partially_refunded():
        body = expect(
            await client.get(f"/api/v1/payments/{payment['id']}", headers=auth), 200, "payment"
        )
        return body if money(body["refunded"]) == refund_amount else None

    refunded = await poll(partially_refunded, step="payment shows the staff refund")
    assert refunded["status"] == "partially_refunded", f"[staff refund] {refunded}"

    # The dashboard moved by exactly what happened.
    seen: dict = {}

    async def figures_match():
        after = await dashboard()
        seen["after"] = after
        return (
            after["new_users"] - before["new_users"] == 1
            and after["bookings_created"] - before["bookings_created"] == 1
            and eur(after["revenue"], "captured") - eur(before["revenue"], "captured") == total
            and eur(after["revenue"], "refunded") - eur(before["revenue"], "refunded")
            == refund_amount
            and after["bookings"].get("confirmed", 0) - before["bookings"].get("confirmed", 0) == 1
        )

    await poll(
        figures_match,
        step="dashboard figures",
        timeout=20,
        last=lambda: f"before {before}, after {seen.get('after')}, paid {total}",
    )

    # Staff deactivate the account: its token stops working, it cannot sign in.
    deactivated = expect(
        await client.post(
            f"/api/v1/admin/users/{user['id']}/deactivate",
            json={"reason": "chargeback fraud"},
            headers=admin_auth,
        ),
        200,
        "deactivate",
    )
    assert deactivated["is_active"] is False, f"[deactivate] {deactivated}"

    async def token_refused():
        response = await client.get("/api/v1/bookings", headers=auth)
        seen["token"] = show(response)
        return response.status_code == 401

    await poll(
        token_refused, step="deactivated token refused", timeout=15, last=lambda: seen["token"]
    )
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 403, f"[deactivated login] {show(login)}"
    assert login.json().get("code") == "account_inactive", f"[deactivated login] {show(login)}"

    # Both actions are in the audit log with the admin's id, and the chain holds.
    async def audited():
        rows = expect(
            await client.get(
                "/api/v1/admin/audit", params={"actor": admin["id"]}, headers=admin_auth
            ),
            200,
            "audit log",
        )["data"]
        seen["audit"] = rows
        actions = {(row["action"], row["target"]["id"]) for row in rows}
        wanted = {("payment.refund", payment["id"]), ("user.deactivate", user["id"])}
        return rows if wanted <= actions else None

    rows = await poll(
        audited, step="audit log", timeout=15, last=lambda: repr(seen.get("audit"))[:2000]
    )
    assert all(row["actor"]["user_id"] == admin["id"] for row in rows), f"[audit log] {rows}"
    verified = expect(
        await client.get("/api/v1/admin/audit/verify", headers=admin_auth), 200, "audit verify"
    )
    assert verified["valid"] is True, f"[audit verify] {verified}"


async def test_a_package_completes_after_travel_and_its_vendor_is_paid(suite, client, staff):
    """A tour package: booked and paid; once the trip is over the booking completes, and
    the next payout run pays the vendor 80% of the places (DESIGN §7), not of our fees."""
    smtp = suite.smtp
    _, admin_tokens = staff
    admin_auth = bearer(admin_tokens)
    _, tokens, email = await customer(client, smtp, "freya", "Freya Stark")
    auth = bearer(tokens)

    # 1. Find a package with a departure that has room for two.
    packages = expect(await client.get("/api/v1/packages"), 200, "search packages")["data"]
    choices = [
        (package, departure)
        for package in packages
        for departure in package["departures"]
        if departure["places_available"] >= 2
    ]
    assert choices, f"[search packages] no departure with two places: {packages}"
    package, departure = choices[0]
    vendor_id = package["vendor_id"]

    async def vendor_balance() -> Decimal:
        balances = expect(
            await client.get("/api/v1/payments/payouts/balances", headers=admin_auth),
            200,
            "vendor balances",
        )
        owed = [b["balance"] for b in balances["vendors"] if b["vendor_id"] == vendor_id]
        return money(owed[0]) if owed else Decimal(0)

    owed_before = await vendor_balance()

    # 2. Book it for two and pay.
    response = await client.post(
        "/api/v1/bookings",
        json={
            "items": [
                {"type": "package", "package_id": package["id"], "departure_id": departure["id"]}
            ],
            "passengers": [
                adult("Freya", "Stark", "1983-01-31"),
                adult("Vera", "Stark", "1985-06-02"),
            ],
            "contact": {"email": email},
        },
        headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    booking = expect(response, 201, "book the package")
    [item] = booking["items"]
    places = money(item["price"])
    assert places == 2 * money(package["price_per_person"]), (
        f"[book the package] two places cost {item['price']}, the package {package['price_per_person']}"
    )
    payment = expect(await pay(client, tokens, booking["id"], "pm_card_visa", "pay"), 200, "pay")
    assert money(payment["amount"]) == money(booking["price"]["total"]), f"[pay] {payment}"
    await booking_in(client, tokens, booking["id"], "confirmed", "package booking confirmed")
    left = expect(await client.get(f"/api/v1/packages/{package['id']}"), 200, "read the package")[
        "departures"
    ]
    [after] = [d for d in left if d["id"] == departure["id"]]
    assert after["places_available"] == departure["places_available"] - 2, (
        f"[places sold] {departure['places_available']} -> {after['places_available']}"
    )

    # 3. The trip ends. Completion runs hourly; the operator's command runs it now, with
    #    the trip's end moved behind us (allowed outside production only).
    trip_ends = date.fromisoformat(departure["starts_on"]) + timedelta(
        days=package["duration_days"]
    )
    after_travel = datetime.combine(trip_ends + timedelta(days=2), clock(), tzinfo=UTC)
    await run_command(
        suite,
        [
            "-m",
            "wayfare_booking",
            "complete-travelled",
            "--travel-ended-before",
            after_travel.isoformat(),
        ],
        "complete-travelled",
    )
    completed = await booking_in(client, tokens, booking["id"], "completed", "booking completed")
    assert completed["status"] == "completed", f"[booking completed] {completed}"

    # 4. The vendor is owed 80% of the places: not of the fees, nor of the whole total.
    share = half_up(places * Decimal("0.80"))
    seen: dict = {}

    async def vendor_credited():
        seen["owed"] = await vendor_balance()
        return seen["owed"] - owed_before == share

    await poll(
        vendor_credited,
        step="vendor credited",
        timeout=20,
        last=lambda: f"owed {owed_before} before, {seen.get('owed')} now; expected +{share}",
    )
    owed = seen["owed"]
    assert owed >= Decimal("50.00"), f"[vendor credited] {owed} is below the payout minimum"

    # 5. The next payout run pays it all, once; a second run finds nothing owed.
    run = expect(
        await client.post("/api/v1/payments/payouts/run", headers=admin_auth), 200, "payout run"
    )
    sent = [p for p in run["sent"] if p["vendor_id"] == vendor_id]
    assert len(sent) == 1 and money(sent[0]["amount"]) == owed, (
        f"[payout run] expected one payout of {owed} to {vendor_id}: {run}"
    )
    assert await vendor_balance() == 0, "[payout run] the vendor is still owed money"
    again = expect(
        await client.post("/api/v1/payments/payouts/run", headers=admin_auth), 200, "payout again"
    )
    assert not [p for p in again["sent"] if p["vendor_id"] == vendor_id], f"[payout again] {again}"
    listed = expect(
        await client.get(
            "/api/v1/payments/payouts", params={"vendor_id": vendor_id}, headers=admin_auth
        ),
        200,
        "vendor payouts",
    )["data"]
    assert listed[0]["id"] == sent[0]["id"] and listed[0]["status"] == "sent", (
        f"[vendor payouts] {listed}"
    )
    # A customer sees no payouts.
    refused = await client.get("/api/v1/payments/payouts", headers=auth)
    assert refused.status_code == 403, f"[customer payouts] {show(refused)}"
