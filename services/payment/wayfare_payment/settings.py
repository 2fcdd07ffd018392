from typing import ClassVar

from pydantic import Field, field_validator

from wayfare_common.money import Money
from wayfare_common.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    """PAYMENT_PORT, PAYMENT_DATABASE_URL ... plus the variables every service shares."""

    model_config = service_settings_config("PAYMENT_")

    service_name: ClassVar[str] = "payment"
    default_port: ClassVar[int] = 8004

    # Stripe: set the key to charge through Stripe instead of the offline sandbox.
    stripe_api_key: str = ""
    stripe_api_base: str = ""  # e.g. a localstripe on loopback; empty is Stripe's own
    stripe_webhook_secret: str = ""
    stripe_webhook_tolerance: int = Field(300, ge=1)  # seconds a signed webhook stays valid

    # Vendor payouts: how often the scheduled run looks (0 turns it off; staff can still
    # trigger a run), and the smallest balance paid out, in any currency's units.
    payout_interval: float = Field(3600.0, ge=0)
    payout_minimum: str = "50.00"

    # Charge attempts left `processing` this long (a crash, a timeout) are driven again
    # with the same provider idempotency key, every `reconcile_interval` seconds.
    stale_attempt_after: float = Field(120.0, gt=0)
    reconcile_interval: float = Field(30.0, gt=0)

    @field_validator("payout_minimum")
    @classmethod
    def _plain_amount(cls, value: str) -> str:
        Money.of(value, "EUR")  # a plain decimal such as "50.00"
        return value

    @property
    def uses_stripe(self) -> bool:
        return bool(self.stripe_api_key)
