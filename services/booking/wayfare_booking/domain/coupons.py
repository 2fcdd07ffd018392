"""Coupon rules: a percentage or a fixed amount off the base price of the items it
covers, within a validity window, above a minimum, within total and per-customer limits.

Uses are counted from redemptions: one is *reserved* when a booking is created with the
coupon, becomes *redeemed* when the booking is confirmed, and is *released* when a
pending booking expires or is cancelled. Reserved and redeemed uses count against the
limits, so two customers cannot both take the last use while paying."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from wayfare_common.money import Money

# Why a coupon does not apply; stable strings that clients may switch on.
INACTIVE = "inactive"
NOT_YET_VALID = "not_yet_valid"
EXPIRED = "expired"
CURRENCY = "currency"
PRODUCT_TYPE = "product_type"
MINIMUM_NOT_MET = "minimum_not_met"
EXHAUSTED = "exhausted"
CUSTOMER_LIMIT = "customer_limit"


@dataclass(frozen=True)
class CouponTerms:
    code: str
    kind: Literal["percent", "fixed"]
    percent: Decimal | None = None  # 12.5 is 12.5 %
    amount: Money | None = None  # for "fixed"
    currency: str | None = None  # "fixed" coupons always have one; "percent" may
    minimum: Money | None = None  # of the covered items' base
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_uses: int | None = None
    max_uses_per_customer: int | None = None
    product_types: frozenset[str] = frozenset({"flight", "package"})
    active: bool = True


@dataclass(frozen=True)
class CouponUsage:
    total: int = 0  # reserved or redeemed, by everyone
    by_customer: int = 0  # reserved or redeemed, by this customer


def static_problem(
    terms: CouponTerms,
    usage: CouponUsage,
    *,
    now: datetime | None,
    currency: str,
    product_types: set[str],
) -> str | None:
    """Why the coupon cannot apply whatever the prices are (None: it may), so that a
    booking can be refused before any seat is held."""
    if not terms.active:
        return INACTIVE
    if now is not None:
        if terms.valid_from is not None and now < terms.valid_from:
            return NOT_YET_VALID
        if terms.valid_until is not None and now >= terms.valid_until:
            return EXPIRED
    if terms.currency is not None and terms.currency != currency:
        return CURRENCY
    if not terms.product_types & product_types:
        return PRODUCT_TYPE
    if terms.max_uses is not None and usage.total >= terms.max_uses:
        return EXHAUSTED
    if terms.max_uses_per_customer is not None and usage.by_customer >= terms.max_uses_per_customer:
        return CUSTOMER_LIMIT
    return None


def coupon_problem(
    terms: CouponTerms,
    usage: CouponUsage,
    *,
    now: datetime | None,
    currency: str,
    product_types: set[str],
    eligible_base: Money,
) -> str | None:
    """None when the coupon applies to these prices, else why not (the first reason)."""
    reason = static_problem(terms, usage, now=now, currency=currency, product_types=product_types)
    if reason is None and terms.minimum is not None and eligible_base < terms.minimum:
        return MINIMUM_NOT_MET
    return reason


def discount_for(terms: CouponTerms, eligible_base: Money) -> Money:
    """Never more than the covered base: a coupon cannot make anything negative."""
    if terms.kind == "percent":
        return min(eligible_base.percent(terms.percent), eligible_base)
    return min(terms.amount, eligible_base)
