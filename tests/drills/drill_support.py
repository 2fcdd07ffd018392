"""What the fault drills share: the suite's settings for them, customers, offers spread
over many flights, a bounded stream of bookings and payments through the gateway, and
the end state read where an operator would read it (each service's database, the mail
that arrived).
"""

import asyncio
import re
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from suite_support import (
    ROUTES,
    Part,
    Suite,
    adult,
    bearer,
    cabin_seats,
    expect,
    new_email,
    poll,
    query,
    queued_events,
    register_verify_login,
    show,
    text_of,
    travel_date,
    unsent_outbox_rows,
)

# Services that handle events (auth handles none): each gets a second replica.
CONSUMERS = ("flight", "booking", "payment", "notification", "admin")

DRILL_ENV = {
    # Nobody's booking expires during a drill, however long an outage holds payments up.
    "BOOKING_PAYMENT_WINDOW_MINUTES": "20",
    # A few customers make many bookings; during a broker outage their seats stay held.
    "FLIGHT_MAX_SEATS_HELD_PER_CUSTOMER": "1000",
    # The gateway's per-user limit has tests of its own; here it would throttle the stream.
    "GATEWAY_USER_RATE": "100000/minute",
    # A killed notification replica's claimed emails are taken over after 12 s, not 300.
    "NOTIFICATION_SMTP_TIMEOUT": "5",
    "NOTIFICATION_SMS_TIMEOUT": "5",
    "NOTIFICATION_DELIVERY_LEASE": "12",
    # Eleven service processes share one PostgreSQL (max_connections 100 here, and other
    # tests use it too): at most 5 pooled connections each, 2 for flight's search.
    "DATABASE_POOL_SIZE": "3",
    "DATABASE_MAX_OVERFLOW": "2",
    "FLIGHT_SEARCH_POOL_SIZE": "2",
    "MESSAGING_PREFETCH": "8",
}

CONCURRENCY = 8  # requests in flight at once through the gateway
SETTLE_TIMEOUT = 120.0  # for a stream's effects to reach every service after it ends


@dataclass
class Customer:
    user: dict
    tokens: dict
    email: str

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.tokens)


async def sign_up(client: httpx.AsyncClient, suite: Suite, label: str, count: int) -> list:
    """`count` verified, signed-in customers."""

    async def one(index: int) -> Customer:
        email = new_email(f"{label}{index}")
        user, tokens = await register_verify_login(client, suite.smtp, email, f"Drill {label}")
        return Customer(user, tokens, email)

    return list(await asyncio.gather(*(one(index) for index in range(count))))


async def offers_on_many_flights(client: httpx.AsyncClient, count: int) -> list[dict]:
    """One direct offer on each of `count` flights (two days, several routes), so that a
    stream of bookings runs short of seats nowhere. Both days are more than 24 h away,
    where the refund policy applies in full."""
    offers: dict[str, dict] = {}
    for days_ahead in (2, 3):
        for origin, destination in ROUTES:
            page = expect(
                await client.get(
                    "/api/v1/flights/search",
                    params={
                        "origin": origin,
                        "destination": destination,
                        "date": travel_date(days_ahead).isoformat(),
                        "adults": 1,
                        "max_stops": 0,
                        "limit": 100,
                    },
                ),
                200,
                "search flights",
            )
            for offer in page["data"]:
                flight_id = offer["segments"][0]["flight_id"]
                if offer["stops"] == 0 and offer["seats_available"] >= 40:
                    offers.setdefault(flight_id, offer)
    if len(offers) < count:
        pytest.fail(f"[offers] {count} flights with 40 seats wanted, found {len(offers)}")
    return list(offers.values())[:count]


