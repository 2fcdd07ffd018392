"""Money: an exact amount in a currency's minor units (cents, yen, fils).

Storage keeps the integer minor units and the ISO 4217 code in two columns; JSON carries
`{"amount": "123.45", "currency": "EUR"}` with the amount as a decimal string, never a
float. How many minor units make a major one comes from CLDR through babel (EUR 2, JPY 0,
KWD 3), frozen in `currency_table` (see `wayfare_common.currencies`). That exponent defines
what the stored integers mean, so it must not change under stored data: babel is pinned,
and a currency whose exponent moves needs a data migration.

Rounding: customer-facing amounts (prices, fees, discounts, refunds, payouts) round half
up, the rule customers and invoices expect (0.125 -> 0.13). `percent` takes another mode
when a caller needs one; `allocate` splits without rounding and loses no minor unit.
"""

import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, Inexact, localcontext
from functools import total_ordering
from typing import Any, ClassVar, Self

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from wayfare_common import currency_table

# Every code CLDR knows, current and historical: a real ISO 4217 code is in here.
CURRENCIES: frozenset[str] = currency_table.CODES

# Minor units fit a BIGINT column.
MAX_MINOR = 2**63 - 1

_AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class CurrencyMismatch(ValueError):
    """Arithmetic or a comparison between amounts in different currencies."""


def exponent(currency: str) -> int:
    """How many decimal places the currency has: EUR 2, JPY 0, KWD 3."""
    _check_currency(currency)
    return currency_table.EXPONENTS.get(currency, 2)


def _check_currency(currency: object) -> None:
    if not isinstance(currency, str) or currency not in CURRENCIES:
        raise ValueError(f"{currency!r} is not an ISO 4217 currency code such as 'EUR'")


