"""Listings of the read models: newest first, keyset pages, filters, `?total=true`."""

import uuid
from datetime import date
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Query

from wayfare_admin.api.deps import ADMIN_ONLY, PREFIX, day_start
from wayfare_admin.api.schemas import (
    AdminPage,
    BookingOut,
    PaymentOut,
    UserOut,
    page_response,
)
from wayfare_admin.domain.bookings import BookingStatus
from wayfare_admin.domain.payments import PaymentStatus
from wayfare_admin.store import listings
from wayfare_admin.store.models import booking_items
from wayfare_common.api import SessionDep
from wayfare_common.pagination import PageParamsDep, paginate

router = APIRouter(prefix=PREFIX, tags=["admin: read models"], dependencies=ADMIN_ONLY)

TotalQuery = Annotated[bool, Query(description="Also count every row that matches the filters.")]


@router.get(
    "/users", response_model=AdminPage[UserOut], summary="Users, newest first (deactivated hidden)"
)
async def list_users(
    session: SessionDep,
    page: PageParamsDep,
    include_inactive: Annotated[bool, Query(description="Also deactivated accounts.")] = False,
    role: Literal["customer", "vendor", "admin"] | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of email or name")] = None,
    total: TotalQuery = False,
):
    stmt = listings.users_query(include_inactive=include_inactive, role=role, search=q)
    found = await paginate(session, stmt, listings.USERS_ORDER, page, descending=True)
    return page_response(
        AdminPage[UserOut](
            data=[UserOut.of(row) for row in found.data],
            next_cursor=found.next_cursor,
            total=await listings.count(session, stmt) if total else None,
        )
    )


@router.get("/bookings", response_model=AdminPage[BookingOut], summary="Bookings, newest first")
async def list_bookings(
    session: SessionDep,
    page: PageParamsDep,
    status: BookingStatus | None = None,
    created_from: Annotated[
        date | None, Query(alias="from", description="Created on or after this day (UTC)")
    ] = None,
    created_to: Annotated[
        date | None, Query(alias="to", description="Created on or before this day (UTC)")
    ] = None,
    reference: Annotated[str | None, Query(max_length=6)] = None,
    customer: Annotated[
        str | None, Query(max_length=254, description="A user id or an email address")
    ] = None,
    total: TotalQuery = False,
):
    stmt = listings.bookings_query(
        status=status,
        created_from=day_start(created_from),
        created_before=day_start(created_to, after=True),
        reference=reference,
        customer=customer,
    )
    found = await paginate(session, stmt, listings.BOOKINGS_ORDER, page, descending=True)
    items = await _items_of(session, [row.booking_id for row in found.data])
    return page_response(
        AdminPage[BookingOut](
            data=[BookingOut.of(row, items.get(row.booking_id, [])) for row in found.data],
            next_cursor=found.next_cursor,
            total=await listings.count(session, stmt) if total else None,
        )
    )


async def _items_of(session, booking_ids: list[uuid.UUID]) -> dict[uuid.UUID, list]:
    """The items of a page of bookings, in one query."""
    by_booking: dict[uuid.UUID, list] = {}
    if booking_ids:
        rows = await session.execute(
            sa.select(booking_items)
            .where(booking_items.c.booking_id.in_(booking_ids))
            .order_by(booking_items.c.booking_id, booking_items.c.position)
        )
        for row in rows:
            by_booking.setdefault(row.booking_id, []).append(row)
    return by_booking


@router.get("/payments", response_model=AdminPage[PaymentOut], summary="Payments, newest first")
async def list_payments(
    session: SessionDep,
    page: PageParamsDep,
    status: PaymentStatus | None = None,
    booking_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    currency: Annotated[str | None, Query(pattern="^[A-Za-z]{3}$")] = None,
    total: TotalQuery = False,
):
    stmt = listings.payments_query(
        status=status, booking_id=booking_id, user_id=user_id, currency=currency
    )
    found = await paginate(session, stmt, listings.PAYMENTS_ORDER, page, descending=True)
    return page_response(
        AdminPage[PaymentOut](
            data=[PaymentOut.of(row) for row in found.data],
            next_cursor=found.next_cursor,
            total=await listings.count(session, stmt) if total else None,
        )
    )
