"""A flight search, from validated parameters to the JSON page. Used by the route and by
bench/search.py.

`run` reads the precomputed itineraries (one index range read, live seats and fares by
primary key: store.itineraries) and renders the page straight to bytes
(domain.search.page_json). `run_live` is the reference it must equal byte for byte: the
live join of flights (store.search), Offer objects, a sort and orjson.

A SearchCache in front of `run` (the service has one, FLIGHT_SEARCH_CACHE_SECONDS) answers
a search asked again within a few seconds with the page it gave then: see SearchCache."""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson

from wayfare_common.pagination import MAX_LIMIT, decode_cursor, encode_cursor, invalid_cursor
from wayfare_flight.domain.fares import Party
from wayfare_flight.domain.search import build_offers, offer_json, page_json
from wayfare_flight.store import itineraries
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

    def cache_key(self) -> tuple:
        q = self.query
        return (
            tuple(q.origins),
            tuple(q.destinations),
            q.day,
            q.cabin,
            q.first_minute,
            q.last_minute,
            tuple(q.carriers) if q.carriers else None,
            q.connections,
            self.party,
            self.sort,
            self.max_price,
            self.limit,
            self.cursor,
        )


def _after(search: Search) -> tuple | None:
    """The sort key the page starts after, from the cursor (400 when it is not one)."""
    if search.cursor is None:
        return None
    values = decode_cursor(search.cursor)
    if len(values) != 5 or values[0] != search.sort:
        raise invalid_cursor()
    return tuple(values[1:])


async def run(
    search: Search, *, pool=None, engine=None, cache: "SearchCache | None" = None
) -> bytes:
    """The page as JSON bytes. `pool` (asyncpg, PostgreSQL) or `engine` (SQLAlchemy);
    `cache` answers repeats of a recent search without reading anything."""
    if cache is not None:
        return await cache.get(search.cache_key(), lambda: run(search, pool=pool, engine=engine))
    after = _after(search)
    if pool is not None:
        rows = await itineraries.fetch_postgres(pool, search.query)
    else:
        async with engine.connect() as connection:
            rows = await itineraries.fetch_core(connection, search.query)
    return page_json(
        rows,
        search.query.cabin,
        search.party,
        search.sort,
        search.max_price,
        after,
        min(search.limit, MAX_LIMIT),
    )


async def run_live(search: Search, *, pool=None, engine=None) -> bytes:
    """The same page computed from the flights themselves (the reference for `run`)."""
    if pool is not None:
        rows = await fetch_candidates_postgres(pool, search.query)
    else:
        async with engine.connect() as connection:
            rows = await fetch_candidates_core(connection, search.query)
    sort = search.sort
    offers = build_offers(rows, search.query.cabin, search.party, search.max_price)
    offers.sort(key=lambda offer: offer.sort_key(sort))
    if search.cursor is not None:
        last = _after(search)
        offers = [offer for offer in offers if offer.sort_key(sort) > last]
    size = min(search.limit, MAX_LIMIT)
    page = offers[:size]
    next_cursor = encode_cursor([sort, *page[-1].sort_key(sort)]) if len(offers) > size else None
    return orjson.dumps(
        {"data": [offer_json(offer, search.party) for offer in page], "next_cursor": next_cursor}
    )


class SearchCache:
    """Pages of recent searches, keyed by the normalised search, for `ttl` seconds.

    Travel search is read-mostly and skewed: the same routes and dates are asked again and
    again, while fares and times change only by staff action. So a page is reused for a
    few seconds and its seat counts may be that old: `seats_available` (and an offer
    that has just sold out) lag by at most `ttl` seconds from the moment the page's read
    began. That is safe because nothing is sold from a page: a hold re-prices the offer and
    takes the seats with a conditional update, and answers 409 when they are gone.
    A staff change made through this replica clears its cache at once (`clear`); other
    replicas see it within `ttl`.

    Bounded: least recently used pages go first once `max_bytes` of pages are kept.
    Concurrent misses of one key share one read (no stampede when a popular page expires).
    """

    def __init__(self, ttl: float, max_bytes: int):
        self.ttl = ttl
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._pages: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()
        self._pending: dict[tuple, asyncio.Future] = {}
        self._bytes = 0
        self._generation = 0

    def __len__(self) -> int:
        return len(self._pages)

    def clear(self) -> None:
        """Forget every page, and any read in flight (it began before the change)."""
        self._pages.clear()
        self._pending.clear()
        self._bytes = 0
        self._generation += 1

    async def get(self, key: tuple, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        while True:
            now = time.monotonic()
            entry = self._pages.get(key)
            if entry is not None:
                if entry[0] > now:
                    self._pages.move_to_end(key)
                    self.hits += 1
                    return entry[1]
                self._forget(key)
            pending = self._pending.get(key)
            if pending is None:
                break
            try:
                page = await asyncio.shield(pending)
            except asyncio.CancelledError:
                if pending.cancelled():  # the read we waited on was abandoned: read again
                    continue
                raise
            self.hits += 1
            return page
        self.misses += 1
        generation = self._generation
        future = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            page = await compute()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as err:
            future.set_exception(err)
            future.exception()  # retrieved: waiters, if any, raise it themselves
            raise
        finally:
            if self._pending.get(key) is future:
                del self._pending[key]
        future.set_result(page)
        if generation == self._generation:
            self._keep(key, now + self.ttl, page)
        return page

    def _forget(self, key: tuple) -> None:
        _, page = self._pages.pop(key)
        self._bytes -= len(page)

    def _keep(self, key: tuple, expires: float, page: bytes) -> None:
        if len(page) > self.max_bytes:
            return
        if key in self._pages:
            self._forget(key)
        self._pages[key] = (expires, page)
        self._bytes += len(page)
        while self._bytes > self.max_bytes:
            _, (_, old) = self._pages.popitem(last=False)
            self._bytes -= len(old)
