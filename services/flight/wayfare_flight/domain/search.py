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
from functools import lru_cache

import orjson

from wayfare_common.pagination import encode_cursor
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
from wayfare_flight.domain.offers import OfferKey, offer_ids

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


# The search's fast path: rows (store.itineraries, same shape as store.search) straight to
# the page's JSON bytes. It gives byte for byte what build_offers, the sort, the keyset
# page and orjson.dumps of offer_json give (tests/test_search_precomputed.py compares
# them), with
# less work per row: every part of an offer that depends only on its flights (segments,
# offer ids) is rendered once per flight and kept, since a flight shows up in many
# searches; prices are integer sums; only the page's offers are rendered at all.

_CURRENCY_JSON = orjson.dumps(CURRENCY)
_FAMILIES = tuple(FARE_FAMILIES.values())
_FARE_JSON = tuple(orjson.dumps({"family": f.name, **f.conditions()}) for f in _FAMILIES)
_STATIC_CACHE = 65_536  # entries of each memo below: some tens of megabytes at most


@lru_cache(maxsize=1024)
def _airport_bytes(code: str) -> tuple[bytes, str]:
    airport = airport_json(code)
    return orjson.dumps(airport), airport["time_zone"]


@lru_cache(maxsize=1024)
def _carrier_bytes(code: str) -> bytes:
    return orjson.dumps(carrier_json(code))


@lru_cache(maxsize=_STATIC_CACHE)
def segment_bytes(
    flight_id, carrier: str, number: str, origin: str, destination: str, departs: int, arrives: int
) -> bytes:
    """orjson.dumps(segment_json(leg)), once per flight: a flight shows up in many
    searches. Every input is in the key, so an entry is never stale (a flight moved by
    staff has new times, hence a new key)."""
    origin_json, origin_zone = _airport_bytes(origin)
    destination_json, destination_zone = _airport_bytes(destination)
    return (
        b'{"flight_id":"%s","flight_number":%s,"carrier":%s,"origin":%s,"destination":%s,'
        b'"departing_at":"%s","arriving_at":"%s","duration_minutes":%d}'
        % (
            str(flight_id).encode(),
            orjson.dumps(number),
            _carrier_bytes(carrier),
            origin_json,
            destination_json,
            local_time(departs, origin_zone).encode(),
            local_time(arrives, destination_zone).encode(),
            arrives - departs,
        )
    )


@lru_cache(maxsize=_STATIC_CACHE)
def itinerary_offer_ids(cabin: str, first, second) -> tuple[str, ...]:
    """The offer id of each fare family (_FAMILIES order) for these flights."""
    return offer_ids((first,) if second is None else (first, second), cabin)


@lru_cache(maxsize=4096)
def _money_bytes(cents: int) -> bytes:
    return b'{"amount":"%d.%02d","currency":%s}' % (cents // 100, cents % 100, _CURRENCY_JSON)


def page_json(
    rows,
    cabin: str,
    party: Party,
    sort: str,
    max_price: int | None,
    after: tuple | None,
    size: int,
) -> bytes:
    """The page of offers after the keyset `after` (a sort key, or None for the first
    page), `size` at most, with the next cursor, as JSON bytes."""
    adults, children, infants = party.adults, party.children, party.infants
    candidates = []
    for n, row in enumerate(rows):
        second = row[10]
        departs = row[5]
        saver, flex = row[8], row[9]
        child_saver = (saver * CHILD_PERCENT + 50) // 100
        child_flex = (flex * CHILD_PERCENT + 50) // 100
        infant_saver = (saver * INFANT_PERCENT + 50) // 100
        infant_flex = (flex * INFANT_PERCENT + 50) // 100
        if second is None:
            arrives = row[6]
            seats = row[7]
        else:
            arrives = row[16]
            seats = min(row[7], row[17])
            saver2, flex2 = row[18], row[19]
            saver += saver2
            flex += flex2
            child_saver += (saver2 * CHILD_PERCENT + 50) // 100
            child_flex += (flex2 * CHILD_PERCENT + 50) // 100
            infant_saver += (saver2 * INFANT_PERCENT + 50) // 100
            infant_flex += (flex2 * INFANT_PERCENT + 50) // 100
        duration = arrives - departs
        ids = itinerary_offer_ids(cabin, row[0], second)
        for family, adult, child, infant in (
            (0, saver, child_saver, infant_saver),
            (1, flex, child_flex, infant_flex),
        ):
            total = adult * adults + child * children + infant * infants
            if max_price is not None and total > max_price:
                continue
            offer_id = ids[family]
            if sort == "departure":
                key = (departs, total, duration, offer_id)
            elif sort == "duration":
                key = (duration, total, departs, offer_id)
            else:
                key = (total, departs, duration, offer_id)
            if after is not None and not key > after:
                continue
            candidates.append((key, n, family, row, adult, child, infant, total, seats, duration))
    candidates.sort()
    page = candidates[:size]
    next_cursor = (
        orjson.dumps(encode_cursor([sort, *page[-1][0]])) if len(candidates) > size else b"null"
    )
    cabin_json = orjson.dumps(cabin)
    offers = []
    for key, _, family, row, adult, child, infant, total, seats, duration in page:
        segments = segment_bytes(*row[0:7])
        if row[10] is not None:
            segments += b"," + segment_bytes(*row[10:17])
        per_passenger = b'{"adult":' + _money_bytes(adult)
        if children:
            per_passenger += b',"child":' + _money_bytes(child)
        if infants:
            per_passenger += b',"infant":' + _money_bytes(infant)
        offers.append(
            b'{"id":"%s","cabin":%s,"stops":%d,"segments":[%s],"price":%s,'
            b'"price_per_passenger":%s},"fare":%s,"duration_minutes":%d,"seats_available":%d}'
            % (
                key[3].encode(),
                cabin_json,
                0 if row[10] is None else 1,
                segments,
                _money_bytes(total),
                per_passenger,
                _FARE_JSON[family],
                duration,
                seats,
            )
        )
    return b'{"data":[%s],"next_cursor":%s}' % (b",".join(offers), next_cursor)
