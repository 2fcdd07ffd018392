"""Refusals with a stable code. The API turns them into RFC 9457 problems (api/errors.py);
the domain and use cases raise them without knowing about HTTP."""

from typing import Any


class PaymentError(Exception):
    status: int = 409
    code: str = "conflict"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.extra = extra


class PaymentNotFound(PaymentError):
    status, code = 404, "not_found"


class BookingNotKnown(PaymentError):
    """booking.created has not reached us yet: the client should retry shortly."""

    status, code = 409, "booking_not_known"

    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail, headers={"Retry-After": "1"}, **extra)


class AlreadyPaid(PaymentError):
    code = "already_paid"


class PaymentInProgress(PaymentError):
    code = "payment_in_progress"

    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail, headers={"Retry-After": "1"}, **extra)


class BookingClosed(PaymentError):
    code = "booking_closed"


class PaymentWindowClosed(PaymentError):
    code = "payment_window_closed"


class NothingToConfirm(PaymentError):
    code = "nothing_to_confirm"


class NotRefundable(PaymentError):
    code = "not_refundable"


class RefundExceedsCaptured(PaymentError):
    status, code = 422, "refund_exceeds_captured"


class InvalidPaymentMethod(PaymentError):
    status, code = 422, "invalid_payment_method"


class InvoiceNotAvailable(PaymentError):
    code = "invoice_not_available"


class PayoutRunInProgress(PaymentError):
    code = "payout_run_in_progress"


class ProviderUnavailable(PaymentError):
    """The provider could not be reached or failed on its side; the outcome is unknown and
    retrying (with the same idempotency key) is safe."""

    status, code = 503, "provider_unavailable"

    def __init__(self, detail: str = "The payment provider cannot be reached right now.", **extra):
        super().__init__(detail, headers={"Retry-After": "5"}, **extra)


class ProviderRefused(PaymentError):
    """The provider answered and said no (a refund or transfer it will not make)."""

    status, code = 502, "provider_refused"
