"""What the flight service says about the items of a booking: travel dates, countries,
fare conditions, prices. Offers and packages are always asked afresh (never cached):
prices and seats are today's."""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from wayfare_booking.api.schemas import FlightItemIn, PackageItemIn
from wayfare_booking.clients.flight import Caller, FlightClient
from wayfare_booking.domain.passengers import Party
from wayfare_booking.domain.pricing import PricedItem
from wayfare_common.money import Money
from wayfare_common.problems import Problem


def invalid(field: str, message: str, code: str = "validation_error") -> Problem:
    return Problem(
        "The request is not valid.",
        status=422,
        code=code,
        errors=[{"field": f"body.{field}", "message": message, "type": "value_error"}],
    )


@dataclass
class ItemFacts:
    type: str
    travel_date: date  # local date of the start, for passenger ages
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    price: Money  # for the party asked about
    country_pairs: list[tuple[str, str]] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)  # what the booking keeps

    def priced(self) -> PricedItem:
        return PricedItem(self.type, self.price)


def _flight_facts(offer: dict, requested: FlightItemIn, index: int) -> ItemFacts:
    if requested.cabin is not None and requested.cabin != offer["cabin"]:
        raise invalid(
            f"items.{index}.cabin", f"this offer is in {offer['cabin']}", "cabin_mismatch"
        )
    segments = offer["segments"]
    departs = datetime.fromisoformat(segments[0]["departing_at"])
    arrives = datetime.fromisoformat(segments[-1]["arriving_at"])
    return ItemFacts(
        type="flight",
        travel_date=departs.date(),
        starts_at=departs.astimezone(UTC),
        ends_at=arrives.astimezone(UTC),
        price=Money.of(offer["price"]["amount"], offer["price"]["currency"]),
        country_pairs=[(s["origin"]["country"], s["destination"]["country"]) for s in segments],
        detail={
            "type": "flight",
            "offer_id": offer["id"],
            "flight_ids": offer["flight_ids"],
            "cabin": offer["cabin"],
            "fare": offer["fare"],
            "segments": [
                {
                    "flight_id": s["flight_id"],
                    "flight_number": s["flight_number"],
                    "carrier": s["carrier"],
                    "origin": {k: s["origin"][k] for k in ("iata_code", "city", "country")},
                    "destination": {
                        k: s["destination"][k] for k in ("iata_code", "city", "country")
                    },
                    "departing_at": s["departing_at"],
                    "arriving_at": s["arriving_at"],
                }
                for s in segments
            ],
        },
    )


def _package_facts(package: dict, requested: PackageItemIn, index: int, party: Party) -> ItemFacts:
    departure = next(
        (d for d in package["departures"] if d["id"] == str(requested.departure_id)), None
    )
    if package.get("status", "active") != "active" or departure is None:
        raise invalid(
            f"items.{index}.departure_id", "this departure is not on sale", "departure_not_found"
        )
    starts_on = date.fromisoformat(departure["starts_on"])
    ends_on = starts_on + timedelta(days=package["duration_days"] - 1)
    per_person = package["price_per_person"]
    return ItemFacts(
        type="package",
        travel_date=starts_on,
        starts_at=datetime.combine(starts_on, time(), tzinfo=UTC),
        ends_at=datetime.combine(ends_on + timedelta(days=1), time(), tzinfo=UTC),
        # Every passenger takes a place on a tour, infants included.
        price=Money.of(per_person["amount"], per_person["currency"]) * party.size,
        detail={
            "type": "package",
            "package_id": package["id"],
            "departure_id": departure["id"],
            "vendor_id": package["vendor_id"],
            "title": package["title"],
            "destination": package["destination"],
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "duration_days": package["duration_days"],
        },
    )


async def look_up(
    flight: FlightClient, items: list, party: Party, caller: Caller
) -> list[ItemFacts]:
    """Every item as flight sees it now, priced for `party` (concurrently)."""

    async def one(index: int, item) -> ItemFacts:
        if isinstance(item, FlightItemIn):
            offer = await flight.offer(item.offer_id, party.as_dict(), caller, index)
            return _flight_facts(offer, item, index)
        package = await flight.package(item.package_id, caller, index)
        return _package_facts(package, item, index, party)

    return list(await asyncio.gather(*(one(i, item) for i, item in enumerate(items))))


def check_together(facts: list[ItemFacts]) -> None:
    """One currency per booking, and package items of one vendor: booking.completed
    names one vendor per booking."""
    currencies = {fact.price.currency for fact in facts}
    if len(currencies) > 1:
        raise invalid(
            "items", f"items in several currencies: {sorted(currencies)}", "mixed_currencies"
        )
    vendors = {fact.detail["vendor_id"] for fact in facts if fact.type == "package"}
    if len(vendors) > 1:
        raise invalid("items", "package items must come from one vendor", "several_vendors")
