"""Idempotency-Key on POST /api/v1/bookings, and booking references (PNRs): alphabet,
uniqueness under a forced collision, and what happens when no reference is free."""

import asyncio
import itertools
import re
import uuid

import sqlalchemy as sa

from wayfare_booking.store.models import Booking, IdempotencyKey

from booking_support import adult, booking_body, flight_item, running_booking

PNR = re.compile(r"^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$")


async def bookings_in(booking) -> list[Booking]:
    async with booking.database.sessions() as session:
        return list((await session.execute(sa.select(Booking))).scalars())


async def test_the_key_is_required(booking):
    ada = booking.customer()
    body = booking_body([flight_item(booking.flight.flights["domestic"])])
    for headers in (ada.headers, {**ada.headers, "Idempotency-Key": "  "}):
        response = await booking.client.post("/api/v1/bookings", json=body, headers=headers)
        assert response.status_code == 400
        assert response.json()["code"] == "idempotency_key_missing"
    assert await bookings_in(booking) == []


async def test_same_key_same_body_replays_another_body_is_refused(booking):
    ada, eve = booking.customer(), booking.customer()
    body = booking_body([flight_item(booking.flight.flights["domestic"])])
    first = await booking.book(ada, body, key="key-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    # same body, keys in another order: the same request
    again = await booking.book(ada, dict(reversed(list(body.items()))), key="key-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"

    other = await booking.book(ada, {**body, "contact": {"email": "x@example.com"}}, key="key-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    # keys belong to a customer: another one's same key is another booking
    theirs = await booking.book(eve, body, key="key-1")
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    assert len(await bookings_in(booking)) == 2
    assert len(await booking.events("booking.created")) == 2


async def test_concurrent_requests_with_one_key_make_one_booking(booking):
    ada = booking.customer()
    body = booking_body([flight_item(booking.flight.flights["domestic"])])
    responses = await asyncio.gather(*(booking.book(ada, body, key="same") for _ in range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, [r.text for r in responses]
    winners = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(winners) == 1
    for lost in (r for r in responses if r.status_code == 409):
        assert lost.json()["code"] == "request_in_progress"
    [stored] = await bookings_in(booking)
    assert str(stored.id) in winners
    assert len(await booking.events("booking.created")) == 1
    hold = await booking.flight.hold(stored.id)
    assert hold["items"][0]["seats"] == 1


async def test_a_second_request_that_cannot_wait_is_told_to_retry(
    database_url, amqp_server_url, namespace, issuer, flight
):
    async with running_booking(
        database_url, amqp_server_url, namespace, issuer, flight, idempotency_wait_seconds=0
    ) as booking:
        ada = booking.customer()
        # a claim by a request that is still running (its lock is in the future)
        async with booking.database.sessions() as session, session.begin():
            from datetime import UTC, datetime, timedelta

            from wayfare_booking.usecases.create import fingerprint

            body = booking_body([flight_item(flight.flights["domestic"])])
            from wayfare_booking.api.schemas import BookingIn

            now = datetime.now(UTC)
            session.add(
                IdempotencyKey(
                    id=uuid.uuid4(),
                    user_id=ada.id,
                    key="busy",
                    request_hash=fingerprint(
                        BookingIn.model_validate(body).model_dump(mode="json")
                    ),
                    booking_id=uuid.uuid4(),
                    payable_until=now + timedelta(minutes=15),
                    locked_until=now + timedelta(minutes=1),
                    created_at=now,
                )
            )
        response = await booking.book(ada, body, key="busy")
        assert response.status_code == 409 and response.json()["code"] == "request_in_progress"
        assert response.headers["Retry-After"] == "1"
        assert await bookings_in(booking) == []


async def test_a_claim_left_by_a_dead_request_is_taken_over_with_its_booking_id(
    database_url, amqp_server_url, namespace, issuer, flight
):
    from datetime import UTC, datetime, timedelta

    from wayfare_booking.api.schemas import BookingIn
    from wayfare_booking.usecases.create import fingerprint

    async with running_booking(database_url, amqp_server_url, namespace, issuer, flight) as booking:
        ada = booking.customer()
        body = booking_body([flight_item(flight.flights["domestic"])])
        booking_id = uuid.uuid4()
        now = datetime.now(UTC)
        async with booking.database.sessions() as session, session.begin():
            session.add(
                IdempotencyKey(
                    id=uuid.uuid4(),
                    user_id=ada.id,
                    key="orphan",
                    request_hash=fingerprint(
                        BookingIn.model_validate(body).model_dump(mode="json")
                    ),
                    booking_id=booking_id,
                    payable_until=now + timedelta(minutes=15),
                    locked_until=now - timedelta(seconds=1),  # its process died
                    created_at=now,
                )
            )
        response = await booking.book(ada, body, key="orphan")
        assert response.status_code == 201, response.text
        assert response.json()["id"] == str(booking_id)  # the hold flight may already have


async def test_references_use_the_alphabet_and_collisions_are_retried(
    database_url, amqp_server_url, namespace, issuer, flight
):
    repeating = iter(["K7MX4P", "K7MX4P", "K7MX4P", "Q2W3ER"])
    async with running_booking(
        database_url, amqp_server_url, namespace, issuer, flight, references=lambda: next(repeating)
    ) as booking:
        ada = booking.customer()
        body = booking_body([flight_item(flight.flights["domestic"])])
        first = await booking.booked(ada, body)
        second = await booking.booked(ada, body)
        assert (first["reference"], second["reference"]) == ("K7MX4P", "Q2W3ER")
        assert len(second["passengers"]) == 1  # the retry kept the passengers
        [event] = await booking.events("booking.created", second["id"])
        assert event["reference"] == "Q2W3ER"


async def test_when_no_reference_is_free_nothing_is_stored_and_the_hold_is_released(
    database_url, amqp_server_url, namespace, issuer, flight
):
    async with running_booking(
        database_url,
        amqp_server_url,
        namespace,
        issuer,
        flight,
        references=itertools.repeat("K7MX4P").__next__,
    ) as booking:
        ada = booking.customer()
        body = booking_body([flight_item(flight.flights["domestic"])])
        await booking.booked(ada, body)
        response = await booking.book(ada, body)
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "reference_unavailable"
        assert len(await bookings_in(booking)) == 1
        assert len(await booking.events("booking.created")) == 1
        async with booking.database.sessions() as session:
            held = await session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey))
        assert held == 1  # the failed request's key was let go
        assert await flight.hold_statuses_of(ada.id) == ["held", "released"]


async def test_generated_references_are_six_unambiguous_characters(booking):
    ada = booking.customer()
    body = booking_body([flight_item(booking.flight.flights["domestic"])], passengers=[adult()])
    created = [await booking.booked(ada, body) for _ in range(3)]
    for entry in created:
        assert PNR.match(entry["reference"])
    assert len({entry["reference"] for entry in created}) == 3
