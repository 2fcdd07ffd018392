"""Request and response bodies. Requests forbid unknown fields, so a client cannot slip
in `status`, `price`, `user_id` or `reference` (mass assignment): it gets a 422."""

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from wayfare_booking.domain.passengers import PassengerType
from wayfare_common.events.catalog import Cabin, Email
from wayfare_common.events.envelope import Actor
from wayfare_common.money import Money

ProductType = Literal["flight", "package"]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", examples=["DE"])]
_NAME = re.compile(
    r"^[^\W\d_]+(?:[ '\u2019.\-]+[^\W\d_]+)*\.?$"
)  # U+2019: the typographic apostrophe


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _name(value: str) -> str:
    value = " ".join(value.split())
    if not _NAME.match(value):
        raise ValueError("a name is letters, with spaces, hyphens, apostrophes or dots between")
    return value


Name = Annotated[str, Field(min_length=1, max_length=100, examples=["Ada"])]


# Requests


class FlightItemIn(Strict):
    type: Literal["flight"]
    offer_id: str = Field(min_length=1, max_length=100, description="From the flight search")
    cabin: Cabin | None = Field(None, description="Optional; must be the offer's cabin if given")


class PackageItemIn(Strict):
    type: Literal["package"]
    package_id: uuid.UUID
    departure_id: uuid.UUID


ItemIn = Annotated[FlightItemIn | PackageItemIn, Field(discriminator="type")]


class PassportIn(Strict):
    number: str = Field(pattern=r"^[A-Z0-9]{5,20}$", examples=["C01X00T47"])
    issuing_country: Country
    nationality: Country
    expires_on: date


class PassengerIn(Strict):
    given_name: Name
    family_name: Name
    birth_date: date
    type: PassengerType | None = Field(
        None, description="Optional; must match the age on the first day of travel"
    )
    passport: PassportIn | None = Field(None, description="Required for international trips")

    _names = field_validator("given_name", "family_name")(_name)


class ContactIn(Strict):
    email: Email
    phone: str | None = Field(None, pattern=r"^\+[1-9][0-9]{6,14}$", examples=["+4915112345678"])


class BookingIn(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [{"type": "flight", "offer_id": "AQAA..."}],
                    "passengers": [
                        {"given_name": "Ada", "family_name": "Lovelace", "birth_date": "1990-12-10"}
                    ],
                    "contact": {"email": "ada@example.com", "phone": "+441632960961"},
                    "coupon_code": "SUMMER10",
                }
            ]
        },
    )

    items: list[ItemIn] = Field(min_length=1, max_length=10)
    passengers: list[PassengerIn] = Field(
        min_length=1, max_length=18, description="The party travels on every item"
    )
    contact: ContactIn
    coupon_code: str | None = Field(None, min_length=1, max_length=40)


class PartyIn(Strict):
    adults: int = Field(1, ge=0, le=9)
    children: int = Field(0, ge=0, le=9)
    infants: int = Field(0, ge=0, le=9)


class QuoteIn(Strict):
    items: list[ItemIn] = Field(min_length=1, max_length=10)
    party: PartyIn = PartyIn()
    coupon_code: str | None = Field(None, min_length=1, max_length=40)


class PassengerChange(Strict):
    given_name: Name | None = None
    family_name: Name | None = None

    _names = field_validator("given_name", "family_name")(lambda v: v if v is None else _name(v))

    @model_validator(mode="after")
    def _something(self):
        if self.given_name is None and self.family_name is None:
            raise ValueError("give given_name, family_name or both")
        return self


class CancelIn(Strict):
    reason: str | None = Field(
        None, min_length=1, max_length=200, description="Required when staff cancel"
    )
    waive_policy: bool = Field(
        False, description="Staff only: refund everything paid (e.g. an operational cancellation)"
    )
    expected_refund: Money | None = Field(
        None, description="The refund the quote showed; if it changed meanwhile: 409"
    )


# Coupons (staff)

Percent = Annotated[Decimal, Field(gt=0, le=100, decimal_places=2, examples=["12.5"])]
MAX_USES = 1_000_000_000  # the columns are 32-bit integers


