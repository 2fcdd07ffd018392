"""The one JSON envelope every message on the bus travels in, and the typed payloads.

An event type is a pydantic model that subclasses `Event` and names its routing key and
version; subclassing registers it. Consumers ignore fields they do not know, so a producer
may add fields freely; a change that would break a consumer gets a new version (a new
class with the same `type` and `version = 2`).
"""

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Role = Literal["customer", "vendor", "admin", "system"]


class Actor(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    user_id: str | None = None
    role: Role = "system"


SYSTEM = Actor()


class Event(BaseModel):
    """Base of every payload. Subclasses set `type` (the routing key) and `version`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: ClassVar[str]
    version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "type" in cls.__dict__:
            key = (cls.type, cls.version)
            if key in _REGISTRY and _REGISTRY[key].__qualname__ != cls.__qualname__:
                raise TypeError(f"event {cls.type} v{cls.version} is defined twice")
            _REGISTRY[key] = cls


_REGISTRY: dict[tuple[str, int], type[Event]] = {}


def event_class(type_: str, version: int = 1) -> type[Event] | None:
    return _REGISTRY.get((type_, version))


def registered_events() -> list[type[Event]]:
    return sorted(_REGISTRY.values(), key=lambda cls: (cls.type, cls.version))


class Envelope(BaseModel):
    """What travels on the bus: metadata around one event's `data`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int = 1
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: str
    correlation_id: str | None = None
    causation_id: str | None = None
    actor: Actor = SYSTEM
    data: dict[str, Any]

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))


class EventContext(BaseModel):
    """Who and what caused the events being recorded: a request or an incoming event."""

    model_config = ConfigDict(frozen=True)

    producer: str
    correlation_id: str | None = None
    causation_id: str | None = None
    actor: Actor = SYSTEM

    def envelope(self, event: Event) -> Envelope:
        return Envelope(
            type=event.type,
            version=event.version,
            producer=self.producer,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            actor=self.actor,
            data=event.model_dump(mode="json"),
        )

    def caused_by(self, envelope: Envelope) -> "EventContext":
        """The context of events a handler emits while handling `envelope`."""
        return EventContext(
            producer=self.producer,
            correlation_id=envelope.correlation_id or str(envelope.id),
            causation_id=str(envelope.id),
            actor=envelope.actor,
        )


class UnknownEvent(Exception):
    pass


def parse_envelope(body: bytes) -> Envelope:
    """Raises `ValueError` (or pydantic's `ValidationError`, a subclass) when malformed."""
    return Envelope.model_validate_json(body)


def parse_event(envelope: Envelope) -> Event:
    cls = event_class(envelope.type, envelope.version)
    if cls is None:
        raise UnknownEvent(f"no model for {envelope.type} version {envelope.version}")
    return cls.model_validate(envelope.data)


__all__ = [
    "SYSTEM",
    "Actor",
    "Envelope",
    "Event",
    "EventContext",
    "UnknownEvent",
    "ValidationError",
    "event_class",
    "parse_envelope",
    "parse_event",
    "registered_events",
]
