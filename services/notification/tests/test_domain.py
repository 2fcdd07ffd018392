"""The pure rules: preferences, channels, formatting, and every message rendered."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from wayfare_common.events import catalog
from wayfare_common.money import Money
from wayfare_notification.domain import compose
from wayfare_notification.domain.formatting import local_time, moment, money
from wayfare_notification.domain.messages import Links, Recipient, channels_for
from wayfare_notification.domain.preferences import LockedPreference, Preferences
from wayfare_notification.templates import Renderer

LINKS = Links("http://wayfare.test")


def person(**values) -> Recipient:
    defaults = dict(
        user_id=uuid.uuid4(),
        email="ada@example.com",
        name="Ada Lovelace",
        phone=None,
        active=True,
        preferences=Preferences(),
        locale="en",
        time_zone="UTC",
    )
    return Recipient(**{**defaults, **values})


def example(cls):
    return cls.model_validate(cls.model_config["json_schema_extra"]["examples"][0])


def test_security_and_transactional_emails_cannot_be_turned_off():
    preferences = Preferences()
    with pytest.raises(LockedPreference) as refused:
        preferences.changed({("email", "security"): False, ("email", "updates"): False})
    assert refused.value.keys == [("email", "security")]
    changed = preferences.changed({("email", "updates"): False, ("sms", "transactional"): True})
    assert not changed.allows("email", "updates")
    assert changed.allows("sms", "transactional")
    assert changed.allows("email", "transactional")
    assert Preferences.from_storage(changed.to_storage()) == changed
    # A retired category in storage is ignored, not an error.
    assert Preferences.from_storage({"email.updates": False, "fax.updates": True}) == Preferences(
        {("email", "updates"): False}
    )


def test_channels_follow_preferences_reachability_and_the_account_state():
    confirmed = compose.booking_confirmed(
        booking_id=uuid.uuid4(),
        reference="K7MX4P",
        items=example(catalog.BookingConfirmed).items,
        amount=Money.of("10.00", "EUR"),
        raw={},
        payment_id=None,
        recipient=person(),
        links=LINKS,
    )
    welcome = compose.welcome(person(), LINKS)
    opted_in = Preferences({("sms", "transactional"): True})
    assert channels_for(confirmed, person()) == ["email", "in_app"]  # SMS is opt-in
    assert channels_for(confirmed, person(preferences=opted_in)) == ["email", "in_app"]  # no phone
    assert channels_for(confirmed, person(preferences=opted_in, phone="+441632960961")) == [
        "email",
        "in_app",
        "sms",
    ]
    no_app = Preferences({("in_app", "transactional"): False, ("email", "updates"): False})
    assert channels_for(confirmed, person(preferences=no_app)) == ["email"]
    assert channels_for(welcome, person(preferences=no_app)) == ["in_app"]
    # A deactivated account hears about its bookings and money only.
    assert channels_for(welcome, person(active=False)) == []
    assert channels_for(confirmed, person(active=False)) == ["email", "in_app"]


def test_amounts_and_times_read_as_people_expect():
    assert money(Money.of("1234.5", "EUR"), "de_DE") == "1.234,50\xa0€"
    assert money(Money.of("1234", "JPY"), "en") == "¥1,234"
    deadline = datetime(2030, 6, 1, 10, 30, tzinfo=UTC)
    assert moment(deadline, "Europe/Berlin", "en") == (
        "Sat, Jun 1, 2030, 12:30\u202fPM Central European Summer Time"
    )
    assert moment(deadline, "UTC", "en_GB").endswith("10:30 Coordinated Universal Time")
    # Flight times: in the airport's zone when known, else in the offset they came with.
    departure = datetime(2030, 7, 1, 9, 15, tzinfo=timezone(timedelta(hours=2)))
    assert local_time(departure, None, "en_GB") == "Mon, 1 Jul 2030, 09:15"
    assert local_time(departure, "America/New_York", "en_GB") == "Mon, 1 Jul 2030, 03:15"


def _every_message(recipient: Recipient):
    created = example(catalog.BookingCreated)
    confirmed = example(catalog.BookingConfirmed)
    yield compose.welcome(recipient, LINKS)
    yield compose.verify_email(example(catalog.EmailVerificationRequested), recipient)
    yield compose.password_reset(example(catalog.PasswordResetRequested), recipient)
    yield compose.booking_received(created, {}, recipient, LINKS)
    yield compose.booking_confirmed(
        booking_id=confirmed.booking_id,
        reference=confirmed.reference,
        items=confirmed.items,
        amount=confirmed.amount,
        raw={"passengers": [{"name": "<i>Eve</i>"}], "items": [{"segments": [{"bad": 1}]}]},
        payment_id=uuid.uuid4(),
        recipient=recipient,
        links=LINKS,
    )
    yield compose.payment_failed(example(catalog.PaymentFailed), None, None, recipient, LINKS)
    yield compose.booking_expired(example(catalog.BookingExpired), recipient, LINKS)
    yield compose.booking_cancelled(example(catalog.BookingCancelled), True, recipient, LINKS)
    yield compose.refund_done(example(catalog.PaymentRefunded), "K7MX4P", recipient, LINKS)
    yield compose.schedule_changed(
        example(catalog.FlightScheduleChanged), [(uuid.uuid4(), "K7MX4P")], recipient, LINKS
    )
    yield compose.import_finished(example(catalog.PackageImportCompleted), recipient, LINKS)
    yield compose.payout_sent(example(catalog.PayoutSent), recipient, LINKS)


def test_every_message_renders_both_parts_and_escapes_html():
    recipient = person(name="<b>Eve</b> & co")
    renderer = Renderer(LINKS)
    kinds = set()
    for message in _every_message(recipient):
        kinds.add(message.kind)
        email = renderer.email(message, recipient)
        assert email.text.startswith("Hello <b>Eve</b>,")
        assert "Hello &lt;b&gt;Eve&lt;/b&gt;," in email.html
        assert "<b>Eve</b>" not in email.html
        assert message.subject and email.html.startswith("<!DOCTYPE html>")
        if message.link:
            assert message.link in email.text and f'href="{message.link}"' in email.html
    assert len(kinds) == 12
    confirmed = next(m for m in _every_message(recipient) if m.kind == "booking_confirmed")
    html = renderer.email(confirmed, recipient).html
    assert "&lt;i&gt;Eve&lt;/i&gt;" in html  # passenger names from events are escaped too
