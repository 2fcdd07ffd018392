"""Tour packages: the rows of a CSV import, and the demo packages.

An import file is UTF-8 CSV with a header line and one package per line:

    code,title,destination,description,duration_days,price_per_person,currency,vendor_id,departures
    PT-LIS-7,Lisbon and Sintra,Lisbon,"Seven days ...",7,899.00,EUR,<uuid>,2026-07-01:20;2026-07-15:20

`code` is the package's stable key: a known code updates that package (and adds or resizes
its departures), a new one creates it. `departures` is `date:capacity` pairs separated by
`;`. Rows are numbered as lines of the file: the header is line 1, the first package 2.
"""

import csv
import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from wayfare_common.money import Money

COLUMNS = (
    "code",
    "title",
    "destination",
    "description",
    "duration_days",
    "price_per_person",
    "currency",
    "vendor_id",
    "departures",
)
MAX_ROWS = 10_000
MAX_CAPACITY = 1000
MAX_DURATION_DAYS = 60
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


@dataclass(frozen=True, slots=True)
class PackageRow:
    row: int
    code: str
    title: str
    destination: str
    description: str
    duration_days: int
    price: Money
    vendor_id: uuid.UUID
    departures: tuple[tuple[date, int], ...]


class RowError(ValueError):
    def __init__(self, row: int, reason: str):
        self.row = row
        self.reason = reason
        super().__init__(f"row {row}: {reason}")


class FileError(ValueError):
    """The file as a whole cannot be read (not CSV, wrong header, too long)."""


def read_rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, fields) for each non-empty line after the header."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise FileError("the file is empty") from None
    except csv.Error as exc:
        raise FileError(f"not a CSV file: {exc}") from None
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise FileError(f"the header lacks the column(s): {', '.join(missing)}")
    count = 0
    try:
        for fields in reader:
            if not any(field.strip() for field in fields):
                continue
            count += 1
            if count > MAX_ROWS:
                raise FileError(f"at most {MAX_ROWS} packages per file")
            if len(fields) != len(header):
                yield (
                    reader.line_num,
                    {"__error__": f"{len(fields)} fields, expected {len(header)}"},
                )
                continue
            yield reader.line_num, dict(zip(header, (f.strip() for f in fields), strict=True))
    except csv.Error as exc:
        raise FileError(f"line {reader.line_num}: {exc}") from None


def parse_row(row: int, fields: dict[str, str], today: date) -> PackageRow:
    """A valid package, or RowError with the first reason the row is refused."""
    if error := fields.get("__error__"):
        raise RowError(row, error)
    code = fields["code"]
    if not _CODE.match(code):
        raise RowError(row, "code must be 1-40 letters, digits, '-' or '_'")
    title, destination = fields["title"], fields["destination"]
    if not 1 <= len(title) <= 200:
        raise RowError(row, "title must be 1 to 200 characters")
    if not 1 <= len(destination) <= 100:
        raise RowError(row, "destination must be 1 to 100 characters")
    if not fields["duration_days"].isdigit() or not (
        1 <= int(fields["duration_days"]) <= MAX_DURATION_DAYS
    ):
        raise RowError(row, f"duration_days must be a whole number from 1 to {MAX_DURATION_DAYS}")
    try:
        price = Money.of(fields["price_per_person"], fields["currency"].upper() or "?")
    except (ValueError, TypeError) as exc:
        raise RowError(row, f"price_per_person: {exc}") from None
    if price.minor < 0:
        raise RowError(row, "price_per_person cannot be negative")
    try:
        vendor_id = uuid.UUID(fields["vendor_id"])
    except ValueError:
        raise RowError(row, "vendor_id is not a UUID") from None
    return PackageRow(
        row=row,
        code=code,
        title=title,
        destination=destination,
        description=fields["description"],
        duration_days=int(fields["duration_days"]),
        price=price,
        vendor_id=vendor_id,
        departures=_parse_departures(row, fields["departures"], today),
    )


def _parse_departures(row: int, text: str, today: date) -> tuple[tuple[date, int], ...]:
    departures: dict[date, int] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        day_text, _, capacity_text = part.partition(":")
        try:
            day = date.fromisoformat(day_text.strip())
        except ValueError:
            raise RowError(row, f"departure {part!r}: the date is not YYYY-MM-DD") from None
        if day <= today:
            raise RowError(row, f"departure {day} is not in the future")
        capacity_text = capacity_text.strip()
        if not capacity_text.isdigit() or not 1 <= int(capacity_text) <= MAX_CAPACITY:
            raise RowError(row, f"departure {day}: capacity must be 1 to {MAX_CAPACITY}")
        if day in departures:
            raise RowError(row, f"departure {day} is listed twice")
        departures[day] = int(capacity_text)
    if not departures:
        raise RowError(row, "at least one departure (date:capacity) is needed")
    return tuple(sorted(departures.items()))


DEMO_VENDOR = uuid.UUID("5c1e2a77-0d3b-4c59-8f6e-7b2a9d4c3e21")


def demo_packages(today: date) -> list[PackageRow]:
    """A few tours, each leaving every week of the coming two months."""
    tours = [
        (
            "DEMO-LIS-7",
            "Lisbon and Sintra",
            "Lisbon",
            7,
            "899.00",
            "Trams, palaces and the Atlantic coast.",
        ),
        (
            "DEMO-KYO-10",
            "Kyoto temples and gardens",
            "Kyoto",
            10,
            "2490.00",
            "Ten days among shrines, gardens and tea houses.",
        ),
        (
            "DEMO-REK-5",
            "Iceland's Golden Circle",
            "Reykjavik",
            5,
            "1190.00",
            "Geysers, waterfalls and the northern lights.",
        ),
        (
            "DEMO-CPT-12",
            "Cape Town and the Winelands",
            "Cape Town",
            12,
            "1850.00",
            "Table Mountain, penguins and vineyards.",
        ),
        (
            "DEMO-CUZ-9",
            "Cusco and Machu Picchu",
            "Cusco",
            9,
            "1640.00",
            "The Sacred Valley on foot and by train.",
        ),
    ]
    first = today + timedelta(days=7 - today.weekday() + 5)  # a Saturday at least a week out
    return [
        PackageRow(
            row=i + 2,
            code=code,
            title=title,
            destination=destination,
            description=description,
            duration_days=days,
            price=Money.of(price, "EUR"),
            vendor_id=DEMO_VENDOR,
            departures=tuple((first + timedelta(weeks=w), 16) for w in range(8)),
        )
        for i, (code, title, destination, days, price, description) in enumerate(tours)
    ]
