"""The offline sandbox's test cards, after Stripe's: the same numbers and `pm_card_*` ids
behave as they do in Stripe's test mode. Anything else is refused, so that no real card
number is ever stored."""

from dataclasses import dataclass
from typing import Literal

from wayfare_payment.domain.errors import InvalidPaymentMethod

Behaviour = Literal["succeeds", "declines", "requires_action"]


@dataclass(frozen=True)
class TestCard:
    method: str  # the canonical payment-method id, the only form that is stored
    behaviour: Behaviour
    decline_code: str | None = None


_CARDS = [
    (TestCard("pm_card_visa", "succeeds"), ["4242424242424242"]),
    (TestCard("pm_card_mastercard", "succeeds"), ["5555555555554444"]),
    (
        TestCard("pm_card_chargeDeclined", "declines", "card_declined"),
        ["4000000000000002", "pm_card_visa_chargeDeclined"],
    ),
    (
        TestCard("pm_card_chargeDeclinedInsufficientFunds", "declines", "insufficient_funds"),
        ["4000000000009995"],
    ),
    (TestCard("pm_card_chargeDeclinedLostCard", "declines", "lost_card"), ["4000000000009987"]),
    (
        TestCard("pm_card_chargeDeclinedStolenCard", "declines", "stolen_card"),
        ["4000000000009979"],
    ),
    (
        TestCard("pm_card_chargeDeclinedExpiredCard", "declines", "expired_card"),
        ["4000000000000069"],
    ),
    (
        TestCard("pm_card_chargeDeclinedIncorrectCvc", "declines", "incorrect_cvc"),
        ["4000000000000127"],
    ),
    (
        TestCard("pm_card_chargeDeclinedProcessingError", "declines", "processing_error"),
        ["4000000000000119"],
    ),
    (
        TestCard("pm_card_authenticationRequired", "requires_action"),
        ["4000002500003155", "pm_card_threeDSecure2Required"],
    ),
]

CARDS: dict[str, TestCard] = {}
for _card, _aliases in _CARDS:
    for _name in [_card.method, *_aliases]:
        CARDS[_name] = _card


def test_card(payment_method: str) -> TestCard:
    """The test card a client named by number (spaces and dashes allowed) or by id."""
    key = payment_method.strip()
    if key[:1].isdigit():
        key = key.replace(" ", "").replace("-", "")
    card = CARDS.get(key)
    if card is None:
        raise InvalidPaymentMethod(
            "The sandbox accepts Stripe's test cards only, such as 4242424242424242 or "
            "pm_card_visa.",
            supported=sorted(name for name in CARDS if name.startswith("pm_")),
        )
    return card


test_card.__test__ = False  # not a pytest test, despite the name
TestCard.__test__ = False
