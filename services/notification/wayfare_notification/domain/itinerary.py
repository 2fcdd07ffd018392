"""The itinerary of a booking, as far as its events tell it.

The catalog's booking events carry items (flight ids, cabin, seats, price) and, when the
booking service has them, `passengers` and each flight item's `segments` (DESIGN §7's
shape). They are read leniently from the raw event data: a part that is missing or
malformed leaves the message shorter, never unsent.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Airport(_Lenient):
    iata_code: str
    name: str | None = None
    city: str | None = None
    time_zone: str | None = Field(None, validation_alias=AliasChoices("time_zone", "timezone"))

    @property
    def label(self) -> str:
        place = self.city or self.name
        return f"{place} ({self.iata_code})" if place else self.iata_code


class Carrier(_Lenient):
    iata_code: str | None = None
    name: str | None = None


class Segment(_Lenient):
    flight_number: str | None = None
    carrier: Carrier | None = None
    origin: Airport
    destination: Airport
    departing_at: AwareDatetime
    arriving_at: AwareDatetime


class Passenger(_Lenient):
    # The catalog's names first (booking.created `passengers`), then common others.
    first_name: str | None = Field(None, validation_alias=AliasChoices("given_name", "first_name"))
    last_name: str | None = Field(None, validation_alias=AliasChoices("family_name", "last_name"))
    full_name: str | None = Field(None, validation_alias=AliasChoices("full_name", "name"))

    @property
    def display_name(self) -> str | None:
        if self.full_name:
            return self.full_name
        return " ".join(part for part in (self.first_name, self.last_name) if part) or None


def passengers(data: Mapping[str, Any]) -> list[str]:
    names = []
    for raw in _list(data.get("passengers")):
        try:
            name = Passenger.model_validate(raw).display_name
        except ValidationError:
            continue
        if name:
            names.append(name)
    return names


def segments(item: Mapping[str, Any]) -> list[Segment]:
    found = []
    for raw in _list(item.get("segments")):
        try:
            found.append(Segment.model_validate(raw))
        except ValidationError:
            continue
    return sorted(found, key=lambda segment: segment.departing_at)


def first_departure(data: Mapping[str, Any]) -> datetime | None:
    times = [s.departing_at for item in _list(data.get("items")) for s in segments(_dict(item))]
    return min(times, default=None)


def raw_items(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [_dict(item) for item in _list(data.get("items"))]


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
