"""The default provider: offline and deterministic. It answers like Stripe's test mode for
Stripe's test cards (domain/sandbox_cards.py), and its references derive from our ids, so a
retried call gives the same answer, as an idempotency key would."""

from wayfare_payment.domain.sandbox_cards import test_card
from wayfare_payment.providers import ChargeOutcome, ChargeRequest, PayoutRequest, RefundRequest


class SandboxProvider:
    name = "sandbox"

    def payment_method(self, value: str) -> str:
        return test_card(value).method

    async def charge(self, request: ChargeRequest) -> ChargeOutcome:
        card = test_card(request.payment_method)
        reference = f"sbx_pi_{request.attempt_id.hex}"
        if card.behaviour == "succeeds":
            return ChargeOutcome("succeeded", reference)
        if card.behaviour == "declines":
            return ChargeOutcome("failed", reference, failure_reason=card.decline_code)
        return ChargeOutcome(
            "requires_action",
            reference,
            next_action={
                "type": "authenticate",
                # The sandbox has no challenge page: the client says how it went.
                "confirm_url": f"/api/v1/payments/{request.payment_id}/confirm",
                "body": {"authenticated": True},
            },
        )

    async def confirm(
        self, request: ChargeRequest, reference: str, authenticated: bool
    ) -> ChargeOutcome:
        if authenticated:
            return ChargeOutcome("succeeded", reference)
        return ChargeOutcome(
            "failed", reference, failure_reason="payment_intent_authentication_failure"
        )

    async def refund(self, request: RefundRequest) -> str:
        return f"sbx_re_{request.refund_id.hex}"

    def needs_payout_destination(self) -> bool:
        return False

    async def payout(self, request: PayoutRequest) -> str:
        return f"sbx_tr_{request.payout_id.hex}"


class ManualProvider:
    """Payments staff marked as paid by bank transfer: nothing to call. A refund of one is
    recorded here and paid back by staff outside the system."""

    name = "manual"

    def payment_method(self, value: str) -> str:
        return value

    async def charge(self, request: ChargeRequest) -> ChargeOutcome:
        raise NotImplementedError("manual payments are recorded by staff, not charged")

    async def confirm(self, request, reference, authenticated) -> ChargeOutcome:
        raise NotImplementedError("manual payments are recorded by staff, not charged")

    async def refund(self, request: RefundRequest) -> str:
        return f"manual_re_{request.refund_id.hex}"

    def needs_payout_destination(self) -> bool:
        return False

    async def payout(self, request: PayoutRequest) -> str:
        raise NotImplementedError("payouts go through a real provider")
