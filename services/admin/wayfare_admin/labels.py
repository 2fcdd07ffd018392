"""Labels for the dashboard's top routes and packages.

Booking events name flights and packages by id only. This background task asks the
flight service's public API about ids the cache does not know yet (airports of a
flight, title of a package) and keeps the answers in `catalog_labels`. It runs outside
event handling on purpose: a flight service that is down delays labels, never events.
Flights and packages keep their ids and airports, so a label is fetched once.
"""

import asyncio
import contextlib

import structlog
from sqlalchemy.exc import IntegrityError

from wayfare_admin.clients.owners import Owners, OwnerUnavailable
from wayfare_admin.store import labels
from wayfare_common.db import Database

log = structlog.get_logger("wayfare.admin.labels")

BATCH = 50


class LabelFetcher:
    def __init__(self, database: Database, owners: Owners, interval: float):
        self.database = database
        self.owners = owners
        self.interval = interval
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self.interval > 0:
            self._task = asyncio.create_task(self._run(), name="admin-labels")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.fetch_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("labels_failed")
            await asyncio.sleep(self.interval)

    async def fetch_once(self) -> int:
        """Fetch labels for up to BATCH unknown ids; how many were stored."""
        async with self.database.sessions() as session:
            wanted = await labels.unknown(session, BATCH)
        stored = 0
        for kind, ref_id in wanted:
            try:
                found = await (self.owners.flight if kind == "flight" else self.owners.package)(
                    ref_id
                )
            except OwnerUnavailable:
                log.info("labels_postponed", reason="flight service unavailable")
                break
            try:
                values = _label(kind, found)
            except (KeyError, TypeError):
                log.warning("label_unreadable", kind=kind, ref_id=str(ref_id))
                continue
            try:
                async with self.database.sessions() as session, session.begin():
                    await labels.save(session, kind, ref_id, **values)
                stored += 1
            except IntegrityError:
                pass  # another replica stored it first
        return stored


def _label(kind: str, found: dict | None) -> dict:
    if found is None:
        return {"found": False}
    if kind == "flight":
        return {
            "found": True,
            "origin": found["origin"]["iata_code"],
            "destination": found["destination"]["iata_code"],
            "title": found.get("flight_number"),
        }
    return {"found": True, "title": found.get("title")}
