"""Rules of seat holds that need no database: how long a hold lasts, which chosen seats
are acceptable, and what makes two hold requests "the same" for idempotency."""

import hashlib
import json
from datetime import datetime, timedelta

from wayfare_flight.domain.aircraft import CabinLayout


class HoldRuleBroken(ValueError):
    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def expiry(
    now: datetime,
    *,
    expires_at: datetime | None,
    ttl_seconds: int | None,
    default_ttl: int,
    max_ttl: int,
) -> datetime:
    """When a hold lapses: as asked (an instant or a lifetime), else the default; never in
    the past and never beyond the longest lifetime allowed."""
    if expires_at is not None and ttl_seconds is not None:
        raise HoldRuleBroken("expires_at", "give expires_at or ttl_seconds, not both")
    if expires_at is not None:
        chosen = expires_at
    else:
        chosen = now + timedelta(seconds=ttl_seconds if ttl_seconds is not None else default_ttl)
    if chosen <= now:
        raise HoldRuleBroken("expires_at", "a hold must expire in the future")
    if chosen > now + timedelta(seconds=max_ttl):
        raise HoldRuleBroken("expires_at", f"a hold lasts at most {max_ttl} seconds")
    return chosen


def check_seat_choice(seats: list[str], count: int, layout: CabinLayout) -> list[str]:
    """Normalised seat numbers ("12a" -> "12A"), or HoldRuleBroken."""
    chosen = [seat.strip().upper() for seat in seats]
    if len(chosen) != count:
        raise HoldRuleBroken("seat_numbers", f"{count} seat(s) held but {len(chosen)} chosen")
    if len(set(chosen)) != len(chosen):
        raise HoldRuleBroken("seat_numbers", "a seat is chosen twice")
    for seat in chosen:
        if not layout.has_seat(seat):
            raise HoldRuleBroken("seat_numbers", f"{seat} is not a {layout.cabin} seat")
    return chosen


def fingerprint(request: dict) -> str:
    """The same booking id with the same request is a retry; with another, a mistake."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()
