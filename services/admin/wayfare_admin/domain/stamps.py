"""When an event happened, and which event it was."""

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Stamp:
    """Projections compare stamps instead of trusting arrival order: where two events
    both set a value, the later `at` wins, and the event id breaks ties. That makes every
    projection a function of the set of events, so a replay in any order (and
    rebuild-read-models) ends in the same state as the live consumer."""

    event_id: uuid.UUID
    at: datetime

    def newer_than(self, at: datetime | None, event_id: uuid.UUID | None) -> bool:
        if at is None or event_id is None:
            return True
        return (self.at, str(self.event_id)) > (at, str(event_id))


def earliest(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at < current else current


def latest(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at > current else current
