"""Coupons, managed by staff."""

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from wayfare_booking.api.schemas import CouponChange, CouponIn, CouponOut, CouponPage
from wayfare_booking.api.views import coupon_json
from wayfare_booking.store import coupons as store
from wayfare_booking.store.models import Coupon
from wayfare_common.api import SessionDep
from wayfare_common.pagination import PageParamsDep
from wayfare_common.problems import Conflict, NotFound, Problem
from wayfare_common.security import AdminDep

router = APIRouter(prefix="/api/v1/coupons", tags=["coupons"])


def _not_found() -> NotFound:
    return NotFound("There is no such coupon.", code="coupon_not_found")


COUPON_NOT_FOUND = {404: {"description": "No such coupon (`coupon_not_found`)"}}


@router.post(
    "",
    status_code=201,
    response_model=CouponOut,
    summary="Staff: create a coupon",
    responses={409: {"description": "The code is taken (`coupon_code_taken`)"}},
)
async def create_coupon(body: CouponIn, admin: AdminDep, session: SessionDep) -> JSONResponse:
    now = datetime.now(UTC)
    coupon = Coupon(
        id=uuid.uuid4(),
        code=store.normalise(body.code),
        description=body.description,
        kind=body.kind,
        percent_bp=int(body.percent * 100) if body.percent is not None else None,
        amount_minor=body.amount.minor if body.amount else None,
        currency=body.currency,
        minimum_minor=body.minimum.minor if body.minimum else None,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        max_uses=body.max_uses,
        max_uses_per_customer=body.max_uses_per_customer,
        product_types=sorted(set(body.product_types)),
        active=body.active,
        created_by=_uuid_or_none(admin.user_id),
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin():
            session.add(coupon)
    except IntegrityError:
        raise Conflict(f"Coupon {coupon.code} exists.", code="coupon_code_taken") from None
    return JSONResponse(coupon_json(coupon, await store.counts(session, coupon.id)), 201)


@router.get("", response_model=CouponPage, summary="Staff: coupons, newest first")
async def list_coupons(_admin: AdminDep, session: SessionDep, page: PageParamsDep) -> JSONResponse:
    found = await store.page_of(session, page)
    data = [coupon_json(c, await store.counts(session, c.id)) for c in found.data]
    return JSONResponse({"data": data, "next_cursor": found.next_cursor})


@router.get(
    "/{coupon_id}",
    response_model=CouponOut,
    summary="Staff: a coupon and its uses",
    responses=COUPON_NOT_FOUND,
)
async def get_coupon(coupon_id: uuid.UUID, _admin: AdminDep, session: SessionDep) -> JSONResponse:
    coupon = await store.get(session, coupon_id)
    if coupon is None:
        raise _not_found()
    return JSONResponse(coupon_json(coupon, await store.counts(session, coupon.id)))


@router.patch(
    "/{coupon_id}",
    response_model=CouponOut,
    summary="Staff: change limits, window, state",
    responses=COUPON_NOT_FOUND,
)
async def change_coupon(
    coupon_id: uuid.UUID, body: CouponChange, _admin: AdminDep, session: SessionDep
) -> JSONResponse:
    async with session.begin():
        coupon = await store.get(session, coupon_id)
        if coupon is None:
            raise _not_found()
        for name, value in body.model_dump(exclude_unset=True).items():
            setattr(coupon, name, value)
        if coupon.valid_from and coupon.valid_until and coupon.valid_until <= coupon.valid_from:
            raise Problem(
                "valid_until must be after valid_from.", status=422, code="validation_error"
            )
        coupon.updated_at = datetime.now(UTC)
    return JSONResponse(coupon_json(coupon, await store.counts(session, coupon.id)))


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
