"""The life of a payment: one per booking, opened when the booking is created, charged by
one or more attempts, refunded in parts.

    pending --charge--> processing --> succeeded --refund--> partially_refunded --> refunded
       ^                    |    \\--> requires_action --confirm--> (succeeded | failed)
       |                    v
       +---- retry ---- failed
    pending | failed | requires_action --booking cancelled or expired--> cancelled

A success is final: a late failure report for the same attempt changes nothing, and a
success for a cancelled booking is captured and then refunded in full at once.
"""

from enum import StrEnum

from wayfare_payment.domain.errors import (
    AlreadyPaid,
    BookingClosed,
    NotRefundable,
    PaymentInProgress,
    RefundExceedsCaptured,
)


class Status(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class AttemptStatus(StrEnum):
    PROCESSING = "processing"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class BookingState(StrEnum):
    """What payment knows of the booking's life, from booking events."""

    OPEN = "open"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


CAPTURED = frozenset({Status.SUCCEEDED, Status.PARTIALLY_REFUNDED, Status.REFUNDED})
# An attempt may start from these; requires_action is abandoned by starting another.
CHARGEABLE = frozenset({Status.PENDING, Status.FAILED, Status.REQUIRES_ACTION})
UNCAPTURED_OPEN = frozenset(
    {Status.PENDING, Status.FAILED, Status.PROCESSING, Status.REQUIRES_ACTION}
)


def check_can_charge(status: Status, booking_state: BookingState) -> None:
    """Raise unless a new charge attempt may start now."""
    if status in CAPTURED:
        raise AlreadyPaid("This booking is already paid.")
    if booking_state is not BookingState.OPEN or status is Status.CANCELLED:
        raise BookingClosed(f"The booking is {booking_state.value}; it can no longer be paid.")
    if status is Status.PROCESSING:
        raise PaymentInProgress("A payment for this booking is being processed.")


def check_can_mark_paid(status: Status, booking_state: BookingState) -> None:
    if status in CAPTURED:
        raise AlreadyPaid("This booking is already paid.")
    if booking_state is not BookingState.OPEN or status is Status.CANCELLED:
        raise BookingClosed(f"The booking is {booking_state.value}; it can no longer be paid.")
    if status is Status.PROCESSING:
        raise PaymentInProgress("A card payment for this booking is being processed.")


def refundable(captured: int, refunded: int) -> int:
    return max(captured - refunded, 0)


def capped_refund(requested: int, captured: int, refunded: int) -> int:
    """What a refund the booking service decided comes to: never more than is left."""
    return max(min(requested, refundable(captured, refunded)), 0)


def check_staff_refund(requested: int, captured: int, refunded: int) -> None:
    """Staff refunds are refused, not capped: staff asked for an amount on purpose."""
    left = refundable(captured, refunded)
    if left == 0:
        raise NotRefundable("Nothing is left to refund on this payment.")
    if requested <= 0:
        raise RefundExceedsCaptured("A refund must be a positive amount.")
    if requested > left:
        raise RefundExceedsCaptured(
            "The refund is more than what is left of the captured amount.", refundable=left
        )


def status_after_refund(captured: int, refunded: int) -> Status:
    return Status.REFUNDED if refunded >= captured else Status.PARTIALLY_REFUNDED
