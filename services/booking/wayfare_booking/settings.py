from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from wayfare_booking.domain.pricing import FeeRule
from wayfare_booking.domain.refunds import PackageTier, RefundPolicy
from wayfare_common.money import Money
from wayfare_common.settings import ServiceSettings, service_settings_config

# The flight service's default FLIGHT_HOLD_MAX_TTL_SECONDS.
MAX_HOLD_SECONDS = 3600

Percent = Decimal  # 12.5 means 12.5 %; JSON numbers are read exactly (no float arithmetic)


class FeeRuleSetting(BaseModel):
    """One service-fee rule of BOOKING_FEE_RULES (a JSON list)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    per: Literal["booking", "passenger", "percent"]
    amount: Money | None = None
    percent: Percent | None = Field(None, gt=0, le=100)
    product_types: list[Literal["flight", "package"]] = ["flight", "package"]

    @model_validator(mode="after")
    def _one_measure(self):
        if (self.per == "percent") != (self.percent is not None):
            raise ValueError('"percent" rules give percent; the others give amount')
        if (self.per != "percent") != (self.amount is not None):
            raise ValueError('"booking" and "passenger" rules give an amount')
        return self

    def rule(self) -> FeeRule:
        return FeeRule(
            self.name, self.per, self.amount, self.percent, frozenset(self.product_types)
        )


class PackageTierSetting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_days: int = Field(ge=0)
    percent: Percent = Field(ge=0, le=100)


class RefundPolicySetting(BaseModel):
    """BOOKING_REFUND_POLICY (a JSON object); the table is in domain/refunds.py."""

    model_config = ConfigDict(extra="forbid")

    refundable_percent: Percent = Field(Decimal(100), ge=0, le=100)
    cutoff_hours: int = Field(24, ge=0)
    non_refundable_percent: Percent = Field(Decimal(50), ge=0, le=100)
    package_tiers: list[PackageTierSetting] = [
        PackageTierSetting(min_days=30, percent=Decimal(100)),
        PackageTierSetting(min_days=14, percent=Decimal(50)),
        PackageTierSetting(min_days=7, percent=Decimal(25)),
        PackageTierSetting(min_days=0, percent=Decimal(0)),
    ]
    fees_refundable: bool = False

    def policy(self) -> RefundPolicy:
        return RefundPolicy(
            refundable_percent=self.refundable_percent,
            cutoff_hours=self.cutoff_hours,
            non_refundable_percent=self.non_refundable_percent,
            package_tiers=tuple(PackageTier(t.min_days, t.percent) for t in self.package_tiers),
            fees_refundable=self.fees_refundable,
        )


DEFAULT_FEE_RULES = [
    FeeRuleSetting(name="service_fee", per="booking", amount=Money.of("4.90", "EUR")),
    FeeRuleSetting(
        name="passenger_fee",
        per="passenger",
        amount=Money.of("1.50", "EUR"),
        product_types=["flight"],
    ),
    FeeRuleSetting(name="package_handling", per="percent", percent=2, product_types=["package"]),
]


class Settings(ServiceSettings):
    """BOOKING_PORT, BOOKING_DATABASE_URL ... plus the variables every service shares."""

    model_config = service_settings_config("BOOKING_")

    service_name: ClassVar[str] = "booking"
    default_port: ClassVar[int] = 8003

    # The flight service's internal API (docs/flight-internal-api.md).
    flight_url: str = "http://127.0.0.1:8002"
    flight_timeout: float = Field(5.0, gt=0)

    # How long a new booking may be paid for (its payable_until).
    payment_window_minutes: float = Field(15, gt=0, le=60)
    # A payment captured by the deadline may reach us up to this late and still confirm:
    # unpaid bookings expire this long after payable_until, and the flight hold lasts
    # twice as long, so the confirmation that follows still finds the seats held.
    payment_grace_seconds: float = Field(30, ge=0, le=300)

    # Background work: expiring unpaid bookings, completing travelled ones.
    sweep_interval: float = Field(5.0, gt=0)
    completion_interval: float = Field(60.0, gt=0)
    completion_delay_hours: float = Field(24, ge=0)

    # Idempotency-Key: how long a second request waits for the first one's answer, how
    # long a claim is held before another request may take over, how long keys are kept.
    idempotency_wait_seconds: float = Field(10.0, ge=0)
    idempotency_lock_seconds: float = Field(60.0, gt=0)
    idempotency_retention_hours: float = Field(24, gt=0)

    fee_rules: list[FeeRuleSetting] = DEFAULT_FEE_RULES
    refund_policy: RefundPolicySetting = RefundPolicySetting()

    @model_validator(mode="after")
    def _hold_fits(self):
        hold = self.payment_window_minutes * 60 + 2 * self.payment_grace_seconds
        if hold > MAX_HOLD_SECONDS:
            raise ValueError(
                f"the payment window plus twice the grace is {hold:.0f} s; the flight service "
                f"holds seats for at most {MAX_HOLD_SECONDS} s (FLIGHT_HOLD_MAX_TTL_SECONDS)"
            )
        return self

    def fee_rule_list(self) -> list[FeeRule]:
        return [setting.rule() for setting in self.fee_rules]
