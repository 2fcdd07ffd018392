"""The dashboard's periods.

Periods are UTC calendar days, ISO weeks (Monday to Sunday) and calendar months, each
named by the date it starts on. A range is whole days, `first` to `last` inclusive; the
first and last period may start before `first` or end after `last` (a week that straddles
the range), but only what happened inside the range counts. The SQL in
store/dashboard.py groups by the same rules; these functions list the periods (so that
empty ones show as zeros) and check ranges.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

Granularity = Literal["day", "week", "month"]
GRANULARITIES: tuple[Granularity, ...] = ("day", "week", "month")

MAX_PERIODS = 1000


class InvalidRange(ValueError):
    pass


def period_start(day: date, granularity: Granularity) -> date:
    if granularity == "day":
        return day
    if granularity == "week":
        return day - timedelta(days=day.weekday())  # Monday
    return day.replace(day=1)


def next_period(start: date, granularity: Granularity) -> date:
    if granularity == "day":
        return start + timedelta(days=1)
    if granularity == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class Range:
    """Whole UTC days from `first` to `last`, both included."""

    first: date
    last: date
    granularity: Granularity

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after `last`."""
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=UTC)

    def periods(self) -> list[date]:
        periods, start = [], period_start(self.first, self.granularity)
        while start <= self.last:
            periods.append(start)
            start = next_period(start, self.granularity)
        return periods


def make_range(first: date | None, last: date | None, granularity: Granularity, today: date):
    """The range asked for; by default the 30 days up to today."""
    last = last or today
    first = first or last - timedelta(days=29)
    if first > last:
        raise InvalidRange("`from` must not be after `to`")
    result = Range(first, last, granularity)
    if (last - first).days // {"day": 1, "week": 7, "month": 28}[granularity] >= MAX_PERIODS:
        raise InvalidRange(f"at most {MAX_PERIODS} periods; choose a coarser granularity")
    return result


def ratio(part: int, whole: int) -> str | None:
    """A share as a decimal string with four places (never a float); None without data."""
    if whole == 0:
        return None
    scaled = (part * 10000 * 2 + whole) // (whole * 2)  # ten-thousandths, rounded half up
    return f"{scaled // 10000}.{scaled % 10000:04d}"
