"""Emails as people receive them: a real SMTP server gets every message the service
sends for the events it handles."""

import uuid
from datetime import UTC, datetime

from wayfare_common.events import catalog
from wayfare_common.money import Money
from wayfare_common.testing.events import booking_confirmed, payment_succeeded
from wayfare_common.testing.plugin import wait_for_handled

from notification_support import (
    booking_cancelled,
    booking_created,
    flight_item,
    parts,
    user_registered,
    wait_for_mail,
)


async def test_account_emails_carry_their_links_in_both_parts(service, bus, smtp_server):
    registered = user_registered(full_name="Ada Lovelace")
    verify_url = "http://wayfare.test/verify-email?token=abc123"
    reset_url = "http://wayfare.test/reset-password?token=def456"
    await bus.publish(registered)
    await bus.publish(
        catalog.EmailVerificationRequested(
            user_id=registered.user_id,
            email=registered.email,
            verify_url=verify_url,
            expires_at=datetime(2030, 6, 2, 10, 0, tzinfo=UTC),
        )
    )
    await bus.publish(
        catalog.PasswordResetRequested(
            user_id=registered.user_id,
            email=registered.email,
            reset_url=reset_url,
            expires_at=datetime(2030, 6, 1, 11, 0, tzinfo=UTC),
        )
    )
    messages = await wait_for_mail(smtp_server, registered.email, 3)
    by_subject = {str(m["Subject"]): m for m in messages}
    assert set(by_subject) == {
        "Welcome to Wayfare",
        "Confirm your email address",
        "Reset your Wayfare password",
    }
    for message in messages:
        assert message["To"].addresses[0].addr_spec == registered.email
        assert message["From"].addresses[0].addr_spec == "no-reply@wayfare.test"
        assert message["Message-ID"].endswith("@wayfare.test>")
        parts(message)
    # The links go out at once, even before the account's name is known (the events come
    # together, and are handled concurrently); the welcome knows it.
    welcome = by_subject["Welcome to Wayfare"]
    assert str(welcome["To"]) == f"Ada Lovelace <{registered.email}>"
    text, html = parts(welcome)
    assert text.startswith("Hello Ada,")
    assert "Hello Ada," in html
    assert 'href="http://wayfare.test/"' in html

    text, html = parts(by_subject["Confirm your email address"])
    assert verify_url in text
    assert f'href="{verify_url}"' in html
    assert "Sun, Jun 2, 2030, 10:00" in text  # the expiry, in the default zone (UTC)
    text, html = parts(by_subject["Reset your Wayfare password"])
    assert reset_url in text
    assert f'href="{reset_url}"' in html
    assert "If you did not ask for this" in text


async def test_booking_emails_show_amounts_deadlines_and_the_itinerary(service, bus, smtp_server):
    registered = user_registered(full_name="Grace Hopper")
    await bus.publish(registered)
    # The customer reads times in Berlin and amounts the German way.
    response = await service.client.put(
        "/api/v1/notifications/preferences",
        json={"locale": "de_DE", "time_zone": "Europe/Berlin"},
        headers=service.headers(registered.user_id),
    )
    assert response.status_code == 200, response.text
    await wait_for_mail(smtp_server, registered.email)  # the welcome

    flight_id = uuid.uuid4()
    created = booking_created(
        registered.user_id,
        email=registered.email,
        items=[flight_item(flight_id, price="298.00")],
        amount="1234.50",
        payable_until=datetime(2030, 6, 1, 10, 30, tzinfo=UTC),
    )
    # The booking service may send passengers and flight details; they are shown.
    details = {
        "passengers": [
            {"given_name": "Grace", "family_name": "Hopper", "type": "adult"},
            {"given_name": "Alan", "family_name": "Turing", "type": "adult"},
        ],
        "items": [
            {
                **created.items[0].model_dump(mode="json"),
                "segments": [
                    {
                        "flight_id": str(flight_id),
                        "flight_number": "WF123",
                        "carrier": {"iata_code": "WF", "name": "Wayfare Air"},
                        "origin": {
                            "iata_code": "BER",
                            "city": "Berlin",
                            "time_zone": "Europe/Berlin",
                        },
                        "destination": {
                            "iata_code": "LHR",
                            "city": "London",
                            "time_zone": "Europe/London",
                        },
                        "departing_at": "2030-07-01T07:15:00Z",
                        "arriving_at": "2030-07-01T09:05:00Z",
                    }
                ],
            }
        ],
    }
    await bus.publish(created, extra=details)
    [_, received] = await wait_for_mail(smtp_server, registered.email, 2)
    assert received["Subject"] == (
        f"Booking {created.reference} received: please pay by the deadline"
    )
    text, html = parts(received)
    assert "1.234,50\xa0€" in text and "1.234,50\xa0€" in html
    # 10:30 UTC is 12:30 in Berlin, named as such.
    assert "12:30 Mitteleuropäische Sommerzeit" in text
    assert "Grace Hopper, Alan Turing" in text
    assert f"http://wayfare.test/bookings/{created.booking_id}" in text

    payment_id = uuid.uuid4()
    await bus.publish(payment_succeeded(created, payment_id))
    # Booking names the payment that confirmed it: the link does not depend on order.
    await bus.publish(booking_confirmed(created, payment_id), extra=details)
    [*_, confirmed] = await wait_for_mail(smtp_server, registered.email, 3)
    assert confirmed["Subject"] == f"Booking {created.reference} is confirmed"
    text, html = parts(confirmed)
    invoice = f"http://wayfare.test/api/v1/payments/{payment_id}/invoice.pdf"
    assert invoice in text and f'href="{invoice}"' in html
    assert "WF123 (Wayfare Air) Berlin (BER) → London (LHR)" in text
    # Local times: 07:15 UTC departs 09:15 in Berlin, 09:05 UTC arrives 10:05 in London.
    assert "Departs Mo., 1. Juli 2030, 09:15, arrives Mo., 1. Juli 2030, 10:05" in text
    assert "<li>Alan Turing</li>" in html


