"""The bookings read model: booking.created, confirmed, cancelled, expired and completed.

Events may arrive in any order (a confirmation before its creation, a cancellation
before the confirmation it follows), so each function only ever moves a booking forward:
- status: the most advanced one wins (pending_payment < confirmed < the final states
  completed, cancelled, expired); between two final states, the later event wins;
- each `*_at` time is set by its own kind of event (the earliest, if one comes twice);
- amount and items come from the most complete event seen: created, else confirmed,
  else completed (which has an amount but no items).
"""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, get_args

from wayfare_admin.domain.stamps import Stamp, earliest, latest
from wayfare_common.events.catalog import (
    BookingCancelled,
    BookingCompleted,
    BookingConfirmed,
    BookingCreated,
    BookingExpired,
    FlightItem,
    PackageItem,
)
from wayfare_common.money import Money

BookingStatus = Literal["pending_payment", "confirmed", "completed", "cancelled", "expired"]
STATUSES: tuple[str, ...] = get_args(BookingStatus)
_RANK = {"pending_payment": 0, "confirmed": 1, "completed": 2, "cancelled": 2, "expired": 2}

# Which event the amount and items were taken from: a higher source replaces a lower one.
FROM_COMPLETED, FROM_CONFIRMED, FROM_CREATED = 1, 2, 3


@dataclass(frozen=True)
class ItemView:
    kind: str  # flight | package
    seats: int
    amount_minor: int
    currency: str
    first_flight_id: uuid.UUID | None = None
    last_flight_id: uuid.UUID | None = None
    cabin: str | None = None
    package_id: uuid.UUID | None = None
    departure_id: uuid.UUID | None = None
    vendor_id: uuid.UUID | None = None


@dataclass(frozen=True)
class BookingView:
    booking_id: uuid.UUID
    status: str
    status_at: datetime
    status_event_id: uuid.UUID
    first_seen_at: datetime
    updated_at: datetime
    listed_at: datetime
    reference: str | None = None
    user_id: uuid.UUID | None = None
    contact_email: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    details_source: int = 0
    passenger_count: int | None = None
    payable_until: datetime | None = None
    created_at: datetime | None = None
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
    expired_at: datetime | None = None
    completed_at: datetime | None = None
    cancel_reason: str | None = None
    refund_minor: int | None = None
    refund_currency: str | None = None
    cancelled_by_user_id: str | None = None
    cancelled_by_role: str | None = None
    vendor_id: uuid.UUID | None = None
    items: tuple[ItemView, ...] = ()


def on_created(view: BookingView | None, event: BookingCreated, stamp: Stamp) -> BookingView:
    view = _advance(
        view, event.booking_id, "pending_payment", stamp, event.reference, event.user_id
    )
    created_at = earliest(view.created_at, stamp.at)
    view = replace(
        view,
        created_at=created_at,
        listed_at=created_at,
        contact_email=event.contact_email,
        passenger_count=event.passenger_count,
        payable_until=event.payable_until,
    )
    return _with_details(view, FROM_CREATED, event.amount, _items(event.items))


def on_confirmed(view: BookingView | None, event: BookingConfirmed, stamp: Stamp) -> BookingView:
    view = _advance(view, event.booking_id, "confirmed", stamp, event.reference, event.user_id)
    view = replace(view, confirmed_at=earliest(view.confirmed_at, stamp.at))
    return _with_details(view, FROM_CONFIRMED, event.amount, _items(event.items))


def on_cancelled(view: BookingView | None, event: BookingCancelled, stamp: Stamp) -> BookingView:
    view = _advance(view, event.booking_id, "cancelled", stamp, event.reference, event.user_id)
    if view.cancelled_at is not None and view.cancelled_at <= stamp.at:
        return view  # the first cancellation's facts stay
    return replace(
        view,
        cancelled_at=stamp.at,
        cancel_reason=event.reason[:500],
        refund_minor=event.refund.minor,
        refund_currency=event.refund.currency,
        cancelled_by_user_id=event.cancelled_by.user_id,
        cancelled_by_role=event.cancelled_by.role,
    )


def on_expired(view: BookingView | None, event: BookingExpired, stamp: Stamp) -> BookingView:
    view = _advance(view, event.booking_id, "expired", stamp, event.reference, event.user_id)
    return replace(view, expired_at=earliest(view.expired_at, stamp.at))


def on_completed(view: BookingView | None, event: BookingCompleted, stamp: Stamp) -> BookingView:
    view = _advance(view, event.booking_id, "completed", stamp)
    view = replace(
        view,
        completed_at=earliest(view.completed_at, stamp.at),
        vendor_id=view.vendor_id or event.vendor_id,
    )
    return _with_details(view, FROM_COMPLETED, event.amount, None)


def _advance(
    view: BookingView | None,
    booking_id: uuid.UUID,
    status: str,
    stamp: Stamp,
    reference: str | None = None,
    user_id: uuid.UUID | None = None,
) -> BookingView:
    if view is None:
        view = BookingView(
            booking_id=booking_id,
            status=status,
            status_at=stamp.at,
            status_event_id=stamp.event_id,
            first_seen_at=stamp.at,
            updated_at=stamp.at,
            listed_at=stamp.at,
        )
    first_seen = earliest(view.first_seen_at, stamp.at)
    view = replace(
        view,
        reference=view.reference or reference,
        user_id=view.user_id or user_id,
        first_seen_at=first_seen,
        listed_at=view.created_at or first_seen,
        updated_at=latest(view.updated_at, stamp.at),
    )
    if (_RANK[status], stamp.at, str(stamp.event_id)) > (
        _RANK[view.status],
        view.status_at,
        str(view.status_event_id),
    ):
        view = replace(view, status=status, status_at=stamp.at, status_event_id=stamp.event_id)
    return view


def _with_details(
    view: BookingView, source: int, amount: Money, items: tuple[ItemView, ...] | None
) -> BookingView:
    if source <= view.details_source:
        return view
    vendor = next((item.vendor_id for item in items or () if item.vendor_id), None)
    return replace(
        view,
        details_source=source,
        amount_minor=amount.minor,
        currency=amount.currency,
        items=view.items if items is None else items,
        vendor_id=view.vendor_id or vendor,
    )


def _items(items: list[FlightItem | PackageItem]) -> tuple[ItemView, ...]:
    views = []
    for item in items:
        common = dict(seats=item.seats, amount_minor=item.price.minor, currency=item.price.currency)
        if isinstance(item, FlightItem):
            views.append(
                ItemView(
                    kind="flight",
                    first_flight_id=item.flight_ids[0],
                    last_flight_id=item.flight_ids[-1],
                    cabin=item.cabin,
                    **common,
                )
            )
        else:
            views.append(
                ItemView(
                    kind="package",
                    package_id=item.package_id,
                    departure_id=item.departure_id,
                    vendor_id=item.vendor_id,
                    **common,
                )
            )
    return tuple(views)
