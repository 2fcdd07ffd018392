"""One flight: details with cabins and fares, its seat map, and staff changes."""

import uuid

from fastapi import APIRouter, Request

from wayfare_common.api import EventContextDep, OutboxDep, SessionDep
from wayfare_common.money import Money
from wayfare_common.problems import NotFound
from wayfare_common.security import AdminDep
from wayfare_flight.api.schemas import FlightChange, FlightIn
from wayfare_flight.domain.airports import lookup
from wayfare_flight.domain.fares import FARE_FAMILIES
from wayfare_flight.domain.offers import OfferKey
from wayfare_flight.domain.search import airport_json, carrier_json, local_time
from wayfare_flight.store import flights as store
from wayfare_flight.usecases import flights as usecases

router = APIRouter(tags=["flights"])

FLIGHT_NOT_FOUND = {404: {"description": "No such flight (`flight_not_found`)"}}


def _forget_searches(request: Request) -> None:
    """This replica's cached search pages predate the change (others' expire in seconds)."""
    if request.app.state.search_cache is not None:
        request.app.state.search_cache.clear()


async def flight_json(session, flight_id: uuid.UUID) -> dict:
    flight = await store.get_flight(session, flight_id)
    if flight is None:
        raise NotFound("There is no such flight.", code="flight_not_found")
    cabins = await store.cabins_of(session, flight_id)
    origin, destination = lookup(flight.origin), lookup(flight.destination)
    return {
        "id": str(flight.id),
        "flight_number": flight.flight_number,
        "carrier": carrier_json(flight.carrier_code),
        "origin": airport_json(flight.origin),
        "destination": airport_json(flight.destination),
        "departing_at": local_time(flight.departure_minute, origin.time_zone),
        "arriving_at": local_time(flight.arrival_minute, destination.time_zone),
        "duration_minutes": flight.arrival_minute - flight.departure_minute,
        "distance_km": flight.distance_km,
        "aircraft": {"name": flight.aircraft, "class": flight.aircraft_class},
        "status": flight.status,
        "cabins": [
            {
                "cabin": cabin.cabin,
                "seats_total": cabin.seats_total,
                "seats_available": cabin.seats_available,
                "fares": [
                    {
                        "family": name,
                        **family.conditions(),
                        "price_per_adult": Money(
                            cabin.saver_fare if name == "saver" else cabin.flex_fare, cabin.currency
                        ).to_json(),
                        "offer_id": OfferKey((flight.id,), cabin.cabin, name).encode(),
                    }
                    for name, family in FARE_FAMILIES.items()
                ],
            }
            for cabin in cabins
        ],
    }


@router.get(
    "/api/v1/flights/{flight_id}",
    summary="A flight with its cabins, fares and conditions",
    responses=FLIGHT_NOT_FOUND,
)
async def get_flight(flight_id: uuid.UUID, session: SessionDep) -> dict:
    return await flight_json(session, flight_id)


@router.get(
    "/api/v1/flights/{flight_id}/seatmap",
    summary="Rows and seats, and which are free",
    responses=FLIGHT_NOT_FOUND,
)
async def get_seatmap(flight_id: uuid.UUID, session: SessionDep) -> dict:
    if await store.get_flight(session, flight_id) is None:
        raise NotFound("There is no such flight.", code="flight_not_found")
    taken = await store.taken_seats(session, flight_id)
    return {
        "flight_id": str(flight_id),
        "note": "Seats held or sold without a chosen seat are not on the map; seats_available counts them.",
        "cabins": [
            {
                "cabin": cabin.cabin,
                "seats_available": cabin.seats_available,
                "seat_letters": cabin.seat_letters,
                "rows": [
                    {
                        "row": row,
                        "seats": [
                            {"number": f"{row}{letter}", "free": f"{row}{letter}" not in taken}
                            for letter in cabin.seat_letters
                        ],
                    }
                    for row in range(cabin.first_row, cabin.last_row + 1)
                ],
            }
            for cabin in await store.cabins_of(session, flight_id)
        ],
    }


@router.post("/api/v1/flights", status_code=201, summary="Staff: add a flight")
async def create_flight(
    body: FlightIn, _admin: AdminDep, session: SessionDep, request: Request
) -> dict:
    flight_id = await usecases.create_flight(session, body)
    await session.commit()
    _forget_searches(request)
    return await flight_json(session, flight_id)


@router.patch(
    "/api/v1/flights/{flight_id}",
    summary="Staff: move or cancel a flight (a new time emits flight.schedule_changed)",
    responses=FLIGHT_NOT_FOUND,
)
async def change_flight(
    flight_id: uuid.UUID,
    body: FlightChange,
    _admin: AdminDep,  # first: the event context takes the acting user from it
    session: SessionDep,
    outbox: OutboxDep,
    context: EventContextDep,
    request: Request,
) -> dict:
    await usecases.change_flight(
        session, flight_id, body, emit=lambda event: outbox.record(session, event, context)
    )
    await session.commit()
    _forget_searches(request)
    return await flight_json(session, flight_id)
