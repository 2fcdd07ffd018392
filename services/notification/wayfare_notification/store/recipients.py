"""A domain `Recipient` from what the projections know about a user."""

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_notification.domain.messages import Recipient
from wayfare_notification.store import contacts, preferences


class RecipientUnknown(Exception):
    """Nothing tells yet how to reach this user (the event came before the user's
    projection): the handler raises, and the messaging layer retries later."""


@dataclass(frozen=True)
class Defaults:
    locale: str
    time_zone: str


async def load(
    session: AsyncSession,
    user_id: UUID,
    defaults: Defaults,
    *,
    email: str | None = None,
    name: str | None = None,
) -> Recipient:
    """`email` overrides the contact's address (a booking's contact email, the address a
    verification link is for); `name` is used when the contact is not known yet."""
    contact = await contacts.get(session, user_id)
    if contact is None and email is None:
        raise RecipientUnknown(f"no contact for user {user_id} yet")
    settings = await preferences.get(session, user_id)
    return Recipient(
        user_id=user_id,
        email=email or contact.email,
        name=contact.full_name if contact else name,
        phone=contact.phone if contact else None,
        active=contact.is_active if contact else True,
        preferences=preferences.choices(settings),
        locale=(settings.locale if settings else None) or defaults.locale,
        time_zone=(settings.time_zone if settings else None) or defaults.time_zone,
    )