async def test_every_event_a_person_should_hear_about_gives_its_email(service, bus, smtp_server):
    customer, other, admin, vendor = (
        user_registered(full_name=name, role=role)
        for name, role in [
            ("Ada Lovelace", "customer"),
            ("Alan Turing", "customer"),
            ("Margaret Hamilton", "admin"),
            ("Tour Vendor", "vendor"),
        ]
    )
    for user in (customer, other, admin, vendor):
        await bus.publish(user)
    flight_id = uuid.uuid4()
    paid = booking_created(customer.user_id, items=[flight_item(flight_id)])
    unpaid = booking_created(customer.user_id)
    elsewhere = booking_created(other.user_id)  # another flight
    gone = booking_created(other.user_id, items=[flight_item(flight_id)])
    for created in (paid, unpaid, elsewhere, gone):
        await bus.publish(created)
    await bus.publish(payment_succeeded(paid))
    await bus.publish(booking_confirmed(paid))
    await bus.publish(booking_cancelled(gone, refund="0.00"))
    await wait_for_mail(smtp_server, gone.contact_email, 2)  # received, cancelled

    refund = catalog.PaymentRefunded(
        payment_id=uuid.uuid4(),
        booking_id=paid.booking_id,
        user_id=customer.user_id,
        amount=Money.of("206.40", "EUR"),
        refunded_by=catalog.Actor(user_id=str(customer.user_id), role="customer"),
    )
    events = [
        catalog.PaymentFailed(
            payment_id=uuid.uuid4(),
            booking_id=unpaid.booking_id,
            user_id=customer.user_id,
            reason="card_declined",
        ),
        catalog.BookingExpired(
            booking_id=unpaid.booking_id, reference=unpaid.reference, user_id=customer.user_id
        ),
        catalog.FlightScheduleChanged(
            flight_id=flight_id,
            flight_number="WF123",
            old_departing_at=datetime.fromisoformat("2030-07-01T08:00:00+02:00"),
            old_arriving_at=datetime.fromisoformat("2030-07-01T10:30:00+01:00"),
            new_departing_at=datetime.fromisoformat("2030-07-01T09:15:00+02:00"),
            new_arriving_at=datetime.fromisoformat("2030-07-01T11:45:00+01:00"),
        ),
        catalog.PackageImportCompleted(
            job_id=uuid.uuid4(),
            requested_by=admin.user_id,
            created=12,
            updated=3,
            rejected=2,
            rejected_rows=[{"row": 7, "reason": "departure date is in the past"}],
        ),
        catalog.PayoutSent(
            payout_id=uuid.uuid4(), vendor_id=vendor.user_id, amount=Money.of("91.84", "EUR")
        ),
        booking_cancelled(paid, refund="206.40"),
        refund,
    ]
    # Handled one after the other, as a person would live them (the service copes with
    # any order, but what it says depends on what it knew: a cancelled booking hears of
    # no schedule change).
    for event in events:
        envelope = await bus.publish(event)
        await wait_for_handled(service.database, [envelope.id])

    def mail(to: str, subject: str):
        found = [m for m in smtp_server.messages if to in str(m["To"]) and m["Subject"] == subject]
        assert len(found) == 1, (subject, [str(m["Subject"]) for m in smtp_server.messages])
        return parts(found[0])

    await wait_for_mail(smtp_server, vendor.email, 2)
    await wait_for_mail(smtp_server, admin.email, 2)
    await wait_for_mail(smtp_server, paid.contact_email, 5)  # received, confirmed, 3 above
    await wait_for_mail(smtp_server, unpaid.contact_email, 3)  # received, failed, expired

    text, _ = mail(
        unpaid.contact_email, f"Payment for booking {unpaid.reference} did not go through"
    )
    assert "the card was declined" in text
    assert "until Sat, Jun 1, 2030, 10:30" in text  # the booking was still payable
    text, _ = mail(unpaid.contact_email, f"Booking {unpaid.reference} has expired")
    assert "went back on sale" in text
    text, html = mail(paid.contact_email, f"Booking {paid.reference} is cancelled")
    assert "We are refunding €206.40" in text and "€206.40" in html
    text, _ = mail(gone.contact_email, f"Booking {gone.reference} is cancelled")
    assert "Nothing was charged" in text
    text, _ = mail(paid.contact_email, "Your refund of €206.40 has been issued")
    assert f"for booking {paid.reference}" in text
    # Only the live booking on the flight hears of the change (`gone` was cancelled).
    text, html = mail(paid.contact_email, "Schedule change: flight WF123 on Mon, Jul 1, 2030")
    assert "Departure: Mon, Jul 1, 2030, 9:15\u202fAM (was Mon, Jul 1, 2030, 8:00\u202fAM)" in text
    assert paid.reference in text and unpaid.reference not in text
    schedule_mail = [m for m in smtp_server.messages if m["Subject"].startswith("Schedule")]
    assert [m["To"].addresses[0].addr_spec for m in schedule_mail] == [paid.contact_email]
    text, _ = mail(admin.email, "Package import finished: 12 created, 3 updated, 2 rejected")
    assert "row 7: departure date is in the past" in text and "1 more" in text
    text, _ = mail(vendor.email, "Payout of €91.84 sent")
    assert "http://wayfare.test/vendor/payouts" in text
