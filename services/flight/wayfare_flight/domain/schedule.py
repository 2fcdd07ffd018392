"""The deterministic schedule generator behind `python -m wayfare_flight seed`.

The network: among the M busiest airports (airports.BUSY_AIRPORTS, in traffic order),
every airport is linked to the biggest hubs (the first HUBS of the list) and to its
NEAREST closest neighbours, from 150 km to 15,500 km apart. Each link is flown both ways
by one carrier at home at one of its ends, 1 to 4 times a day (more between hubs and on
short hops, fewer on long haul), every day, at local times between 06:00 and 22:00 that
stay the same from day to day, like a real timetable. Aircraft, cabins, seat layout and
block time follow from the great-circle distance; fares from distance, cabin and a
per-flight demand factor.

Everything derives from integer hashes of (seed, route, departure, day), so the same
arguments give the same flights, with the same ids, in any run and in any order.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from wayfare_flight.domain.aircraft import AircraftType, aircraft_for, block_minutes
from wayfare_flight.domain.airports import Airport, great_circle_km, zone
from wayfare_flight.domain.carriers import Carrier, carriers_for
from wayfare_flight.domain.fares import CURRENCY, flex_fare, saver_fare

HUBS = 20
NEAREST = 6
MIN_KM = 150
MAX_KM = 15_500
FIRST_DEPARTURE = 6 * 60  # minutes after local midnight
LAST_DEPARTURE = 22 * 60

_MASK = (1 << 64) - 1


def mix(*values: int) -> int:
    """splitmix64 over several integers: a fast, well-spread, deterministic hash."""
    h = 0x9E3779B97F4A7C15
    for value in values:
        h = (h ^ (value & _MASK)) * 0xBF58476D1CE4E5B9 & _MASK
        h = (h ^ (h >> 27)) * 0x94D049BB133111EB & _MASK
        h ^= h >> 31
    return h


def _code(text: str) -> int:
    return int.from_bytes(text.encode(), "big")


def unit(h: int) -> float:
    return (h >> 11) / (1 << 53)


@dataclass(frozen=True, slots=True)
class Route:
    origin: Airport
    destination: Airport
    distance_km: int
    aircraft: AircraftType
    carrier: Carrier
    flight_numbers: tuple[str, ...]
    departures: tuple[int, ...]  # local minutes after midnight, one per daily flight
    key: int


def plan_routes(airports: list[Airport], seed: int) -> list[Route]:
    rank = {airport.iata_code: i for i, airport in enumerate(airports)}
    pairs: set[tuple[str, str]] = set()
    for airport in airports:
        others = [
            (great_circle_km(airport, other), other)
            for other in airports
            if other.iata_code != airport.iata_code
        ]
        others = [(km, other) for km, other in others if MIN_KM <= km <= MAX_KM]
        linked = [other for km, other in others if rank[other.iata_code] < HUBS]
        linked += [other for km, other in sorted(others, key=lambda pair: pair[0])[:NEAREST]]
        for other in linked:
            pairs.add(tuple(sorted((airport.iata_code, other.iata_code))))

    by_code = {airport.iata_code: airport for airport in airports}
    numbers_used: dict[str, int] = {}
    routes = []
    for a_code, b_code in sorted(pairs):
        a, b = by_code[a_code], by_code[b_code]
        km = great_circle_km(a, b)
        pair_key = mix(seed, _code(a_code), _code(b_code))
        candidates = carriers_for(a.country, b.country)
        carrier = candidates[pair_key % len(candidates)]
        daily = _daily_frequency(km, rank[a_code] < HUBS, rank[b_code] < HUBS)
        serial = numbers_used.get(carrier.iata_code, 0)
        numbers_used[carrier.iata_code] = serial + 1
        for direction, (origin, destination) in enumerate(((a, b), (b, a))):
            key = mix(pair_key, direction)
            numbers = tuple(
                f"{carrier.iata_code}{(10 + serial * 8 + k * 2 + direction) % 9990 + 1}"
                for k in range(daily)
            )
            routes.append(
                Route(
                    origin=origin,
                    destination=destination,
                    distance_km=round(km),
                    aircraft=aircraft_for(km),
                    carrier=carrier,
                    flight_numbers=numbers,
                    departures=_departure_times(daily, key),
                    key=key,
                )
            )
    return routes


def _daily_frequency(km: float, a_is_hub: bool, b_is_hub: bool) -> int:
    daily = 1 + a_is_hub + b_is_hub + (km < 1500)
    if km > 9000:
        return 1
    if km > 4500:
        return min(daily, 2)
    return daily


def _departure_times(daily: int, key: int) -> tuple[int, ...]:
    span = (LAST_DEPARTURE - FIRST_DEPARTURE) / daily
    times = []
    for k in range(daily):
        jitter = unit(mix(key, k)) * 0.8 - 0.4  # within +-40% of a slot
        minute = FIRST_DEPARTURE + span * (k + 0.5 + jitter)
        times.append(int(round(minute / 5) * 5))
    return tuple(times)


def time_ordered_id(departure: datetime, h: int) -> uuid.UUID:
    """A UUIDv7-shaped id: departure milliseconds first, then hashed bits. Flights of one
    day sit together in the primary-key indexes (of flights and of flight_cabins), so the
    cabins of one search's flights are read from a few pages, not from all over."""
    bits = (int(departure.timestamp() * 1000) << 80) | (
        (h << 16 | mix(h, 1) & 0xFFFF) & ((1 << 80) - 1)
    )
    bits = (bits & ~(0xF << 76)) | (7 << 76)  # version 7
    bits = (bits & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=bits)


