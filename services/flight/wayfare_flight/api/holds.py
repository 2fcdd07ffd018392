"""Routes the booking service calls (never routed by the gateway): re-price an offer,
hold seats for a booking, release them. The contract: docs/flight-internal-api.md."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from wayfare_common.api import SessionDep
from wayfare_common.problems import Conflict, Forbidden, NotFound
from wayfare_common.security import Principal, PrincipalDep
from wayfare_flight.api.errors import invalid
from wayfare_flight.api.schemas import HoldIn
from wayfare_flight.domain.fares import Party
from wayfare_flight.domain.holds import HoldRuleBroken, expiry, fingerprint
from wayfare_flight.domain.offers import InvalidOffer, OfferKey
from wayfare_flight.store import holds as hold_store
from wayfare_flight.usecases import holds as usecases

router = APIRouter(prefix="/internal", tags=["internal"])


def _user_uuid(principal: Principal) -> uuid.UUID:
    try:
        return uuid.UUID(principal.user_id)
    except ValueError:  # a subject that is not a UUID still gets its own cap
        return uuid.uuid5(uuid.NAMESPACE_URL, f"wayfare:user:{principal.user_id}")


def _party(adults: int, children: int, infants: int, prefix: str) -> Party:
    party = Party(adults, children, infants)
    if problems := party.problems():
        raise invalid([(f"{prefix}.{field}", message) for field, message in problems])
    return party


OFFER_NOT_FOUND = {
    404: {"description": "Not an offer id, or a flight of it is gone (`offer_not_found`)"}
}


@router.get(
    "/offers/{offer_id}",
    summary="Re-price an offer for a party, with seats left",
    responses={
        **OFFER_NOT_FOUND,
        409: {"description": "Fewer free seats than the party needs (`seats_unavailable`)"},
    },
)
async def reprice_offer(
    offer_id: str,
    session: SessionDep,
    _principal: PrincipalDep,
    adults: Annotated[int, Query(ge=0, le=9)] = 1,
    children: Annotated[int, Query(ge=0, le=9)] = 0,
    infants: Annotated[int, Query(ge=0, le=9)] = 0,
) -> dict:
    party = _party(adults, children, infants, "query")
    body = await usecases.reprice(session, offer_id, party, datetime.now(UTC))
    body.pop("departs_minute", None)
    return body


@router.post(
    "/holds",
    status_code=201,
    summary="Hold seats for a booking (idempotent per booking_id, all or nothing)",
    responses={
        200: {"description": "A repeat of a hold already placed for this booking id"},
        403: {"description": "A customer naming another `user_id`"},
        404: {
            "description": "`offer_not_found`, `package_not_found` or `departure_not_found`: "
            "gone, retired or in the past"
        },
        409: {
            "description": "seats_unavailable, seat_taken, hold_limit_reached, hold_closed, booking_id_reused"
        },
    },
)
async def place_hold(
    body: HoldIn, request: Request, principal: PrincipalDep, session: SessionDep
) -> JSONResponse:
    settings = request.app.state.settings
    user_id = _user_uuid(principal)
    if body.user_id is not None and body.user_id != user_id:
        if principal.role != "admin":
            raise Forbidden("Only staff may hold seats for someone else.")
        user_id = body.user_id
    now = datetime.now(UTC)
    try:
        expires_at = expiry(
            now,
            expires_at=body.expires_at,
            ttl_seconds=body.ttl_seconds,
            default_ttl=settings.hold_ttl_seconds,
            max_ttl=settings.hold_max_ttl_seconds,
        )
    except HoldRuleBroken as err:
        raise invalid([(f"body.{err.field}", str(err))]) from None

    items: list = []
    for index, item in enumerate(body.items):
        if item.type == "package":
            items.append(usecases.PackageRequest(item.package_id, item.departure_id, item.seats))
            continue
        passengers = item.passengers
        party = _party(
            passengers.adults if passengers else item.seats,
            passengers.children if passengers else 0,
            passengers.infants if passengers else 0,
            f"body.items.{index}.passengers",
        )
        seat_numbers = item.seat_numbers or {}
        if isinstance(seat_numbers, list):
            try:
                flight_ids = OfferKey.decode(item.offer_id).flight_ids
            except InvalidOffer:
                raise NotFound("This is not an offer id.", code="offer_not_found") from None
            if len(flight_ids) != 1:
                raise invalid(
                    [
                        (
                            f"body.items.{index}.seat_numbers",
                            "for a connection, give seats per flight id",
                        )
                    ]
                )
            seat_numbers = {flight_ids[0]: seat_numbers}
        items.append(usecases.FlightRequest(item.offer_id, party, seat_numbers))

    async with session.begin():
        status, response = await usecases.place_hold(
            session,
            booking_id=body.booking_id,
            user_id=user_id,
            items=items,
            expires_at=expires_at,
            fingerprint=fingerprint(body.model_dump(mode="json", exclude={"user_id"})),
            cap=settings.max_seats_held_per_customer,
            now=now,
        )
    return JSONResponse(response, status_code=status)


def _not_theirs(hold, principal: Principal) -> bool:
    """A hold is its customer's (and staff's): to anyone else it does not exist (DESIGN
    §6: a service checks ownership itself, whoever routes the request)."""
    return principal.role != "admin" and hold.user_id != _user_uuid(principal)


@router.get(
    "/holds/{booking_id}",
    summary="The hold of a booking, with its current status",
    responses={404: {"description": "This booking has no hold (`hold_not_found`)"}},
)
async def get_hold(booking_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> dict:
    hold = await hold_store.find(session, booking_id)
    if hold is None or not hold.response or _not_theirs(hold, principal):
        raise NotFound("This booking has no hold.", code="hold_not_found")
    return {**hold.response, "status": hold.status}


@router.delete(
    "/holds/{booking_id}",
    summary="Release a booking's held seats (idempotent)",
    responses={
        404: {"description": "Another customer's hold (`hold_not_found`)"},
        409: {"description": "The seats are sold (`hold_sold`)"},
    },
)
async def release_hold(booking_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> dict:
    async with session.begin():
        hold = await hold_store.find(session, booking_id)
        if hold is not None and _not_theirs(hold, principal):
            raise NotFound("This booking has no hold.", code="hold_not_found")
        status = await usecases.release(session, booking_id, include_sold=False)
    if status == "sold":
        raise Conflict(
            "These seats are sold: cancel the booking to release them.", code="hold_sold"
        )
    return {"booking_id": str(booking_id), "status": status}