@total_ordering
class Money:
    """An amount of one currency, as an integer number of its minor units. Immutable.

    Not a dataclass on purpose: pydantic would dump a dataclass as a dict of its fields in
    Python mode, where a Money field should stay a Money.
    """

    __slots__ = ("currency", "minor")
    minor: int
    currency: str

    example: ClassVar[dict[str, str]] = {"amount": "123.45", "currency": "EUR"}

    def __init__(self, minor: int, currency: str) -> None:
        # bool is an int; True cents is a bug, not an amount.
        if not isinstance(minor, int) or isinstance(minor, bool):
            raise TypeError(f"minor units must be an int, not {type(minor).__name__}")
        _check_currency(currency)
        if abs(minor) > MAX_MINOR:
            raise ValueError("amount is too large")
        object.__setattr__(self, "minor", minor)
        object.__setattr__(self, "currency", currency)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Money is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Money is immutable")

    def __reduce__(self) -> tuple[type["Money"], tuple[int, str]]:
        return Money, (self.minor, self.currency)  # copy and pickle go through __init__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return (self.minor, self.currency) == (other.minor, other.currency)

    def __hash__(self) -> int:
        return hash((self.minor, self.currency))

    def __repr__(self) -> str:
        return f"Money(minor={self.minor}, currency={self.currency!r})"

    @classmethod
    def of(cls, amount: str | Decimal | int, currency: str) -> Self:
        """`Money.of("123.45", "EUR")`: exact; refuses floats and amounts finer than a minor unit.

        Trailing zeros are fine ("1.50" and "1.500" are both 150 cents); "1.505" EUR is not.
        """
        places = exponent(currency)
        return cls(_to_minor(_to_decimal(amount), places, currency), currency)

    @classmethod
    def zero(cls, currency: str) -> Self:
        return cls(0, currency)

    @property
    def amount(self) -> Decimal:
        """The exact amount in major units, with the currency's number of decimals."""
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def format(self, locale: str = "en") -> str:
        """For people: `Money.of("1234.5", "EUR").format("de_DE")` is '1.234,50 €'."""
        from babel.numbers import format_currency  # only where money is shown to people

        return format_currency(self.amount, self.currency, locale=locale)

    def __str__(self) -> str:
        return f"{self.amount:f} {self.currency}"

    def to_json(self) -> dict[str, str]:
        return {"amount": f"{self.amount:f}", "currency": self.currency}

    # Arithmetic stays within one currency; scaling is by whole numbers only, so it is exact.

    def _same_currency(self, other: "Money") -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: object) -> "Money":
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: object) -> "Money":
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __mul__(self, factor: object) -> "Money":
        if not isinstance(factor, int) or isinstance(factor, bool):
            return NotImplemented
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.minor < other.minor

    def percent(self, rate: Decimal | int, rounding: str = ROUND_HALF_UP) -> "Money":
        """`rate` percent of this amount, rounded to a minor unit (half up unless told)."""
        if not isinstance(rate, Decimal | int) or isinstance(rate, bool):
            raise TypeError("rate must be a Decimal or an int, never a float")
        if not Decimal(rate).is_finite():
            raise ValueError("rate must be finite")
        with localcontext(prec=60):
            minor = (self.minor * Decimal(rate) / 100).quantize(Decimal(1), rounding=rounding)
        return Money(int(minor), self.currency)

    def allocate(self, ratios: Sequence[int]) -> list["Money"]:
        """Split in proportion to `ratios`; the parts add up to exactly this amount.

        Minor units left over after the whole shares go one each to the parts with the
        largest remainders (the first of equals first): 10.00 over [1, 1, 1] is
        3.34, 3.33, 3.33.
        """
        if not ratios or any(not isinstance(r, int) or r < 0 for r in ratios) or sum(ratios) == 0:
            raise ValueError("ratios must be non-negative ints with a positive sum")
        total = sum(ratios)
        sign = -1 if self.minor < 0 else 1
        shares = [divmod(abs(self.minor) * ratio, total) for ratio in ratios]
        left = abs(self.minor) - sum(share for share, _ in shares)
        by_remainder = sorted(range(len(shares)), key=lambda i: -shares[i][1])
        extra = set(by_remainder[:left])
        return [
            Money(sign * (share + (i in extra)), self.currency)
            for i, (share, _) in enumerate(shares)
        ]

    # pydantic: validates from and serialises to {"amount": "123.45", "currency": "EUR"}.

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            ref="Money",
            serialization=core_schema.plain_serializer_function_ser_schema(
                cls.to_json, when_used="json"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "title": "Money",
            "description": (
                "An exact amount: a decimal string, never a number, no finer than the "
                "currency's minor unit (EUR 0.01, JPY 1, KWD 0.001), and an ISO 4217 code."
            ),
            "type": "object",
            "properties": {
                "amount": {"type": "string", "pattern": _AMOUNT_PATTERN, "examples": ["123.45"]},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "examples": ["EUR"]},
            },
            "required": ["amount", "currency"],
            "examples": [cls.example],
        }

    @classmethod
    def _validate(cls, value: Any) -> "Money":
        if isinstance(value, Money):
            return value
        # Other keys are ignored, as everywhere in the contract.
        if not isinstance(value, Mapping) or not {"amount", "currency"} <= value.keys():
            raise _invalid('money is an object: {"amount": "123.45", "currency": "EUR"}')
        if not isinstance(value["amount"], str):
            raise _invalid('amount must be a decimal string such as "123.45", not a number')
        try:
            return cls.of(value["amount"], value["currency"])
        except ValueError as exc:
            raise _invalid(str(exc)) from None


def _invalid(reason: str) -> PydanticCustomError:
    # The reason goes through the context: braces in a message template are placeholders.
    return PydanticCustomError("money", "{reason}", {"reason": reason})


def _to_decimal(amount: object) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, str | Decimal | int):
        raise TypeError(f"amount must be a str, Decimal or int, not {type(amount).__name__}")
    if isinstance(amount, str):
        if len(amount) > 40:
            raise ValueError("amount is too long")
        # Only plain decimals: Decimal() alone would also take "1e3", " 1", "1_000" and "NaN".
        if not _PLAIN_DECIMAL.fullmatch(amount):
            raise ValueError(f"{amount!r} is not a decimal amount such as '123.45'")
        return Decimal(amount)
    value = Decimal(amount)
    if not value.is_finite():
        raise ValueError("amount must be a finite number")
    return value


def _to_minor(value: Decimal, places: int, currency: str) -> int:
    if value.adjusted() > 18:
        raise ValueError("amount is too large")
    # Exact or refused: a rounded step would mean digits finer than the minor unit.
    try:
        with localcontext(prec=50, traps=[Inexact]):
            scaled = value.scaleb(places)
            exact = scaled == scaled.to_integral_value()
    except Inexact:
        exact = False
    if not exact:
        raise ValueError(f"{currency} has {places} decimal places; {value} has more")
    return int(scaled)
