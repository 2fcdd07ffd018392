"""Invoices: a real PDF, read back with a PDF text extractor, showing the line items, fees,
discount, the total and refunds as credit notes."""

import io
import uuid

import pytest

from payment_support import (
    admin,
    booking_created,
    cancellation,
    customer,
    deliver,
    emitted,
    open_booking,
    pay,
    payment_of,
)

pypdf = pytest.importorskip(
    "pypdf", reason="pypdf comes with `pip install -e 'services/payment[test]'`"
)


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def items(flight: str, package: str) -> list[dict]:
    return [
        {
            "type": "flight",
            "offer_id": "off_3e8a_economy",
            "flight_ids": [str(uuid.uuid4())],
            "cabin": "economy",
            "seats": 2,
            "price": {"amount": flight, "currency": "EUR"},
        },
        {
            "type": "package",
            "package_id": str(uuid.uuid4()),
            "departure_id": str(uuid.uuid4()),
            "vendor_id": str(uuid.uuid4()),
            "seats": 2,
            "price": {"amount": package, "currency": "EUR"},
        },
    ]


async def test_invoice_shows_items_fees_total_and_credit_notes(client, issuer):
    event, payment = await open_booking(client, amount="424.80", items=items("298.00", "114.80"))
    owner = customer(issuer, event.user_id)
    not_yet = await client.get(f"/api/v1/payments/{payment['id']}/invoice.pdf", headers=owner)
    assert not_yet.status_code == 409
    assert not_yet.json()["code"] == "invoice_not_available"

    await pay(client, issuer, event, "pm_card_visa")
    await deliver(client, cancellation(event, "100.00"))
    assert len(await emitted(client, "payment.refunded")) == 1

    response = await client.get(f"/api/v1/payments/{payment['id']}/invoice.pdf", headers=owner)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = text_of(response.content)
    for expected in (
        "INV-K7MX4P",
        "ada@example.com",
        "298.00 EUR",  # the flight
        "114.80 EUR",  # the package
        "Subtotal",
        "412.80 EUR",
        "Fees",
        "12.00 EUR",  # 424.80 charged for 412.80 of items
        "Total paid",
        "424.80 EUR",
        "CN-K7MX4P-1",  # the refund, as a credit note
        "-100.00 EUR",
        "324.80 EUR",  # net
    ):
        assert expected in text, (expected, text)
    assert "Discount" not in text
    staff = await client.get(f"/api/v1/payments/{payment['id']}/invoice.pdf", headers=admin(issuer))
    assert staff.status_code == 200


async def test_invoice_takes_the_price_breakdown_when_booking_sends_it(client, issuer):

    event = booking_created(amount="400.00", items=items("298.00", "114.80"))
    await deliver(
        client,
        event,
        price={
            "base": {"amount": "412.80", "currency": "EUR"},
            "fees": {"amount": "7.20", "currency": "EUR"},
            "discount": {"amount": "20.00", "currency": "EUR"},
            "total": {"amount": "400.00", "currency": "EUR"},
        },
    )
    payment = await payment_of(client, event)
    await pay(client, issuer, event, "pm_card_visa")
    response = await client.get(
        f"/api/v1/payments/{payment['id']}/invoice.pdf", headers=customer(issuer, event.user_id)
    )
    text = text_of(response.content)
    assert "7.20 EUR" in text and "-20.00 EUR" in text and "400.00 EUR" in text
    assert "Credit notes" not in text
