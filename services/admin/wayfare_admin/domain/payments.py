"""The payments read model: payment.succeeded, failed and refunded.

A payment's status is worked out from what is known about it (captured, refunded,
failed), not from the last event to arrive, so a refund that overtakes its capture, or
a failure reported after a later success, leaves the same state as the usual order.
Each refund is also kept as its own row: revenue nets refunds in the period they were
made, not in the period of the capture.
"""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, get_args

from wayfare_admin.domain.stamps import Stamp, earliest, latest
from wayfare_common.events.catalog import PaymentFailed, PaymentRefunded, PaymentSucceeded

PaymentStatus = Literal["pending", "failed", "succeeded", "partially_refunded", "refunded"]
STATUSES: tuple[str, ...] = get_args(PaymentStatus)


@dataclass(frozen=True)
class PaymentView:
    payment_id: uuid.UUID
    status: str
    first_seen_at: datetime
    updated_at: datetime
    refunded_minor: int = 0
    booking_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    currency: str | None = None
    captured_minor: int | None = None
    provider: str | None = None
    provider_reference: str | None = None
    succeeded_at: datetime | None = None
    failed_at: datetime | None = None
    failure_reason: str | None = None
    last_refunded_at: datetime | None = None


@dataclass(frozen=True)
class RefundRecord:
    event_id: uuid.UUID
    payment_id: uuid.UUID
    booking_id: uuid.UUID
    amount_minor: int
    currency: str
    refunded_at: datetime
    refunded_by_user_id: str | None
    refunded_by_role: str


def status_of(view: PaymentView) -> str:
    if view.refunded_minor > 0:
        captured = view.captured_minor
        return "partially_refunded" if captured and view.refunded_minor < captured else "refunded"
    if view.captured_minor is not None:
        return "succeeded"
    return "failed" if view.failed_at is not None else "pending"


def on_succeeded(view: PaymentView | None, event: PaymentSucceeded, stamp: Stamp) -> PaymentView:
    view = _touch(view, event.payment_id, stamp, event.booking_id, event.user_id)
    if view.succeeded_at is None or stamp.at < view.succeeded_at:
        view = replace(
            view,
            captured_minor=event.amount.minor,
            currency=event.amount.currency,
            provider=event.provider,
            provider_reference=event.provider_reference,
            succeeded_at=stamp.at,
        )
    return _settle(view)


def on_failed(view: PaymentView | None, event: PaymentFailed, stamp: Stamp) -> PaymentView:
    """The latest failure is the one shown (a payment can be declined, then retried)."""
    view = _touch(view, event.payment_id, stamp, event.booking_id, event.user_id)
    reason = event.reason[:500]
    if (
        view.failed_at is None
        or stamp.at > view.failed_at
        or (stamp.at == view.failed_at and reason > (view.failure_reason or ""))
    ):
        view = replace(view, failed_at=stamp.at, failure_reason=reason)
    return _settle(view)


def on_refunded(
    view: PaymentView | None, event: PaymentRefunded, stamp: Stamp
) -> tuple[PaymentView, RefundRecord]:
    """Each refund event is one refund (the inbox and the archive see each id once)."""
    view = _touch(view, event.payment_id, stamp, event.booking_id, event.user_id)
    view = replace(
        view,
        currency=view.currency or event.amount.currency,
        refunded_minor=view.refunded_minor + event.amount.minor,
        last_refunded_at=latest(view.last_refunded_at, stamp.at),
    )
    refund = RefundRecord(
        event_id=stamp.event_id,
        payment_id=event.payment_id,
        booking_id=event.booking_id,
        amount_minor=event.amount.minor,
        currency=event.amount.currency,
        refunded_at=stamp.at,
        refunded_by_user_id=event.refunded_by.user_id,
        refunded_by_role=event.refunded_by.role,
    )
    return _settle(view), refund


def _touch(
    view: PaymentView | None,
    payment_id: uuid.UUID,
    stamp: Stamp,
    booking_id: uuid.UUID,
    user_id: uuid.UUID,
) -> PaymentView:
    if view is None:
        view = PaymentView(
            payment_id=payment_id, status="pending", first_seen_at=stamp.at, updated_at=stamp.at
        )
    return replace(
        view,
        booking_id=view.booking_id or booking_id,
        user_id=view.user_id or user_id,
        first_seen_at=earliest(view.first_seen_at, stamp.at),
        updated_at=latest(view.updated_at, stamp.at),
    )


def _settle(view: PaymentView) -> PaymentView:
    return replace(view, status=status_of(view))
