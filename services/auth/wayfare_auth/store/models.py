import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from wayfare_common.db import UtcDateTime, new_metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base of the auth service's tables (the outbox and inbox come from wayfare_common)."""

    metadata = new_metadata()
    type_annotation_map = {datetime: UtcDateTime}


class User(Base):
    __tablename__ = "users"
    __table_args__ = (sa.Index("ix_users_created_at_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)  # normalised, lower case
    full_name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(16))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))  # None: Google only
    # Bumped by every password change; reset links carry it, so a change voids them.
    password_version: Mapped[int] = mapped_column(default=0)
    role: Mapped[str] = mapped_column(sa.String(16), default="customer")
    is_active: Mapped[bool] = mapped_column(default=True)
    email_verified: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[datetime | None]  # set by the user's own deletion (soft delete)
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    totp_last_counter: Mapped[int | None] = mapped_column(sa.BigInteger)  # no replays
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Session(Base):
    """A login, and the refresh token it currently answers to: each refresh replaces the
    token, and the replaced one goes to `rotated_refresh_tokens`, where presenting it
    again is recognised as a reuse."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    refresh_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)  # SHA-256, hex
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]  # absolute: refreshing never extends it
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(32))
    # The latest access token issued in this session, named in auth.session_revoked.
    access_jti: Mapped[str] = mapped_column(sa.String(64))
    access_expires_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(200))


class RotatedRefreshToken(Base):
    __tablename__ = "rotated_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("sessions.id"), index=True)
    rotated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BackupCode(Base):
    __tablename__ = "backup_codes"
    __table_args__ = (sa.UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))  # unique index leads
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None]


class UsedToken(Base):
    """Single-use tokens (verification, reset, second factor) that have been used."""

    __tablename__ = "used_tokens"

    jti: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(32))
    expires_at: Mapped[datetime] = mapped_column(index=True)  # kept until then, then purged


class LoginFailure(Base):
    """One failed login or second-factor attempt, counted by the throttle."""

    __tablename__ = "login_failures"
    __table_args__ = (
        sa.Index("ix_login_failures_account_created_at", "account", "created_at"),
        sa.Index("ix_login_failures_ip_created_at", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    account: Mapped[str] = mapped_column(sa.String(254))  # the email as typed, normalised
    ip: Mapped[str] = mapped_column(sa.String(45))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthState(Base):
    """An authorization request in flight: its PKCE verifier and nonce, for 10 minutes."""

    __tablename__ = "oauth_states"

    state: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    code_verifier: Mapped[str] = mapped_column(sa.String(128))
    nonce: Mapped[str] = mapped_column(sa.String(64))
    browser_hash: Mapped[str] = mapped_column(sa.String(64))  # SHA-256 of the cookie's value
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Identity(Base):
    """An external account (Google's `sub`) linked to a user."""

    __tablename__ = "identities"

    provider: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
