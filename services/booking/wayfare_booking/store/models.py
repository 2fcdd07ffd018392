"""The booking service's tables (the outbox and inbox come from wayfare_common).

Money is integer minor units beside a currency code; times are UTC."""

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from wayfare_common.db import UtcDateTime, new_metadata

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Minor = sa.BigInteger
When = UtcDateTime
STATUSES = ("pending_payment", "confirmed", "completed", "expired", "cancelled")


class Base(DeclarativeBase):
    """Base of the booking service's tables."""

    metadata = new_metadata()


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        sa.CheckConstraint(_in("status", STATUSES), name="status"),
        sa.CheckConstraint("total_minor = base_minor + fees_minor - discount_minor", name="total"),
        sa.CheckConstraint(
            "base_minor >= 0 AND fees_minor >= 0 AND discount_minor >= 0 "
            "AND discount_minor <= base_minor",
            name="amounts",
        ),
        sa.CheckConstraint("refunded_minor <= paid_minor", name="refund_within_paid"),
        sa.Index("ix_bookings_user_created", "user_id", "created_at", "id"),
        sa.Index("ix_bookings_status_payable_until", "status", "payable_until"),
        sa.Index("ix_bookings_status_travel_ends_at", "status", "travel_ends_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(6), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    status: Mapped[str] = mapped_column(sa.String(20))
    contact_email: Mapped[str] = mapped_column(sa.String(254))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(32))

    currency: Mapped[str] = mapped_column(sa.String(3))
    base_minor: Mapped[int] = mapped_column(Minor)
    fees_minor: Mapped[int] = mapped_column(Minor)
    discount_minor: Mapped[int] = mapped_column(Minor)
    total_minor: Mapped[int] = mapped_column(Minor)
    fee_lines: Mapped[list[dict[str, Any]]] = mapped_column(Json)  # [{"name", "amount"}]
    coupon_code: Mapped[str | None] = mapped_column(sa.String(40))
    # The items as held by the flight service, with their prices and discount shares.
    items: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    international: Mapped[bool] = mapped_column(sa.Boolean)

    travel_starts_at: Mapped[datetime] = mapped_column(When)
    travel_ends_at: Mapped[datetime] = mapped_column(When)
    payable_until: Mapped[datetime] = mapped_column(When)

    paid_minor: Mapped[int] = mapped_column(Minor, server_default="0")
    refunded_minor: Mapped[int] = mapped_column(Minor, server_default="0")
    payment_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    # Decided at cancellation: what payment is asked to refund, why, and by whom.
    refund_minor: Mapped[int | None] = mapped_column(Minor)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(200))
    cancelled_by: Mapped[dict[str, Any] | None] = mapped_column(Json)

    created_at: Mapped[datetime] = mapped_column(When)
    updated_at: Mapped[datetime] = mapped_column(When)
    confirmed_at: Mapped[datetime | None] = mapped_column(When)
    expired_at: Mapped[datetime | None] = mapped_column(When)
    cancelled_at: Mapped[datetime | None] = mapped_column(When)
    completed_at: Mapped[datetime | None] = mapped_column(When)

    passengers: Mapped[list["Passenger"]] = relationship(
        order_by="Passenger.position", lazy="selectin", cascade="all, delete-orphan"
    )


class Passenger(Base):
    __tablename__ = "passengers"
    __table_args__ = (
        sa.UniqueConstraint("booking_id", "position", name="uq_passengers_booking_position"),
        sa.CheckConstraint(_in("type", ("adult", "child", "infant")), name="type"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(sa.SmallInteger)
    given_name: Mapped[str] = mapped_column(sa.String(100))
    family_name: Mapped[str] = mapped_column(sa.String(100))
    birth_date: Mapped[date] = mapped_column(sa.Date)
    type: Mapped[str] = mapped_column(sa.String(10))
    nationality: Mapped[str | None] = mapped_column(sa.String(2))
    document_number: Mapped[str | None] = mapped_column(sa.String(40))
    document_country: Mapped[str | None] = mapped_column(sa.String(2))
    document_expires_on: Mapped[date | None] = mapped_column(sa.Date)
    updated_at: Mapped[datetime] = mapped_column(When)


class PaymentRecord(Base):
    """Every payment event booking heard of, and what it did with it."""

    __tablename__ = "payment_records"
    __table_args__ = (
        # One success per payment, whatever event ids it arrives under.
        sa.Index(
            "uq_payment_records_succeeded",
            "payment_id",
            unique=True,
            postgresql_where=sa.text("kind = 'succeeded'"),
            sqlite_where=sa.text("kind = 'succeeded'"),
        ),
        sa.CheckConstraint(_in("kind", ("succeeded", "failed", "refunded")), name="kind"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    kind: Mapped[str] = mapped_column(sa.String(10))
    amount_minor: Mapped[int | None] = mapped_column(Minor)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    outcome: Mapped[str] = mapped_column(sa.String(30))
    recorded_at: Mapped[datetime] = mapped_column(When)


class Coupon(Base):
    __tablename__ = "coupons"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", ("percent", "fixed")), name="kind"),
        sa.CheckConstraint(
            "(kind = 'percent' AND percent_bp BETWEEN 1 AND 10000 AND amount_minor IS NULL) OR "
            "(kind = 'fixed' AND amount_minor > 0 AND currency IS NOT NULL AND percent_bp IS NULL)",
            name="measure",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)  # stored upper case
    description: Mapped[str] = mapped_column(sa.String(200), server_default="")
    kind: Mapped[str] = mapped_column(sa.String(10))
    percent_bp: Mapped[int | None] = mapped_column(sa.Integer)  # basis points: 1250 = 12.5 %
    amount_minor: Mapped[int | None] = mapped_column(Minor)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    minimum_minor: Mapped[int | None] = mapped_column(Minor)
    valid_from: Mapped[datetime | None] = mapped_column(When)
    valid_until: Mapped[datetime | None] = mapped_column(When)
    max_uses: Mapped[int | None] = mapped_column(sa.Integer)
    max_uses_per_customer: Mapped[int | None] = mapped_column(sa.Integer)
    product_types: Mapped[list[str]] = mapped_column(Json)
    active: Mapped[bool] = mapped_column(sa.Boolean)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_at: Mapped[datetime] = mapped_column(When)
    updated_at: Mapped[datetime] = mapped_column(When)


class CouponRedemption(Base):
    __tablename__ = "coupon_redemptions"
    __table_args__ = (
        sa.CheckConstraint(_in("status", ("reserved", "redeemed", "released")), name="status"),
        sa.Index("ix_coupon_redemptions_coupon_user", "coupon_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    coupon_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("coupons.id"))
    booking_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    status: Mapped[str] = mapped_column(sa.String(10))
    discount_minor: Mapped[int] = mapped_column(Minor)
    currency: Mapped[str] = mapped_column(sa.String(3))
    created_at: Mapped[datetime] = mapped_column(When)
    updated_at: Mapped[datetime] = mapped_column(When)


class IdempotencyKey(Base):
    """One row per (customer, Idempotency-Key): claimed by the first request, which also
    fixes the booking id (the flight hold's key) and deadline, so a retry that takes over
    after a crash asks flight for the very same hold."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    key: Mapped[str] = mapped_column(sa.String(255))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    booking_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    payable_until: Mapped[datetime] = mapped_column(When)
    response_status: Mapped[int | None] = mapped_column(sa.SmallInteger)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(Json)
    locked_until: Mapped[datetime | None] = mapped_column(When)
    created_at: Mapped[datetime] = mapped_column(When, index=True)
