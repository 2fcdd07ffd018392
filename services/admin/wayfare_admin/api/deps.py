"""Dependencies shared by the admin routes."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends, Request

from wayfare_admin.clients.owners import Owners
from wayfare_common.db import Database
from wayfare_common.problems import Problem
from wayfare_common.security import Principal, require_role

# One callable for the routers' guard and the routes that need the admin's identity, so
# FastAPI verifies the token once per request.
require_admin = require_role("admin")
AdminDep = Annotated[Principal, Depends(require_admin)]
ADMIN_ONLY = [Depends(require_admin)]

PREFIX = "/api/v1/admin"


# async: FastAPI runs a plain `def` dependency in a worker thread, for every request.
async def get_database(request: Request) -> Database:
    return request.app.state.database


async def get_owners(request: Request) -> Owners:
    return request.app.state.owners


DatabaseDep = Annotated[Database, Depends(get_database)]
OwnersDep = Annotated[Owners, Depends(get_owners)]


def day_start(day: date | None, *, after: bool = False) -> datetime | None:
    """Midnight UTC at the start of `day`, or after it (an inclusive `to` day)."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1 if after else 0), time.min, tzinfo=UTC)


def parse_bound(value: str | None, name: str, *, end: bool) -> datetime | None:
    """A `from`/`to` query value: an RFC 3339 time with an offset, or a date. A date as
    `from` is its first instant; as `to` the whole day is included."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return day_start(date.fromisoformat(value), after=end)
        at = datetime.fromisoformat(value)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise Problem(
            "Use a date (2025-06-01) or a time with an offset (2025-06-01T10:00:00Z).",
            status=422,
            code="validation_error",
            errors=[
                {
                    "field": f"query.{name}",
                    "message": "not a date or time with an offset",
                    "type": "value_error",
                }
            ],
        )
    return at.astimezone(UTC)
