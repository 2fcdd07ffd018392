"""Quoting and creating bookings (DESIGN §7 step 2): price the items at the flight
service, add fees and the coupon, hold the seats, and only then store the booking as
`pending_payment` with booking.created, in one transaction with the idempotency answer.
No hold, no booking; a booking that cannot be stored gives its hold back."""

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import structlog

from wayfare_booking.api.schemas import BookingIn, FlightItemIn, QuoteIn
from wayfare_booking.clients.flight import Caller, FlightClient
from wayfare_booking.domain import passengers as rules
from wayfare_booking.domain.coupons import static_problem
from wayfare_booking.domain.pricing import PriceBreakdown, PricedItem, PricingError, price
from wayfare_booking.domain.references import ReferenceGenerator
from wayfare_booking.events.payloads import event_item, passenger_names
from wayfare_booking.settings import Settings
from wayfare_booking.store import bookings as booking_store
from wayfare_booking.store import coupons as coupon_store
from wayfare_booking.store import idempotency
from wayfare_booking.store.models import Booking, Passenger
from wayfare_booking.usecases.items import ItemFacts, check_together, invalid, look_up
from wayfare_common.db import Database
from wayfare_common.events import catalog
from wayfare_common.events.catalog import BookingCreated
from wayfare_common.events.envelope import EventContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_common.money import Money
from wayfare_common.problems import Conflict, Problem

log = structlog.get_logger("wayfare.booking.create")


@dataclass
class Services:
    """What creating a booking needs from the running app."""

    settings: Settings
    database: Database
    outbox: Outbox
    flight: FlightClient
    new_reference: ReferenceGenerator


def fingerprint(body: dict[str, Any]) -> str:
    """The same request, whatever the key order or spacing."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def coupon_not_applicable(code: str, reason: str) -> Problem:
    return Problem(
        f"Coupon {code} cannot be used for this booking ({reason}).",
        status=422,
        code="coupon_not_applicable",
        reason=reason,
    )


def price_json(breakdown: PriceBreakdown) -> dict[str, Any]:
    return {
        "base": breakdown.base.to_json(),
        "fees": breakdown.fees.to_json(),
        "discount": breakdown.discount.to_json(),
        "total": breakdown.total.to_json(),
        "fee_lines": [
            {"name": name, "amount": amount.to_json()} for name, amount in breakdown.fee_lines
        ],
    }


async def quote(services: Services, body: QuoteIn, user_id: uuid.UUID, caller: Caller) -> dict:
    party = rules.Party(body.party.adults, body.party.children, body.party.infants)
    try:
        party.check()
    except rules.PassengerRuleBroken as err:
        raise invalid(err.field, str(err)) from None
    facts = await look_up(services.flight, body.items, party, caller)
    check_together(facts)
    terms = usage = None
    async with services.database.sessions() as session:
        if body.coupon_code:
            coupon = await coupon_store.by_code(session, body.coupon_code)
            if coupon is None:
                raise coupon_not_applicable(body.coupon_code, "not_found")
            terms = coupon_store.terms(coupon)
            usage = await coupon_store.usage(session, coupon.id, user_id)
    breakdown = _price(services, [f.priced() for f in facts], party.size, terms, usage)
    return {
        "items": [
            {**fact.detail, "price": fact.price.to_json(), "discount": share.to_json()}
            for fact, share in zip(facts, breakdown.item_discounts, strict=True)
        ],
        "party": party.as_dict(),
        "price": price_json(breakdown),
        "coupon": None if breakdown.coupon is None else asdict(breakdown.coupon),
    }


def _price(services, items: list[PricedItem], passengers: int, terms, usage) -> PriceBreakdown:
    try:
        return price(
            items, passengers, services.settings.fee_rule_list(), terms, usage, datetime.now(UTC)
        )
    except PricingError as err:
        raise invalid("items", str(err), err.code) from None


@dataclass
class Prepared:
    """A request checked against the flight service's facts, ready to be held."""

    facts: list[ItemFacts]
    types: list[rules.PassengerType]
    party: rules.Party
    international: bool


