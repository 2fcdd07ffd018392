from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from wayfare_common.api import SessionDep
from wayfare_common.pagination import Page, PageParamsDep
from wayfare_common.problems import NotFound
from wayfare_notification.api.owner import OwnerDep
from wayfare_notification.api.schemas import NotificationOut, ReadAll, UnreadCount
from wayfare_notification.store import notifications

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

_NOT_FOUND = {404: {"description": "No such notification of yours."}}


def _not_found() -> NotFound:
    return NotFound("There is no such notification.", code="notification_not_found")


@router.get("", summary="Your notifications, newest first")
async def list_notifications(
    owner: OwnerDep,
    session: SessionDep,
    page: PageParamsDep,
    unread: Annotated[bool, Query(description="Only those not read yet.")] = False,
) -> Page[NotificationOut]:
    found = await notifications.page(session, owner, page, unread_only=unread)
    return found.map(NotificationOut.model_validate)


@router.get("/unread-count", summary="How many of your notifications are unread")
async def unread_count(owner: OwnerDep, session: SessionDep) -> UnreadCount:
    return UnreadCount(unread=await notifications.unread_count(session, owner))


@router.post("/read-all", summary="Mark all your notifications read")
async def read_all(owner: OwnerDep, session: SessionDep) -> ReadAll:
    marked = await notifications.mark_all_read(session, owner)
    await session.commit()
    return ReadAll(marked_read=marked)


@router.get("/{notification_id}", summary="One of your notifications", responses=_NOT_FOUND)
async def get_notification(
    notification_id: UUID, owner: OwnerDep, session: SessionDep
) -> NotificationOut:
    found = await notifications.get(session, owner, notification_id)
    if found is None:
        raise _not_found()
    return NotificationOut.model_validate(found)


@router.post(
    "/{notification_id}/read", summary="Mark one of your notifications read", responses=_NOT_FOUND
)
async def read(notification_id: UUID, owner: OwnerDep, session: SessionDep) -> NotificationOut:
    found = await notifications.mark_read(session, owner, notification_id)
    if found is None:
        raise _not_found()
    await session.commit()
    return NotificationOut.model_validate(found)
