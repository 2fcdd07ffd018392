"""Payment providers behind one small interface: `sandbox` (offline, Stripe's test-card
behaviour) and `stripe` (the official library). Which one charges is decided by settings;
refunds go back through the provider that captured the payment."""

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from uuid import UUID

from wayfare_common.money import Money

ChargeStatus = Literal["succeeded", "failed", "requires_action", "processing", "cancelled"]


@dataclass(frozen=True)
class ChargeRequest:
    attempt_id: UUID  # also the provider's idempotency key: a retried call charges once
    payment_id: UUID
    booking_id: UUID
    amount: Money
    payment_method: str


@dataclass(frozen=True)
class ChargeOutcome:
    status: ChargeStatus
    reference: str | None = None  # the provider's id of the charge (a PaymentIntent id)
    failure_reason: str | None = None
    next_action: dict[str, Any] | None = None


@dataclass(frozen=True)
class RefundRequest:
    refund_id: UUID  # the provider's idempotency key
    charge_reference: str
    amount: Money


@dataclass(frozen=True)
class PayoutRequest:
    payout_id: UUID  # the provider's idempotency key
    vendor_id: UUID
    amount: Money
    destination: str | None = None  # the vendor's account at the provider, if it needs one
    metadata: dict[str, str] = field(default_factory=dict)


class Provider(Protocol):
    name: str

    def payment_method(self, value: str) -> str:
        """The canonical, storable form of what the client sent; raises
        `InvalidPaymentMethod`."""
        ...

    async def charge(self, request: ChargeRequest) -> ChargeOutcome: ...

    async def confirm(
        self, request: ChargeRequest, reference: str, authenticated: bool
    ) -> ChargeOutcome:
        """After `requires_action`: where the payment stands once the customer has (or has
        not) authenticated."""
        ...

    async def refund(self, request: RefundRequest) -> str:
        """Returns the provider's refund id; raises `ProviderRefused`/`ProviderUnavailable`."""
        ...

    def needs_payout_destination(self) -> bool: ...

    async def payout(self, request: PayoutRequest) -> str:
        """Returns the provider's transfer id."""
        ...
