"""GET /api/v1/admin/dashboard: revenue, bookings, cancellation rate, top routes and
packages, new users, for a range of days, per period. Every figure is counted by SQL
over the read models on each request (store/dashboard.py); this module lays them out,
filling periods without activity with zeros."""

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from wayfare_admin.api.deps import ADMIN_ONLY, PREFIX
from wayfare_admin.api.schemas import (
    DashboardOut,
    PackageOut,
    PeriodOut,
    RevenueOut,
    RouteOut,
    TotalsOut,
)
from wayfare_admin.domain.bookings import STATUSES
from wayfare_admin.domain.periods import Granularity, InvalidRange, make_range, ratio
from wayfare_admin.store import dashboard as figures
from wayfare_common.api import SessionDep
from wayfare_common.money import Money
from wayfare_common.problems import Problem

router = APIRouter(prefix=PREFIX, tags=["admin: dashboard"], dependencies=ADMIN_ONLY)


@router.get(
    "/dashboard",
    response_model=DashboardOut,
    summary="Revenue and booking figures for a range of days",
    description="`from` and `to` are UTC days, both included (default: the 30 days up to "
    "today). Periods are days, ISO weeks (Monday first) or calendar months, named by their "
    "first day; a period that straddles the range counts only what is inside it.",
)
async def dashboard(
    session: SessionDep,
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
    granularity: Granularity = "day",
    top: Annotated[int, Query(ge=1, le=50, description="How many routes and packages")] = 5,
):
    try:
        days = make_range(first, last, granularity, today=datetime.now(UTC).date())
    except InvalidRange as exc:
        raise Problem(str(exc), status=422, code="invalid_range") from None
    window = figures.Window(days.start, days.end, granularity)

    captured = await figures.captured(session, window)
    refunded = await figures.refunded(session, window)
    by_status = await figures.bookings_by_status(session, window)
    users = dict(await figures.new_users(session, window))

    money_in: dict[tuple[date, str], int] = defaultdict(int)
    money_out: dict[tuple[date, str], int] = defaultdict(int)
    for period, currency, minor in captured:
        money_in[period, currency] += minor
    for period, currency, minor in refunded:
        money_out[period, currency] += minor
    currencies = sorted({currency for _, currency in (*money_in, *money_out)})
    bookings: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    for period, status, count in by_status:
        bookings[period][status] += count

    periods = [
        PeriodOut(
            start=period,
            revenue=[
                _revenue(currency, money_in[period, currency], money_out[period, currency])
                for currency in currencies
            ],
            bookings=bookings[period],
            new_users=users.get(period, 0),
        )
        for period in days.periods()
    ]
    status_totals = dict.fromkeys(STATUSES, 0)
    for _, status, count in by_status:
        status_totals[status] += count
    decided = status_totals["confirmed"] + status_totals["completed"] + status_totals["cancelled"]
    totals = TotalsOut(
        revenue=[
            _revenue(
                currency,
                sum(v for (_, c), v in money_in.items() if c == currency),
                sum(v for (_, c), v in money_out.items() if c == currency),
            )
            for currency in currencies
        ],
        bookings=status_totals,
        bookings_created=sum(status_totals.values()),
        cancellation_rate=ratio(status_totals["cancelled"], decided),
        new_users=sum(users.values()),
    )
    routes = await figures.top_routes(session, window, top)
    packages = await figures.top_packages(session, window, top)
    return DashboardOut(
        from_=days.first,
        to=days.last,
        granularity=granularity,
        periods=periods,
        totals=totals,
        top_routes=[RouteOut(**row._mapping) for row in routes],
        routes_unlabelled=await figures.unlabelled_route_bookings(session, window),
        top_packages=[PackageOut(**row._mapping) for row in packages],
    )


def _revenue(currency: str, captured: int, refunded: int) -> RevenueOut:
    return RevenueOut(
        currency=currency,
        captured=Money(captured, currency),
        refunded=Money(refunded, currency),
        net=Money(captured - refunded, currency),
    )
