"""The pure rules, without servers: the state machine, references, passenger types,
pricing with fees and coupons in exact money, and the refund policy table."""

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from wayfare_booking.domain import coupons, passengers, references, refunds, states
from wayfare_booking.domain.pricing import FeeRule, PricedItem, PricingError, price
from wayfare_booking.domain.states import Status
from wayfare_booking.settings import Settings
from wayfare_common.money import Money


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


# The state machine

ALLOWED = {
    ("pending_payment", "confirmed"),
    ("pending_payment", "expired"),
    ("pending_payment", "cancelled"),
    ("confirmed", "completed"),
    ("confirmed", "cancelled"),
}


@pytest.mark.parametrize("current,target", list(itertools.product(Status, Status)))
def test_every_transition_is_allowed_or_refused(current, target):
    if (current, target) in ALLOWED:
        assert states.check(current, target) == target
    else:
        with pytest.raises(states.IllegalTransition):
            states.check(current, target)
        assert not states.can(current, target)


def test_closed_states_are_final():
    for status in (Status.EXPIRED, Status.CANCELLED, Status.COMPLETED):
        assert states.TRANSITIONS[status] == frozenset()


# References


def test_the_alphabet_has_no_look_alikes():
    assert len(references.ALPHABET) == 32 == len(set(references.ALPHABET))
    assert not set("0O1I") & set(references.ALPHABET)
    pattern = re.compile(r"^[A-HJ-NP-Z2-9]{6}$")  # the event catalog's pattern
    made = {references.new_reference() for _ in range(2000)}
    assert all(pattern.match(reference) for reference in made)
    assert len(made) > 1990  # random, not a counter
    assert references.is_reference("K7MX4P") and not references.is_reference("K7MX0P")


# Passengers


def test_age_and_type_on_the_travel_date():
    travel = date(2026, 7, 1)
    assert passengers.type_on(date(2014, 7, 1), travel) == "adult"  # 12 that day
    assert passengers.type_on(date(2014, 7, 2), travel) == "child"  # 12 the day after
    assert passengers.type_on(date(2024, 7, 1), travel) == "child"  # 2 that day
    assert passengers.type_on(date(2024, 7, 2), travel) == "infant"
    assert passengers.age_on(date(2012, 2, 29), date(2024, 2, 28)) == 11
    assert passengers.age_on(date(2012, 2, 29), date(2024, 2, 29)) == 12


def test_declared_types_must_match_and_births_precede_travel():
    travel = date(2026, 7, 1)
    with pytest.raises(passengers.PassengerRuleBroken) as err:
        passengers.classify([date(1990, 1, 1), date(2020, 1, 1)], [None, "adult"], travel)
    assert err.value.field == "passengers.1.type"
    with pytest.raises(passengers.PassengerRuleBroken):
        passengers.classify([date(2026, 7, 2)], [None], travel)
    types = passengers.classify([date(1990, 1, 1), date(2025, 1, 1)], ["adult", None], travel)
    assert passengers.party_of(types) == passengers.Party(1, 0, 1)


@pytest.mark.parametrize(
    "party",
    [passengers.Party(0, 2), passengers.Party(1, 0, 2), passengers.Party(5, 5)],
)
def test_parties_that_cannot_fly(party):
    with pytest.raises(passengers.PassengerRuleBroken):
        party.check()


def test_international_means_a_border_is_crossed():
    assert not passengers.is_international([("DE", "DE")])
    assert passengers.is_international([("DE", "DE"), ("DE", "AT")])


# Pricing and coupons

RULES = [
    FeeRule("service_fee", "booking", amount=eur("4.90")),
    FeeRule("passenger_fee", "passenger", amount=eur("1.50"), product_types=frozenset({"flight"})),
    FeeRule("usd_fee", "booking", amount=Money.of("3.00", "USD")),  # another currency: skipped
    FeeRule("handling", "percent", percent=Decimal(2), product_types=frozenset({"package"})),
]


