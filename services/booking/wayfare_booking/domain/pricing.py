"""What a booking costs: the fares (priced by the flight service), our service fees by
configurable rules, and a coupon discount, in exact integer minor units.

    base     = sum of the items' prices (for all their passengers)
    fees     = sum of the fee rules that apply
    discount = the coupon's, on the base of the items it covers (never on fees)
    total    = base + fees - discount
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from wayfare_booking.domain.coupons import CouponTerms, CouponUsage, coupon_problem, discount_for
from wayfare_common.money import Money

ProductType = Literal["flight", "package"]
PRODUCT_TYPES: frozenset[str] = frozenset({"flight", "package"})


class PricingError(ValueError):
    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class FeeRule:
    """`per` "booking" (once) or "passenger" (each passenger) charges `amount` in its own
    currency only, so rules for several currencies can sit side by side; "percent" charges
    `percent` of the base of the items of `product_types`. A rule applies when the
    booking has an item of one of its `product_types`."""

    name: str
    per: Literal["booking", "passenger", "percent"]
    amount: Money | None = None
    percent: Decimal | None = None
    product_types: frozenset[str] = PRODUCT_TYPES

    def charge(self, items: list["PricedItem"], passengers: int, currency: str) -> Money | None:
        matching = [item for item in items if item.type in self.product_types]
        if not matching:
            return None
        if self.per == "percent":
            base = sum((item.price for item in matching), Money.zero(currency))
            return base.percent(self.percent)
        if self.amount.currency != currency:
            return None
        return self.amount * (passengers if self.per == "passenger" else 1)


@dataclass(frozen=True)
class PricedItem:
    type: ProductType
    price: Money  # for all the item's passengers


@dataclass(frozen=True)
class CouponOutcome:
    code: str
    applied: bool
    reason: str | None = None  # why it does not apply


@dataclass(frozen=True)
class PriceBreakdown:
    base: Money
    fees: Money
    discount: Money
    total: Money
    fee_lines: list[tuple[str, Money]] = field(default_factory=list)
    item_discounts: list[Money] = field(default_factory=list)  # the discount's share per item
    coupon: CouponOutcome | None = None

    @property
    def currency(self) -> str:
        return self.total.currency


def currency_of(items: list[PricedItem]) -> str:
    currencies = {item.price.currency for item in items}
    if len(currencies) != 1:
        raise PricingError(
            "mixed_currencies", f"the items are priced in several currencies: {sorted(currencies)}"
        )
    return currencies.pop()


def price(
    items: list[PricedItem],
    passengers: int,
    rules: list[FeeRule],
    coupon: CouponTerms | None = None,
    usage: CouponUsage | None = None,
    now=None,
) -> PriceBreakdown:
    """The whole breakdown. A coupon that does not apply is reported in `coupon` (with
    the reason) and discounts nothing; whether that is an error is the caller's choice."""
    if not items:
        raise PricingError("no_items", "a booking has at least one item")
    currency = currency_of(items)
    zero = Money.zero(currency)
    base = sum((item.price for item in items), zero)
    fee_lines = []
    for rule in rules:
        charged = rule.charge(items, passengers, currency)
        if charged is not None and charged.minor > 0:
            fee_lines.append((rule.name, charged))
    fees = sum((amount for _, amount in fee_lines), zero)

    discount, shares, outcome = zero, [zero] * len(items), None
    if coupon is not None:
        eligible = [i for i, item in enumerate(items) if item.type in coupon.product_types]
        eligible_base = sum((items[i].price for i in eligible), zero)
        reason = coupon_problem(
            coupon,
            usage or CouponUsage(),
            now=now,
            currency=currency,
            product_types={item.type for item in items},
            eligible_base=eligible_base,
        )
        if reason is None:
            discount = discount_for(coupon, eligible_base)
            if discount.minor:
                split = discount.allocate([items[i].price.minor for i in eligible])
                for index, share in zip(eligible, split, strict=True):
                    shares[index] = share
        outcome = CouponOutcome(coupon.code, reason is None, reason)
    return PriceBreakdown(
        base=base,
        fees=fees,
        discount=discount,
        total=base + fees - discount,
        fee_lines=fee_lines,
        item_discounts=shares,
        coupon=outcome,
    )
