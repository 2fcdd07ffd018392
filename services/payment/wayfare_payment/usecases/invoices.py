"""The invoice of a paid payment, with its refunds as credit notes."""

from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.money import Money
from wayfare_payment import invoice_pdf
from wayfare_payment.domain.errors import InvoiceNotAvailable
from wayfare_payment.domain.invoices import build_invoice
from wayfare_payment.store import payments as store
from wayfare_payment.store.models import Payment

REFUND_REASONS = {
    "booking_cancelled": "booking cancelled",
    "late_payment": "paid after the booking closed",
    "provider": "refunded at the provider",
}


async def invoice_pdf_of(session: AsyncSession, payment: Payment) -> bytes:
    if payment.captured_minor <= 0 or payment.paid_at is None:
        raise InvoiceNotAvailable("An invoice exists once the payment has succeeded.")
    refunds = [
        (row.created_at, REFUND_REASONS.get(row.source, row.reason), row.amount)
        for row in await store.refunds_of(session, payment.id)
        if row.source != "duplicate_capture"  # not this payment's money
    ]
    currency = payment.currency
    invoice = build_invoice(
        booking_reference=payment.booking_reference,
        customer_email=payment.contact_email,
        payment_id=str(payment.id),
        provider_reference=payment.provider_reference,
        paid_at=payment.paid_at,
        items=payment.items,
        total=payment.amount,
        fees=None if payment.fees_minor is None else Money(payment.fees_minor, currency),
        discount=(
            None if payment.discount_minor is None else Money(payment.discount_minor, currency)
        ),
        refunds=refunds,
    )
    return invoice_pdf.render(invoice)


def invoice_filename(payment: Payment) -> str:
    return f"invoice-{payment.booking_reference}.pdf"