def test_fees_by_rule_and_product_type():
    items = [PricedItem("flight", eur("200.15")), PricedItem("package", eur("10.25"))]
    breakdown = price(items, 3, RULES)
    assert breakdown.fee_lines == [
        ("service_fee", eur("4.90")),
        ("passenger_fee", eur("4.50")),
        ("handling", eur("0.21")),  # 2 % of 10.25 = 0.205 -> half up
    ]
    assert breakdown.base == eur("210.40")
    assert breakdown.fees == eur("9.61")
    assert breakdown.total == eur("220.01")
    flights_only = price([PricedItem("flight", eur("100.00"))], 1, RULES)
    assert [name for name, _ in flights_only.fee_lines] == ["service_fee", "passenger_fee"]


def test_mixed_currencies_are_refused():
    with pytest.raises(PricingError) as err:
        price(
            [PricedItem("flight", eur("1.00")), PricedItem("flight", Money.of("1", "JPY"))], 1, []
        )
    assert err.value.code == "mixed_currencies"


def terms(**overrides) -> coupons.CouponTerms:
    values = dict(code="C", kind="percent", percent=Decimal("12.5"))
    return coupons.CouponTerms(**{**values, **overrides})


def test_a_percent_coupon_rounds_half_up_and_splits_without_losing_a_cent():
    items = [PricedItem("flight", eur("33.33")), PricedItem("flight", eur("66.67"))]
    breakdown = price(items, 1, [], terms(percent=Decimal("12.5")))
    assert breakdown.discount == eur("12.50")
    assert sum(breakdown.item_discounts, eur("0")) == breakdown.discount
    assert breakdown.item_discounts == [eur("4.17"), eur("8.33")]
    odd = price([PricedItem("flight", eur("99.99"))], 1, [], terms(percent=Decimal("12.5")))
    assert odd.discount == eur("12.50")  # 12.49875 -> 12.50
    assert odd.total == eur("87.49")


def test_coupons_cover_only_their_product_types_and_never_more_than_the_base():
    items = [PricedItem("flight", eur("100.00")), PricedItem("package", eur("50.00"))]
    fixed = terms(
        kind="fixed",
        percent=None,
        amount=eur("80.00"),
        currency="EUR",
        product_types=frozenset({"package"}),
    )
    breakdown = price(items, 1, RULES, fixed)
    assert breakdown.discount == eur("50.00")
    assert breakdown.item_discounts == [eur("0.00"), eur("50.00")]
    assert breakdown.total == breakdown.base + breakdown.fees - eur("50.00")


NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "overrides,usage,reason",
    [
        ({"active": False}, coupons.CouponUsage(), coupons.INACTIVE),
        ({"valid_from": NOW + timedelta(seconds=1)}, coupons.CouponUsage(), coupons.NOT_YET_VALID),
        ({"valid_until": NOW}, coupons.CouponUsage(), coupons.EXPIRED),
        ({"currency": "USD"}, coupons.CouponUsage(), coupons.CURRENCY),
        ({"product_types": frozenset({"package"})}, coupons.CouponUsage(), coupons.PRODUCT_TYPE),
        (
            {"minimum": eur("100.01"), "currency": "EUR"},
            coupons.CouponUsage(),
            coupons.MINIMUM_NOT_MET,
        ),
        ({"max_uses": 3}, coupons.CouponUsage(total=3), coupons.EXHAUSTED),
        ({"max_uses_per_customer": 1}, coupons.CouponUsage(1, 1), coupons.CUSTOMER_LIMIT),
        (
            {"minimum": eur("100.00"), "currency": "EUR", "max_uses": 4},
            coupons.CouponUsage(3, 2),
            None,
        ),
    ],
)
def test_why_a_coupon_does_not_apply(overrides, usage, reason):
    breakdown = price([PricedItem("flight", eur("100.00"))], 1, [], terms(**overrides), usage, NOW)
    assert breakdown.coupon.reason == reason
    assert breakdown.coupon.applied == (reason is None)
    assert breakdown.discount == (eur("12.50") if reason is None else eur("0.00"))


