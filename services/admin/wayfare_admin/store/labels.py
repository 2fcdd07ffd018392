"""The cache of flight and package labels (airports, titles) from the flight service."""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_admin.store.models import booking_items, catalog_labels


async def unknown(session: AsyncSession, limit: int) -> list[tuple[str, uuid.UUID]]:
    """(kind, id) of flights and packages that booking items name and the cache lacks."""
    found = []
    for kind, column in (
        ("flight", booking_items.c.first_flight_id),
        ("flight", booking_items.c.last_flight_id),
        ("package", booking_items.c.package_id),
    ):
        known = sa.select(catalog_labels.c.ref_id)
        stmt = (
            sa.select(column)
            .where(column.isnot(None), column.not_in(known))
            .distinct()
            .limit(limit)
        )
        found += [(kind, ref_id) for ref_id in await session.scalars(stmt)]
    return list(dict.fromkeys(found))[:limit]


async def save(
    session: AsyncSession,
    kind: str,
    ref_id: uuid.UUID,
    *,
    found: bool,
    origin: str | None = None,
    destination: str | None = None,
    title: str | None = None,
) -> None:
    """Flights and packages keep their ids and airports: a label is stored once."""
    await session.execute(
        sa.insert(catalog_labels).values(
            ref_id=ref_id,
            kind=kind,
            found=found,
            origin=origin,
            destination=destination,
            title=title,
            fetched_at=datetime.now(UTC),
        )
    )
