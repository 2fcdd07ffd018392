"""Request and response bodies of the admin API."""

import uuid
from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from wayfare_admin.domain.audit import AuditEntry
from wayfare_common.money import Money

T = TypeVar("T")


class AdminPage(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(
        description="Pass as `?cursor=` for the next page; null on the last page."
    )
    total: int | None = Field(
        None, description="Rows matching the filters; only with `?total=true`."
    )


def page_response(page: AdminPage) -> JSONResponse:
    """`total` appears only when it was asked for."""
    body = page.model_dump(mode="json")
    if page.total is None:
        del body["total"]
    return JSONResponse(body)


def money(minor: int | None, currency: str | None) -> Money | None:
    return None if minor is None or currency is None else Money(minor, currency)


class ActorOut(BaseModel):
    user_id: str | None
    role: str


# Read models


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str
    phone: str | None
    role: str
    is_active: bool
    registered_at: datetime | None = Field(description="Null until auth.user_registered arrives.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Any) -> "UserOut":
        return cls(id=row.user_id, **{k: getattr(row, k) for k in _USER_FIELDS})


_USER_FIELDS = (
    "email",
    "full_name",
    "phone",
    "role",
    "is_active",
    "registered_at",
    "created_at",
    "updated_at",
)


class BookingItemOut(BaseModel):
    type: Literal["flight", "package"]
    seats: int
    price: Money
    first_flight_id: uuid.UUID | None = None
    last_flight_id: uuid.UUID | None = None
    cabin: str | None = None
    package_id: uuid.UUID | None = None
    departure_id: uuid.UUID | None = None
    vendor_id: uuid.UUID | None = None

    @classmethod
    def of(cls, row: Any) -> "BookingItemOut":
        return cls(
            type=row.kind,
            seats=row.seats,
            price=Money(row.amount_minor, row.currency),
            first_flight_id=row.first_flight_id,
            last_flight_id=row.last_flight_id,
            cabin=row.cabin,
            package_id=row.package_id,
            departure_id=row.departure_id,
            vendor_id=row.vendor_id,
        )


class CancellationOut(BaseModel):
    reason: str | None
    refund: Money | None
    by: ActorOut | None


class BookingOut(BaseModel):
    id: uuid.UUID
    reference: str | None = Field(description="Null while only booking.completed is known.")
    status: str
    user_id: uuid.UUID | None
    contact_email: str | None
    amount: Money | None
    passenger_count: int | None
    payable_until: datetime | None
    created_at: datetime | None = Field(description="Null until booking.created arrives.")
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    expired_at: datetime | None
    completed_at: datetime | None
    cancellation: CancellationOut | None
    vendor_id: uuid.UUID | None
    items: list[BookingItemOut]

    @classmethod
    def of(cls, row: Any, items: list[Any]) -> "BookingOut":
        cancellation = None
        if row.cancelled_at is not None:
            by = row.cancelled_by_role and ActorOut(
                user_id=row.cancelled_by_user_id, role=row.cancelled_by_role
            )
            cancellation = CancellationOut(
                reason=row.cancel_reason,
                refund=money(row.refund_minor, row.refund_currency),
                by=by or None,
            )
        return cls(
            id=row.booking_id,
            reference=row.reference,
            status=row.status,
            user_id=row.user_id,
            contact_email=row.contact_email,
            amount=money(row.amount_minor, row.currency),
            passenger_count=row.passenger_count,
            payable_until=row.payable_until,
            created_at=row.created_at,
            confirmed_at=row.confirmed_at,
            cancelled_at=row.cancelled_at,
            expired_at=row.expired_at,
            completed_at=row.completed_at,
            cancellation=cancellation,
            vendor_id=row.vendor_id,
            items=[BookingItemOut.of(item) for item in items],
        )


class PaymentOut(BaseModel):
    id: uuid.UUID
    booking_id: uuid.UUID | None
    user_id: uuid.UUID | None
    status: str = Field(description="pending, failed, succeeded, partially_refunded or refunded")
    captured: Money | None
    refunded: Money | None
    provider: str | None
    provider_reference: str | None
    succeeded_at: datetime | None
    failed_at: datetime | None
    failure_reason: str | None
    last_refunded_at: datetime | None
    first_seen_at: datetime

    @classmethod
    def of(cls, row: Any) -> "PaymentOut":
        return cls(
            id=row.payment_id,
            booking_id=row.booking_id,
            user_id=row.user_id,
            status=row.status,
            captured=money(row.captured_minor, row.currency),
            refunded=money(row.refunded_minor, row.currency),
            provider=row.provider,
            provider_reference=row.provider_reference,
            succeeded_at=row.succeeded_at,
            failed_at=row.failed_at,
            failure_reason=row.failure_reason,
            last_refunded_at=row.last_refunded_at,
            first_seen_at=row.first_seen_at,
        )


# Dashboard


class RevenueOut(BaseModel):
    currency: str
    captured: Money
    refunded: Money
    net: Money = Field(description="captured minus refunded")


class PeriodOut(BaseModel):
    start: date = Field(description="First day of the period (UTC)")
    revenue: list[RevenueOut]
    bookings: dict[str, int] = Field(description="Bookings created in the period, by status")
    new_users: int


class TotalsOut(BaseModel):
    revenue: list[RevenueOut]
    bookings: dict[str, int]
    bookings_created: int
    cancellation_rate: str | None = Field(
        description="cancelled / (confirmed + completed + cancelled) among the bookings "
        "created in the range, 4 decimals; null when there are none"
    )
    new_users: int


class RouteOut(BaseModel):
    origin: str
    destination: str
    bookings: int
    seats: int


class PackageOut(BaseModel):
    package_id: uuid.UUID
    title: str | None
    bookings: int
    seats: int


class DashboardOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    granularity: str
    time_zone: Literal["UTC"] = "UTC"
    periods: list[PeriodOut]
    totals: TotalsOut
    top_routes: list[RouteOut]
    routes_unlabelled: int = Field(
        description="Sold bookings left out of top_routes because a flight's airports are "
        "not known yet (the flight service has not been asked, or did not answer)"
    )
    top_packages: list[PackageOut]


# Audit


class TargetOut(BaseModel):
    type: str | None
    id: str | None


class AuditEntryOut(BaseModel):
    seq: int
    id: uuid.UUID
    occurred_at: datetime
    actor: ActorOut
    action: str
    target: TargetOut
    details: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditEntryOut":
        return cls(
            seq=entry.seq,
            id=entry.id,
            occurred_at=entry.occurred_at,
            actor=ActorOut(user_id=entry.actor_user_id, role=entry.actor_role),
            action=entry.action,
            target=TargetOut(type=entry.target_type, id=entry.target_id),
            details=entry.details,
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )


class BrokenLinkOut(BaseModel):
    seq: int
    id: uuid.UUID | None
    reason: Literal["hash_mismatch", "prev_hash_mismatch", "seq_gap", "missing_rows"]


class HeadOut(BaseModel):
    seq: int
    hash: str


class VerifyOut(BaseModel):
    valid: bool
    rows_checked: int
    first_broken: BrokenLinkOut | None
    head: HeadOut


# Staff actions


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountActionIn(_Body):
    reason: str | None = Field(None, max_length=500, description="Kept in the audit log.")


class RoleIn(_Body):
    role: Literal["customer", "vendor", "admin"]
    reason: str | None = Field(None, max_length=500, description="Kept in the audit log.")


class CancelIn(_Body):
    reason: str = Field(min_length=1, max_length=500)


class RefundIn(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"amount": {"amount": "50.00", "currency": "EUR"}, "reason": "goodwill"}]
        }
    )

    amount: Money | None = Field(None, description="Absent: all that is still refundable.")
    reason: str = Field(min_length=1, max_length=500)


class MarkPaidIn(_Body):
    reason: str = Field(min_length=1, max_length=500)
    reference: str = Field(min_length=1, max_length=255, description="The transfer's reference.")
