"""How much a cancellation refunds: a policy table (settings-driven) applied item by item
to what the customer paid for that item (its price less its share of the discount).

| item                 | when                                  | refund of the item      |
|----------------------|---------------------------------------|-------------------------|
| flight, refundable   | any time before departure             | `refundable_percent`    |
| flight, non-refund.  | `cutoff_hours` or more before         | `non_refundable_percent`|
| flight, non-refund.  | less than `cutoff_hours` before       | 0                       |
| package              | days before the start, by tier        | the tier's percent      |
| service fees         | always                                | retained, unless `fees_refundable` |

Staff may waive the policy (an operational cancellation): everything paid comes back.
Nothing is ever refunded beyond what was paid and not refunded yet."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from wayfare_common.money import Money


@dataclass(frozen=True)
class PackageTier:
    min_days: int  # this many days or more before the start
    percent: Decimal


@dataclass(frozen=True)
class RefundPolicy:
    refundable_percent: Decimal = Decimal(100)
    cutoff_hours: int = 24
    non_refundable_percent: Decimal = Decimal(50)
    package_tiers: tuple[PackageTier, ...] = (
        PackageTier(30, Decimal(100)),
        PackageTier(14, Decimal(50)),
        PackageTier(7, Decimal(25)),
        PackageTier(0, Decimal(0)),
    )
    fees_refundable: bool = False


@dataclass(frozen=True)
class RefundItem:
    type: str  # "flight" | "package"
    net: Money  # what was paid for it: price less its discount share
    refundable: bool = False  # the fare's condition (flights)
    departs_at: datetime | None = None  # flights: first departure
    starts_on: date | None = None  # packages: first day


@dataclass(frozen=True)
class RefundLine:
    item: int
    type: str
    rule: str
    percent: Decimal
    basis: Money
    refund: Money


@dataclass(frozen=True)
class RefundQuote:
    refund: Money
    retained: Money
    fees_refunded: Money
    lines: list[RefundLine] = field(default_factory=list)
    waived: bool = False


def item_rule(item: RefundItem, policy: RefundPolicy, now: datetime) -> tuple[str, Decimal]:
    if item.type == "flight":
        if item.refundable:
            return "refundable_fare", policy.refundable_percent
        if item.departs_at - now >= timedelta(hours=policy.cutoff_hours):
            return "non_refundable_fare", policy.non_refundable_percent
        return f"non_refundable_fare_within_{policy.cutoff_hours}h", Decimal(0)
    days = (item.starts_on - now.date()).days
    for tier in sorted(policy.package_tiers, key=lambda tier: -tier.min_days):
        if days >= tier.min_days:
            return f"package_{tier.min_days}_days_or_more", tier.percent
    return "package_late", Decimal(0)


def quote(
    items: list[RefundItem],
    fees: Money,
    refundable_balance: Money,
    policy: RefundPolicy,
    now: datetime,
    *,
    waive: bool = False,
) -> RefundQuote:
    """`refundable_balance`: paid and not refunded yet (zero while unpaid)."""
    zero = Money.zero(refundable_balance.currency)
    if waive:
        return RefundQuote(refundable_balance, zero, fees, [], waived=True)
    lines = []
    for index, item in enumerate(items):
        rule, percent = item_rule(item, policy, now)
        lines.append(
            RefundLine(index, item.type, rule, percent, item.net, item.net.percent(percent))
        )
    fees_refunded = fees if policy.fees_refundable else zero
    wanted = sum((line.refund for line in lines), zero) + fees_refunded
    refund = min(wanted, refundable_balance)
    return RefundQuote(refund, refundable_balance - refund, fees_refunded, lines)
