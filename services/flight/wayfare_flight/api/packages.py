"""Tour packages: public search and read; staff create, change, retire and import."""

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

import sqlalchemy as sa
from asgi_correlation_id import correlation_id
from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from wayfare_common.api import SessionDep
from wayfare_common.money import Money
from wayfare_common.pagination import PageParamsDep
from wayfare_common.problems import Conflict, NotFound, Problem
from wayfare_common.security import AdminDep
from wayfare_flight.api.errors import invalid
from wayfare_flight.api.schemas import PackageChange, PackageIn
from wayfare_flight.domain.packages import PackageRow, RowError
from wayfare_flight.store import packages as store
from wayfare_flight.store.models import import_jobs

router = APIRouter(tags=["packages"])


def departure_json(departure) -> dict:
    return {
        "id": str(departure.id),
        "starts_on": departure.starts_on.isoformat(),
        "capacity": departure.capacity,
        "places_available": departure.places_available,
    }


def package_json(package, departures: list) -> dict:
    return {
        "id": str(package.id),
        "code": package.code,
        "title": package.title,
        "destination": package.destination,
        "description": package.description,
        "duration_days": package.duration_days,
        "price_per_person": Money(package.price_per_person, package.currency).to_json(),
        "vendor_id": str(package.vendor_id),
        "status": package.status,
        "departures": [departure_json(d) for d in departures],
    }


