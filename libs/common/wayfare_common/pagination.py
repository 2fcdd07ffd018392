"""Lists (DESIGN §5): `?limit=` (default 20, capped at 100) and an opaque `?cursor=`;
responses are `{"data": [...], "next_cursor": "..." | null}`.

Pages are keyset pages: the cursor holds the sort key of the last row a client saw and the
next page starts strictly after it, so rows inserted or deleted meanwhile neither repeat
nor push rows off the page (as OFFSET would). The cursor is opaque to clients but neither
secret nor signed: it holds only sort-key values from a row the client has already seen,
and a crafted one only moves where the page starts; the statement's own filters still
decide what the client may see. Do not sort lists by values the client may not see.
"""

import base64
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.problems import Problem, raises

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 1024

T = TypeVar("T")
U = TypeVar("U")


@raises(400, s400="The cursor is not one this list gave out (`invalid_cursor`)")
class PageParams:
    """`?limit=` and `?cursor=`; in a route, `page: PageParamsDep`."""

    def __init__(
        self,
        limit: Annotated[
            int, Query(ge=1, description=f"Page size; values above {MAX_LIMIT} are capped.")
        ] = DEFAULT_LIMIT,
        cursor: Annotated[
            str | None,
            Query(description="The `next_cursor` of the previous page; absent for the first."),
        ] = None,
    ):
        if limit < 1:
            raise ValueError("limit must be at least 1")
        # Capped rather than refused, so that clients need not know the cap.
        self.limit = min(limit, MAX_LIMIT)
        self.cursor = cursor


PageParamsDep = Annotated[PageParams, Depends()]


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(
        description="Pass as `?cursor=` for the next page; null on the last page."
    )

    def map(self, convert: Callable[[T], U]) -> "Page[U]":
        """The same page with each item converted, e.g. ORM rows into response schemas."""
        return Page[Any](data=[convert(item) for item in self.data], next_cursor=self.next_cursor)


def invalid_cursor() -> Problem:
    return Problem(
        "The cursor is not one this list gave out; start again without it.",
        status=400,
        code="invalid_cursor",
    )


# Cursor values are JSON: str and int as themselves, other types tagged so they come back
# as the same type (a UUID must not return as a str that compares differently in SQL).
_TAGS: dict[str, tuple[type, Callable[[Any], str], Callable[[str], Any]]] = {
    "u": (uuid.UUID, str, uuid.UUID),
    "t": (datetime, datetime.isoformat, datetime.fromisoformat),  # before date: a subclass
    "D": (date, date.isoformat, date.fromisoformat),
    "d": (Decimal, str, Decimal),
}


def encode_cursor(values: Sequence[Any]) -> str:
    encoded: list[Any] = []
    for value in values:
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            encoded.append(value)
            continue
        for tag, (kind, dump, _) in _TAGS.items():
            if isinstance(value, kind):
                encoded.append({tag: dump(value)})
                break
        else:
            raise TypeError(f"cannot put a {type(value).__name__} in a cursor")
    return base64.urlsafe_b64encode(orjson.dumps(encoded)).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[Any, ...]:
    """The values `encode_cursor` was given; anything else raises the 400 `invalid_cursor`."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        items = orjson.loads(raw)
        if not isinstance(items, list):
            raise ValueError("not a list")
        return tuple(_decode_value(item) for item in items)
    # ValueError covers bad base64 and JSON; ArithmeticError is Decimal's complaint.
    except (ValueError, TypeError, ArithmeticError):
        raise invalid_cursor() from None


def _decode_value(item: Any) -> Any:
    if isinstance(item, str) or (isinstance(item, int) and not isinstance(item, bool)):
        return item
    if isinstance(item, dict) and len(item) == 1:
        [(tag, text)] = item.items()
        if tag in _TAGS and isinstance(text, str):
            return _TAGS[tag][2](text)
    raise ValueError("not a cursor value")


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    order_by: Sequence[Any],
    params: PageParams,
    *,
    descending: bool = False,
) -> Page[Any]:
    """One keyset page of `stmt`, ordered by `order_by` (all ascending or all descending).

    The `order_by` columns must be NOT NULL (a NULL never compares greater) and end in a
    unique one (the id), so that the order is total;
    any ordering already on `stmt` is replaced. The columns must be selected under their
    own names, as in `select(Booking)` or `select(bookings_table)`. Items are ORM objects
    for a single-entity select and rows otherwise; `Page.map` turns them into schemas.
    Row-value comparison needs PostgreSQL or SQLite >= 3.15.
    """
    columns = list(order_by)
    if params.cursor is not None:
        after = decode_cursor(params.cursor)
        if len(after) != len(columns) or not all(map(_fits, after, columns)):
            raise invalid_cursor()
        key = tuple_(*columns)
        bound = tuple_(*(literal(v, c.type) for v, c in zip(after, columns, strict=True)))
        stmt = stmt.where(key < bound if descending else key > bound)
    ordering = [column.desc() if descending else column.asc() for column in columns]
    stmt = stmt.order_by(None).order_by(*ordering).limit(params.limit + 1)

    result = await session.execute(stmt)
    items = list(result.scalars() if _selects_one_entity(stmt) else result)
    next_cursor = None
    if len(items) > params.limit:
        items = items[: params.limit]
        next_cursor = encode_cursor([getattr(items[-1], column.key) for column in columns])
    return Page[Any](data=items, next_cursor=next_cursor)


def _fits(value: Any, column: Any) -> bool:
    """Whether a decoded cursor value has the column's Python type (a crafted cursor could
    otherwise compare a str with a timestamp, which PostgreSQL answers with an error)."""
    try:
        expected = column.type.python_type
    except NotImplementedError:
        return True
    return isinstance(value, expected)


def _selects_one_entity(stmt: Select[Any]) -> bool:
    descriptions = stmt.column_descriptions
    return (
        len(descriptions) == 1
        and descriptions[0]["entity"] is not None
        and descriptions[0]["expr"] is descriptions[0]["entity"]
    )
