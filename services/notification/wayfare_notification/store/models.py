import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from wayfare_common.db import BigId, UtcDateTime, new_metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


# SQLite only auto-increments INTEGER PRIMARY KEY.


class Base(DeclarativeBase):
    """Base of the notification service's tables (the outbox and inbox come from wayfare_common)."""

    metadata = new_metadata()
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: sa.JSON}


class Contact(Base):
    """How to reach a user: the projection of auth.user_registered and auth.user_updated."""

    __tablename__ = "contacts"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    full_name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    role: Mapped[str] = mapped_column(sa.String(16))
    is_active: Mapped[bool]
    # When the event this row comes from happened: an older event never overwrites it.
    as_of: Mapped[datetime]


class Preference(Base):
    """A user's choices; users who never chose have no row and get the defaults."""

    __tablename__ = "preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    choices: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"email.updates": false}
    locale: Mapped[str | None] = mapped_column(sa.String(35))
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Booking(Base):
    """What booking and payment events tell about a booking, as far as messages need it.
    Events may come in any order, so every column but the id may still be unknown."""

    __tablename__ = "bookings"

    booking_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID | None]
    reference: Mapped[str | None] = mapped_column(sa.String(6))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    payable_until: Mapped[datetime | None]
    status: Mapped[str | None] = mapped_column(sa.String(16))
    payment_id: Mapped[uuid.UUID | None]


class BookingFlight(Base):
    """Which bookings hold seats on which flight, for schedule changes."""

    __tablename__ = "booking_flights"

    booking_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("bookings.booking_id", ondelete="CASCADE"), primary_key=True
    )
    flight_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)


class Notification(Base):
    """An in-app notification, read through the API and pushed on the stream."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "user_id"),
        sa.Index("ix_notifications_user_id_created_at_id", "user_id", "created_at", "id"),
        sa.Index(
            "ix_notifications_unread",
            "user_id",
            postgresql_where=sa.text("read_at IS NULL"),
            sqlite_where=sa.text("read_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID]
    event_id: Mapped[uuid.UUID]  # the event it tells about
    kind: Mapped[str] = mapped_column(sa.String(40))
    category: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str | None] = mapped_column(sa.String(2048))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class Delivery(Base):
    """One email or SMS to send: written with the handler's transaction, sent after the
    commit by the delivery worker. The unique key makes a second send of one event's
    message to one address impossible to record."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "channel", "recipient"),
        sa.Index(
            "ix_deliveries_due",
            "next_attempt_at",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    event_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(sa.String(16))  # email | sms
    recipient: Mapped[str] = mapped_column(sa.String(254))  # address or phone number
    recipient_name: Mapped[str | None] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(40))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)


class DeliveryAttempt(Base):
    """The delivery log: every attempt to send, with what the server answered."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int]
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(sa.String(16))  # sent | retry | failed
    detail: Mapped[str] = mapped_column(sa.Text)
    duration_ms: Mapped[int]