async def prepare(services: Services, body: BookingIn, caller: Caller) -> Prepared:
    # Dates first (the party only changes the price): passenger types depend on them.
    facts = await look_up(services.flight, body.items, rules.Party(1), caller)
    check_together(facts)
    first = min(facts, key=lambda fact: fact.starts_at)
    last_day = max(fact.ends_at for fact in facts).date()
    try:
        types = rules.classify(
            [p.birth_date for p in body.passengers],
            [p.type for p in body.passengers],
            first.travel_date,
        )
        party = rules.party_of(types)
        party.check()
    except rules.PassengerRuleBroken as err:
        raise invalid(err.field, str(err)) from None
    international = rules.is_international([pair for f in facts for pair in f.country_pairs])
    if international:
        for index, passenger in enumerate(body.passengers):
            if passenger.passport is None:
                raise invalid(
                    f"passengers.{index}.passport",
                    "an international trip needs passport details",
                    "passport_required",
                )
            if passenger.passport.expires_on <= last_day:
                raise invalid(
                    f"passengers.{index}.passport.expires_on",
                    "the passport expires before the trip ends",
                )
    return Prepared(facts, types, party, international)


def hold_request(
    booking_id: uuid.UUID, body: BookingIn, party: rules.Party, expires_at: datetime
) -> dict:
    items = []
    for item in body.items:
        if isinstance(item, FlightItemIn):
            items.append(
                {"type": "flight", "offer_id": item.offer_id, "passengers": party.as_dict()}
            )
        else:
            items.append(
                {
                    "type": "package",
                    "package_id": str(item.package_id),
                    "departure_id": str(item.departure_id),
                    "seats": party.size,
                }
            )
    return {"booking_id": str(booking_id), "items": items, "expires_at": expires_at.isoformat()}


def held_items(prepared: Prepared, hold: dict) -> list[dict[str, Any]]:
    """The stored items: what we learnt of each, with what flight held and its price."""
    stored = []
    for fact, held in zip(prepared.facts, hold["items"], strict=True):
        item = {**fact.detail, "seats": held["seats"], "price": held["price"]}
        if held["type"] == "flight":
            item.update(
                flight_ids=held["flight_ids"], passengers=held["passengers"], fare=held["fare"]
            )
        stored.append(item)
    return stored


async def create(
    services: Services,
    body: BookingIn,
    *,
    user_id: uuid.UUID,
    key: str,
    caller: Caller,
    context: EventContext,
    render: Callable[[Booking], dict],
) -> tuple[int, dict, bool]:
    """(status, body, replayed). Same key and body: the first answer again."""
    settings = services.settings
    payable_until = datetime.now(UTC) + timedelta(minutes=settings.payment_window_minutes)
    try:
        claim = await idempotency.claim(
            services.database,
            user_id,
            key,
            fingerprint(body.model_dump(mode="json")),
            payable_until=payable_until,
            lock_seconds=settings.idempotency_lock_seconds,
            wait_seconds=settings.idempotency_wait_seconds,
        )
    except idempotency.KeyReused:
        raise Problem(
            "This Idempotency-Key was used with another request; use a new key.",
            status=422,
            code="idempotency_key_reused",
        ) from None
    except idempotency.KeyBusy:
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            code="request_in_progress",
            headers={"Retry-After": "1"},
        ) from None
    if claim.response is not None:
        return *claim.response, True
    try:
        status, answer = await _create(services, body, claim, user_id, caller, context, render)
    except Exception:
        # Nothing was stored: the key may be used again. (A cancelled request keeps its
        # claim until the lock runs out; a retry then takes over with the same hold.)
        await idempotency.forget(services.database, claim.id)
        raise
    return status, answer, False


async def _create(services, body, claim, user_id, caller, context, render) -> tuple[int, dict]:
    prepared = await prepare(services, body, caller)
    if body.coupon_code:
        await _check_coupon(services, body.coupon_code, user_id, prepared)
    grace = timedelta(seconds=2 * services.settings.payment_grace_seconds)
    hold = await services.flight.place_hold(
        hold_request(claim.booking_id, body, prepared.party, claim.payable_until + grace), caller
    )
    try:
        return await _store(services, body, claim, user_id, prepared, hold, context, render)
    except Exception:
        # A concurrent takeover of this key may have stored the booking: its hold stays.
        if (answer := await idempotency.stored_answer(services.database, claim.id)) is not None:
            return answer
        await services.flight.release_hold(claim.booking_id, caller)
        raise


