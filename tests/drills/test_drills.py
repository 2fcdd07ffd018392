"""Fault drills (issue 10): the whole suite as real processes, with a second replica of
every service that handles events, while the broker goes away, replicas are killed,
and the database is cut off. Each drill makes its own customers and bookings and checks
the end state a person or an operator would see: bookings, seats, payments, mail,
admin's figures, and no event left unsent.

They share one suite (conftest's `suite`); `full_strength` brings it back to every part
running and quiet before each drill, so that no drill depends on another.
"""

import asyncio
import contextlib
import os
import time
import uuid
from collections import Counter
from decimal import Decimal

import aio_pika
import httpx
import pytest

from drill_support import (
    Customer,
    Shop,
    holds_by_booking,
    metric,
    offers_on_many_flights,
    payments_by_booking,
    seats_available,
    sign_up,
    stream,
    wait_for_mail_once,
    wait_for_states,
    wait_until_paid,
    wait_until_quiet,
)
from suite_support import (
    Suite,
    bearer,
    expect,
    kill_part,
    money,
    poll,
    query,
    show,
    wait_until_ready,
)

pytestmark = [
    pytest.mark.drill,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.slow,
    pytest.mark.timeout(300),
]

BROKER_STOP = os.environ.get("TEST_BROKER_STOP_COMMAND")
BROKER_START = os.environ.get("TEST_BROKER_START_COMMAND")
# The real thing where CI may stop the broker; else the suite is cut off it by the proxy.
OUTAGE = "rabbitmqctl" if BROKER_STOP and BROKER_START else "proxy"
OUTAGE_SECONDS = 10.0


# --- 1. the broker goes away for 10 s while 300 bookings are made and paid ---------------


async def _shell(command: str, timeout: float) -> None:
    process = await asyncio.create_subprocess_shell(
        command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"[broker] `{command}` did not finish within {timeout:.0f} s")
    assert process.returncode == 0, f"[broker] `{command}` exited {process.returncode}: {output!r}"


