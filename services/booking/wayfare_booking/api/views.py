"""Bookings and coupons as JSON (the shapes of BookingOut and CouponOut in schemas.py)."""

from decimal import Decimal
from typing import Any

from wayfare_booking.domain.refunds import RefundQuote
from wayfare_booking.store.models import Booking, Coupon, Passenger
from wayfare_common.money import Money


def _money(minor: int | None, currency: str | None) -> dict[str, str] | None:
    return None if minor is None or currency is None else Money(minor, currency).to_json()


def _passenger(passenger: Passenger) -> dict[str, Any]:
    passport = None
    if passenger.document_number is not None:
        passport = {
            "number": passenger.document_number,
            "issuing_country": passenger.document_country,
            "nationality": passenger.nationality,
            "expires_on": passenger.document_expires_on.isoformat(),
        }
    return {
        "id": str(passenger.id),
        "given_name": passenger.given_name,
        "family_name": passenger.family_name,
        "birth_date": passenger.birth_date.isoformat(),
        "type": passenger.type,
        "passport": passport,
    }


def booking_json(booking: Booking) -> dict[str, Any]:
    currency = booking.currency
    cancellation = None
    if booking.cancelled_at is not None:
        cancellation = {
            "reason": booking.cancel_reason,
            "refund": _money(booking.refund_minor or 0, currency),
            "cancelled_by": booking.cancelled_by,
            "cancelled_at": booking.cancelled_at.isoformat(),
        }
    return {
        "id": str(booking.id),
        "reference": booking.reference,
        "status": booking.status,
        "user_id": str(booking.user_id),
        "items": booking.items,
        "passengers": [_passenger(p) for p in booking.passengers],
        "contact": {"email": booking.contact_email, "phone": booking.contact_phone},
        "price": {
            "base": _money(booking.base_minor, currency),
            "fees": _money(booking.fees_minor, currency),
            "discount": _money(booking.discount_minor, currency),
            "total": _money(booking.total_minor, currency),
            "fee_lines": booking.fee_lines,
        },
        "coupon_code": booking.coupon_code,
        "payable_until": booking.payable_until.isoformat(),
        "created_at": booking.created_at.isoformat(),
        "updated_at": booking.updated_at.isoformat(),
        "travel_starts_at": booking.travel_starts_at.isoformat(),
        "travel_ends_at": booking.travel_ends_at.isoformat(),
        "paid": _money(booking.paid_minor, currency),
        "refunded": _money(booking.refunded_minor, currency),
        "cancellation": cancellation,
    }


def cancellation_json(booking: Booking, quote: RefundQuote, cancellable: bool) -> dict[str, Any]:
    return {
        "booking_id": str(booking.id),
        "status": booking.status,
        "cancellable": cancellable,
        "paid": _money(booking.paid_minor - booking.refunded_minor, booking.currency),
        "refund": quote.refund.to_json(),
        "retained": quote.retained.to_json(),
        "fees_refunded": quote.fees_refunded.to_json(),
        "lines": [
            {
                "item": line.item,
                "type": line.type,
                "rule": line.rule,
                "percent": str(line.percent),
                "basis": line.basis.to_json(),
                "refund": line.refund.to_json(),
            }
            for line in quote.lines
        ],
        "waived": quote.waived,
    }


def coupon_json(coupon: Coupon, uses: dict[str, int]) -> dict[str, Any]:
    percent = None if coupon.percent_bp is None else str(Decimal(coupon.percent_bp) / 100)
    return {
        "id": str(coupon.id),
        "code": coupon.code,
        "description": coupon.description,
        "kind": coupon.kind,
        "percent": percent,
        "amount": _money(coupon.amount_minor, coupon.currency),
        "currency": coupon.currency,
        "minimum": _money(coupon.minimum_minor, coupon.currency),
        "valid_from": coupon.valid_from.isoformat() if coupon.valid_from else None,
        "valid_until": coupon.valid_until.isoformat() if coupon.valid_until else None,
        "max_uses": coupon.max_uses,
        "max_uses_per_customer": coupon.max_uses_per_customer,
        "product_types": coupon.product_types,
        "active": coupon.active,
        "uses": uses,
        "created_at": coupon.created_at.isoformat(),
    }