async def _check_coupon(services, code: str, user_id: uuid.UUID, prepared: Prepared) -> None:
    """Refuse a coupon that cannot apply before holding seats for it; its minimum is
    checked against the held prices, and its limits again under a lock, when storing."""
    async with services.database.sessions() as session:
        coupon = await coupon_store.by_code(session, code)
        if coupon is None:
            raise coupon_not_applicable(code, "not_found")
        reason = static_problem(
            coupon_store.terms(coupon),
            await coupon_store.usage(session, coupon.id, user_id),
            now=datetime.now(UTC),
            currency=prepared.facts[0].price.currency,
            product_types={fact.type for fact in prepared.facts},
        )
    if reason is not None:
        raise coupon_not_applicable(coupon.code, reason)


async def _store(services, body, claim, user_id, prepared, hold, context, render):
    items = held_items(prepared, hold)
    priced = [PricedItem(item["type"], Money.of(**item["price"])) for item in items]
    now = datetime.now(UTC)
    async with services.database.sessions() as session, session.begin():
        coupon = terms = usage = None
        if body.coupon_code:
            coupon = await coupon_store.by_code(session, body.coupon_code, lock=True)
            if coupon is None:
                raise coupon_not_applicable(body.coupon_code, "not_found")
            terms = coupon_store.terms(coupon)
            usage = await coupon_store.usage(session, coupon.id, user_id)
        breakdown = _price(services, priced, prepared.party.size, terms, usage)
        if breakdown.coupon is not None and not breakdown.coupon.applied:
            raise coupon_not_applicable(terms.code, breakdown.coupon.reason)
        for item, share in zip(items, breakdown.item_discounts, strict=True):
            item["discount"] = share.to_json()
        booking = Booking(
            id=claim.booking_id,
            user_id=user_id,
            status="pending_payment",
            contact_email=body.contact.email,
            contact_phone=body.contact.phone,
            currency=breakdown.currency,
            base_minor=breakdown.base.minor,
            fees_minor=breakdown.fees.minor,
            discount_minor=breakdown.discount.minor,
            total_minor=breakdown.total.minor,
            fee_lines=price_json(breakdown)["fee_lines"],
            coupon_code=terms.code if terms else None,
            items=items,
            international=prepared.international,
            travel_starts_at=min(f.starts_at for f in prepared.facts),
            travel_ends_at=max(f.ends_at for f in prepared.facts),
            payable_until=claim.payable_until,
            paid_minor=0,
            refunded_minor=0,
            created_at=now,
            updated_at=now,
        )
        booking.passengers = [
            _passenger(index, passenger, kind, now)
            for index, (passenger, kind) in enumerate(
                zip(body.passengers, prepared.types, strict=True)
            )
        ]
        try:
            await booking_store.insert_with_reference(session, booking, services.new_reference)
        except booking_store.NoFreeReference:
            log.error("no_free_reference", booking_id=str(booking.id))
            raise Problem(
                "No booking reference could be assigned; please try again.",
                status=503,
                code="reference_unavailable",
            ) from None
        if coupon is not None:
            coupon_store.reserve(session, coupon, booking.id, user_id, breakdown.discount, now)
        services.outbox.record(session, _created_event(booking, breakdown), context)
        answer = render(booking)
        await idempotency.complete(session, claim.id, 201, answer)
    log.info("booking_created", booking_id=str(booking.id), reference=booking.reference)
    return 201, answer


def _passenger(index: int, passenger, kind: rules.PassengerType, now: datetime) -> Passenger:
    passport = passenger.passport
    return Passenger(
        id=uuid.uuid4(),
        position=index,
        given_name=passenger.given_name,
        family_name=passenger.family_name,
        birth_date=passenger.birth_date,
        type=str(kind),
        nationality=passport.nationality if passport else None,
        document_number=passport.number if passport else None,
        document_country=passport.issuing_country if passport else None,
        document_expires_on=passport.expires_on if passport else None,
        updated_at=now,
    )


def _created_event(booking: Booking, breakdown: PriceBreakdown) -> BookingCreated:
    return BookingCreated(
        booking_id=booking.id,
        reference=booking.reference,
        user_id=booking.user_id,
        contact_email=booking.contact_email,
        items=[event_item(item) for item in booking.items],
        passenger_count=len(booking.passengers),
        amount=breakdown.total,
        payable_until=booking.payable_until,
        price=catalog.PriceBreakdown(
            base=breakdown.base,
            fees=breakdown.fees,
            discount=breakdown.discount,
            total=breakdown.total,
        ),
        coupon_code=booking.coupon_code,
        passengers=passenger_names(booking),
    )
