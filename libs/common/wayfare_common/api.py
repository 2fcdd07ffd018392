"""FastAPI dependencies for route handlers: a database session and the event context of
the request (its request id becomes the correlation id of the events it causes). All are
`async def`: FastAPI runs a plain `def` dependency in its thread pool on every request."""

from collections.abc import AsyncIterator
from typing import Annotated

from asgi_correlation_id import correlation_id
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.events.envelope import SYSTEM, Actor, EventContext
from wayfare_common.messaging.outbox import Outbox


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.database.sessions() as session:
        yield session


async def get_outbox(request: Request) -> Outbox:
    return request.app.state.messaging.outbox


async def get_event_context(request: Request) -> EventContext:
    principal = getattr(request.state, "principal", None)
    actor = Actor(user_id=principal.user_id, role=principal.role) if principal else SYSTEM
    request_id = correlation_id.get()
    return EventContext(
        producer=request.app.state.settings.service_name,
        correlation_id=request_id,
        causation_id=request_id,
        actor=actor,
    )


SessionDep = Annotated[AsyncSession, Depends(get_session)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
EventContextDep = Annotated[EventContext, Depends(get_event_context)]