async def _broker_answers(amqp_url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = await aio_pika.connect(amqp_url, timeout=5)
            await connection.close()
            return
        except Exception as error:
            if time.monotonic() > deadline:
                pytest.fail(f"[broker] not answering {timeout:.0f} s after its start: {error!r}")
            await asyncio.sleep(0.5)


@contextlib.asynccontextmanager
async def broker_down(suite: Suite, amqp_url: str):
    """The broker unreachable for the suite until the block ends: stopped for real with
    TEST_BROKER_STOP_COMMAND (and always started again, until it answers), or cut off
    behind the proxy every part's AMQP_URL points at."""
    if OUTAGE == "rabbitmqctl":
        try:
            await _shell(BROKER_STOP, timeout=60)
            yield
        finally:
            await _shell(BROKER_START, timeout=120)
            await _broker_answers(amqp_url, timeout=60)
    else:
        try:
            await suite.broker_proxy.cut()
            yield
        finally:
            suite.broker_proxy.restore()


async def test_broker_outage_delays_events_and_loses_none(
    full_strength, client, amqp_server_url, say
):
    suite = full_strength
    say(f"the broker goes away by {OUTAGE} for {OUTAGE_SECONDS:.0f} s")
    customers = await sign_up(client, suite, "outage", 10)
    offers = await offers_on_many_flights(client, 30)
    shop = Shop(client)

    started = time.monotonic()
    traffic = asyncio.create_task(stream(shop, customers, offers, 300, per_second=10))
    try:
        await wait_until_paid(shop, 30, traffic)
        before = (shop.created, shop.paid)
        async with broker_down(suite, amqp_server_url):
            await asyncio.sleep(OUTAGE_SECONDS)
            during = (shop.created - before[0], shop.paid - before[1])
        bookings = await asyncio.wait_for(traffic, timeout=240)
    finally:
        traffic.cancel()
    streamed = time.monotonic() - started
    # Requests that change state kept working while no event could leave.
    assert during[0] > 0, "[outage] no booking could be made while the broker was away"

    ids = [booking["id"] for booking in bookings]
    assert len(set(ids)) == 300, "[bookings] not one booking per request"
    await wait_for_states(suite, dict.fromkeys(ids, "confirmed"), "every booking confirmed")
    expected = {
        (booking["reference"], kind)
        for booking in bookings
        for kind in ("booking_received", "booking_confirmed")
    }
    await wait_for_mail_once(suite, expected, "every email once")
    await wait_until_quiet(suite, "no outbox row left, every event handled")
    say(
        f"during the outage {during[0]} bookings were made and {during[1]} paid; "
        f"300 booked and paid in {streamed:.0f} s, all settled {time.monotonic() - started:.0f} s "
        f"after the first; answers {dict(shop.statuses)}"
    )


# --- 2. a payment and a notification replica killed mid-stream -------------------------


async def test_killed_replicas_leave_their_work_to_the_others(full_strength, client, say):
    suite = full_strength
    customers = await sign_up(client, suite, "kill", 6)
    offers = await offers_on_many_flights(client, 30)
    shop = Shop(client)
    victims = [suite.parts["payment-2"], suite.parts["notification-2"]]

    async def handled_by_victims() -> dict[str, float]:
        return {
            part.name: await metric(part, "wayfare_events_consumed_total", outcome="handled")
            for part in victims
        }

    handled_before = await handled_by_victims()
    traffic = asyncio.create_task(stream(shop, customers, offers, 150, per_second=10))
    try:
        await wait_until_paid(shop, 50, traffic)
        handled = await handled_by_victims()
        handled = {name: handled[name] - handled_before[name] for name in handled}
        await asyncio.gather(*(kill_part(part) for part in victims))
        at_kill = (shop.created, shop.paid)
        bookings = await asyncio.wait_for(traffic, timeout=240)
    finally:
        traffic.cancel()
    say(
        f"SIGKILL at {at_kill[0]} booked / {at_kill[1]} paid of 150; of this stream the "
        f"killed replicas had handled {handled} events"
    )
    # Both replicas of each were sharing the stream when one was killed.
    assert all(handled.values()), f"[before the kill] a replica had handled nothing: {handled}"

    ids = [booking["id"] for booking in bookings]
    await wait_for_states(suite, dict.fromkeys(ids, "confirmed"), "every booking confirmed")
    booked = await query(
        suite,
        "booking",
        "SELECT id::text, total_minor, paid_minor,"
        " (SELECT count(*) FROM payment_records r WHERE r.booking_id = b.id) AS records"
        " FROM bookings b WHERE id = ANY($1::uuid[])",
        [uuid.UUID(i) for i in ids],
    )
    twice = [dict(row) for row in booked if row["paid_minor"] != row["total_minor"]]
    assert not twice, f"[booking] paid is not the total (money counted twice?): {twice[:5]}"
    recorded = [dict(row) for row in booked if row["records"] != 1]
    assert not recorded, f"[booking] not one payment record per booking: {recorded[:5]}"

    # One payment per booking, charged once, nothing refunded.
    payments = await payments_by_booking(suite, ids)
    wrong = {
        booking_id: found
        for booking_id in ids
        if len(found := payments.get(booking_id, [])) != 1
        or found[0]["attempts"] != ["succeeded"]
        or found[0]["captured_minor"] != found[0]["amount_minor"]
        or found[0]["refunds"]
    }
    assert not wrong, f"[payment] not one payment charged once: {list(wrong.items())[:5]}"

    expected = {
        (booking["reference"], kind)
        for booking in bookings
        for kind in ("booking_received", "booking_confirmed")
    }
    # A kill between an SMTP server's "250 OK" and the commit that records it sends that
    # email again, with the same Message-ID (the documented at-least-once window).
    counted = await wait_for_mail_once(suite, expected, "every email once", allow_resends=True)
    await wait_until_quiet(suite, "no outbox row left, every event handled")
    say(f"emails sent again with the same Message-ID after the kill: {counted.resends}")


# --- 3. two replicas of every service that handles events -------------------------------


async def until_confirmed(shop: Shop, customer: Customer, booking_id: str) -> None:
    seen: dict = {}

    async def reached():
        response = await shop.request(
            "read", "GET", f"/api/v1/bookings/{booking_id}", headers=customer.auth
        )
        seen["last"] = show(response)
        return response.status_code == 200 and response.json()["status"] == "confirmed"

    await poll(reached, step="confirmed", timeout=60, last=lambda: seen["last"])


async def paid(shop: Shop, customer: Customer, offer: dict) -> tuple[dict, Decimal]:
    booking = await shop.book_and_pay(customer, offer)
    return booking, Decimal(0)


async def declined_then_paid(shop: Shop, customer: Customer, offer: dict) -> tuple[dict, Decimal]:
    booking = await shop.book(customer, offer)
    declined = await shop.pay(customer, booking["id"], "pm_card_chargeDeclined")
    assert declined["status"] == "failed", f"[declined card] {declined}"
    good = await shop.pay(customer, booking["id"], "pm_card_visa")
    assert good["status"] == "succeeded", f"[good card] {good}"
    return booking, Decimal(0)


async def cancelled(shop: Shop, customer: Customer, offer: dict) -> tuple[dict, Decimal]:
    """Paid, confirmed, then cancelled with the quoted refund."""
    booking = await shop.book_and_pay(customer, offer)
    await until_confirmed(shop, customer, booking["id"])
    path = f"/api/v1/bookings/{booking['id']}"
    quote = expect(
        await shop.request("quote", "GET", f"{path}/cancellation", headers=customer.auth),
        200,
        "cancellation quote",
    )
    body = {"reason": "drill", "expected_refund": quote["refund"]}
    done = expect(
        await shop.request("cancel", "POST", f"{path}/cancel", json=body, headers=customer.auth),
        200,
        "cancel",
    )
    assert done["status"] == "cancelled", f"[cancel] {done}"
    return booking, money(quote["refund"])


JOURNEYS = {"paid": paid, "declined_then_paid": declined_then_paid, "cancelled": cancelled}
ATTEMPTS = {  # charge attempts each journey leaves, oldest first
    "paid": ["succeeded"],
    "declined_then_paid": ["failed", "succeeded"],
    "cancelled": ["succeeded"],
}
MAIL = {
    "paid": ("booking_received", "booking_confirmed"),
    "declined_then_paid": ("booking_received", "payment_failed", "booking_confirmed"),
    "cancelled": ("booking_received", "booking_confirmed", "booking_cancelled", "refund_done"),
}


async def _dashboard(client: httpx.AsyncClient, tokens: dict) -> dict:
    response = await client.get("/api/v1/admin/dashboard", headers=bearer(tokens))
    return expect(response, 200, "dashboard")["totals"]


def _eur(totals: dict, field: str) -> Decimal:
    return sum((money(r[field]) for r in totals["revenue"] if r["currency"] == "EUR"), Decimal(0))


def _figures(totals: dict) -> dict:
    """What the drill moves on admin's dashboard."""
    return {
        "new_users": totals["new_users"],
        "bookings_created": totals["bookings_created"],
        "confirmed": totals["bookings"].get("confirmed", 0),
        "cancelled": totals["bookings"].get("cancelled", 0),
        "captured": _eur(totals, "captured"),
        "refunded": _eur(totals, "refunded"),
    }


def cents(amount: Decimal) -> int:
    """Minor units of a EUR amount (every fare is in EUR)."""
    return int(amount * 100)


async def check_payments(suite: Suite, plan: list, refund_of: dict[str, Decimal]) -> None:
    """One payment per booking, charged as the customer did, refunded as quoted."""
    ids = {booking["id"] for _, _, booking in plan}

    async def settled() -> dict | None:
        payments = await payments_by_booking(suite, ids)
        refunded = all(
            len(payments.get(i, [])) == 1
            and payments[i][0]["refunded_minor"] == cents(refund_of[i])
            for i in ids
        )
        return payments if refunded else None

    payments = await poll(settled, step="refunds recorded by payment", timeout=60)
    for kind, _, booking in plan:
        [payment] = payments[booking["id"]]
        refunds = [cents(refund_of[booking["id"]])] if kind == "cancelled" else []
        assert payment["attempts"] == ATTEMPTS[kind], f"[payment {kind}] {payment}"
        assert payment["captured_minor"] == payment["amount_minor"], f"[payment] {payment}"
        assert payment["refunds"] == refunds, f"[payment {kind}] refunds {payment}"


async def check_seats(
    suite: Suite, client: httpx.AsyncClient, plan: list, offers: list, seats_before: dict
) -> None:
    """Seats sold for the confirmed bookings, given back for the cancelled ones."""
    wanted = {b["id"]: "released" if kind == "cancelled" else "sold" for kind, _, b in plan}
    seen: dict = {}

    async def settled() -> bool:
        seen.update(await holds_by_booking(suite, wanted))
        return seen == wanted

    await poll(
        settled,
        step="flight's holds",
        timeout=60,
        last=lambda: repr({i: h for i, h in seen.items() if h != wanted[i]}),
    )
    sold = Counter(offer["segments"][0]["flight_id"] for k, offer, _ in plan if k != "cancelled")
    expected = {flight: seats - sold[flight] for flight, seats in seats_before.items()}
    after = await seats_available(client, offers)
    assert after == expected, f"[seats on sale] {after} != {expected}"


async def check_figures(
    client: httpx.AsyncClient, staff_tokens: dict, before: dict, moved: dict
) -> None:
    """Admin's dashboard moved by exactly what happened; the audit chain holds."""
    wanted = {name: before[name] + moved[name] for name in before}
    seen: dict = {}

    async def match() -> bool:
        seen["after"] = _figures(await _dashboard(client, staff_tokens))
        return seen["after"] == wanted

    await poll(
        match, step="admin's figures", timeout=60, last=lambda: f"{wanted} != {seen['after']}"
    )
    verified = expect(
        await client.get("/api/v1/admin/audit/verify", headers=bearer(staff_tokens)),
        200,
        "audit verify",
    )
    assert verified["valid"] is True, f"[audit verify] {verified}"


async def test_two_replicas_of_every_consumer_reach_the_state_one_would(
    full_strength, client, staff, say
):
    suite = full_strength
    _, staff_tokens = staff
    started = time.monotonic()
    before = _figures(await _dashboard(client, staff_tokens))
    customers = await sign_up(client, suite, "pair", 6)
    offers = await offers_on_many_flights(client, 12)
    seats_before = await seats_available(client, offers)
    shop = Shop(client)

    # 60 bookings at once: paid; declined then paid; paid then cancelled and refunded.
    kinds = [kind for _ in range(20) for kind in JOURNEYS]
    picks = [(customers[i % len(customers)], offers[i % len(offers)]) for i in range(len(kinds))]
    results = await asyncio.wait_for(
        asyncio.gather(
            *(JOURNEYS[kind](shop, c, o) for kind, (c, o) in zip(kinds, picks, strict=True))
        ),
        timeout=180,
    )
    plan = [
        (kind, offer, booking)
        for kind, (_, offer), (booking, _) in zip(kinds, picks, results, strict=True)
    ]
    refund_of = {booking["id"]: refund for booking, refund in results}

    states = {b["id"]: "cancelled" if k == "cancelled" else "confirmed" for k, _, b in plan}
    await wait_for_states(suite, states, "booking states")
    await check_payments(suite, plan, refund_of)
    await check_seats(suite, client, plan, offers, seats_before)
    mail = {(b["reference"], m) for kind, _, b in plan for m in MAIL[kind]}
    await wait_for_mail_once(suite, mail, "every email once")
    moved = {
        "new_users": len(customers),
        "bookings_created": len(plan),
        "confirmed": kinds.count("paid") + kinds.count("declined_then_paid"),
        "cancelled": kinds.count("cancelled"),
        "captured": sum(money(b["price"]["total"]) for _, _, b in plan),
        "refunded": sum(refund_of.values()),
    }
    await check_figures(client, staff_tokens, before, moved)
    await wait_until_quiet(suite, "no outbox row left, every event handled")
    replicated = sorted({suite.parts[name].service for name in suite.replicas})
    say(
        f"two processes each of {', '.join(replicated)}: {len(plan)} bookings "
        f"({', '.join(f'{n} {k}' for k, n in Counter(kinds).items())}), {len(mail)} emails, "
        f"settled {time.monotonic() - started:.0f} s after the first"
    )


# --- 4. the database cut off during traffic ---------------------------------------------

CUT_SECONDS = 5.0
PROMPT = 10.0  # seconds an answer may take during the cut before it counts as a hang


def clean_503(response: httpx.Response, step: str) -> dict:
    """The problem of a 503 answered as RFC 9457 problem+json."""
    assert response.status_code == 503, f"[{step}] expected 503, got {show(response)}"
    assert response.headers["content-type"].startswith("application/problem+json"), (
        f"[{step}] not a problem: {show(response)}"
    )
    problem = response.json()
    assert problem["status"] == 503 and problem["code"], f"[{step}] {problem}"
    return problem


async def bookings_until(
    shop: Shop, customers: list[Customer], offers: list[dict], stop: asyncio.Event
) -> list[tuple[Customer, dict]]:
    """Each customer books, one booking after another, until `stop`; every answer is a
    booking or a clean 503. Returns (customer, booking) for those made."""
    made = []

    async def keep_booking(index: int) -> None:
        for n in range(10_000):
            if stop.is_set():
                return
            customer = customers[index]
            response = await shop.try_book(
                customer, offers[(index + n) % len(offers)], timeout=PROMPT
            )
            if response.status_code == 201:
                made.append((customer, response.json()))
            else:
                clean_503(response, "book while the database is away")
                await asyncio.sleep(0.2)

    await asyncio.gather(*(keep_booking(index) for index in range(len(customers))))
    return made


async def answers_while_cut(
    suite: Suite, shop: Shop, customer: Customer, staff_tokens: dict
) -> dict[str, str]:
    """Each service through the gateway, and each part's /readyz, while the database is
    away: clean 503 problems, promptly. Returns the problem code of each service."""
    probes = {
        "auth": (
            "POST",
            "/api/v1/auth/login",
            {"json": {"email": customer.email, "password": "Wrong-Password-1!"}},
        ),
        "flight": ("GET", f"/api/v1/flights/{uuid.uuid4()}", {}),
        "booking": ("GET", "/api/v1/bookings", {"headers": customer.auth}),
        "payment": ("GET", "/api/v1/payments", {"headers": customer.auth}),
        "notification": ("GET", "/api/v1/notifications", {"headers": customer.auth}),
        "admin": ("GET", "/api/v1/admin/dashboard", {"headers": bearer(staff_tokens)}),
    }
    codes = {}
    for service, (method, path, kwargs) in probes.items():
        response = await shop.request(service, method, path, timeout=PROMPT, **kwargs)
        codes[service] = clean_503(response, f"{service} while the database is away")["code"]
    async with httpx.AsyncClient(timeout=PROMPT) as http:
        for name, part in suite.parts.items():
            if name == "gateway":
                continue  # it has no database
            response = await http.get(part.url + "/readyz")
            assert response.status_code == 503, f"[{name} /readyz while cut] {show(response)}"
            checks = response.json()["checks"]
            assert checks["database"] == "unreachable", f"[{name} /readyz while cut] {checks}"
    return codes


async def test_database_cut_off_answers_503_and_the_suite_recovers_without_restarts(
    full_strength, client, staff, say
):
    suite = full_strength
    _, staff_tokens = staff
    customers = await sign_up(client, suite, "cut", 4)
    offers = await offers_on_many_flights(client, 12)
    shop = Shop(client)
    pids = {name: part.process.pid for name, part in suite.parts.items()}

    # Bookings made before the cut, to be paid after it.
    plan = [(customers[i % 4], offers[i % len(offers)]) for i in range(20)]
    booked = await asyncio.gather(*(shop.book(customer, offer) for customer, offer in plan))
    early = [(customer, booking) for (customer, _), booking in zip(plan, booked, strict=True)]

    # Traffic runs into the cut and out of it; the cut drops every connection at once.
    stop = asyncio.Event()
    traffic = asyncio.create_task(bookings_until(shop, customers, offers, stop))
    try:
        await asyncio.sleep(1.0)
        cut_at = time.monotonic()
        await suite.database_proxy.cut()
        try:
            codes = await answers_while_cut(suite, shop, customers[0], staff_tokens)
            await asyncio.sleep(max(0.0, cut_at + CUT_SECONDS - time.monotonic()))
        finally:
            suite.database_proxy.restore()
        await wait_until_ready(suite, tuple(suite.parts), timeout=30)
        recovered = time.monotonic() - cut_at - CUT_SECONDS
        await asyncio.sleep(1.0)  # and traffic goes on a little
        stop.set()
        made = await asyncio.wait_for(traffic, timeout=60)
    finally:
        stop.set()
        traffic.cancel()
    assert shop.statuses["book", 503], "[database cut] no booking was refused during the cut"
    # The same processes serve again: none ended, none was started anew.
    replaced = [
        name
        for name, part in suite.parts.items()
        if part.process.returncode is not None or part.process.pid != pids[name]
    ]
    assert not replaced, f"[after the cut] processes ended or were replaced: {replaced}"

    # What was booked before and around the cut is paid, confirmed and mailed.
    everything = early + made
    await asyncio.gather(*(shop.pay(customer, booking["id"]) for customer, booking in everything))
    ids = [booking["id"] for _, booking in everything]
    await wait_for_states(suite, dict.fromkeys(ids, "confirmed"), "confirmed after the cut")
    expected = {
        (booking["reference"], kind)
        for _, booking in everything
        for kind in ("booking_received", "booking_confirmed")
    }
    # A cut between an SMTP server's "250 OK" and the commit that records it sends that
    # email again, with the same Message-ID.
    counted = await wait_for_mail_once(suite, expected, "every email once", allow_resends=True)
    await wait_until_quiet(suite, "no outbox row left, every event handled")
    say(
        f"while cut ({CUT_SECONDS:.0f} s): {codes}; all ready {recovered:.1f} s after the "
        f"restore; bookings answered {shop.answers('book')}; "
        f"{len(everything)} paid and confirmed after; emails sent again: {counted.resends}"
    )
