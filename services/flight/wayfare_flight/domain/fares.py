"""Fares and what a party pays.

Every cabin of a flight has two fares for an adult: *saver* (non-refundable, no changes)
and *flex* (refundable, free changes, a checked bag). Fares grow with distance and cabin.

A party pays per passenger: an adult the fare, a child (2-11) 75% of it, an infant (under
2, on an adult's lap, no seat) 10% of it, each rounded half up to the cent; a connection
pays the sum of its segments. At most 9 seated passengers (adults and children), at
least one adult, and no more infants than adults (one lap each).
"""

from dataclasses import dataclass

CURRENCY = "EUR"
CHILD_PERCENT = 75
INFANT_PERCENT = 10
MAX_SEATED = 9


@dataclass(frozen=True, slots=True)
class FareFamily:
    name: str
    refundable: bool
    changeable: bool
    checked_bags: int

    def conditions(self) -> dict:
        return {
            "refundable": self.refundable,
            "changeable": self.changeable,
            "checked_bags": self.checked_bags,
        }


SAVER = FareFamily("saver", refundable=False, changeable=False, checked_bags=0)
FLEX = FareFamily("flex", refundable=True, changeable=True, checked_bags=1)
FARE_FAMILIES = {family.name: family for family in (SAVER, FLEX)}

CABIN_FACTORS = {"economy": 1.0, "premium_economy": 1.8, "business": 3.6, "first": 6.0}
FLEX_FACTOR = 1.45


def saver_fare(distance_km: float, cabin: str, variation: float) -> int:
    """The adult saver fare in cents, whole euros. `variation` in [0, 1) spreads fares of
    one route by demand (+-20%)."""
    base = (29 + 0.085 * distance_km) * (0.8 + 0.4 * variation) * CABIN_FACTORS[cabin]
    return max(19, round(base)) * 100


def flex_fare(saver_cents: int) -> int:
    return -(-int(saver_cents * FLEX_FACTOR) // 100) * 100  # up to whole euros


@dataclass(frozen=True, slots=True)
class Party:
    adults: int = 1
    children: int = 0
    infants: int = 0

    @property
    def seated(self) -> int:
        """Passengers who take a seat: infants sit on a lap."""
        return self.adults + self.children

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) for each rule the party breaks; empty when it is fine."""
        found = []
        if min(self.adults, self.children, self.infants) < 0:
            found.append(("adults", "passenger counts cannot be negative"))
        elif self.seated + self.infants == 0:
            found.append(("adults", "at least one passenger is needed"))
        elif self.adults < 1:
            found.append(("adults", "at least one adult must travel"))
        if self.seated > MAX_SEATED:
            found.append(
                ("adults", f"at most {MAX_SEATED} seated passengers (adults and children)")
            )
        if self.infants > self.adults:
            found.append(
                ("infants", "each infant travels on an adult's lap: no more infants than adults")
            )
        return found