def _cents(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    try:
        return Money.of(value, "EUR").minor
    except ValueError as err:
        raise invalid([(f"query.{field}", str(err))]) from None


@router.get("/api/v1/packages", summary="Search tour packages")
async def search_packages(
    session: SessionDep,
    page: PageParamsDep,
    destination: Annotated[str | None, Query(max_length=100, examples=["Lisbon"])] = None,
    min_price: Annotated[
        str | None, Query(description="Per person, EUR", examples=["500.00"])
    ] = None,
    max_price: Annotated[str | None, Query(description="Per person, EUR")] = None,
    # Bounded: no package lasts a year, and the database compares 32-bit integers.
    min_days: Annotated[int | None, Query(ge=1, le=365)] = None,
    max_days: Annotated[int | None, Query(ge=1, le=365)] = None,
    date_from: Annotated[date | None, Query(description="A departure on or after")] = None,
    date_to: Annotated[date | None, Query(description="A departure on or before")] = None,
) -> dict:
    today = datetime.now(UTC).date()
    filters = store.PackageFilters(
        destination=destination,
        min_price=_cents(min_price, "min_price"),
        max_price=_cents(max_price, "max_price"),
        min_days=min_days,
        max_days=max_days,
        date_from=date_from,
        date_to=date_to,
    )
    found = await store.search_packages(session, filters, page, today)
    departures = await store.departures_of(session, [p.id for p in found.data], from_date=today)
    return {
        "data": [package_json(p, departures[p.id]) for p in found.data],
        "next_cursor": found.next_cursor,
    }


PACKAGE_NOT_FOUND = {404: {"description": "No such package (`package_not_found`)"}}


@router.get(
    "/api/v1/packages/{package_id}",
    summary="A tour package with its departures",
    responses=PACKAGE_NOT_FOUND,
)
async def get_package(package_id: uuid.UUID, session: SessionDep) -> dict:
    package = await store.get_package(session, package_id)
    if package is None:
        raise NotFound("There is no such package.", code="package_not_found")
    departures = await store.departures_of(session, [package.id])
    return package_json(package, departures[package.id])


def _row(code: str, body, departures) -> PackageRow:
    return PackageRow(
        row=1,
        code=code,
        title=body["title"],
        destination=body["destination"],
        description=body["description"],
        duration_days=body["duration_days"],
        price=body["price"],
        vendor_id=body["vendor_id"],
        departures=tuple((d.starts_on, d.capacity) for d in departures),
    )


def _check_dates(departures) -> None:
    today = datetime.now(UTC).date()
    for i, departure in enumerate(departures):
        if departure.starts_on <= today:
            raise invalid([(f"body.departures.{i}.starts_on", "a departure must be in the future")])
    if len({d.starts_on for d in departures}) != len(departures):
        raise invalid([("body.departures", "a date is listed twice")])


@router.post(
    "/api/v1/packages",
    status_code=201,
    summary="Staff: add a tour package",
    responses={409: {"description": "The code is taken (`package_code_taken`)"}},
)
async def create_package(body: PackageIn, _admin: AdminDep, session: SessionDep) -> dict:
    _check_dates(body.departures)
    if await store.codes_taken(session, body.code):
        raise Conflict(f"A package with code {body.code} exists.", code="package_code_taken")
    row = _row(
        body.code,
        {
            **body.model_dump(exclude={"price_per_person", "departures"}),
            "price": body.price_per_person,
        },
        body.departures,
    )
    await store.upsert_packages(session, [row], now=datetime.now(UTC))
    await session.commit()
    package = (
        await session.execute(sa.select(store.packages).where(store.packages.c.code == body.code))
    ).one()
    return await get_package(package.id, session)


@router.patch(
    "/api/v1/packages/{package_id}",
    summary="Staff: change a package or its departures",
    responses={
        **PACKAGE_NOT_FOUND,
        409: {"description": "A capacity below the seats taken (`capacity_below_taken`)"},
    },
)
async def change_package(
    package_id: uuid.UUID, body: PackageChange, _admin: AdminDep, session: SessionDep
) -> dict:
    package = await store.get_package(session, package_id)
    if package is None:
        raise NotFound("There is no such package.", code="package_not_found")
    if body.departures:
        _check_dates(body.departures)
    current = {
        "title": package.title,
        "destination": package.destination,
        "description": package.description,
        "duration_days": package.duration_days,
        "price": Money(package.price_per_person, package.currency),
        "vendor_id": package.vendor_id,
    }
    changes = body.model_dump(exclude_none=True, exclude={"departures", "price_per_person"})
    if body.price_per_person is not None:
        changes["price"] = body.price_per_person
    try:
        await store.upsert_packages(
            session,
            [_row(package.code, {**current, **changes}, body.departures or [])],
            now=datetime.now(UTC),
        )
    except RowError as err:
        raise Conflict(err.reason, code="capacity_below_taken") from None
    if package.status == "retired":  # changing does not bring a retired package back
        await store.set_status(session, package_id, "retired", datetime.now(UTC))
    await session.commit()
    return await get_package(package_id, session)


@router.delete(
    "/api/v1/packages/{package_id}",
    summary="Staff: retire a package (no new holds)",
    responses=PACKAGE_NOT_FOUND,
)
async def retire_package(package_id: uuid.UUID, _admin: AdminDep, session: SessionDep) -> dict:
    if not await store.set_status(session, package_id, "retired", datetime.now(UTC)):
        raise NotFound("There is no such package.", code="package_not_found")
    await session.commit()
    return await get_package(package_id, session)


@router.post(
    "/api/v1/packages/import",
    status_code=202,
    summary="Staff: import packages from a CSV file (processed in the background)",
    responses={
        400: {"description": "The body is not valid multipart form data"},
        413: {"description": "The file is larger than FLIGHT_IMPORT_MAX_BYTES"},
    },
)
async def import_packages(
    request: Request,
    admin: AdminDep,
    session: SessionDep,
    file: Annotated[
        UploadFile, File(description="UTF-8 CSV; see the service README for the columns")
    ],
) -> JSONResponse:
    limit = request.app.state.settings.import_max_bytes
    raw = await file.read(limit + 1)
    if len(raw) > limit:
        raise Problem(
            f"The file is larger than {limit} bytes.", status=413, code="payload_too_large"
        )
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid([("body.file", "the file is not UTF-8 text")]) from None
    job_id = uuid.uuid4()
    await session.execute(
        sa.insert(import_jobs).values(
            id=job_id,
            requested_by=uuid.UUID(admin.user_id),
            request_id=correlation_id.get(),
            status="pending",
            filename=(file.filename or "upload.csv")[:200],
            content=content,
            errors=[],
            created_at=datetime.now(UTC),
        )
    )
    await session.commit()
    request.app.state.background.wake_imports()
    return JSONResponse(
        {
            "job_id": str(job_id),
            "status": "pending",
            "status_url": f"/api/v1/packages/import/{job_id}",
        },
        status_code=202,
    )


@router.get(
    "/api/v1/packages/import/{job_id}",
    summary="Staff: progress and errors of an import",
    responses={404: {"description": "No such import job (`import_job_not_found`)"}},
)
async def import_status(job_id: uuid.UUID, _admin: AdminDep, session: SessionDep) -> dict:
    job = (await session.execute(sa.select(import_jobs).where(import_jobs.c.id == job_id))).first()
    if job is None:
        raise NotFound("There is no such import job.", code="import_job_not_found")
    return {
        "job_id": str(job.id),
        "status": job.status,
        "filename": job.filename,
        "requested_by": str(job.requested_by),
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "created": job.created,
        "updated": job.updated,
        "rejected": job.rejected,
        "errors": job.errors,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