@dataclass
class Shop:
    """Customers booking and paying through the gateway, at most `concurrency` requests
    in flight at once; waits between retries hold no slot."""

    client: httpx.AsyncClient
    concurrency: int = CONCURRENCY
    created: int = 0
    paid: int = 0
    statuses: Counter = field(default_factory=Counter)  # (step, status) of every answer

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.concurrency)

    async def request(self, step: str, method: str, path: str, **kwargs) -> httpx.Response:
        """One request; no answer within the client's timeout fails the drill (a hang)."""
        async with self._slots:
            try:
                response = await self.client.request(method, path, **kwargs)
            except httpx.TimeoutException as error:
                pytest.fail(f"[{step}] {method} {path}: no answer in time (a hang): {error!r}")
        self.statuses[step, response.status_code] += 1
        return response

    def answers(self, step: str) -> dict[int, int]:
        """How often each status answered `step` so far."""
        return {status: n for (seen, status), n in self.statuses.items() if seen == step}

    async def try_book(self, customer: Customer, offer: dict, **kwargs) -> httpx.Response:
        body = {
            "items": [{"type": "flight", "offer_id": offer["id"]}],
            "passengers": [adult("Dee", "Drill", "1980-02-29")],
            "contact": {"email": customer.email},
        }
        headers = {**customer.auth, "Idempotency-Key": str(uuid.uuid4())}
        return await self.request(
            "book", "POST", "/api/v1/bookings", json=body, headers=headers, **kwargs
        )

    async def book(self, customer: Customer, offer: dict) -> dict:
        booking = expect(await self.try_book(customer, offer), 201, "book")
        self.created += 1
        return booking

    async def pay(
        self, customer: Customer, booking_id: str, method: str = "pm_card_visa", timeout=120.0
    ) -> dict:
        """POST /payments as a checkout page would: while payment has not heard of the
        booking yet (409 + Retry-After), wait as told and try again with the same key."""
        key = str(uuid.uuid4())
        deadline = time.monotonic() + timeout
        while True:
            response = await self.request(
                "pay",
                "POST",
                "/api/v1/payments",
                json={"booking_id": booking_id, "payment_method": method},
                headers={**customer.auth, "Idempotency-Key": key},
            )
            if response.status_code != 409 or "retry-after" not in response.headers:
                payment = expect(response, 200, "pay")
                if payment["status"] == "succeeded":
                    self.paid += 1
                return payment
            if time.monotonic() > deadline:
                pytest.fail(f"[pay] still 409 after {timeout:.0f} s: {show(response)}")
            await asyncio.sleep(min(float(response.headers["retry-after"]), 1.0))

    async def book_and_pay(self, customer: Customer, offer: dict) -> dict:
        booking = await self.book(customer, offer)
        payment = await self.pay(customer, booking["id"])
        assert payment["status"] == "succeeded", f"[pay] {payment}"
        return booking


async def stream(
    shop: Shop, customers: list[Customer], offers: list[dict], count: int, per_second: float
) -> list[dict]:
    """`count` bookings, each paid, spread over the customers and flights, one started
    every 1/`per_second` s whatever became of the earlier ones (as customers arrive);
    `shop` bounds the requests in flight. Returns the bookings."""
    started = []
    for i in range(count):
        customer, offer = customers[i % len(customers)], offers[i % len(offers)]
        started.append(asyncio.ensure_future(shop.book_and_pay(customer, offer)))
        await asyncio.sleep(1 / per_second)
    try:
        return list(await asyncio.gather(*started))
    finally:
        for task in started:
            task.cancel()


async def wait_until_paid(shop: Shop, count: int, traffic: asyncio.Task, timeout=90.0) -> None:
    """Until the stream running as `traffic` has had `count` bookings paid."""

    async def reached() -> bool:
        if traffic.done():
            traffic.result()  # what went wrong, if anything
            pytest.fail(f"[stream] ended with {shop.paid} bookings paid, before {count}")
        return shop.paid >= count

    await poll(reached, step=f"{count} bookings paid", timeout=timeout, interval=0.1)


# --- the end state, where an operator would look ---------------------------------------


async def bookings_by_id(suite: Suite, ids: Iterable[str]) -> dict[str, dict]:
    rows = await query(
        suite,
        "booking",
        "SELECT id::text, reference, status, total_minor, paid_minor, refunded_minor"
        " FROM bookings WHERE id = ANY($1::uuid[])",
        [uuid.UUID(i) for i in ids],
    )
    return {row["id"]: dict(row) for row in rows}


async def wait_for_states(
    suite: Suite, expected: dict[str, str], step: str, timeout: float = SETTLE_TIMEOUT
) -> dict[str, dict]:
    """Until every booking (id -> status) is in its expected state, in booking's
    database; fails with how many are not, and some of them."""
    seen: dict[str, dict] = {}

    async def reached() -> bool:
        seen.update(await bookings_by_id(suite, expected))
        return all(seen.get(i, {}).get("status") == status for i, status in expected.items())

    def wrong() -> str:
        off = {
            i: seen.get(i, {}).get("status")
            for i, s in expected.items()
            if seen.get(i, {}).get("status") != s
        }
        return f"{len(off)} of {len(expected)} not as expected, e.g. {list(off.items())[:5]}"

    await poll(reached, step=step, timeout=timeout, interval=0.5, last=wrong)
    return seen


async def wait_until_quiet(suite: Suite, step: str, timeout: float = 60.0) -> None:
    """Until every event has been sent and handled: no outbox row unsent, no message
    waiting in any queue, and no inbox still growing. A dead letter fails the drill: an
    event that no replica could handle."""
    seen: dict[str, dict] = {}

    async def quiet() -> bool:
        outboxes = await unsent_outbox_rows(suite)
        queues = await queued_events(suite)
        inboxes = {
            service: (await query(suite, service, "SELECT count(*) AS n FROM inbox"))[0]["n"]
            for service in queues
        }
        dead = {service: counts["dead"] for service, counts in queues.items() if counts["dead"]}
        assert not dead, f"[{step}] events in the dead-letter queues: {dead}"
        settled = (
            not any(outboxes.values())
            and not any(counts["waiting"] for counts in queues.values())
            and inboxes == seen.get("inboxes")
        )
        seen.update(outboxes=outboxes, queues=queues, inboxes=inboxes)
        return settled

    await poll(
        quiet,
        step=step,
        timeout=timeout,
        interval=1.0,
        last=lambda: f"unsent {seen.get('outboxes')}, queued {seen.get('queues')}",
    )


