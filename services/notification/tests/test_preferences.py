"""Preferences: what a person chose decides where messages go; security and
transactional emails cannot be turned off."""

import uuid

import sqlalchemy as sa

from wayfare_common.testing.events import booking_confirmed
from wayfare_common.testing.plugin import eventually, wait_for_handled
from wayfare_notification.store.models import Delivery

from notification_support import (
    booking_cancelled,
    booking_created,
    running,
    user_registered,
    user_updated,
    wait_for_mail,
)

PATH = "/api/v1/notifications/preferences"


async def test_defaults_changes_and_locked_emails(service):
    user = uuid.uuid4()
    headers = service.headers(user)
    defaults = (await service.client.get(PATH, headers=headers)).json()
    assert defaults["email"] == {
        "security": True,
        "transactional": True,
        "updates": True,
        "marketing": False,
    }
    assert set(defaults["sms"].values()) == {False}  # opt-in
    assert defaults["in_app"]["transactional"] is True
    assert defaults["locked"] == ["email.security", "email.transactional"]
    assert (defaults["locale"], defaults["time_zone"]) == ("en", "UTC")

    refused = await service.client.put(
        PATH,
        json={"email": {"transactional": False, "updates": False}, "sms": {"transactional": True}},
        headers=headers,
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == "preference_locked"
    assert [e["field"] for e in problem["errors"]] == ["body.email.transactional"]
    # Nothing of the refused request was applied.
    assert (await service.client.get(PATH, headers=headers)).json() == defaults

    changed = await service.client.put(
        PATH,
        json={"email": {"updates": False, "security": True}, "sms": {"transactional": True}},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    again = await service.client.put(PATH, json={"time_zone": "Europe/Paris"}, headers=headers)
    now = (await service.client.get(PATH, headers=headers)).json()
    assert now == again.json()
    assert now["email"]["updates"] is False and now["sms"]["transactional"] is True
    assert now["time_zone"] == "Europe/Paris"
    # Another user's are untouched.
    other = (await service.client.get(PATH, headers=service.headers(uuid.uuid4()))).json()
    assert other == defaults

    for body in ({"time_zone": "Mars/Olympus"}, {"locale": "xx_YY"}, {"push": {"updates": True}}):
        response = await service.client.put(PATH, json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"


async def test_preferences_are_honoured(make_settings, tokens, bus, smtp_server, sms_provider):
    settings = make_settings(
        sms_provider="http", sms_http_url=sms_provider.url, sms_http_token="sms-secret"
    )
    async with running(settings, tokens) as service:
        quiet, texter = user_registered(full_name="Quiet One"), user_registered(full_name="Tex T")
        # Quiet wants no update emails and no booking notices in the app; Texter wants SMS.
        for user, body in [
            (quiet, {"email": {"updates": False}, "in_app": {"transactional": False}}),
            (texter, {"sms": {"transactional": True}}),
        ]:
            response = await service.client.put(
                PATH, json=body, headers=service.headers(user.user_id)
            )
            assert response.status_code == 200
        users = []
        for user in (quiet, texter):
            users.append(await bus.publish(user))
            users.append(await bus.publish(user_updated(user, phone="+441632960961")))
        # Events are handled concurrently: the phone numbers must be known first.
        await wait_for_handled(service.database, [e.id for e in users])

        quiet_booking = booking_created(quiet.user_id, email=quiet.email)
        texter_booking = booking_created(texter.user_id, email=texter.email)
        envelopes = []
        for created in (quiet_booking, texter_booking):
            envelopes.append(await bus.publish(created))
            envelopes.append(await bus.publish(booking_confirmed(created)))
        envelopes.append(await bus.publish(booking_cancelled(texter_booking)))
        await wait_for_handled(service.database, [e.id for e in envelopes])

        # Quiet: no welcome email (updates off), but booking emails all the same (locked).
        quiet_mail = await wait_for_mail(smtp_server, quiet.email, 2)
        assert sorted(str(m["Subject"]) for m in quiet_mail) == sorted(
            [
                f"Booking {quiet_booking.reference} received: please pay by the deadline",
                f"Booking {quiet_booking.reference} is confirmed",
            ]
        )
        quiet_app = await service.client.get(
            "/api/v1/notifications", headers=service.headers(quiet.user_id)
        )
        assert [n["kind"] for n in quiet_app.json()["data"]] == ["welcome"]  # updates in-app: on

        # Texter: email, in-app and SMS for the confirmation and the cancellation.
        await wait_for_mail(smtp_server, texter.email, 4)
        texts = await eventually(lambda: len(sms_provider.received) >= 2 and sms_provider.received)
        texter_app = await service.client.get(
            "/api/v1/notifications", headers=service.headers(texter.user_id)
        )
        assert {n["kind"] for n in texter_app.json()["data"]} == {
            "welcome",
            "booking_received",
            "booking_confirmed",
            "booking_cancelled",
        }
        deliveries = await service.rows(
            sa.select(Delivery.id, Delivery.kind).where(Delivery.channel == "sms")
        )

    assert len(sms_provider.received) == 2  # none for Quiet, who did not opt in
    by_text = sorted(texts, key=lambda t: t["body"]["text"])
    assert all(t["body"]["to"] == "+441632960961" for t in texts)
    assert all(t["authorization"] == "Bearer sms-secret" for t in texts)
    assert by_text[0]["body"]["text"] == (
        f"Wayfare: booking {texter_booking.reference} is cancelled. A refund of €206.40 is on its way."
    )
    assert by_text[1]["body"]["text"].startswith(
        f"Wayfare: booking {texter_booking.reference} is confirmed, €412.80 paid."
    )
    assert {t["idempotency_key"] for t in texts} == {str(id_) for id_, _ in deliveries}
    assert sorted(kind for _, kind in deliveries) == ["booking_cancelled", "booking_confirmed"]
