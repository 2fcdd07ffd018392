"""What an invoice says: the booking's items, its fees and discount, the total paid, and
each refund as a credit note. Rendering is elsewhere (invoice_pdf.py).

Fees and discount come from the booking's price breakdown when booking.created carries one
(`price.fees`, `price.discount`); otherwise they are what separates the items' sum from the
amount charged: a higher amount shows the difference as fees, a lower one as a discount.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wayfare_common.money import Money


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    quantity: int
    amount: Money


@dataclass(frozen=True)
class CreditNote:
    number: str
    issued_at: datetime
    reason: str
    amount: Money


@dataclass(frozen=True)
class Invoice:
    number: str
    issued_at: datetime
    booking_reference: str
    customer_email: str
    payment_id: str
    provider_reference: str | None
    lines: list[InvoiceLine]
    subtotal: Money
    fees: Money
    discount: Money
    total: Money
    credit_notes: list[CreditNote]

    @property
    def refunded(self) -> Money:
        return sum((note.amount for note in self.credit_notes), Money.zero(self.total.currency))

    @property
    def net(self) -> Money:
        return self.total - self.refunded


def describe_item(item: dict[str, Any]) -> InvoiceLine:
    """A booking item as booking.created carries it (JSON), as an invoice line."""
    seats = int(item.get("seats", 1))
    price = Money.of(item["price"]["amount"], item["price"]["currency"])
    if item.get("type") == "package":
        text = f"Tour package {item['package_id']}, departure {item['departure_id']}"
    else:
        cabin = str(item.get("cabin", "")).replace("_", " ")
        flights = len(item.get("flight_ids", [])) or 1
        legs = "1 flight" if flights == 1 else f"{flights} flights"
        text = f"Air travel, {cabin} ({legs}), offer {item.get('offer_id', '')}"
    return InvoiceLine(text, seats, price)


def fees_and_discount(
    subtotal: Money, total: Money, fees: Money | None, discount: Money | None
) -> tuple[Money, Money]:
    if fees is not None or discount is not None:
        zero = Money.zero(total.currency)
        return fees or zero, discount or zero
    difference = total - subtotal
    zero = Money.zero(total.currency)
    return (difference, zero) if difference >= zero else (zero, zero - difference)


def build_invoice(
    *,
    booking_reference: str,
    customer_email: str,
    payment_id: str,
    provider_reference: str | None,
    paid_at: datetime,
    items: list[dict[str, Any]],
    total: Money,
    fees: Money | None,
    discount: Money | None,
    refunds: list[tuple[datetime, str, Money]],
) -> Invoice:
    lines = [describe_item(item) for item in items]
    subtotal = sum((line.amount for line in lines), Money.zero(total.currency))
    fee, off = fees_and_discount(subtotal, total, fees, discount)
    notes = [
        CreditNote(f"CN-{booking_reference}-{number}", issued_at, reason, amount)
        for number, (issued_at, reason, amount) in enumerate(refunds, start=1)
    ]
    return Invoice(
        number=f"INV-{booking_reference}",
        issued_at=paid_at,
        booking_reference=booking_reference,
        customer_email=customer_email,
        payment_id=payment_id,
        provider_reference=provider_reference,
        lines=lines,
        subtotal=subtotal,
        fees=fee,
        discount=off,
        total=total,
        credit_notes=notes,
    )
