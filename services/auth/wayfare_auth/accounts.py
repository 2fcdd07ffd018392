"""Accounts: creating them, the events that describe them, and the links mailed to them."""

from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_auth.domain import tokens as purposes
from wayfare_auth.domain.passwords import broken_rules
from wayfare_auth.store.models import User
from wayfare_auth.tokens import Tokens
from wayfare_common.events.catalog import (
    EmailVerificationRequested,
    PasswordResetRequested,
    UserRegistered,
    UserUpdated,
)
from wayfare_common.events.envelope import Actor, EventContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_common.problems import Conflict, Problem


def check_password(password: str, email: str, field: str = "body.password") -> None:
    """Raise the 422 `weak_password` problem naming every rule the password breaks."""
    broken = broken_rules(password, email)
    if broken:
        raise Problem(
            "The password does not meet the password policy.",
            status=422,
            code="weak_password",
            errors=[
                {"field": field, "message": rule.message, "type": rule.rule} for rule in broken
            ],
        )


def acting(context: EventContext, user: User) -> EventContext:
    """The context of events a user causes without an access token (register, reset ...)."""
    return context.model_copy(update={"actor": Actor(user_id=str(user.id), role=user.role)})


def user_updated(user: User) -> UserUpdated:
    return UserUpdated(
        user_id=user.id,
        email=user.email,
        full_name=user.full_name,
        phone=user.phone,
        role=user.role,
        is_active=user.is_active,
    )


async def create(
    session: AsyncSession,
    outbox: Outbox,
    context: EventContext,
    *,
    email: str,
    full_name: str,
    phone: str | None = None,
    password_hash: str | None = None,
    role: str = "customer",
    email_verified: bool = False,
    self_service: bool = False,
    now: datetime,
) -> User:
    """Add a user and its auth.user_registered; 409 `email_taken` if the address has one.
    `self_service`: the new user is the event's actor (registration, first Google sign-in)."""
    user = User(
        email=email,
        full_name=full_name,
        phone=phone,
        password_hash=password_hash,
        role=role,
        email_verified=email_verified,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("An account with this email exists already.", code="email_taken") from None
    outbox.record(
        session,
        UserRegistered(user_id=user.id, email=user.email, full_name=user.full_name, role=role),
        acting(context, user) if self_service else context,
    )
    return user


def _link(base: str, path: str, token: str) -> str:
    return f"{base.rstrip('/')}{path}?{urlencode({'token': token})}"


def request_verification(
    session: AsyncSession,
    outbox: Outbox,
    context: EventContext,
    tokens: Tokens,
    user: User,
    now: datetime,
) -> None:
    """Record auth.email_verification_requested with a fresh single-use link."""
    token, issued = tokens.purpose(purposes.VERIFY_EMAIL, user.id, now, email=user.email)
    outbox.record(
        session,
        EmailVerificationRequested(
            user_id=user.id,
            email=user.email,
            verify_url=_link(tokens.settings.public_url, "/verify-email", token),
            expires_at=issued.expires_at,
        ),
        context,
    )


def reset_link(tokens: Tokens, user_id, password_version: int, now: datetime):
    """A reset link bound to the password version: any password change voids it."""
    token, issued = tokens.purpose(purposes.PASSWORD_RESET, user_id, now, pwv=password_version)
    return _link(tokens.settings.public_url, "/reset-password", token), issued


def request_reset(
    session: AsyncSession,
    outbox: Outbox,
    context: EventContext,
    user: User,
    url: str,
    expires_at: datetime,
) -> None:
    outbox.record(
        session,
        PasswordResetRequested(
            user_id=user.id, email=user.email, reset_url=url, expires_at=expires_at
        ),
        context,
    )


def set_password(user: User, password_hash: str, now: datetime) -> None:
    user.password_hash = password_hash
    user.password_version += 1
    user.updated_at = now
