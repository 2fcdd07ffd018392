"""Which function handles which event type, and what a handler is given.

    handlers = EventHandlers()

    @handlers.on(BookingCreated)
    async def open_payment(event: BookingCreated, ctx: HandlerContext) -> None:
        ctx.session.add(Payment(...))
        ctx.emit(PaymentOpened(...))   # recorded in the same transaction

The consumer commits the handler's session together with the inbox record, and only then
acknowledges the message.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from wayfare_common.events.envelope import Envelope, Event, EventContext

if TYPE_CHECKING:  # a part without a database (the gateway) registers no handlers
    from sqlalchemy.ext.asyncio import AsyncSession

    from wayfare_common.messaging.outbox import Outbox

E = TypeVar("E", bound=Event)


@dataclass
class HandlerContext:
    session: "AsyncSession"
    envelope: Envelope
    events: EventContext  # context for anything the handler emits
    _outbox: "Outbox"

    def emit(self, event: Event) -> None:
        self._outbox.record(self.session, event, self.events)


Handler = Callable[[E, HandlerContext], Awaitable[None]]


class EventHandlers:
    """One handler per event type and version: during a version rollout a service
    handles both (docs/events.md), and both arrive on the same routing key."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, int], tuple[type[Event], Handler]] = {}

    def on(self, event_type: type[E]) -> Callable[[Handler[E]], Handler[E]]:
        key = (event_type.type, event_type.version)

        def register(handler: Handler[E]) -> Handler[E]:
            if key in self._handlers:
                raise ValueError(f"{event_type.type} v{event_type.version} already has a handler")
            self._handlers[key] = (event_type, handler)
            return handler

        return register

    def get(self, routing_key: str, version: int = 1) -> tuple[type[Event], Handler] | None:
        return self._handlers.get((routing_key, version))

    def versions(self, routing_key: str) -> list[int]:
        return sorted(version for type_, version in self._handlers if type_ == routing_key)

    @property
    def routing_keys(self) -> list[str]:
        return sorted({type_ for type_, _ in self._handlers})

    def __bool__(self) -> bool:
        return bool(self._handlers)
