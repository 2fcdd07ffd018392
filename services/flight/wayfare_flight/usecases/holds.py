"""Placing, releasing, selling and expiring seat holds (docs/flight-internal-api.md)."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.events.catalog import HoldExpired
from wayfare_common.money import Money
from wayfare_common.problems import Conflict, NotFound, Problem
from wayfare_flight.domain.aircraft import CabinLayout
from wayfare_flight.domain.fares import Party
from wayfare_flight.domain.holds import HoldRuleBroken, check_seat_choice
from wayfare_flight.domain.offers import InvalidOffer, OfferKey
from wayfare_flight.domain.search import DEPARTS, build_offers, offer_json
from wayfare_flight.store import flights as flight_store
from wayfare_flight.store import holds as store
from wayfare_flight.store import packages as package_store

log = structlog.get_logger("wayfare.flight.holds")


@dataclass
class FlightRequest:
    offer_id: str
    party: Party
    seat_numbers: dict[uuid.UUID, list[str]] = field(default_factory=dict)


@dataclass
class PackageRequest:
    package_id: uuid.UUID
    departure_id: uuid.UUID
    seats: int


async def reprice(session: AsyncSession, offer_id: str, party: Party, now: datetime) -> dict:
    """An offer as it stands now, for `party`: segments, price, conditions, seats.
    404 when it is not (or no longer) an offer, 409 when too few seats are left."""
    try:
        key = OfferKey.decode(offer_id)
    except InvalidOffer:
        raise NotFound("This is not an offer id.", code="offer_not_found") from None
    legs = await flight_store.offer_legs(session, key.flight_ids, key.cabin)
    if legs is None or any(leg.status != "scheduled" or leg.departure_at <= now for leg in legs):
        raise NotFound("This offer is no longer available.", code="offer_not_found")
    row = tuple(leg[:10] for leg in legs)
    flat = row[0] + (row[1] if len(row) > 1 else (None,) * 10)
    offer = next(o for o in build_offers([flat], key.cabin, party) if o.fare.name == key.fare)
    if offer.seats_available < party.seated:
        short = next(leg for leg in legs if leg.seats_available < party.seated)
        raise Conflict(
            f"Only {offer.seats_available} seat(s) left in {key.cabin}.",
            code="seats_unavailable",
            flight_id=str(short.id),
            seats_available=offer.seats_available,
        )
    body = offer_json(offer, party)
    body["flight_ids"] = [str(flight_id) for flight_id in key.flight_ids]
    body["passengers"] = {
        "adults": party.adults,
        "children": party.children,
        "infants": party.infants,
    }
    body["departs_minute"] = offer.legs[0][DEPARTS]
    return body


async def _flight_item(session, request: FlightRequest, now: datetime):
    body = await reprice(session, request.offer_id, request.party, now)
    key = OfferKey.decode(request.offer_id)
    lines = []
    unknown = set(request.seat_numbers) - set(key.flight_ids)
    if unknown:
        raise _invalid("seat_numbers", "seats are chosen for a flight that is not in the offer")
    for flight_id in key.flight_ids:
        chosen: tuple[str, ...] = ()
        if flight_id in request.seat_numbers:
            cabins = await flight_store.cabins_of(session, flight_id)
            layout = next(
                CabinLayout(c.cabin, c.first_row, c.last_row, c.seat_letters)
                for c in cabins
                if c.cabin == key.cabin
            )
            try:
                chosen = tuple(
                    check_seat_choice(request.seat_numbers[flight_id], request.party.seated, layout)
                )
            except HoldRuleBroken as err:
                raise _invalid(err.field, str(err)) from None
        lines.append(
            store.Line(
                seats=request.party.seated,
                flight_id=flight_id,
                cabin=key.cabin,
                seat_numbers=chosen,
            )
        )
    item = {
        "type": "flight",
        "offer_id": request.offer_id,
        "flight_ids": body["flight_ids"],
        "cabin": key.cabin,
        "fare": body["fare"],
        "seats": request.party.seated,
        "passengers": body["passengers"],
        "seat_numbers": {
            str(f): list(line.seat_numbers)
            for f, line in zip(key.flight_ids, lines, strict=True)
            if line.seat_numbers
        },
        "segments": body["segments"],
        "price": body["price"],
    }
    return item, lines


async def _package_item(session, request: PackageRequest, today):
    package = await package_store.get_package(session, request.package_id)
    if package is None or package.status != "active":
        raise NotFound("This package is not on sale.", code="package_not_found")
    departures = await package_store.departures_of(session, [package.id])
    departure = next((d for d in departures[package.id] if d.id == request.departure_id), None)
    if departure is None or departure.starts_on <= today:
        raise NotFound("This departure is not on sale.", code="departure_not_found")
    item = {
        "type": "package",
        "package_id": str(package.id),
        "departure_id": str(departure.id),
        "vendor_id": str(package.vendor_id),
        "starts_on": departure.starts_on.isoformat(),
        "seats": request.seats,
        "price": Money(package.price_per_person * request.seats, package.currency).to_json(),
    }
    return item, [store.Line(seats=request.seats, departure_id=departure.id)]


def _invalid(field_name: str, message: str) -> Problem:
    return Problem(
        "The request is not valid.",
        status=422,
        code="validation_error",
        errors=[{"field": f"body.{field_name}", "message": message, "type": "value_error"}],
    )


def _repeat(existing, fingerprint: str) -> tuple[int, dict]:
    if existing.status in ("released", "expired"):
        raise Conflict(
            f"The hold of this booking was {existing.status}; it cannot be placed again.",
            code="hold_closed",
            status_of_hold=existing.status,
        )
    if existing.fingerprint != fingerprint:
        raise Conflict(
            "This booking id already has a hold for other items.", code="booking_id_reused"
        )
    return 200, {**existing.response, "status": existing.status}


async def place_hold(
    session: AsyncSession,
    *,
    booking_id: uuid.UUID,
    user_id: uuid.UUID | None,
    items: list[FlightRequest | PackageRequest],
    expires_at: datetime,
    fingerprint: str,
    cap: int,
    now: datetime | None = None,
) -> tuple[int, dict]:
    """(status, body): 201 for a new hold, 200 for a repeat of one. All or nothing: a
    Problem raised here rolls back everything the transaction took."""
    now = now or datetime.now(UTC)
    today = now.date()
    existing = await store.find(session, booking_id)
    if existing is not None:
        return _repeat(existing, fingerprint)

    priced, lines = [], []
    for request in items:
        if isinstance(request, FlightRequest):
            item, item_lines = await _flight_item(session, request, now)
        else:
            item, item_lines = await _package_item(session, request, today)
        priced.append(item)
        lines.extend(item_lines)
    seats = sum(line.seats for line in lines)
    hold_id = uuid.uuid4()
    currencies = {item["price"]["currency"] for item in priced}
    total = None
    if len(currencies) == 1:
        total = sum(
            (Money.of(i["price"]["amount"], i["price"]["currency"]) for i in priced),
            Money.zero(currencies.pop()),
        ).to_json()
    body = {
        "id": str(hold_id),
        "booking_id": str(booking_id),
        "status": "held",
        "expires_at": expires_at.isoformat(),
        "items": priced,
        "price": total,
    }
    inserted = await store.insert(
        session,
        id=hold_id,
        booking_id=booking_id,
        user_id=user_id,
        status="held",
        seats=seats,
        fingerprint=fingerprint,
        response=body,
        expires_at=expires_at,
        created_at=now,
        updated_at=now,
    )
    if not inserted:  # the same booking id, committed by a concurrent request
        return _repeat(await store.find(session, booking_id), fingerprint)

    if user_id is not None and not await store.count_against_cap(session, user_id, seats, cap):
        held = await store.held_seats_of(session, user_id)
        raise Conflict(
            f"A customer can hold at most {cap} seats at once ({held} held now).",
            code="hold_limit_reached",
            limit=cap,
        )
    for line in sorted(lines, key=lambda line: line.lock_order):
        if not await store.take(session, line, now, today):
            target = (
                {"flight_id": str(line.flight_id)}
                if line.flight_id
                else {"departure_id": str(line.departure_id)}
            )
            raise Conflict(
                "Not enough seats are left for this hold; nothing was held.",
                code="seats_unavailable",
                **target,
            )
        if not await store.assign_seats(session, hold_id, line):
            raise Conflict(
                "A chosen seat is already taken; nothing was held.",
                code="seat_taken",
                flight_id=str(line.flight_id),
            )
    await store.record_lines(session, hold_id, lines)
    log.info("hold_placed", booking_id=str(booking_id), seats=seats)
    return 201, body


async def _tombstone(session: AsyncSession, booking_id: uuid.UUID, now: datetime) -> None:
    """Remember that this booking's seats must not be held any more, so that a hold
    request arriving late (after the release or cancellation) is refused."""
    await store.insert(
        session,
        id=uuid.uuid4(),
        booking_id=booking_id,
        user_id=None,
        status="released",
        seats=0,
        fingerprint="",
        response={},
        expires_at=now,
        created_at=now,
        updated_at=now,
    )


async def release(
    session: AsyncSession, booking_id: uuid.UUID, *, include_sold: bool, now: datetime | None = None
) -> str:
    """Give the booking's seats back. Idempotent; returns what happened."""
    now = now or datetime.now(UTC)
    hold = await store.transition(session, booking_id, "held", "released", now)
    if hold is not None:
        await store.give_back(session, hold.id)
        await store.uncount(session, hold.user_id, hold.seats)
        return "released"
    if include_sold:
        hold = await store.transition(session, booking_id, "sold", "released", now)
        if hold is not None:
            await store.give_back(session, hold.id)
            return "released"
    existing = await store.find(session, booking_id)
    if existing is None:
        await _tombstone(session, booking_id, now)
        return "released"
    return existing.status  # released or expired already, or sold (include_sold=False)


