"""From candidate flights to priced, filtered and ordered offers, and their JSON.

A candidate is a row of one or two legs (see store.search); each becomes one offer per
fare family (saver and flex). Prices are integer cents, computed per passenger type as in
fares.py. Orders are total and stable, so keyset pages never repeat or skip an offer:

    price:     total, departure, duration, id
    departure: departure, total, duration, id
    duration:  duration, total, departure, id
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from wayfare_flight.domain.airports import directory, zone
from wayfare_flight.domain.carriers import BY_CODE
from wayfare_flight.domain.fares import (
    CHILD_PERCENT,
    CURRENCY,
    FARE_FAMILIES,
    INFANT_PERCENT,
    FareFamily,
    Party,
)
from wayfare_flight.domain.offers import OfferKey

SORTS = ("price", "departure", "duration")

# Leg tuple positions (store.search.LEG_WIDTH columns).
ID, CARRIER, NUMBER, ORIGIN, DESTINATION, DEPARTS, ARRIVES, SEATS, SAVER, FLEX = range(10)


def _percent(cents: int, percent: int) -> int:
    """Half up, as Money.percent, for the non-negative amounts of fares."""
    return (cents * percent + 50) // 100


@dataclass(slots=True)
class Offer:
    id: str
    legs: tuple[tuple, ...]
    cabin: str
    fare: FareFamily
    adult: int
    child: int
    infant: int
    total: int
    departs: int  # epoch minutes
    arrives: int
    seats_available: int

    @property
    def duration(self) -> int:
        return self.arrives - self.departs

    def sort_key(self, sort: str) -> tuple:
        if sort == "departure":
            return (self.departs, self.total, self.duration, self.id)
        if sort == "duration":
            return (self.duration, self.total, self.departs, self.id)
        return (self.total, self.departs, self.duration, self.id)


def build_offers(
    rows: list[tuple], cabin: str, party: Party, max_price: int | None = None
) -> list[Offer]:
    offers = []
    for row in rows:
        legs = (tuple(row[:10]),) if row[10] is None else (tuple(row[:10]), tuple(row[10:20]))
        seats = min(leg[SEATS] for leg in legs)
        for family_name, family in FARE_FAMILIES.items():
            column = SAVER if family_name == "saver" else FLEX
            fares = [leg[column] for leg in legs]
            adult = sum(fares)
            child = sum(_percent(f, CHILD_PERCENT) for f in fares)
            infant = sum(_percent(f, INFANT_PERCENT) for f in fares)
            total = adult * party.adults + child * party.children + infant * party.infants
            if max_price is not None and total > max_price:
                continue
            key = OfferKey(tuple(leg[ID] for leg in legs), cabin, family_name)
            offers.append(
                Offer(
                    id=key.encode(),
                    legs=legs,
                    cabin=cabin,
                    fare=family,
                    adult=adult,
                    child=child,
                    infant=infant,
                    total=total,
                    departs=legs[0][DEPARTS],
                    arrives=legs[-1][ARRIVES],
                    seats_available=seats,
                )
            )
    return offers


def _money(cents: int) -> dict[str, str]:
    return {"amount": f"{cents // 100}.{cents % 100:02d}", "currency": CURRENCY}


def local_time(epoch_minute: int, time_zone: str) -> str:
    return datetime.fromtimestamp(epoch_minute * 60, tz=UTC).astimezone(zone(time_zone)).isoformat()


_airport_json_cache: dict[str, dict] = {}


def airport_json(code: str) -> dict:
    cached = _airport_json_cache.get(code)
    if cached is None:
        cached = _airport_json_cache[code] = directory()[code].to_json()
    return cached


def carrier_json(code: str) -> dict:
    carrier = BY_CODE.get(code)
    return carrier.to_json() if carrier else {"iata_code": code, "name": code}


def segment_json(leg: tuple) -> dict:
    origin, destination = airport_json(leg[ORIGIN]), airport_json(leg[DESTINATION])
    return {
        "flight_id": str(leg[ID]),
        "flight_number": leg[NUMBER],
        "carrier": carrier_json(leg[CARRIER]),
        "origin": origin,
        "destination": destination,
        "departing_at": local_time(leg[DEPARTS], origin["time_zone"]),
        "arriving_at": local_time(leg[ARRIVES], destination["time_zone"]),
        "duration_minutes": leg[ARRIVES] - leg[DEPARTS],
    }


def offer_json(offer: Offer, party: Party) -> dict:
    per_passenger = {"adult": _money(offer.adult)}
    if party.children:
        per_passenger["child"] = _money(offer.child)
    if party.infants:
        per_passenger["infant"] = _money(offer.infant)
    return {
        "id": offer.id,
        "cabin": offer.cabin,
        "stops": len(offer.legs) - 1,
        "segments": [segment_json(leg) for leg in offer.legs],
        "price": _money(offer.total),
        "price_per_passenger": per_passenger,
        "fare": {"family": offer.fare.name, **offer.fare.conditions()},
        "duration_minutes": offer.duration,
        "seats_available": offer.seats_available,
    }
