"""Offers: which flights, in which cabin, at which fare. The id says it all, so booking can
hand it back later to be re-priced without this service keeping any offer state.

An offer id is URL-safe base64 of: a version byte, the cabin, the fare family, then the
16 bytes of each flight id in travel order. It is not secret (it names public things) and
not signed: whoever hands one back gets today's price and seats, never a stale one.
"""

import base64
import binascii
import uuid
from dataclasses import dataclass

from wayfare_flight.domain.aircraft import CABINS
from wayfare_flight.domain.fares import FARE_FAMILIES

_VERSION = 1
_FAMILIES = tuple(FARE_FAMILIES)
MAX_SEGMENTS = 2


class InvalidOffer(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class OfferKey:
    flight_ids: tuple[uuid.UUID, ...]
    cabin: str
    fare: str

    def encode(self) -> str:
        raw = bytes([_VERSION, CABINS.index(self.cabin), _FAMILIES.index(self.fare)])
        raw += b"".join(flight_id.bytes for flight_id in self.flight_ids)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def decode(cls, offer_id: str) -> "OfferKey":
        try:
            if len(offer_id) > 100:
                raise ValueError
            raw = base64.urlsafe_b64decode(offer_id + "=" * (-len(offer_id) % 4))
        except (ValueError, binascii.Error):
            raise InvalidOffer("not an offer id") from None
        body = raw[3:]
        if (
            len(raw) < 3
            or raw[0] != _VERSION
            or raw[1] >= len(CABINS)
            or raw[2] >= len(_FAMILIES)
            or not body
            or len(body) % 16
            or len(body) // 16 > MAX_SEGMENTS
        ):
            raise InvalidOffer("not an offer id")
        ids = tuple(uuid.UUID(bytes=body[i : i + 16]) for i in range(0, len(body), 16))
        return cls(ids, CABINS[raw[1]], _FAMILIES[raw[2]])


# Three header bytes are exactly one base64 quantum (four characters, no padding), so an id
# is the header's four characters followed by the flight ids' own encoding.
_HEADERS = {
    (cabin, fare): base64.urlsafe_b64encode(bytes([_VERSION, c, f])).decode()
    for c, cabin in enumerate(CABINS)
    for f, fare in enumerate(_FAMILIES)
}


def offer_ids(flight_ids: tuple, cabin: str) -> tuple[str, ...]:
    """OfferKey(flight_ids, cabin, fare).encode() for every fare family, in
    FARE_FAMILIES order, encoding the flight ids once (the search's hot path)."""
    body = base64.urlsafe_b64encode(b"".join(f.bytes for f in flight_ids)).rstrip(b"=").decode()
    return tuple(_HEADERS[(cabin, fare)] + body for fare in _FAMILIES)
