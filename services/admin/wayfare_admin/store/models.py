"""The admin service's tables.

Read models (`users`, `bookings`, `booking_items`, `payments`, `payment_refunds`) are
projections of events and can be rebuilt from `event_archive` at any time. The audit log
(`audit_log`, chained through `audit_head`) is not a projection: it is never rebuilt,
updated or deleted. `catalog_labels` caches what the flight service says about flights
and packages, for the dashboard's top routes and packages.
"""

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

from wayfare_common.db import UtcDateTime, new_metadata


class Base(DeclarativeBase):
    """Base of the admin service's tables (the outbox and inbox come from wayfare_common)."""

    metadata = new_metadata()


metadata = Base.metadata

# What an Actor's user_id can be (a UUID today, but the envelope types it as a string).
ActorId = sa.String(64)

event_archive = sa.Table(
    "event_archive",
    metadata,
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("type", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("producer", sa.String(50), nullable=False),
    sa.Column("correlation_id", sa.String(200)),
    sa.Column("causation_id", sa.String(200)),
    sa.Column("actor_user_id", ActorId),
    sa.Column("actor_role", sa.String(16), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    # The replay order of rebuild-read-models.
    sa.Index("ix_event_archive_replay", "occurred_at", "event_id"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.Uuid, primary_key=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("full_name", sa.String(500), nullable=False),
    sa.Column("phone", sa.String(40)),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("registered_at", UtcDateTime),
    sa.Column("first_seen_at", UtcDateTime, nullable=False),
    # registered_at when known, else first_seen_at: the listing's sort key, never NULL.
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # Which event the profile columns come from: the latest one wins, whatever the
    # order of arrival.
    sa.Column("state_at", UtcDateTime, nullable=False),
    sa.Column("state_event_id", sa.Uuid, nullable=False),
    sa.Index("ix_users_listing", "created_at", "user_id"),
    sa.Index("ix_users_registered_at", "registered_at"),
)

bookings = sa.Table(
    "bookings",
    metadata,
    sa.Column("booking_id", sa.Uuid, primary_key=True),
    sa.Column("reference", sa.String(6), index=True),
    sa.Column("user_id", sa.Uuid, index=True),
    sa.Column("contact_email", sa.String(254)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("status_at", UtcDateTime, nullable=False),
    sa.Column("status_event_id", sa.Uuid, nullable=False),
    sa.Column("amount_minor", sa.BigInteger),
    sa.Column("currency", sa.String(3)),
    # Which kind of event gave the amount and the items (created > confirmed > completed).
    sa.Column("details_source", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("passenger_count", sa.Integer),
    sa.Column("payable_until", UtcDateTime),
    sa.Column("created_at", UtcDateTime, index=True),
    sa.Column("confirmed_at", UtcDateTime),
    sa.Column("cancelled_at", UtcDateTime),
    sa.Column("expired_at", UtcDateTime),
    sa.Column("completed_at", UtcDateTime),
    sa.Column("cancel_reason", sa.String(500)),
    sa.Column("refund_minor", sa.BigInteger),
    sa.Column("refund_currency", sa.String(3)),
    sa.Column("cancelled_by_user_id", ActorId),
    sa.Column("cancelled_by_role", sa.String(16)),
    sa.Column("vendor_id", sa.Uuid),
    sa.Column("first_seen_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # created_at when booking.created has arrived, else first_seen_at: the sort key.
    sa.Column("listed_at", UtcDateTime, nullable=False),
    sa.Index("ix_bookings_listing", "listed_at", "booking_id"),
)

booking_items = sa.Table(
    "booking_items",
    metadata,
    sa.Column(
        "booking_id",
        sa.ForeignKey("bookings.booking_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(10), nullable=False),
    # A flight item's route is its first flight's origin to its last flight's destination.
    sa.Column("first_flight_id", sa.Uuid, index=True),
    sa.Column("last_flight_id", sa.Uuid),
    sa.Column("cabin", sa.String(20)),
    sa.Column("package_id", sa.Uuid, index=True),
    sa.Column("departure_id", sa.Uuid),
    sa.Column("vendor_id", sa.Uuid),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
)

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("payment_id", sa.Uuid, primary_key=True),
    sa.Column("booking_id", sa.Uuid, index=True),
    sa.Column("user_id", sa.Uuid, index=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("currency", sa.String(3)),
    sa.Column("captured_minor", sa.BigInteger),
    sa.Column("refunded_minor", sa.BigInteger, nullable=False),
    sa.Column("provider", sa.String(40)),
    sa.Column("provider_reference", sa.String(255)),
    sa.Column("succeeded_at", UtcDateTime, index=True),
    sa.Column("failed_at", UtcDateTime),
    sa.Column("failure_reason", sa.String(500)),
    sa.Column("last_refunded_at", UtcDateTime),
    sa.Column("first_seen_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_payments_listing", "first_seen_at", "payment_id"),
)

# One row per payment.refunded event: refunds count in the period they happened in.
payment_refunds = sa.Table(
    "payment_refunds",
    metadata,
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("payment_id", sa.Uuid, nullable=False, index=True),
    sa.Column("booking_id", sa.Uuid),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("refunded_at", UtcDateTime, nullable=False, index=True),
    sa.Column("refunded_by_user_id", ActorId),
    sa.Column("refunded_by_role", sa.String(16), nullable=False),
)

READ_MODELS = (booking_items, bookings, payment_refunds, payments, users)

# Append-only (on PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE). `seq` is
# assigned by the appender, gapless from 1; `hash` covers the row and `prev_hash`.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("id", sa.Uuid, nullable=False, unique=True),
    sa.Column("occurred_at", UtcDateTime, nullable=False, index=True),
    sa.Column("actor_user_id", ActorId),
    sa.Column("actor_role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("target_type", sa.String(40)),
    sa.Column("target_id", sa.String(64)),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_log_actor", "actor_user_id", "seq"),
    sa.Index("ix_audit_log_action", "action", "seq"),
    sa.Index("ix_audit_log_target", "target_id", "seq"),
)

# The chain's head, one row: appenders lock it, so concurrent appends form one chain; and
# it remembers the last hash, so rows cut off the end of the log are noticed.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)

catalog_labels = sa.Table(
    "catalog_labels",
    metadata,
    sa.Column("ref_id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.String(10), nullable=False),  # flight | package
    sa.Column("found", sa.Boolean, nullable=False),  # false: the flight service said 404
    sa.Column("origin", sa.String(3)),
    sa.Column("destination", sa.String(3)),
    sa.Column("title", sa.String(200)),  # flight number, or package title
    sa.Column("fetched_at", UtcDateTime, nullable=False),
)
