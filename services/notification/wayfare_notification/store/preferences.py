from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_notification.domain.preferences import Preferences
from wayfare_notification.store.models import Preference
from wayfare_notification.store.upsert import insert


async def get(session: AsyncSession, user_id: UUID) -> Preference | None:
    return await session.get(Preference, user_id)


async def for_update(session: AsyncSession, user_id: UUID) -> Preference:
    """The user's row, created when missing and locked, so that two concurrent changes
    both apply instead of the second overwriting the first."""
    await session.execute(
        insert(session, Preference).values(user_id=user_id, choices={}).on_conflict_do_nothing()
    )
    row = await session.get(Preference, user_id, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


def choices(row: Preference | None) -> Preferences:
    return Preferences.from_storage(row.choices if row else None)
