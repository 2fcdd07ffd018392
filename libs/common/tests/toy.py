"""Two toy services built with the real app factory and messaging runtime, for testing the
messaging layer end to end: `notes` records `test.note_added` events when a note is
posted; `tally` handles them by inserting one row per event into `effects`. A doubled
effect is a doubled row, so any duplicate handling shows in a count."""

import time
import uuid
from typing import ClassVar

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from wayfare_common.api import EventContextDep, OutboxDep, SessionDep
from wayfare_common.db import create_engine, new_metadata
from wayfare_common.events.envelope import Event
from wayfare_common.messaging.handlers import EventHandlers, HandlerContext
from wayfare_common.messaging.tables import messaging_metadata
from wayfare_common.problems import Problem
from wayfare_common.service import create_service_app
from wayfare_common.settings import ServiceSettings

metadata = new_metadata()
notes = sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("text", sa.String(200), nullable=False),
)
effects = sa.Table(
    "effects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.Uuid, nullable=False),  # deliberately not unique
    sa.Column("note_id", sa.Uuid, nullable=False),
)


class NoteAdded(Event):
    type: ClassVar[str] = "test.note_added"
    note_id: uuid.UUID
    text: str


class NotesSettings(ServiceSettings):
    service_name: ClassVar[str] = "notes"
    default_port: ClassVar[int] = 0


class TallySettings(ServiceSettings):
    service_name: ClassVar[str] = "tally"
    default_port: ClassVar[int] = 0


def settings(cls, database_url: str, amqp_url: str = "", namespace: str = "", **overrides):
    values = dict(
        database_url=database_url,
        amqp_url=amqp_url,
        amqp_namespace=namespace,
        environment="test",
        retry_delays=[0.2, 0.4],
        amqp_reconnect_interval=0.5,
        relay_poll_interval=0.2,
    )
    return cls(**{**values, **overrides})


class NoteIn(BaseModel):
    text: str
    fail_after_recording: bool = False


def notes_app(notes_settings: NotesSettings) -> FastAPI:
    router = APIRouter()

    @router.post("/notes", status_code=201)
    async def add_note(
        body: NoteIn, session: SessionDep, outbox: OutboxDep, context: EventContextDep
    ):
        note_id = uuid.uuid4()
        await session.execute(sa.insert(notes).values(id=note_id, text=body.text))
        envelope = outbox.record(session, NoteAdded(note_id=note_id, text=body.text), context)
        await session.flush()
        if body.fail_after_recording:
            raise Problem("the note was refused after its event was recorded", status=409)
        await session.commit()
        return {"id": str(note_id), "event_id": str(envelope.id)}

    return create_service_app(notes_settings, title="notes", routers=[router])


def tally_handlers(poison: frozenset[str] = frozenset(), seen: list | None = None) -> EventHandlers:
    handlers = EventHandlers()

    @handlers.on(NoteAdded)
    async def count(event: NoteAdded, ctx: HandlerContext) -> None:
        if seen is not None:
            seen.append((event.text, time.monotonic()))
        if event.text in poison:
            raise RuntimeError(f"cannot handle {event.text!r}")
        await ctx.session.execute(
            sa.insert(effects).values(event_id=ctx.envelope.id, note_id=event.note_id)
        )

    return handlers


async def create_schema(database_url: str) -> None:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.run_sync(messaging_metadata.create_all)
    await engine.dispose()