REFERENCE = re.compile(r"\b[A-HJ-NP-Z2-9]{6}\b")


def booking_mail(
    messages: Iterable[EmailMessage], references: set[str]
) -> dict[tuple[str, str], list[str]]:
    """(reference, kind) -> the Message-IDs of every copy that arrived, for the mail
    about the given bookings (kind is the X-Wayfare-Kind header: booking_received,
    booking_confirmed, payment_failed, booking_cancelled, refund_done ...)."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for message in messages:
        # Most subjects name the booking; the refund's names it in the text.
        named = {ref for ref in REFERENCE.findall(str(message["Subject"])) if ref in references}
        if not named:
            named = {ref for ref in REFERENCE.findall(text_of(message)) if ref in references}
        for reference in named:
            found[reference, str(message["X-Wayfare-Kind"])].append(str(message["Message-ID"]))
    return found


@dataclass
class MailCount:
    missing: list[tuple[str, str]]  # expected and not (yet) arrived
    duplicates: list[tuple[str, str]]  # arrived twice with different Message-IDs
    resends: int  # extra copies with the same Message-ID (the documented window)
    unexpected: list[tuple[str, str]]  # arrived and not expected


def count_mail(messages: Iterable[EmailMessage], expected: set[tuple[str, str]]) -> MailCount:
    references = {reference for reference, _ in expected}
    found = booking_mail(messages, references)
    missing = sorted(key for key in expected if key not in found)
    duplicates = sorted(key for key, ids in found.items() if len(set(ids)) > 1)
    resends = sum(len(ids) - len(set(ids)) for ids in found.values())
    unexpected = sorted(key for key in found if key not in expected)
    return MailCount(missing, duplicates, resends, unexpected)


async def wait_for_mail_once(
    suite: Suite, expected: set[tuple[str, str]], step: str, allow_resends: bool = False
) -> MailCount:
    """Until every expected (reference, kind) mail has arrived; then none may have come
    twice under two Message-IDs, none that was not expected, and (unless allowed, where
    a process was killed mid-send) no copy at all."""
    seen: dict[str, MailCount] = {}

    async def arrived() -> bool:
        seen["count"] = count_mail(list(suite.smtp.messages), expected)
        return not seen["count"].missing

    await poll(
        arrived,
        step=step,
        timeout=SETTLE_TIMEOUT,
        interval=0.5,
        last=lambda: f"{len(seen['count'].missing)} missing, e.g. {seen['count'].missing[:5]}",
    )
    counted = seen["count"]
    assert not counted.duplicates, f"[{step}] sent twice as two messages: {counted.duplicates}"
    assert not counted.unexpected, f"[{step}] mail nobody should get: {counted.unexpected}"
    if not allow_resends:
        assert counted.resends == 0, f"[{step}] {counted.resends} copies sent again"
    return counted


async def metric(part: Part, name: str, **labels: str) -> float:
    """The sum of a Prometheus counter on one process's /metrics, over the samples that
    carry the given labels."""
    async with httpx.AsyncClient(timeout=10) as http:
        text = expect(await http.get(part.url + "/metrics"), 200, f"{part.name} metrics")
    total = 0.0
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


async def payments_by_booking(suite: Suite, booking_ids: Iterable[str]) -> dict[str, list[dict]]:
    """What payment recorded for each booking: its payments, each with its charge
    attempts (by status) and refunds."""
    rows = await query(
        suite,
        "payment",
        """
        SELECT p.booking_id::text, p.status, p.amount_minor, p.captured_minor,
               p.refunded_minor,
               (SELECT array_agg(a.status ORDER BY a.created_at) FROM charge_attempts a
                 WHERE a.payment_id = p.id) AS attempts,
               (SELECT coalesce(array_agg(r.amount_minor), '{}') FROM refunds r
                 WHERE r.payment_id = p.id) AS refunds
        FROM payments p WHERE p.booking_id = ANY($1::uuid[])
        """,
        [uuid.UUID(i) for i in booking_ids],
    )
    found: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        found[row["booking_id"]].append(dict(row))
    return found


async def holds_by_booking(suite: Suite, booking_ids: Iterable[str]) -> dict[str, str]:
    """The status of each booking's seat hold in the flight service (held, sold, released)."""
    rows = await query(
        suite,
        "flight",
        "SELECT booking_id::text, status FROM holds WHERE booking_id = ANY($1::uuid[])",
        [uuid.UUID(i) for i in booking_ids],
    )
    return {row["booking_id"]: row["status"] for row in rows}


async def seats_available(client: httpx.AsyncClient, offers: Iterable[dict]) -> dict[str, int]:
    """Seats on sale in each offer's flight and cabin, as anyone searching sees them."""
    seats = {}
    for offer in offers:
        flight_id = offer["segments"][0]["flight_id"]
        flight = expect(await client.get(f"/api/v1/flights/{flight_id}"), 200, "read a flight")
        seats[flight_id] = cabin_seats(flight, offer["cabin"])
    return seats
