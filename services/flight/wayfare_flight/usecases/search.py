"""A flight search, from validated parameters to the JSON page: one query, integer
pricing, a stable order, a keyset page, orjson. Used by the route and by bench/search.py."""

from dataclasses import dataclass

import orjson

from wayfare_common.pagination import MAX_LIMIT, decode_cursor, encode_cursor, invalid_cursor
from wayfare_flight.domain.fares import Party
from wayfare_flight.domain.search import build_offers, offer_json
from wayfare_flight.store.search import (
    CandidateQuery,
    fetch_candidates_core,
    fetch_candidates_postgres,
)


@dataclass(frozen=True, slots=True)
class Search:
    query: CandidateQuery
    party: Party
    sort: str = "price"
    max_price: int | None = None
    limit: int = 20
    cursor: str | None = None


async def run(search: Search, *, pool=None, engine=None) -> bytes:
    """The page as JSON bytes. `pool` (asyncpg, PostgreSQL) or `engine` (SQLAlchemy)."""
    if pool is not None:
        rows = await fetch_candidates_postgres(pool, search.query)
    else:
        async with engine.connect() as connection:
            rows = await fetch_candidates_core(connection, search.query)
    sort = search.sort
    offers = build_offers(rows, search.query.cabin, search.party, search.max_price)
    offers.sort(key=lambda offer: offer.sort_key(sort))
    if search.cursor is not None:
        values = decode_cursor(search.cursor)
        if len(values) != 5 or values[0] != sort:
            raise invalid_cursor()
        last = tuple(values[1:])
        offers = [offer for offer in offers if offer.sort_key(sort) > last]
    size = min(search.limit, MAX_LIMIT)
    page = offers[:size]
    next_cursor = encode_cursor([sort, *page[-1].sort_key(sort)]) if len(offers) > size else None
    return orjson.dumps(
        {"data": [offer_json(offer, search.party) for offer in page], "next_cursor": next_cursor}
    )
