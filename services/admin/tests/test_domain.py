"""The pure rules: projections end in the same state whatever order the events come in,
and the dashboard's periods."""

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from wayfare_admin.domain import bookings, payments
from wayfare_admin.domain.periods import InvalidRange, make_range, period_start, ratio
from wayfare_admin.domain.stamps import Stamp

from admin_support import Booking, failed, flight_item, paid, refunded

T0 = datetime(2025, 6, 1, 10, tzinfo=UTC)


def fold(rules, view=None):
    for rule, event, stamp in rules:
        view = rule(view, event, stamp)
    return view


def stamp(minutes: int) -> Stamp:
    return Stamp(uuid.uuid4(), T0 + timedelta(minutes=minutes))


def test_a_booking_ends_the_same_whatever_the_order():
    b = Booking([flight_item(uuid.uuid4(), seats=2)], amount="250.00")
    steps = [
        (bookings.on_created, b.created(), stamp(0)),
        (bookings.on_confirmed, b.confirmed(), stamp(5)),
        (bookings.on_cancelled, b.cancelled("100.00"), stamp(60)),
    ]
    results = {fold(order) for order in itertools.permutations(steps)}
    assert len(results) == 1
    [view] = results
    assert view.status == "cancelled"
    assert (view.created_at, view.confirmed_at, view.cancelled_at) == (
        T0,
        T0 + timedelta(minutes=5),
        T0 + timedelta(minutes=60),
    )
    assert (view.amount_minor, view.currency, view.refund_minor) == (25000, "EUR", 10000)
    assert view.items[0].seats == 2
    assert view.listed_at == T0

    # A confirmation does not bring an expired booking back, even one that came later.
    expired = fold([(bookings.on_expired, b.expired(), stamp(30))])
    assert fold([(bookings.on_confirmed, b.confirmed(), stamp(40))], expired).status == "expired"


def test_completed_alone_is_a_partial_row_that_created_completes():
    b = Booking([flight_item(uuid.uuid4())], amount="99.00")
    partial = fold([(bookings.on_completed, b.completed(), stamp(100))])
    assert (partial.status, partial.reference, partial.created_at) == ("completed", None, None)
    assert partial.listed_at == T0 + timedelta(minutes=100)
    assert partial.items == ()
    full = fold([(bookings.on_created, b.created(), stamp(0))], partial)
    assert (full.status, full.reference, full.listed_at) == ("completed", b.reference, T0)
    assert len(full.items) == 1


def test_a_payment_ends_the_same_whatever_the_order():
    payment = uuid.uuid4()

    def refund(view, event, at):
        return payments.on_refunded(view, event, at)[0]

    steps = [
        (payments.on_failed, failed(payment), stamp(0)),
        (payments.on_succeeded, paid(payment, "80.00", "EUR"), stamp(1)),
        (refund, refunded(payment, "30.00", "EUR"), stamp(10)),
        (refund, refunded(payment, "50.00", "EUR"), stamp(20)),
    ]
    results = {fold(order) for order in itertools.permutations(steps)}
    assert len(results) == 1
    [view] = results
    assert (view.status, view.captured_minor, view.refunded_minor) == ("refunded", 8000, 8000)
    partly = fold(steps[:3])
    assert partly.status == "partially_refunded"


@pytest.mark.parametrize(
    ("day", "granularity", "start"),
    [
        (date(2025, 6, 29), "week", date(2025, 6, 23)),  # Sunday: the Monday before
        (date(2025, 6, 30), "week", date(2025, 6, 30)),  # Monday: itself
        (date(2025, 1, 1), "week", date(2024, 12, 30)),  # ISO week across the year
        (date(2025, 2, 28), "month", date(2025, 2, 1)),
        (date(2024, 2, 29), "day", date(2024, 2, 29)),
    ],
)
def test_period_start(day, granularity, start):
    assert period_start(day, granularity) == start


def test_ranges_and_ratios():
    weeks = make_range(date(2025, 6, 25), date(2025, 7, 7), "week", today=date(2025, 7, 7))
    assert weeks.periods() == [date(2025, 6, 23), date(2025, 6, 30), date(2025, 7, 7)]
    assert weeks.end == datetime(2025, 7, 8, tzinfo=UTC)
    months = make_range(date(2024, 12, 31), date(2025, 2, 1), "month", today=date(2025, 7, 7))
    assert months.periods() == [date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)]
    default = make_range(None, None, "day", today=date(2025, 7, 7))
    assert (default.first, default.last, len(default.periods())) == (
        date(2025, 6, 8),
        date(2025, 7, 7),
        30,
    )
    with pytest.raises(InvalidRange):
        make_range(date(2025, 7, 2), date(2025, 7, 1), "day", today=date(2025, 7, 7))
    assert (ratio(1, 7), ratio(1, 8), ratio(2, 3), ratio(0, 5), ratio(0, 0)) == (
        "0.1429",
        "0.1250",
        "0.6667",
        "0.0000",
        None,
    )