# Refunds

POLICY = refunds.RefundPolicy()


def flight(refundable: bool, hours: float, net: str = "200.00") -> refunds.RefundItem:
    return refunds.RefundItem(
        "flight", eur(net), refundable=refundable, departs_at=NOW + timedelta(hours=hours)
    )


def package(days: int, net: str = "1000.00") -> refunds.RefundItem:
    return refunds.RefundItem("package", eur(net), starts_on=NOW.date() + timedelta(days=days))


@pytest.mark.parametrize(
    "item,rule,refund",
    [
        (flight(True, 2), "refundable_fare", "200.00"),
        (flight(False, 24), "non_refundable_fare", "100.00"),
        (flight(False, 23.99), "non_refundable_fare_within_24h", "0.00"),
        (flight(False, -1), "non_refundable_fare_within_24h", "0.00"),
        (package(30), "package_30_days_or_more", "1000.00"),
        (package(29), "package_14_days_or_more", "500.00"),
        (package(13), "package_7_days_or_more", "250.00"),
        (package(6), "package_0_days_or_more", "0.00"),
        (flight(False, 48, "0.03"), "non_refundable_fare", "0.02"),  # 0.015 -> half up
    ],
)
def test_the_refund_table(item, rule, refund):
    quote = refunds.quote([item], eur("5.00"), eur("100000.00"), POLICY, NOW)
    assert quote.lines[0].rule == rule
    assert quote.refund == eur(refund)  # fees retained


def test_refunds_add_up_items_keep_fees_and_never_exceed_the_balance():
    items = [flight(True, 48), package(40)]
    quote = refunds.quote(items, eur("9.80"), eur("1209.80"), POLICY, NOW)
    assert quote.refund == eur("1200.00")
    assert quote.retained == eur("9.80")
    capped = refunds.quote(items, eur("9.80"), eur("300.00"), POLICY, NOW)
    assert capped.refund == eur("300.00") and capped.retained == eur("0.00")
    unpaid = refunds.quote(items, eur("9.80"), eur("0.00"), POLICY, NOW)
    assert unpaid.refund == eur("0.00")
    generous = refunds.RefundPolicy(fees_refundable=True)
    assert refunds.quote(items, eur("9.80"), eur("1209.80"), generous, NOW).refund == eur("1209.80")
    waived = refunds.quote([flight(False, 1)], eur("9.80"), eur("209.80"), POLICY, NOW, waive=True)
    assert waived.refund == eur("209.80") and waived.waived


def test_the_policy_and_fees_come_from_settings(monkeypatch):
    monkeypatch.setenv(
        "BOOKING_REFUND_POLICY",
        '{"cutoff_hours": 48, "non_refundable_percent": "12.5", '
        '"package_tiers": [{"min_days": 60, "percent": 80}, {"min_days": 0, "percent": 0}]}',
    )
    monkeypatch.setenv(
        "BOOKING_FEE_RULES",
        '[{"name": "flat", "per": "booking", "amount": {"amount": "2.00", "currency": "EUR"}}]',
    )
    settings = Settings()
    policy = settings.refund_policy.policy()
    assert refunds.item_rule(flight(False, 47), policy, NOW)[1] == 0
    assert refunds.item_rule(flight(False, 48), policy, NOW)[1] == Decimal("12.5")
    assert refunds.item_rule(package(59), policy, NOW) == ("package_0_days_or_more", 0)
    assert [rule.name for rule in settings.fee_rule_list()] == ["flat"]
    monkeypatch.setenv("BOOKING_FEE_RULES", '[{"name": "bad", "per": "percent"}]')
    with pytest.raises(ValueError):
        Settings()
