"""Request and response bodies. Money is `{"amount": "412.80", "currency": "EUR"}`."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from wayfare_common.money import Money
from wayfare_payment.store.models import Payment, Payout, Refund

_PAYMENT_ID = "6b3d8f2a-5e1c-4c7b-9a4d-8f2e6b1c3d96"
_BOOKING_ID = "9d2b7c4a-1f3e-4a8b-b6d5-3c7e1a2f9b84"


class PayIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"booking_id": _BOOKING_ID, "payment_method": "pm_card_visa"}]
        },
    )

    booking_id: uuid.UUID
    payment_method: str = Field(
        min_length=1,
        max_length=255,
        description="Sandbox: a Stripe test card number or pm_card_* id. Stripe: a "
        "PaymentMethod id made by Stripe.js.",
    )


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    authenticated: bool = Field(
        True,
        description="Sandbox only: how the simulated 3-D Secure challenge went. With Stripe "
        "the outcome is asked of Stripe.",
    )


class RefundIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"amount": {"amount": "50.00", "currency": "EUR"}, "reason": "goodwill"}]
        },
    )

    amount: Money | None = Field(None, description="Absent: everything still refundable.")
    reason: str = Field(min_length=1, max_length=500)


class MarkPaidIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "paid by bank transfer", "reference": "SEPA-2025-0601-17"}]
        },
    )

    reason: str = Field(min_length=1, max_length=500)
    reference: str = Field(min_length=1, max_length=255, description="The transfer's reference.")


class VendorAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stripe_account: str = Field(pattern=r"^acct_[A-Za-z0-9]+$", max_length=255)


class PaymentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _PAYMENT_ID,
                    "booking_id": _BOOKING_ID,
                    "booking_reference": "K7MX4P",
                    "status": "succeeded",
                    "amount": {"amount": "412.80", "currency": "EUR"},
                    "captured": {"amount": "412.80", "currency": "EUR"},
                    "refunded": {"amount": "0.00", "currency": "EUR"},
                    "provider": "sandbox",
                    "provider_reference": "sbx_pi_0c1d",
                    "failure_reason": None,
                    "next_action": None,
                    "payable_until": "2025-06-01T10:30:00Z",
                    "paid_at": "2025-06-01T10:05:00Z",
                    "created_at": "2025-06-01T10:00:00Z",
                    "updated_at": "2025-06-01T10:05:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    booking_id: uuid.UUID
    booking_reference: str
    status: str = Field(
        description="pending, processing, requires_action, succeeded, failed, "
        "partially_refunded, refunded or cancelled"
    )
    amount: Money
    captured: Money
    refunded: Money
    provider: str | None
    provider_reference: str | None
    failure_reason: str | None = Field(description="Why the last attempt failed (a decline code).")
    next_action: dict[str, Any] | None = Field(
        description="With requires_action: what the client must do to finish the payment."
    )
    payable_until: datetime
    paid_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, payment: Payment) -> "PaymentOut":
        currency = payment.currency
        return cls(
            id=payment.id,
            booking_id=payment.booking_id,
            booking_reference=payment.booking_reference,
            status=payment.status,
            amount=payment.amount,
            captured=Money(payment.captured_minor, currency),
            refunded=Money(payment.refunded_minor, currency),
            provider=payment.provider,
            provider_reference=payment.provider_reference,
            failure_reason=payment.failure_reason,
            next_action=payment.next_action,
            payable_until=payment.payable_until,
            paid_at=payment.paid_at,
            created_at=payment.created_at,
            updated_at=payment.updated_at,
        )


class RefundOut(BaseModel):
    id: uuid.UUID
    payment_id: uuid.UUID
    amount: Money
    reason: str
    source: str
    provider_reference: str | None
    created_at: datetime
    payment: PaymentOut

    @classmethod
    def of(cls, refund: Refund, payment: Payment) -> "RefundOut":
        return cls(
            id=refund.id,
            payment_id=refund.payment_id,
            amount=refund.amount,
            reason=refund.reason,
            source=refund.source,
            provider_reference=refund.provider_reference,
            created_at=refund.created_at,
            payment=PaymentOut.of(payment),
        )


class PayoutOut(BaseModel):
    id: uuid.UUID
    vendor_id: uuid.UUID
    amount: Money
    status: str = Field(description="pending, sent or failed")
    provider: str
    provider_reference: str | None
    failure_reason: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, payout: Payout) -> "PayoutOut":
        return cls(
            id=payout.id,
            vendor_id=payout.vendor_id,
            amount=payout.amount,
            status=payout.status,
            provider=payout.provider,
            provider_reference=payout.provider_reference,
            failure_reason=payout.failure_reason,
            created_at=payout.created_at,
            sent_at=payout.sent_at,
        )


class SkippedPayout(BaseModel):
    vendor_id: uuid.UUID
    balance: Money
    reason: str


class PayoutRunOut(BaseModel):
    sent: list[PayoutOut]
    failed: list[PayoutOut]
    waiting: list[PayoutOut] = Field(description="The provider could not be reached: next run.")
    skipped: list[SkippedPayout]


class Balance(BaseModel):
    vendor_id: uuid.UUID | None = Field(description="null for the platform's share")
    balance: Money


class BalancesOut(BaseModel):
    vendors: list[Balance]
    platform: list[Money]
