"""Passenger types by age on the first day of travel (adult 12+, child 2-11, infant
under 2), the party they make, and which trips need passport details."""

from collections import Counter
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class PassengerType(StrEnum):
    ADULT = "adult"
    CHILD = "child"
    INFANT = "infant"


ADULT_FROM = 12
CHILD_FROM = 2
MAX_SEATED = 9  # the flight service's limit for one party


class PassengerRuleBroken(ValueError):
    """A rule about the party; `field` names what is wrong (e.g. "passengers.1.type")."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def age_on(birth_date: date, day: date) -> int:
    """Whole years completed on `day` (someone born on 29 February turns a year older on
    1 March in common years)."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def type_on(birth_date: date, travel_date: date) -> PassengerType:
    age = age_on(birth_date, travel_date)
    if age >= ADULT_FROM:
        return PassengerType.ADULT
    if age >= CHILD_FROM:
        return PassengerType.CHILD
    return PassengerType.INFANT


@dataclass(frozen=True)
class Party:
    adults: int
    children: int = 0
    infants: int = 0

    @property
    def size(self) -> int:
        return self.adults + self.children + self.infants

    @property
    def seated(self) -> int:
        """Infants travel on a lap: no seat on a flight."""
        return self.adults + self.children

    def as_dict(self) -> dict[str, int]:
        return {"adults": self.adults, "children": self.children, "infants": self.infants}

    def check(self) -> None:
        if self.adults < 1:
            raise PassengerRuleBroken("passengers", "at least one adult (12 or older) must travel")
        if self.infants > self.adults:
            raise PassengerRuleBroken("passengers", "each infant travels on an adult's lap")
        if self.seated > MAX_SEATED:
            raise PassengerRuleBroken("passengers", f"at most {MAX_SEATED} seated passengers")


def classify(
    birth_dates: list[date], declared: list[PassengerType | None], travel_date: date
) -> list[PassengerType]:
    """Each passenger's type on `travel_date`; a declared type must agree with it."""
    types = []
    for index, (born, said) in enumerate(zip(birth_dates, declared, strict=True)):
        if born > travel_date:
            raise PassengerRuleBroken(
                f"passengers.{index}.birth_date", "the birth date is after the travel date"
            )
        actual = type_on(born, travel_date)
        if said is not None and said != actual:
            raise PassengerRuleBroken(
                f"passengers.{index}.type",
                f"born {born.isoformat()}, this passenger travels as {actual} on "
                f"{travel_date.isoformat()}, not {said}",
            )
        types.append(actual)
    return types


def party_of(types: list[PassengerType]) -> Party:
    counts = Counter(types)
    return Party(
        counts[PassengerType.ADULT], counts[PassengerType.CHILD], counts[PassengerType.INFANT]
    )


def is_international(country_pairs: list[tuple[str, str]]) -> bool:
    """A trip is international when any leg leaves one country for another."""
    return any(origin != destination for origin, destination in country_pairs)
