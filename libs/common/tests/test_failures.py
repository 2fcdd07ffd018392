"""Messages that fail: retried with growing delays, then dead-lettered with the error,
replayed by the command; bad messages dead-lettered at once; the consumer keeps going."""

import asyncio
import json
import uuid
from pathlib import Path
from typing import ClassVar

import orjson
import pytest
import sqlalchemy as sa

from wayfare_common import cli
from wayfare_common.db import Database
from wayfare_common.events.envelope import Event, EventContext
from wayfare_common.messaging.deadletters import DeadLetters
from wayfare_common.messaging.handlers import HandlerContext
from wayfare_common.messaging.runtime import Messaging
from wayfare_common.testing.plugin import eventually, wait_for_handled

from messaging_helpers import (
    consumed,
    count,
    note_envelope,
    publish_envelope,
    publish_raw,
    running_tally,
)
from toy import NoteAdded, TallySettings, create_schema, effects, settings, tally_handlers


@pytest.fixture
async def tally_url(database_url):
    await create_schema(database_url)
    return database_url


async def dead_letters(amqp_url, namespace) -> list[dict]:
    async with DeadLetters.connect(settings(TallySettings, "", amqp_url, namespace)) as letters:
        return await letters.list()


def dead_letter_command(amqp_url, namespace, *args) -> int:
    return cli.main(
        lambda: settings(TallySettings, "sqlite+aiosqlite://", amqp_url, namespace),
        "wayfare_tally.app:create_app",
        Path("."),
        ["dead-letters", *args],
    )


async def test_failing_handler_retried_with_backoff_then_dead_lettered_then_replayed(
    tally_url, amqp_url, amqp_namespace, capsys
):
    poison = note_envelope("poison")
    good = [note_envelope(f"good {i}") for i in range(5)]
    seen = []
    async with running_tally(
        tally_url, amqp_url, amqp_namespace, poison=frozenset({"poison"}), seen=seen
    ) as (db, messaging):
        await asyncio.wait_for(messaging.connection_ready(), 10)
        await publish_envelope(amqp_url, amqp_namespace, poison)
        for envelope in good:
            await publish_envelope(amqp_url, amqp_namespace, envelope)
        # Other messages flow while the poison one waits for its retries.
        await wait_for_handled(db, [e.id for e in good])
        letters = await eventually(
            lambda: dead_letters(amqp_url, amqp_namespace),
            timeout=15,
            message="the failing message never reached the dead letters",
        )

    [letter] = letters
    assert letter["message_id"] == str(poison.id)
    assert "RuntimeError: cannot handle 'poison'" in letter["error"]
    assert letter["attempts"] == 2
    tries = [t for text, t in seen if text == "poison"]
    assert len(tries) == 3  # the first delivery and two retries (MESSAGING_RETRY_DELAYS)
    first_gap, second_gap = tries[1] - tries[0], tries[2] - tries[1]
    assert first_gap >= 0.19 and second_gap >= 0.39, "retries did not wait their delays"
    assert await count(db, effects, effects.c.event_id == poison.id) == 0

    # Listing leaves the message where it is; the command prints one JSON line per letter.
    capsys.readouterr()  # drop what the in-process consumer logged
    assert await asyncio.to_thread(dead_letter_command, amqp_url, amqp_namespace, "list") == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [entry["message_id"] for entry in listed] == [str(poison.id)]

    # The handler is fixed; the replay brings the message back to this service only.
    async with running_tally(tally_url, amqp_url, amqp_namespace) as (db, messaging):
        await asyncio.wait_for(messaging.connection_ready(), 10)
        assert await asyncio.to_thread(dead_letter_command, amqp_url, amqp_namespace, "replay") == 0
        await wait_for_handled(db, [poison.id])
    assert await count(db, effects, effects.c.event_id == poison.id) == 1
    assert await dead_letters(amqp_url, amqp_namespace) == []


async def test_bad_messages_are_dead_lettered_with_a_reason_and_the_consumer_goes_on(
    tally_url, amqp_url, amqp_namespace
):
    good = note_envelope("good")
    data = orjson.loads(note_envelope().to_json())
    wrong_type = {**data, "id": str(uuid.uuid4()), "type": "test.never_heard_of"}
    version_2 = {**data, "id": str(uuid.uuid4()), "version": 2}
    invalid_data = {**data, "id": str(uuid.uuid4()), "data": {"text": "no note id"}}
    dead_before = consumed("dead_lettered", type_="test.note_added")

    async with running_tally(tally_url, amqp_url, amqp_namespace) as (db, messaging):
        await asyncio.wait_for(messaging.connection_ready(), 10)
        await publish_raw(amqp_url, amqp_namespace, b"{not json", "test.note_added", "garbage")
        for body in (wrong_type, version_2, invalid_data):
            await publish_raw(
                amqp_url, amqp_namespace, orjson.dumps(body), "test.note_added", body["id"]
            )
        await publish_envelope(amqp_url, amqp_namespace, good)
        await wait_for_handled(db, [good.id])
        letters = await eventually(
            lambda: _at_least(dead_letters(amqp_url, amqp_namespace), 4), timeout=10
        )

    reasons = {letter["message_id"]: letter["error"] for letter in letters}
    assert "malformed envelope" in reasons["garbage"]
    assert "no handler for test.never_heard_of" in reasons[wrong_type["id"]]
    assert "version 2 is not supported (tally handles version 1)" in reasons[version_2["id"]]
    assert "invalid test.note_added data" in reasons[invalid_data["id"]]
    assert consumed("dead_lettered", type_="test.note_added") == dead_before + 4
    assert await count(db, effects) == 1


async def _at_least(letters_coroutine, n: int):
    letters = await letters_coroutine
    return letters if len(letters) >= n else None


def test_event_context_keeps_the_chain():
    """Events emitted while handling one event carry its correlation and causation."""
    incoming = EventContext(producer="notes", correlation_id="req-1").envelope(
        NoteAdded(note_id=uuid.uuid4(), text="x")
    )
    caused = EventContext(producer="tally").caused_by(incoming)
    assert (caused.producer, caused.correlation_id, caused.causation_id) == (
        "tally",
        "req-1",
        str(incoming.id),
    )


class NoteAddedV2(Event):
    """Version 2 of test.note_added: the text became a title."""

    type: ClassVar[str] = "test.note_added"
    version: ClassVar[int] = 2
    note_id: uuid.UUID
    title: str


async def test_a_service_can_handle_two_versions_of_an_event_during_a_rollout(
    database_url, amqp_url, amqp_namespace
):
    await create_schema(database_url)
    handlers = tally_handlers()

    @handlers.on(NoteAddedV2)
    async def count_v2(event: NoteAddedV2, ctx: HandlerContext) -> None:
        await ctx.session.execute(
            sa.insert(effects).values(event_id=ctx.envelope.id, note_id=event.note_id)
        )

    assert handlers.routing_keys == ["test.note_added"]  # both versions, one binding
    v1 = note_envelope("v1")
    v2 = EventContext(producer="notes").envelope(NoteAddedV2(note_id=uuid.uuid4(), title="v2"))
    database = Database(database_url)
    config = settings(TallySettings, database_url, amqp_url, amqp_namespace)
    messaging = Messaging(config, database, handlers)
    await messaging.start()
    try:
        await asyncio.wait_for(messaging.connection_ready(), 10)
        await publish_envelope(amqp_url, amqp_namespace, v1)
        await publish_envelope(amqp_url, amqp_namespace, v2)
        await wait_for_handled(database, [v1.id, v2.id])
        assert await count(database, effects) == 2
    finally:
        await messaging.stop()
        await database.dispose()
