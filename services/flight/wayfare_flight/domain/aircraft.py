"""Aircraft by distance, their cabins and seat layouts, and block times.

Three classes: regional jets on short routes, narrow-bodies up to medium haul, wide-bodies
beyond. First class only fits on wide-bodies; premium economy too.
"""

from dataclasses import dataclass

CABINS = ("economy", "premium_economy", "business", "first")

REGIONAL_MAX_KM = 1000
NARROW_BODY_MAX_KM = 4500


@dataclass(frozen=True, slots=True)
class CabinLayout:
    cabin: str
    first_row: int
    last_row: int
    seat_letters: str

    @property
    def seats(self) -> int:
        return (self.last_row - self.first_row + 1) * len(self.seat_letters)

    def seat_numbers(self) -> list[str]:
        return [
            f"{row}{letter}"
            for row in range(self.first_row, self.last_row + 1)
            for letter in self.seat_letters
        ]

    def has_seat(self, seat: str) -> bool:
        row, letter = seat[:-1], seat[-1:]
        return (
            row.isdigit()
            and self.first_row <= int(row) <= self.last_row
            and letter in self.seat_letters
        )


@dataclass(frozen=True, slots=True)
class AircraftType:
    name: str
    aircraft_class: str  # regional | narrow_body | wide_body
    cabins: tuple[CabinLayout, ...]


REGIONAL = AircraftType(
    "Embraer E195-E2",
    "regional",
    (CabinLayout("business", 1, 3, "ACD"), CabinLayout("economy", 4, 30, "ACDF")),
)
NARROW_BODY = AircraftType(
    "Airbus A321neo",
    "narrow_body",
    (CabinLayout("business", 1, 4, "ACDF"), CabinLayout("economy", 5, 33, "ABCDEF")),
)
WIDE_BODY = AircraftType(
    "Boeing 777-300ER",
    "wide_body",
    (
        CabinLayout("first", 1, 2, "ADGK"),
        CabinLayout("business", 5, 11, "ACDGHK"),
        CabinLayout("premium_economy", 20, 23, "ACDEFGHK"),
        CabinLayout("economy", 30, 56, "ABCDEFGHJK"),
    ),
)
AIRCRAFT_BY_CLASS = {a.aircraft_class: a for a in (REGIONAL, NARROW_BODY, WIDE_BODY)}


def aircraft_for(distance_km: float) -> AircraftType:
    if distance_km <= REGIONAL_MAX_KM:
        return REGIONAL
    if distance_km <= NARROW_BODY_MAX_KM:
        return NARROW_BODY
    return WIDE_BODY


CRUISE_KMH = 820
GROUND_MINUTES = 35  # taxi, climb and descent


def block_minutes(distance_km: float) -> int:
    """Gate to gate, rounded up to five minutes."""
    minutes = GROUND_MINUTES + distance_km / CRUISE_KMH * 60
    return int(-(-minutes // 5) * 5)
