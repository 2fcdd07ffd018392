"""The Stripe provider, through the official library (async, over httpx).

Charges are PaymentIntents created and confirmed in one call with our attempt id as the
idempotency key, so a retried request (after a timeout, a crash, a replica taking over)
finds the same PaymentIntent instead of charging twice. Card details never reach us: the
client sends a PaymentMethod id made by Stripe.js. Asynchronous outcomes (3-D Secure,
refunds made in the dashboard) arrive by webhook (api/webhooks.py), and each PaymentIntent
carries our ids in its metadata so that a webhook finds its attempt.
"""

from typing import Any

import stripe
import structlog

from wayfare_payment.domain.errors import (
    InvalidPaymentMethod,
    ProviderRefused,
    ProviderUnavailable,
)
from wayfare_payment.providers import ChargeOutcome, ChargeRequest, PayoutRequest, RefundRequest

log = structlog.get_logger("wayfare.payment.stripe")

# Errors that say nothing about the outcome: the same call may be retried.
_TRANSIENT = (
    stripe.APIConnectionError,
    stripe.RateLimitError,
    stripe.APIError,
    stripe.AuthenticationError,
    stripe.PermissionError,
)


class StripeProvider:
    name = "stripe"

    def __init__(self, api_key: str, api_base: str = "", timeout: float = 30.0):
        self.http = stripe.HTTPXClient(timeout=timeout)
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self.http,
            max_network_retries=2,  # safe: every mutating call has an idempotency key
        )

    async def close(self) -> None:
        await self.http.close_async()

    def payment_method(self, value: str) -> str:
        value = value.strip()
        if not value.startswith("pm_"):
            raise InvalidPaymentMethod(
                "Send a PaymentMethod id (pm_...) created with Stripe.js; card numbers are "
                "never sent to Wayfare."
            )
        return value

    async def charge(self, request: ChargeRequest) -> ChargeOutcome:
        params: Any = {
            "amount": request.amount.minor,
            "currency": request.amount.currency.lower(),
            "payment_method": request.payment_method,
            "payment_method_types": ["card"],
            "confirm": True,
            "metadata": {
                "payment_id": str(request.payment_id),
                "attempt_id": str(request.attempt_id),
                "booking_id": str(request.booking_id),
            },
        }
        try:
            intent = await self.client.v1.payment_intents.create_async(
                params=params, options={"idempotency_key": f"wayfare-charge-{request.attempt_id}"}
            )
        except stripe.CardError as err:
            error = plain(err.error) or {}
            return ChargeOutcome(
                "failed",
                reference=_id(error.get("payment_intent")),
                failure_reason=_decline_reason(error) or "card_declined",
            )
        except stripe.InvalidRequestError as err:
            log.warning("stripe_charge_refused", error=str(err), code=err.code)
            return ChargeOutcome("failed", failure_reason=err.code or "invalid_request")
        except _TRANSIENT as err:
            log.warning("stripe_unavailable", operation="charge", error=str(err))
            raise ProviderUnavailable() from err
        return outcome_of_intent(plain(intent))

    async def confirm(
        self, request: ChargeRequest, reference: str, authenticated: bool
    ) -> ChargeOutcome:
        # The customer authenticated with Stripe.js; Stripe, not the client, knows how it went.
        try:
            intent = await self.client.v1.payment_intents.retrieve_async(reference)
        except stripe.InvalidRequestError as err:
            raise ProviderRefused(f"Stripe does not know this payment: {err.code}") from err
        except _TRANSIENT as err:
            raise ProviderUnavailable() from err
        return outcome_of_intent(plain(intent))

    async def refund(self, request: RefundRequest) -> str:
        try:
            refund = await self.client.v1.refunds.create_async(
                params={
                    "payment_intent": request.charge_reference,
                    "amount": request.amount.minor,
                    "metadata": {"refund_id": str(request.refund_id)},
                },
                options={"idempotency_key": f"wayfare-refund-{request.refund_id}"},
            )
        except stripe.InvalidRequestError as err:
            raise ProviderRefused(f"Stripe refused the refund: {err.user_message or err}") from err
        except _TRANSIENT as err:
            raise ProviderUnavailable() from err
        return refund.id

    def needs_payout_destination(self) -> bool:
        return True

    async def payout(self, request: PayoutRequest) -> str:
        try:
            transfer = await self.client.v1.transfers.create_async(
                params={
                    "amount": request.amount.minor,
                    "currency": request.amount.currency.lower(),
                    "destination": request.destination or "",
                    "metadata": {"payout_id": str(request.payout_id), **request.metadata},
                },
                options={"idempotency_key": f"wayfare-payout-{request.payout_id}"},
            )
        except stripe.InvalidRequestError as err:
            raise ProviderRefused(
                f"Stripe refused the transfer: {err.user_message or err}"
            ) from err
        except _TRANSIENT as err:
            raise ProviderUnavailable() from err
        return transfer.id


def plain(obj: Any) -> Any:
    """The library's objects are not dicts; their JSON is what we read."""
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def outcome_of_intent(intent: dict[str, Any]) -> ChargeOutcome:
    """Where a PaymentIntent (from an API answer or a webhook) leaves our attempt."""
    status = intent.get("status")
    reference = intent.get("id")
    if status == "succeeded":
        return ChargeOutcome("succeeded", reference)
    if status == "requires_action":
        return ChargeOutcome(
            "requires_action",
            reference,
            next_action={
                "type": "use_stripe_sdk",
                # Stripe.js completes the challenge with this (handleNextAction); then the
                # client calls /confirm, or simply waits for the webhook.
                "client_secret": intent.get("client_secret"),
                "provider_reference": reference,
            },
        )
    if status == "canceled":
        return ChargeOutcome("cancelled", reference, failure_reason="canceled")
    if status == "requires_payment_method":
        # The confirmation failed; the PaymentIntent waits for another method.
        error = intent.get("last_payment_error")
        return ChargeOutcome(
            "failed", reference, failure_reason=_decline_reason(error) or "payment_failed"
        )
    return ChargeOutcome("processing", reference)  # processing, requires_capture, ...


def _decline_reason(error: Any) -> str | None:
    if not error:
        return None
    return error.get("decline_code") or error.get("code")


def _id(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.get("id")
