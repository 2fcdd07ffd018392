"""The payment service's tables. Amounts are integer minor units beside a currency code;
ids are UUIDs; times are UTC."""

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from wayfare_common.db import UtcDateTime, new_metadata
from wayfare_common.money import Money


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base of the payment service's tables (the outbox and inbox come from wayfare_common)."""

    metadata = new_metadata()
    type_annotation_map = {
        datetime: UtcDateTime(),
        uuid.UUID: sa.Uuid(),
        dict[str, Any]: sa.JSON(),
        list[dict[str, Any]]: sa.JSON(),
    }


class Payment(Base):
    """One per booking, opened by booking.created; what the customer pays and what came back."""

    __tablename__ = "payments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    booking_reference: Mapped[str] = mapped_column(sa.String(6))
    user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    contact_email: Mapped[str] = mapped_column(sa.String(254))
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(24))
    # Booking data kept for the invoice: items as booking.created sent them.
    items: Mapped[list[dict[str, Any]]]
    fees_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    discount_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    payable_until: Mapped[datetime]
    booking_state: Mapped[str] = mapped_column(sa.String(16), default="open")
    booking_closed_at: Mapped[datetime | None]
    # Set once money is in: which provider holds it and under which reference.
    provider: Mapped[str | None] = mapped_column(sa.String(16))
    provider_reference: Mapped[str | None] = mapped_column(sa.String(255))
    captured_attempt_id: Mapped[uuid.UUID | None]
    captured_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    paid_at: Mapped[datetime | None]
    # The attempt the customer is on, and what it asks of them.
    current_attempt_id: Mapped[uuid.UUID | None]
    failure_reason: Mapped[str | None] = mapped_column(sa.String(100))
    next_action: Mapped[dict[str, Any] | None]
    # Bank transfers recorded by staff.
    manual_reference: Mapped[str | None] = mapped_column(sa.String(255))
    manual_reason: Mapped[str | None] = mapped_column(sa.String(500))
    marked_paid_by: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    __table_args__ = (sa.Index("ix_payments_created_at_id", "created_at", "id"),)

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)


class ChargeAttempt(Base):
    """One try at charging a payment through a provider."""

    __tablename__ = "charge_attempts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    payment_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    provider: Mapped[str] = mapped_column(sa.String(16))
    payment_method: Mapped[str] = mapped_column(sa.String(255))  # canonical id, never a PAN
    status: Mapped[str] = mapped_column(sa.String(24))
    provider_reference: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    failure_reason: Mapped[str | None] = mapped_column(sa.String(100))
    next_action: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # also the provider's idempotency key
    payment_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    attempt_id: Mapped[uuid.UUID | None]  # the capture it returns money from
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    # booking_cancelled | staff | late_payment | duplicate_capture | provider
    source: Mapped[str] = mapped_column(sa.String(24))
    reason: Mapped[str] = mapped_column(sa.String(500))
    provider: Mapped[str] = mapped_column(sa.String(16))
    provider_reference: Mapped[str | None] = mapped_column(sa.String(255))
    requested_by: Mapped[str | None] = mapped_column(sa.String(64))  # a user id
    requested_by_role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=now)

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)


class BookingClosure(Base):
    """A booking cancelled or expired before its booking.created reached us: the payment is
    opened closed when it does."""

    __tablename__ = "booking_closures"

    booking_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(16))
    closed_at: Mapped[datetime] = mapped_column(default=now)


class IdempotencyKey(Base):
    """First writer wins: the unique (user, key) decides which request does the work; the
    others replay its stored response."""

    __tablename__ = "idempotency_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(sa.String(255))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    locked_until: Mapped[datetime | None]  # while a request works on it
    attempt_id: Mapped[uuid.UUID | None]  # the charge it started, to drive again after a crash
    response_status: Mapped[int | None]
    response_body: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=now)

    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)


class WebhookReceipt(Base):
    """Provider events already handled, by the provider's event id."""

    __tablename__ = "webhook_receipts"

    event_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(16))
    type: Mapped[str] = mapped_column(sa.String(100))
    received_at: Mapped[datetime] = mapped_column(default=now)


class LedgerEntry(Base):
    """Money owed: a vendor's or the platform's share of a completed booking (positive), a
    payout to a vendor (negative), a failed payout given back (positive)."""

    __tablename__ = "ledger_entries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account: Mapped[str] = mapped_column(sa.String(16))  # vendor | platform
    vendor_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(sa.String(24))  # earning | payout | payout_reversal
    booking_id: Mapped[uuid.UUID | None]
    payout_id: Mapped[uuid.UUID | None]
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    created_at: Mapped[datetime] = mapped_column(default=now)

    __table_args__ = (
        # A booking earns once, however often booking.completed arrives.
        sa.UniqueConstraint("booking_id", "account", "kind", name="uq_ledger_entries_earning"),
        sa.Index("ix_ledger_entries_vendor", "vendor_id", "currency"),
    )


class Payout(Base):
    __tablename__ = "payouts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    vendor_id: Mapped[uuid.UUID] = mapped_column(index=True)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(16))  # pending | sent | failed
    provider: Mapped[str] = mapped_column(sa.String(16))
    destination: Mapped[str | None] = mapped_column(sa.String(255))
    provider_reference: Mapped[str | None] = mapped_column(sa.String(255))
    failure_reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=now)
    sent_at: Mapped[datetime | None]

    __table_args__ = (sa.Index("ix_payouts_created_at_id", "created_at", "id"),)

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)


class VendorAccount(Base):
    """Where a vendor's payouts go at the provider (a Stripe connected account)."""

    __tablename__ = "vendor_accounts"

    vendor_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    stripe_account: Mapped[str] = mapped_column(sa.String(255))
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class PayoutLease(Base):
    """One row: whichever replica holds it (until `locked_until`) runs payouts."""

    __tablename__ = "payout_lease"

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str | None] = mapped_column(sa.String(64))
    locked_until: Mapped[datetime | None]
