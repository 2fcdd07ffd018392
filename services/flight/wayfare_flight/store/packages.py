"""Tour packages and their departures."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.pagination import Page, PageParams, paginate
from wayfare_flight.domain.packages import PackageRow, RowError
from wayfare_flight.store.models import package_departures, packages


async def get_package(session: AsyncSession, package_id: uuid.UUID):
    return (await session.execute(sa.select(packages).where(packages.c.id == package_id))).first()


async def departures_of(
    session: AsyncSession, package_ids: list[uuid.UUID], *, from_date: date | None = None
) -> dict[uuid.UUID, list]:
    if not package_ids:
        return {}
    stmt = (
        sa.select(package_departures)
        .where(package_departures.c.package_id.in_(package_ids))
        .order_by(package_departures.c.starts_on)
    )
    if from_date is not None:
        stmt = stmt.where(package_departures.c.starts_on >= from_date)
    found: dict[uuid.UUID, list] = {package_id: [] for package_id in package_ids}
    for row in await session.execute(stmt):
        found[row.package_id].append(row)
    return found


@dataclass
class PackageFilters:
    destination: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    min_days: int | None = None
    max_days: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    include_retired: bool = False


async def search_packages(
    session: AsyncSession, filters: PackageFilters, page: PageParams, today: date
) -> Page:
    stmt = sa.select(packages)
    if not filters.include_retired:
        stmt = stmt.where(packages.c.status == "active")
    if filters.destination:
        pattern = f"%{filters.destination.lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(packages.c.destination).like(pattern),
                sa.func.lower(packages.c.title).like(pattern),
            )
        )
    if filters.min_price is not None:
        stmt = stmt.where(packages.c.price_per_person >= filters.min_price)
    if filters.max_price is not None:
        stmt = stmt.where(packages.c.price_per_person <= filters.max_price)
    if filters.min_days is not None:
        stmt = stmt.where(packages.c.duration_days >= filters.min_days)
    if filters.max_days is not None:
        stmt = stmt.where(packages.c.duration_days <= filters.max_days)
    if filters.date_from or filters.date_to or not filters.include_retired:
        # Only packages that still leave, with a place left, in the dates asked for.
        departure = sa.select(package_departures.c.id).where(
            package_departures.c.package_id == packages.c.id,
            package_departures.c.places_available > 0,
            package_departures.c.starts_on >= max(filters.date_from or today, today),
        )
        if filters.date_to:
            departure = departure.where(package_departures.c.starts_on <= filters.date_to)
        stmt = stmt.where(departure.exists())
    return await paginate(session, stmt, [packages.c.price_per_person, packages.c.id], page)


async def upsert_packages(
    session: AsyncSession, rows: list[PackageRow], *, now: datetime, update_existing: bool = True
) -> tuple[int, int]:
    """Create or update packages by code, in the caller's transaction. Departures are
    added, or resized keeping the places already taken. Returns (created, updated);
    raises RowError when a row cannot be applied (nothing is committed then)."""
    codes = [row.code for row in rows]
    existing = {
        r.code: r
        for r in await session.execute(sa.select(packages).where(packages.c.code.in_(codes)))
    }
    created = updated = 0
    for row in rows:
        values = {
            "title": row.title,
            "destination": row.destination,
            "description": row.description,
            "duration_days": row.duration_days,
            "price_per_person": row.price.minor,
            "currency": row.price.currency,
            "vendor_id": row.vendor_id,
            "updated_at": now,
        }
        current = existing.get(row.code)
        if current is None:
            package_id = uuid.uuid4()
            await session.execute(
                sa.insert(packages).values(
                    id=package_id, code=row.code, status="active", created_at=now, **values
                )
            )
            created += 1
        elif update_existing:
            package_id = current.id
            await session.execute(
                sa.update(packages)
                .where(packages.c.id == package_id)
                .values(status="active", **values)
            )
            updated += 1
        else:
            continue
        await _set_departures(session, package_id, row)
    return created, updated


async def _set_departures(session: AsyncSession, package_id: uuid.UUID, row: PackageRow) -> None:
    current = {
        d.starts_on: d
        for d in await session.execute(
            sa.select(package_departures).where(package_departures.c.package_id == package_id)
        )
    }
    for starts_on, capacity in row.departures:
        departure = current.get(starts_on)
        if departure is None:
            await session.execute(
                sa.insert(package_departures).values(
                    id=uuid.uuid4(),
                    package_id=package_id,
                    starts_on=starts_on,
                    capacity=capacity,
                    places_available=capacity,
                )
            )
            continue
        taken = departure.capacity - departure.places_available
        if capacity < taken:
            raise RowError(
                row.row,
                f"departure {starts_on}: capacity {capacity} is below the {taken} places taken",
            )
        # Conditional, so a hold that lands meanwhile cannot be overwritten.
        result = await session.execute(
            sa.update(package_departures)
            .where(
                package_departures.c.id == departure.id,
                package_departures.c.capacity - package_departures.c.places_available == taken,
            )
            .values(capacity=capacity, places_available=capacity - taken)
        )
        if result.rowcount != 1:
            raise RowError(row.row, f"departure {starts_on} changed while importing; try again")


async def set_status(
    session: AsyncSession, package_id: uuid.UUID, status: str, now: datetime
) -> bool:
    result = await session.execute(
        sa.update(packages).where(packages.c.id == package_id).values(status=status, updated_at=now)
    )
    return result.rowcount == 1


async def update_fields(
    session: AsyncSession, package_id: uuid.UUID, values: dict, now: datetime
) -> bool:
    result = await session.execute(
        sa.update(packages).where(packages.c.id == package_id).values(updated_at=now, **values)
    )
    return result.rowcount == 1


async def codes_taken(session: AsyncSession, code: str) -> bool:
    return bool(await session.scalar(sa.select(sa.func.count()).where(packages.c.code == code)))
