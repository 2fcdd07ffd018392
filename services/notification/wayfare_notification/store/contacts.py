"""The contact projection. Events may arrive out of order: each row remembers when its
event happened (`as_of`) and an older event never overwrites a newer one."""

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.events.catalog import UserRegistered, UserUpdated
from wayfare_notification.store.models import Contact
from wayfare_notification.store.upsert import insert


async def record_registered(session: AsyncSession, event: UserRegistered, as_of: datetime) -> None:
    # Registration comes first in a user's life: any row already there is newer.
    await session.execute(
        insert(session, Contact)
        .values(
            user_id=event.user_id,
            email=event.email,
            full_name=event.full_name,
            role=event.role,
            is_active=True,
            as_of=as_of,
        )
        .on_conflict_do_nothing()
    )


async def record_updated(session: AsyncSession, event: UserUpdated, as_of: datetime) -> None:
    """UserUpdated carries the whole state: overwrite, unless what we have is newer."""
    values = dict(
        email=event.email,
        full_name=event.full_name,
        phone=event.phone,
        role=event.role,
        is_active=event.is_active,
        as_of=as_of,
    )
    statement = insert(session, Contact).values(user_id=event.user_id, **values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Contact.user_id],
            set_=values,
            where=Contact.as_of <= statement.excluded.as_of,
        )
    )


async def get(session: AsyncSession, user_id: UUID) -> Contact | None:
    return await session.get(Contact, user_id)