def epoch_minute(instant: datetime) -> int:
    return int(instant.timestamp()) // 60


FlightRow = tuple  # the columns of store.models.flights, in order
CabinRow = tuple  # the columns of store.models.flight_cabins, in order


def generate(
    routes: list[Route], start: date, days: int, seed: int
) -> Iterator[tuple[FlightRow, list[CabinRow]]]:
    """Every flight of `routes` departing (local date at origin) on `days` days from
    `start`, with its cabins, as rows ready for a bulk insert."""
    # Departures are between 06:00 and 22:00 local, after any daylight-saving switch
    # (they happen at night), so the offset at noon is the offset of every departure.
    offsets: dict[tuple[str, date], timedelta] = {}
    for day_index in range(days):
        day = start + timedelta(days=day_index)
        day_ordinal = day.toordinal()
        midnight = datetime.combine(day, time(0), tzinfo=UTC)
        for route in routes:
            tz = route.origin.time_zone
            offset = offsets.get((tz, day))
            if offset is None:
                offset = datetime.combine(day, time(12), tzinfo=zone(tz)).utcoffset()
                offsets[(tz, day)] = offset
            block = timedelta(minutes=block_minutes(route.distance_km))
            for k, minute in enumerate(route.departures):
                h = mix(route.key, k, day_ordinal, seed)
                departure = midnight + timedelta(minutes=minute) - offset
                flight_id = time_ordered_id(departure, h)
                flight = (
                    flight_id,
                    route.carrier.iata_code,
                    route.flight_numbers[k],
                    route.origin.iata_code,
                    route.destination.iata_code,
                    departure,
                    departure + block,
                    day,
                    epoch_minute(departure),
                    epoch_minute(departure + block),
                    route.aircraft.name,
                    route.aircraft.aircraft_class,
                    route.distance_km,
                    "scheduled",
                )
                demand = unit(mix(h, 2))
                cabins = []
                for layout in route.aircraft.cabins:
                    saver = saver_fare(route.distance_km, layout.cabin, demand)
                    cabins.append(
                        (
                            flight_id,
                            layout.cabin,
                            layout.seats,
                            layout.seats,
                            layout.first_row,
                            layout.last_row,
                            layout.seat_letters,
                            saver,
                            flex_fare(saver),
                            CURRENCY,
                        )
                    )
                yield flight, cabins
