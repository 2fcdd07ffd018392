"""`GET /api/v1/flights/search`: public, the hot path (DESIGN §8). A repeat of a recent
search is answered from the replica's SearchCache; otherwise one read of the precomputed
itineraries (plain asyncpg on PostgreSQL, prepared), integer pricing, and the page rendered
straight to JSON bytes (usecases.search)."""

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from wayfare_common.events.catalog import Cabin
from wayfare_common.money import Money
from wayfare_common.pagination import MAX_LIMIT
from wayfare_flight.api.errors import invalid
from wayfare_flight.api.schemas import OfferPage
from wayfare_flight.domain.airports import lookup, resolve, zone
from wayfare_flight.domain.fares import CURRENCY, Party
from wayfare_flight.domain.schedule import epoch_minute
from wayfare_flight.store.search import CandidateQuery
from wayfare_flight.usecases import search as searching

router = APIRouter(tags=["flights"])
MAX_DAYS_AHEAD = 366


@router.get(
    "/api/v1/flights/search",
    summary="Search direct flights and one-stop connections",
    response_model=OfferPage,
    responses={422: {"description": "Unknown airport, past date, or a party of 0 or more than 9"}},
)
async def search_flights(
    request: Request,
    origin: Annotated[
        str,
        Query(
            pattern="^[A-Za-z]{3}$", description="IATA airport or city code (LON)", examples=["LHR"]
        ),
    ],
    destination: Annotated[str, Query(pattern="^[A-Za-z]{3}$", examples=["JFK"])],
    day: Annotated[date, Query(alias="date", description="Local date of departure at the origin")],
    adults: Annotated[int, Query(ge=0, le=9)] = 1,
    children: Annotated[
        int, Query(ge=0, le=9, description="Aged 2 to 11: 75% of the adult fare")
    ] = 0,
    infants: Annotated[
        int, Query(ge=0, le=9, description="Under 2, on a lap: 10% of the adult fare")
    ] = 0,
    cabin: Cabin = "economy",
    sort: Literal["price", "departure", "duration"] = "price",
    max_stops: Annotated[int, Query(ge=0, le=1)] = 1,
    carriers: Annotated[
        str | None,
        Query(
            pattern="^[A-Za-z0-9]{2}(,[A-Za-z0-9]{2})*$",
            description="Comma-separated IATA carrier codes",
            examples=["LH,BA"],
        ),
    ] = None,
    depart_after: Annotated[time | None, Query(description="Earliest local departure time")] = None,
    depart_before: Annotated[time | None, Query(description="Latest local departure time")] = None,
    max_price: Annotated[
        str | None, Query(description="Most the whole party pays, in EUR", examples=["450.00"])
    ] = None,
    limit: Annotated[int, Query(ge=1, description=f"Page size, capped at {MAX_LIMIT}")] = 20,
    cursor: str | None = None,
) -> Response:
    errors: list[tuple[str, str]] = []
    origins = resolve(origin)
    destinations = resolve(destination)
    if origins is None:
        errors.append(("query.origin", f"{origin.upper()} is not a known airport or city code"))
    if destinations is None:
        errors.append(
            ("query.destination", f"{destination.upper()} is not a known airport or city code")
        )
    if origins and destinations and set(origins) & set(destinations):
        errors.append(("query.destination", "origin and destination are the same place"))
    party = Party(adults, children, infants)
    errors += [(f"query.{field}", message) for field, message in party.problems()]
    tz = zone(lookup(origins[0]).time_zone) if origins else None
    if tz is not None:
        today = datetime.now(tz).date()
        if day < today:
            errors.append(
                ("query.date", f"{day} is in the past at {origin.upper()} (today is {today})")
            )
        elif day > today + timedelta(days=MAX_DAYS_AHEAD):
            errors.append(("query.date", f"flights are sold at most {MAX_DAYS_AHEAD} days ahead"))
    price_cap = None
    if max_price is not None:
        try:
            price_cap = Money.of(max_price, CURRENCY).minor
        except ValueError as err:
            errors.append(("query.max_price", str(err)))
    if errors:
        raise invalid(errors)

    after = depart_after or time(0)
    start = datetime.combine(day, after, tzinfo=tz)
    end = (
        datetime.combine(day, depart_before, tzinfo=tz)
        if depart_before
        else datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    )
    query = CandidateQuery(
        origins=list(origins),
        destinations=list(destinations),
        day=day,
        cabin=cabin,
        seats=party.seated,
        first_minute=epoch_minute(start),
        last_minute=epoch_minute(end) - (0 if depart_before else 1),
        carriers=sorted({c.upper() for c in carriers.split(",")}) if carriers else None,
        connections=max_stops >= 1,
    )
    body = await searching.run(
        searching.Search(query, party, sort, price_cap, limit, cursor),
        pool=request.app.state.search_pool,
        engine=request.app.state.database.engine,
        cache=request.app.state.search_cache,
    )
    return Response(body, media_type="application/json")