class CouponIn(Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$", examples=["SUMMER10"])
    description: str = Field("", max_length=200)
    kind: Literal["percent", "fixed"]
    percent: Percent | None = None
    amount: Money | None = None
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    minimum: Money | None = Field(None, description="Of the base price of the items covered")
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    max_uses: int | None = Field(None, ge=1, le=MAX_USES)
    max_uses_per_customer: int | None = Field(None, ge=1, le=MAX_USES)
    product_types: list[ProductType] = Field(["flight", "package"], min_length=1)
    active: bool = True

    @model_validator(mode="after")
    def _consistent(self):
        if self.kind == "percent" and (self.percent is None or self.amount is not None):
            raise ValueError("a percent coupon gives percent, not amount")
        if self.kind == "fixed":
            if self.amount is None or self.percent is not None:
                raise ValueError("a fixed coupon gives amount, not percent")
            if self.amount.minor <= 0:
                raise ValueError("amount must be positive")
            if self.currency not in (None, self.amount.currency):
                raise ValueError("currency must be the amount's")
            self.currency = self.amount.currency
        if self.minimum is not None:
            if self.currency not in (None, self.minimum.currency):
                raise ValueError("minimum must be in the coupon's currency")
            self.currency = self.minimum.currency
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class CouponChange(Strict):
    """A field left out stays as it is; null removes a date or a limit. `description` and
    `active` always have a value, so null is refused for them (an empty description is "")."""

    description: str = Field(None, max_length=200)
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    max_uses: int | None = Field(None, ge=1, le=MAX_USES)
    max_uses_per_customer: int | None = Field(None, ge=1, le=MAX_USES)
    active: bool = Field(None)


# Responses


class PriceOut(BaseModel):
    base: Money
    fees: Money
    discount: Money
    total: Money
    fee_lines: list[dict[str, Any]] = Field(description='[{"name", "amount": Money}]')


class CouponOutcomeOut(BaseModel):
    code: str
    applied: bool
    reason: str | None = None


class QuoteOut(BaseModel):
    items: list[dict[str, Any]]
    party: PartyIn
    price: PriceOut
    coupon: CouponOutcomeOut | None = None


class PassportOut(BaseModel):
    number: str
    issuing_country: str
    nationality: str
    expires_on: date


class PassengerOut(BaseModel):
    id: uuid.UUID
    given_name: str
    family_name: str
    birth_date: date
    type: PassengerType
    passport: PassportOut | None = None


class CancellationOut(BaseModel):
    reason: str
    refund: Money
    cancelled_by: Actor
    cancelled_at: datetime


class BookingOut(BaseModel):
    id: uuid.UUID
    reference: str
    status: str
    user_id: uuid.UUID
    items: list[dict[str, Any]]
    passengers: list[PassengerOut]
    contact: dict[str, str | None]
    price: PriceOut
    coupon_code: str | None
    payable_until: datetime
    created_at: datetime
    updated_at: datetime
    travel_starts_at: datetime
    travel_ends_at: datetime
    paid: Money
    refunded: Money
    cancellation: CancellationOut | None = None


class BookingPage(BaseModel):
    data: list[BookingOut]
    next_cursor: str | None


class RefundLineOut(BaseModel):
    item: int
    type: ProductType
    rule: str
    percent: Decimal
    basis: Money
    refund: Money


class CancellationQuoteOut(BaseModel):
    booking_id: uuid.UUID
    status: str
    cancellable: bool
    paid: Money
    refund: Money
    retained: Money
    fees_refunded: Money
    lines: list[RefundLineOut]
    waived: bool = False


class CouponOut(BaseModel):
    id: uuid.UUID
    code: str
    description: str
    kind: str
    percent: Decimal | None
    amount: Money | None
    currency: str | None
    minimum: Money | None
    valid_from: datetime | None
    valid_until: datetime | None
    max_uses: int | None
    max_uses_per_customer: int | None
    product_types: list[str]
    active: bool
    uses: dict[str, int] = Field(description="Redemptions by status: reserved, redeemed, released")
    created_at: datetime


class CouponPage(BaseModel):
    data: list[CouponOut]
    next_cursor: str | None
