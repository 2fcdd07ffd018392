"""Coupons and their redemptions (reserved -> redeemed, or released)."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_booking.domain.coupons import CouponTerms, CouponUsage
from wayfare_booking.store.models import Coupon, CouponRedemption
from wayfare_common.money import Money
from wayfare_common.pagination import Page, PageParams, paginate

COUNTED = ("reserved", "redeemed")


def normalise(code: str) -> str:
    return code.strip().upper()


async def by_code(session: AsyncSession, code: str, *, lock: bool = False) -> Coupon | None:
    stmt = sa.select(Coupon).where(Coupon.code == normalise(code))
    if lock:  # the last use of a coupon goes to one booking only
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def get(session: AsyncSession, coupon_id: uuid.UUID) -> Coupon | None:
    return await session.get(Coupon, coupon_id)


async def page_of(session: AsyncSession, page: PageParams) -> Page:
    return await paginate(
        session, sa.select(Coupon), [Coupon.created_at, Coupon.id], page, descending=True
    )


def terms(coupon: Coupon) -> CouponTerms:
    currency = coupon.currency
    return CouponTerms(
        code=coupon.code,
        kind=coupon.kind,
        percent=Decimal(coupon.percent_bp) / 100 if coupon.percent_bp is not None else None,
        amount=Money(coupon.amount_minor, currency) if coupon.amount_minor is not None else None,
        currency=currency,
        minimum=Money(coupon.minimum_minor, currency) if coupon.minimum_minor is not None else None,
        valid_from=coupon.valid_from,
        valid_until=coupon.valid_until,
        max_uses=coupon.max_uses,
        max_uses_per_customer=coupon.max_uses_per_customer,
        product_types=frozenset(coupon.product_types),
        active=coupon.active,
    )


async def usage(session: AsyncSession, coupon_id: uuid.UUID, user_id: uuid.UUID) -> CouponUsage:
    counted = sa.and_(CouponRedemption.coupon_id == coupon_id, CouponRedemption.status.in_(COUNTED))
    row = (
        await session.execute(
            sa.select(
                sa.func.count(),
                sa.func.count().filter(CouponRedemption.user_id == user_id),
            ).where(counted)
        )
    ).one()
    return CouponUsage(total=row[0], by_customer=row[1])


async def counts(session: AsyncSession, coupon_id: uuid.UUID) -> dict[str, int]:
    rows = await session.execute(
        sa.select(CouponRedemption.status, sa.func.count())
        .where(CouponRedemption.coupon_id == coupon_id)
        .group_by(CouponRedemption.status)
    )
    found = {status: number for status, number in rows}
    return {status: found.get(status, 0) for status in ("reserved", "redeemed", "released")}


def reserve(
    session: AsyncSession,
    coupon: Coupon,
    booking_id: uuid.UUID,
    user_id: uuid.UUID,
    discount: Money,
    now: datetime,
) -> None:
    session.add(
        CouponRedemption(
            id=uuid.uuid4(),
            coupon_id=coupon.id,
            booking_id=booking_id,
            user_id=user_id,
            status="reserved",
            discount_minor=discount.minor,
            currency=discount.currency,
            created_at=now,
            updated_at=now,
        )
    )


async def settle(session: AsyncSession, booking_id: uuid.UUID, status: str) -> None:
    """A booking's reserved use becomes `redeemed` (confirmed) or `released` (expired,
    or cancelled before payment). A redeemed use stays counted."""
    await session.execute(
        sa.update(CouponRedemption)
        .where(CouponRedemption.booking_id == booking_id, CouponRedemption.status == "reserved")
        .values(status=status, updated_at=datetime.now(UTC))
    )
