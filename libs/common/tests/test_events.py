import inspect
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from wayfare_common.events import catalog
from wayfare_common.events.envelope import (
    Envelope,
    Event,
    EventContext,
    event_class,
    parse_envelope,
    parse_event,
)
from wayfare_common.money import Money

ASYNCAPI = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.json"

# DESIGN §4's catalog: the minimum that must exist.
DESIGN_CATALOG = {
    "auth.user_registered",
    "auth.email_verification_requested",
    "auth.password_reset_requested",
    "auth.user_updated",
    "auth.session_revoked",
    "flight.hold_expired",
    "flight.schedule_changed",
    "flight.package_import_completed",
    "booking.created",
    "booking.confirmed",
    "booking.cancelled",
    "booking.expired",
    "booking.completed",
    "payment.succeeded",
    "payment.failed",
    "payment.refunded",
    "payment.payout_sent",
}

# The catalog's own classes, not the whole registry: other tests may register test events.
CATALOG = sorted(
    (
        cls
        for cls in vars(catalog).values()
        if inspect.isclass(cls) and issubclass(cls, Event) and "type" in cls.__dict__
    ),
    key=lambda cls: (cls.type, cls.version),
)


def example(cls: type[Event]) -> dict:
    [data] = cls.model_json_schema()["examples"]
    return data


def test_the_catalog_covers_design_and_is_registered():
    assert {cls.type for cls in CATALOG} >= DESIGN_CATALOG
    for cls in CATALOG:
        assert event_class(cls.type, cls.version) is cls
        assert cls.__doc__, f"{cls.__name__} needs a docstring saying who emits it and when"


@pytest.mark.parametrize("cls", CATALOG, ids=lambda cls: cls.type)
def test_example_validates_and_round_trips_through_the_envelope(cls):
    event = cls.model_validate(example(cls))
    context = EventContext(producer=cls.type.partition(".")[0], correlation_id="req-1")
    envelope = context.envelope(event)
    assert (envelope.type, envelope.version) == (cls.type, cls.version)

    received = parse_envelope(envelope.to_json())
    assert received == envelope
    assert parse_event(received) == event


@pytest.mark.parametrize("cls", CATALOG, ids=lambda cls: cls.type)
def test_unknown_fields_are_ignored(cls):
    data = example(cls) | {"added_in_a_later_release": {"anything": 1}}
    event = cls.model_validate(data)
    assert event == cls.model_validate(example(cls))
    assert "added_in_a_later_release" not in event.model_dump()


def test_unknown_fields_inside_items_and_money_are_ignored():
    data = example(catalog.BookingCreated)
    data["items"] = [item | {"seat_map": "12A,12B"} for item in data["items"]]
    data["amount"] = data["amount"] | {"formatted": "€412.80"}
    event = catalog.BookingCreated.model_validate(data)
    assert event.amount == Money.of("412.80", "EUR")
    assert isinstance(event.items[0], catalog.FlightItem)
    assert isinstance(event.items[1], catalog.PackageItem)


def test_amounts_are_money_and_never_floats():
    data = example(catalog.PaymentSucceeded)
    event = catalog.PaymentSucceeded.model_validate(data)
    assert event.model_dump(mode="json")["amount"] == {"amount": "412.80", "currency": "EUR"}
    with pytest.raises(ValidationError, match="decimal string"):
        catalog.PaymentSucceeded.model_validate(
            data | {"amount": {"amount": 412.8, "currency": "EUR"}}
        )


def test_times_must_carry_an_offset():
    data = example(catalog.BookingCreated) | {"payable_until": "2025-06-01T10:30:00"}
    with pytest.raises(ValidationError, match="timezone"):
        catalog.BookingCreated.model_validate(data)
    naive = datetime(2025, 6, 1, 10, 30)
    with pytest.raises(ValidationError):
        catalog.SessionRevoked.model_validate(
            example(catalog.SessionRevoked) | {"expires_at": naive}
        )


@pytest.mark.parametrize("reference", ["K7MX4", "K7MX4PP", "K7MX0P", "K7MXOP", "K1MX4P", "k7mx4p"])
def test_booking_references_use_the_unambiguous_alphabet(reference):
    with pytest.raises(ValidationError):
        catalog.BookingExpired.model_validate(
            example(catalog.BookingExpired) | {"reference": reference}
        )


def test_a_hold_is_on_a_flight_or_a_departure():
    data = example(catalog.HoldExpired)
    assert catalog.HoldExpired.model_validate(data).flight_id is not None
    on_departure = data | {"flight_id": None, "departure_id": data["flight_id"]}
    assert catalog.HoldExpired.model_validate(on_departure).departure_id is not None
    for wrong in (data | {"departure_id": data["flight_id"]}, data | {"flight_id": None}):
        with pytest.raises(ValidationError, match="either"):
            catalog.HoldExpired.model_validate(wrong)


def test_events_are_immutable():
    event = catalog.BookingExpired.model_validate(example(catalog.BookingExpired))
    with pytest.raises(ValidationError):
        event.reference = "ABCDEF"


# The AsyncAPI document.


@pytest.fixture(scope="module")
def generated() -> str:
    # A fresh process: this process's registry may hold events that other tests defined.
    return subprocess.run(
        [sys.executable, "-m", "wayfare_common.events.asyncapi"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


def test_committed_asyncapi_document_is_up_to_date(generated):
    assert ASYNCAPI.read_text() == generated, (
        "docs/asyncapi.json is stale: run "
        "`.venv/bin/python -m wayfare_common.events.asyncapi > docs/asyncapi.json`"
    )


def test_asyncapi_lists_every_event_type(generated):
    document = json.loads(generated)
    assert document["asyncapi"] == "3.0.0"
    assert set(document["channels"]) == {cls.type for cls in CATALOG}
    messages = document["components"]["messages"]
    assert set(messages) == {cls.__name__ for cls in CATALOG}
    for cls in CATALOG:
        channel = document["channels"][cls.type]
        assert channel["bindings"]["amqp"]["exchange"]["name"] == "wayfare.events"
        assert cls.__name__ in channel["messages"]
        [operation] = [
            op
            for op in document["operations"].values()
            if op["channel"]["$ref"] == f"#/channels/{cls.type}"
        ]
        assert operation["action"] == "send"
        assert operation["tags"] == [{"name": cls.type.partition(".")[0]}]
    assert "Money" in document["components"]["schemas"]


def test_asyncapi_examples_are_valid_envelopes(generated):
    for message in json.loads(generated)["components"]["messages"].values():
        [sample] = message["examples"]
        envelope = Envelope.model_validate(sample["payload"])
        assert type(parse_event(envelope)).__name__ == message["name"]


def test_asyncapi_refs_all_resolve(generated):
    document = json.loads(generated)
    refs = set()

    def collect(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.add(node["$ref"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(document)
    for ref in refs:
        node = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
