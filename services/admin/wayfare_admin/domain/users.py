"""The users read model: auth.user_registered and auth.user_updated."""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from wayfare_admin.domain.stamps import Stamp, earliest, latest
from wayfare_common.events.catalog import UserRegistered, UserUpdated


@dataclass(frozen=True)
class UserView:
    user_id: uuid.UUID
    email: str
    full_name: str
    phone: str | None
    role: str
    is_active: bool
    registered_at: datetime | None
    first_seen_at: datetime
    created_at: datetime
    updated_at: datetime
    state_at: datetime
    state_event_id: uuid.UUID


def on_registered(view: UserView | None, event: UserRegistered, stamp: Stamp) -> UserView:
    view = _with_state(
        view,
        event.user_id,
        stamp,
        email=event.email,
        full_name=event.full_name,
        phone=None,
        role=event.role,
        is_active=True,
    )
    registered_at = earliest(view.registered_at, stamp.at)
    return replace(view, registered_at=registered_at, created_at=registered_at)


def on_updated(view: UserView | None, event: UserUpdated, stamp: Stamp) -> UserView:
    """user_updated carries the whole state: it replaces the profile if it is newer."""
    return _with_state(
        view,
        event.user_id,
        stamp,
        email=event.email,
        full_name=event.full_name,
        phone=event.phone,
        role=event.role,
        is_active=event.is_active,
    )


def _with_state(
    view: UserView | None, user_id: uuid.UUID, stamp: Stamp, **state: object
) -> UserView:
    if view is None:
        # An update that overtook the registration: a row now, completed when it arrives.
        return UserView(
            user_id=user_id,
            registered_at=None,
            first_seen_at=stamp.at,
            created_at=stamp.at,
            updated_at=stamp.at,
            state_at=stamp.at,
            state_event_id=stamp.event_id,
            **state,  # type: ignore[arg-type]
        )
    first_seen = earliest(view.first_seen_at, stamp.at)
    view = replace(
        view,
        first_seen_at=first_seen,
        created_at=view.registered_at or first_seen,
        updated_at=latest(view.updated_at, stamp.at),
    )
    if stamp.newer_than(view.state_at, view.state_event_id):
        view = replace(view, state_at=stamp.at, state_event_id=stamp.event_id, **state)
    return view