async def sell(session: AsyncSession, booking_id: uuid.UUID, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    hold = await store.transition(session, booking_id, "held", "sold", now)
    if hold is not None:
        await store.uncount(session, hold.user_id, hold.seats)
        return "sold"
    existing = await store.find(session, booking_id)
    if existing is None:
        log.warning("confirmed_without_hold", booking_id=str(booking_id))
        return "unknown"
    if existing.status != "sold":
        # Released or expired first (the events crossed): the seats went back on sale
        # and are not taken again; booking refunds a payment for an expired hold.
        log.warning("confirmed_after_release", booking_id=str(booking_id), status=existing.status)
    return existing.status


async def expire_due(
    session: AsyncSession, emit, now: datetime | None = None, limit: int = 100
) -> int:
    """Expire holds past their time, give their seats back and emit flight.hold_expired
    for each flight or departure they held. Returns how many holds expired."""
    now = now or datetime.now(UTC)
    expired = 0
    for due in await store.due_for_expiry(session, now, limit):
        hold = await store.transition(session, due.booking_id, "held", "expired", now)
        if hold is None:
            continue
        for line in await store.give_back(session, hold.id):
            emit(
                HoldExpired(
                    hold_id=hold.id,
                    booking_id=due.booking_id,
                    flight_id=line.flight_id,
                    departure_id=line.departure_id,
                    seats=line.seats,
                )
            )
        await store.uncount(session, hold.user_id, hold.seats)
        expired += 1
    return expired
