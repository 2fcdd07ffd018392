"""An invoice as a PDF (fpdf2): header, line items, fees, discount, total, and each refund
as a credit note below. Amounts are written as "412.80 EUR" (exact, from Money); the
built-in Helvetica covers Latin-1 only, so other characters are replaced."""

from typing import TYPE_CHECKING

from wayfare_common.money import Money
from wayfare_payment.domain.invoices import Invoice

if TYPE_CHECKING:
    from fpdf import FPDF

SELLER = "Wayfare Travel"


def _text(value: object) -> str:
    return str(value).encode("latin-1", "replace").decode("latin-1")


def _amount(money: Money) -> str:
    return f"{money.amount:f} {money.currency}"


def render(invoice: Invoice) -> bytes:
    # Imported here: fpdf brings fontTools, Pillow and numpy (about 33 MB), which a
    # payment process would otherwise hold from its start, whether it renders or not.
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(_text(f"Invoice {invoice.number}"))
    pdf.set_author(SELLER)
    pdf.set_creation_date(invoice.issued_at)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 18)
    pdf.cell(0, 10, f"{SELLER} - Invoice", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    for label, value in (
        ("Invoice number", invoice.number),
        ("Date", invoice.issued_at.date().isoformat()),
        ("Booking reference", invoice.booking_reference),
        ("Billed to", invoice.customer_email),
        ("Payment", invoice.payment_id),
        ("Provider reference", invoice.provider_reference or "-"),
    ):
        pdf.cell(45, 6, _text(label))
        pdf.cell(0, 6, _text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    _row(pdf, "Description", "Qty", "Amount", bold=True)
    for line in invoice.lines:
        _row(pdf, line.description, str(line.quantity), _amount(line.amount))
    pdf.ln(2)
    _row(pdf, "Subtotal", "", _amount(invoice.subtotal))
    if invoice.fees.minor:
        _row(pdf, "Fees", "", _amount(invoice.fees))
    if invoice.discount.minor:
        _row(pdf, "Discount", "", "-" + _amount(invoice.discount))
    _row(pdf, "Total paid", "", _amount(invoice.total), bold=True)

    if invoice.credit_notes:
        pdf.ln(6)
        pdf.set_font("helvetica", "B", 12)
        pdf.cell(0, 8, "Credit notes", new_x="LMARGIN", new_y="NEXT")
        for note in invoice.credit_notes:
            _row(
                pdf,
                f"{note.number} ({note.issued_at.date().isoformat()}): {note.reason}",
                "",
                "-" + _amount(note.amount),
            )
        _row(pdf, "Total refunded", "", "-" + _amount(invoice.refunded), bold=True)
        _row(pdf, "Net paid", "", _amount(invoice.net), bold=True)
    return bytes(pdf.output())


def _row(pdf: "FPDF", description: str, quantity: str, amount: str, bold: bool = False) -> None:
    pdf.set_font("helvetica", "B" if bold else "", 10)
    width = pdf.epw - 20 - 40
    # Long descriptions (offer ids) are cut rather than wrapped: one line per row.
    text = _text(description)
    while pdf.get_string_width(text) > width - 2 and len(text) > 4:
        text = text[:-4] + "..."
    pdf.cell(width, 7, text, border="B")
    pdf.cell(20, 7, quantity, border="B", align="R")
    pdf.cell(40, 7, _text(amount), border="B", align="R", new_x="LMARGIN", new_y="NEXT")
