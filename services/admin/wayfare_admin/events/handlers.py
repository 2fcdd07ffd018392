"""One handler for every event type of the catalog (DESIGN §1: admin reacts to every
event). Each runs in the consumer's inbox transaction: the archive row, the read-model
change and the audit row commit together with the record that the event was handled, so
a redelivery has no second effect."""

import inspect

from wayfare_admin.domain.audit import draft_for_event
from wayfare_admin.events.projector import project
from wayfare_admin.store import archive, audit
from wayfare_common.events import catalog
from wayfare_common.events.envelope import Event
from wayfare_common.messaging.handlers import EventHandlers, HandlerContext


def catalog_events() -> list[type[Event]]:
    """Every event class the catalog defines, all versions (a new one is handled as soon
    as it is added there)."""
    return [
        cls
        for cls in vars(catalog).values()
        if inspect.isclass(cls) and issubclass(cls, Event) and "type" in cls.__dict__
    ]


async def handle(event: Event, ctx: HandlerContext) -> None:
    await archive.record(ctx.session, ctx.envelope)
    await project(ctx.session, ctx.envelope, event)
    if (draft := draft_for_event(ctx.envelope)) is not None:
        await audit.append(ctx.session, draft)


handlers = EventHandlers()
for _event_class in catalog_events():
    handlers.on(_event_class)(handle)
