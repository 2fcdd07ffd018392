"""Request and response bodies, for validation and for the OpenAPI document."""

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from wayfare_common.events.catalog import Cabin
from wayfare_common.money import Money


class AirportOut(BaseModel):
    iata_code: str
    name: str
    city: str
    country: str
    time_zone: str


class CarrierOut(BaseModel):
    iata_code: str
    name: str


class SegmentOut(BaseModel):
    flight_id: uuid.UUID
    flight_number: str
    carrier: CarrierOut
    origin: AirportOut
    destination: AirportOut
    departing_at: AwareDatetime = Field(description="RFC 3339, with the origin's local offset")
    arriving_at: AwareDatetime = Field(description="RFC 3339, with the destination's local offset")
    duration_minutes: int


class FareOut(BaseModel):
    family: Literal["saver", "flex"]
    refundable: bool
    changeable: bool
    checked_bags: int


class OfferOut(BaseModel):
    id: str = Field(description="Opaque; what a booking item names as offer_id")
    cabin: Cabin
    stops: int
    segments: list[SegmentOut]
    price: Money = Field(description="For the whole party")
    price_per_passenger: dict[str, Money]
    fare: FareOut
    duration_minutes: int
    seats_available: int


class OfferPage(BaseModel):
    data: list[OfferOut]
    next_cursor: str | None


# Holds (internal)


class Passengers(BaseModel):
    adults: int = Field(1, ge=0, le=9)
    children: int = Field(0, ge=0, le=9)
    infants: int = Field(0, ge=0, le=9)


class FlightHoldItem(BaseModel):
    type: Literal["flight"]
    offer_id: str = Field(max_length=100)
    seats: int | None = Field(
        None, ge=1, le=9, description="Seated passengers (adults when passengers is absent)"
    )
    passengers: Passengers | None = None
    seat_numbers: list[str] | dict[uuid.UUID, list[str]] | None = Field(
        None,
        description="Chosen seats: a list for a direct offer, or a list per flight id",
        examples=[["12A", "12B"]],
    )

    @model_validator(mode="after")
    def _party(self):
        if self.passengers is None and self.seats is None:
            raise ValueError("give seats or passengers")
        if self.passengers is not None and self.seats is not None:
            if self.seats != self.passengers.adults + self.passengers.children:
                raise ValueError("seats must equal adults + children (infants sit on a lap)")
        return self


class PackageHoldItem(BaseModel):
    type: Literal["package"]
    package_id: uuid.UUID
    departure_id: uuid.UUID
    seats: int = Field(ge=1, le=50)


HoldItemIn = Annotated[FlightHoldItem | PackageHoldItem, Field(discriminator="type")]


class HoldIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "booking_id": "9d2b7c4a-1f3e-4a8b-b6d5-3c7e1a2f9b84",
                    "items": [
                        {"type": "flight", "offer_id": "AQAA...", "passengers": {"adults": 2}}
                    ],
                    "ttl_seconds": 900,
                }
            ]
        }
    )

    booking_id: uuid.UUID
    user_id: uuid.UUID | None = Field(None, description="Only admins may hold for someone else")
    items: list[HoldItemIn] = Field(min_length=1, max_length=10)
    expires_at: AwareDatetime | None = None
    ttl_seconds: int | None = Field(None, ge=1)


# Flights (staff)


# The schedule counts minutes in 32-bit integers (good until the year 6053); no airline
# sells that far ahead, and a bound here turns a wild time into a 422.
ScheduleTime = Annotated[AwareDatetime, Field(lt=datetime(2100, 1, 1, tzinfo=UTC))]


class FlightIn(BaseModel):
    carrier_code: str = Field(pattern="^[A-Z0-9]{2}$", examples=["LH"])
    flight_number: str = Field(pattern="^[A-Z0-9]{2}[0-9]{1,4}$", examples=["LH400"])
    origin: str = Field(pattern="^[A-Z]{3}$", examples=["FRA"])
    destination: str = Field(pattern="^[A-Z]{3}$", examples=["JFK"])
    departing_at: ScheduleTime
    arriving_at: ScheduleTime | None = Field(None, description="Default: block time from distance")
    aircraft_class: Literal["regional", "narrow_body", "wide_body"] | None = Field(
        None, description="Default: by distance"
    )


class FlightChange(BaseModel):
    departing_at: ScheduleTime | None = None
    arriving_at: ScheduleTime | None = None
    status: Literal["scheduled", "cancelled"] | None = None


# Packages


class DepartureIn(BaseModel):
    starts_on: date
    capacity: int = Field(ge=1, le=1000)


class PackageIn(BaseModel):
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", examples=["PT-LIS-7"])
    title: str = Field(min_length=1, max_length=200)
    destination: str = Field(min_length=1, max_length=100)
    description: str = ""
    duration_days: int = Field(ge=1, le=60)
    price_per_person: Money
    vendor_id: uuid.UUID
    departures: list[DepartureIn] = Field(min_length=1)


class PackageChange(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    destination: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = None
    duration_days: int | None = Field(None, ge=1, le=60)
    price_per_person: Money | None = None
    departures: list[DepartureIn] | None = Field(
        None, description="Added, or resized when the date exists (never below places taken)"
    )
