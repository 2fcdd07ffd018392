"""Staff changes to flights: create one, move it, cancel it."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.events.catalog import FlightScheduleChanged
from wayfare_common.problems import NotFound
from wayfare_flight.api.errors import invalid
from wayfare_flight.domain.aircraft import AIRCRAFT_BY_CLASS, aircraft_for, block_minutes
from wayfare_flight.domain.airports import great_circle_km, lookup, zone
from wayfare_flight.domain.carriers import BY_CODE
from wayfare_flight.domain.fares import CURRENCY, flex_fare, saver_fare
from wayfare_flight.domain.schedule import epoch_minute
from wayfare_flight.store import flights as store
from wayfare_flight.store import itineraries
from wayfare_flight.store.seeding import ensure_reference_data


def _local_date(instant: datetime, time_zone: str):
    return instant.astimezone(zone(time_zone)).date()


async def create_flight(session: AsyncSession, body) -> uuid.UUID:
    origin, destination = lookup(body.origin), lookup(body.destination)
    carrier = BY_CODE.get(body.carrier_code)
    errors = []
    if origin is None:
        errors.append(("body.origin", f"{body.origin} is not a known airport"))
    if destination is None:
        errors.append(("body.destination", f"{body.destination} is not a known airport"))
    if carrier is None:
        errors.append(("body.carrier_code", f"{body.carrier_code} is not a carrier we sell"))
    if not body.flight_number.startswith(body.carrier_code):
        errors.append(("body.flight_number", "a flight number starts with its carrier's code"))
    if errors:
        raise invalid(errors)
    if body.origin == body.destination:
        raise invalid([("body.destination", "a flight goes somewhere else")])
    km = great_circle_km(origin, destination)
    aircraft = AIRCRAFT_BY_CLASS[body.aircraft_class] if body.aircraft_class else aircraft_for(km)
    departing = body.departing_at.astimezone(UTC)
    arriving = (
        body.arriving_at.astimezone(UTC)
        if body.arriving_at
        else departing + timedelta(minutes=block_minutes(km))
    )
    if arriving <= departing:
        raise invalid([("body.arriving_at", "a flight arrives after it departs")])
    if departing <= datetime.now(UTC):
        raise invalid([("body.departing_at", "a new flight departs in the future")])
    await itineraries.lock_for_change(session)  # before any write: no lock waits in between
    await ensure_reference_data(session, [origin, destination], [carrier])
    flight_id = uuid.uuid4()
    await store.insert_flight(
        session,
        {
            "id": flight_id,
            "carrier_code": carrier.iata_code,
            "flight_number": body.flight_number,
            "origin": origin.iata_code,
            "destination": destination.iata_code,
            "departure_at": departing,
            "arrival_at": arriving,
            "departure_date": _local_date(departing, origin.time_zone),
            "departure_minute": epoch_minute(departing),
            "arrival_minute": epoch_minute(arriving),
            "aircraft": aircraft.name,
            "aircraft_class": aircraft.aircraft_class,
            "distance_km": round(km),
            "status": "scheduled",
        },
        [
            {
                "flight_id": flight_id,
                "cabin": layout.cabin,
                "seats_total": layout.seats,
                "seats_available": layout.seats,
                "first_row": layout.first_row,
                "last_row": layout.last_row,
                "seat_letters": layout.seat_letters,
                "saver_fare": (saver := saver_fare(km, layout.cabin, 0.5)),
                "flex_fare": flex_fare(saver),
                "currency": CURRENCY,
            }
            for layout in aircraft.cabins
        ],
    )
    await itineraries.add_flight(session, flight_id)  # search finds it once committed
    return flight_id


async def change_flight(session: AsyncSession, flight_id: uuid.UUID, change, emit) -> None:
    """Move and/or cancel a flight. A new time emits flight.schedule_changed, in the
    same transaction, and so is the rebuild of the flight's itineraries (search). Moving
    only the departure keeps the block time."""
    await itineraries.lock_for_change(session)
    flight = await store.lock_flight(session, flight_id)
    if flight is None:
        raise NotFound("There is no such flight.", code="flight_not_found")
    values: dict = {}
    if change.status is not None:
        values["status"] = change.status
    if change.departing_at is not None or change.arriving_at is not None:
        departing = (change.departing_at or flight.departure_at).astimezone(UTC)
        if change.arriving_at is not None:
            arriving = change.arriving_at.astimezone(UTC)
        else:
            arriving = departing + (flight.arrival_at - flight.departure_at)
        if arriving <= departing:
            raise invalid([("body.arriving_at", "a flight arrives after it departs")])
        if (departing, arriving) != (flight.departure_at, flight.arrival_at):
            origin, destination = lookup(flight.origin), lookup(flight.destination)
            values.update(
                departure_at=departing,
                arrival_at=arriving,
                departure_date=_local_date(departing, origin.time_zone),
                departure_minute=epoch_minute(departing),
                arrival_minute=epoch_minute(arriving),
            )
            emit(
                FlightScheduleChanged(
                    flight_id=flight.id,
                    flight_number=flight.flight_number,
                    old_departing_at=flight.departure_at.astimezone(origin.zone),
                    old_arriving_at=flight.arrival_at.astimezone(destination.zone),
                    new_departing_at=departing.astimezone(origin.zone),
                    new_arriving_at=arriving.astimezone(destination.zone),
                )
            )
    if values:
        await itineraries.remove_flight(session, flight)
        await store.update_flight(session, flight_id, values)
        await itineraries.add_flight(session, flight_id)
