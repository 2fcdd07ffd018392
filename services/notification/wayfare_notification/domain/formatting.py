"""Amounts and times as people read them, in their language and time zone (babel)."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime, format_skeleton, format_time

from wayfare_common.money import Money


def money(amount: Money, locale: str) -> str:
    return amount.format(locale)


def moment(when: datetime, time_zone: str, locale: str) -> str:
    """A deadline in the reader's own zone, named: 'Sun, Jun 1, 2025, 12:30 PM Central
    European Summer Time'."""
    zone = _zone(time_zone) or ZoneInfo("UTC")
    local = when.astimezone(zone)
    name = format_datetime(local, "zzzz", tzinfo=zone, locale=locale)
    return (
        f"{_date(local, locale)}, {format_time(local, 'short', tzinfo=zone, locale=locale)} {name}"
    )


def local_time(when: datetime, time_zone: str | None, locale: str) -> str:
    """A flight time at its airport: converted to the airport's zone when known, else kept
    in the offset it came with (flight times carry their airport's offset)."""
    zone = _zone(time_zone) if time_zone else None
    local = when.astimezone(zone) if zone else when
    return (
        f"{_date(local, locale)}, {format_time(local, 'short', tzinfo=local.tzinfo, locale=locale)}"
    )


def day(when: datetime, locale: str) -> str:
    """The date in the offset it came with: 'Tue, Jul 1, 2025'."""
    return _date(when, locale)


def clock(when: datetime, locale: str) -> str:
    """Only the time of day, in the offset it came with."""
    return format_time(when, "short", tzinfo=when.tzinfo, locale=locale)


def plain(text: str) -> str:
    """CLDR separates with narrow and no-break spaces; SMS alphabets have neither."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _date(when: datetime, locale: str) -> str:
    return format_skeleton("yMMMEd", when, locale=locale)


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
