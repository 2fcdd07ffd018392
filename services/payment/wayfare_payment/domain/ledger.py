"""The vendor ledger: a completed package booking earns its vendor 80% and the platform
the rest; vendors are paid out per currency once their balance reaches the minimum.

The vendor's share is `Money.percent(80)`, rounded half up like every customer-facing
amount (docs/events.md); the platform gets the exact remainder, so the two entries always
add up to the booking's amount to the minor unit (100.01 EUR: 80.01 + 20.00).
"""

from wayfare_common.money import Money

VENDOR_SHARE_PERCENT = 80


def split(amount: Money) -> tuple[Money, Money]:
    """(vendor, platform) for a completed booking's amount."""
    vendor = amount.percent(VENDOR_SHARE_PERCENT)
    return vendor, amount - vendor


def payout_minimum(minimum: str, currency: str) -> Money:
    """The threshold ("50.00") in one currency's units: 50.00 EUR, 50 JPY, 50.000 KWD."""
    return Money.of(minimum, currency)


def is_due(balance: Money, minimum: str) -> bool:
    return balance >= payout_minimum(minimum, balance.currency)
