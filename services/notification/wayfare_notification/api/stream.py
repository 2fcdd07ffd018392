"""`GET /api/v1/notifications/stream`: the caller's new notifications as Server-Sent Events.

    retry: 3000
    id: <notification id>
    event: notification
    data: {"id": ..., "title": ..., ...}      (the same object as the list shows)

    : heartbeat                                (every NOTIFICATION_STREAM_HEARTBEAT seconds)

A client that reconnects sends `Last-Event-ID` (browsers do it themselves) or
`?last_event_id=`, and first gets what it missed, from the database. The stream ends when
the access token expires: reconnect with a fresh one. Browsers cannot set headers on an
EventSource, so through the gateway the token goes as `?access_token=` (the gateway moves
it into the Authorization header).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from wayfare_common.db import Database
from wayfare_common.security import PrincipalDep
from wayfare_notification.api.owner import OwnerDep
from wayfare_notification.api.schemas import NotificationOut
from wayfare_notification.channels.live import CLOSED, LiveHub
from wayfare_notification.store import notifications

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

RESUME_LIMIT = 100  # notifications replayed on reconnect; older ones are in the list
RECONNECT_MS = 3000


@router.get(
    "/stream",
    summary="Your new notifications as they happen (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An endless stream."}},
)
async def stream(
    request: Request,
    owner: OwnerDep,
    principal: PrincipalDep,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", description="Resume after this notification.")
    ] = None,
    last_event_id_query: Annotated[
        str | None, Query(alias="last_event_id", description="The same, for a new EventSource.")
    ] = None,
) -> StreamingResponse:
    state = request.app.state
    events = _events(
        database=state.database,
        hub=state.live_hub,
        user_id=owner,
        resume_after=_uuid(last_event_id or last_event_id_query),
        heartbeat=state.settings.stream_heartbeat,
        until=principal.expires_at,
    )
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    *,
    database: Database,
    hub: LiveHub,
    user_id: UUID,
    resume_after: UUID | None,
    heartbeat: float,
    until: datetime,
) -> AsyncIterator[str]:
    # Subscribe before reading what was missed, so nothing falls between the two; what
    # arrives both ways is sent once.
    with hub.subscribe(user_id) as queue:
        yield f"retry: {RECONNECT_MS}\n\n"
        replayed: set[str] = set()
        if resume_after is not None:
            # A short session of its own: a stream must not hold a connection for hours.
            async with database.sessions() as session:
                missed = await notifications.since(session, user_id, resume_after, RESUME_LIMIT)
            for notification in missed:
                item = NotificationOut.model_validate(notification).model_dump(mode="json")
                replayed.add(item["id"])
                yield _frame(item)
        while (left := (until - datetime.now(UTC)).total_seconds()) > 0:
            item = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(heartbeat, left)):
                    item = await queue.get()
            if item is None:
                yield ": heartbeat\n\n"
            elif item is CLOSED:
                return
            elif item["id"] not in replayed:
                yield _frame(item)


def _frame(item: dict[str, Any]) -> str:
    return f"id: {item['id']}\nevent: notification\ndata: {orjson.dumps(item).decode()}\n\n"


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None  # not one of ours: start from now
