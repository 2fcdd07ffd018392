"""Each event has one effect however often it arrives: duplicates, a consumer killed
between its commit and its ack, a relay killed between the confirm and the mark, and two
replicas competing for one queue."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from wayfare_common.db import Database
from wayfare_common.events.envelope import EventContext
from wayfare_common.messaging.handlers import EventHandlers
from wayfare_common.messaging.outbox import Outbox
from wayfare_common.messaging.runtime import Messaging
from wayfare_common.messaging.tables import outbox
from wayfare_common.testing.plugin import eventually, wait_for_handled

from messaging_helpers import consumed, count, note_envelope, publish_envelope, running_tally
from toy import NoteAdded, NotesSettings, create_schema, effects, settings

HERE = Path(__file__).parent
CRASHED = 17


@pytest.fixture
async def tally_url(database_url):
    await create_schema(database_url)
    return database_url


async def record_notes(db: Database, n: int) -> list[uuid.UUID]:
    """Commit `n` events into the notes outbox, as a request handler would."""
    outbox_ = Outbox()
    async with db.sessions() as session, session.begin():
        return [
            outbox_.record(
                session,
                NoteAdded(note_id=uuid.uuid4(), text=str(i)),
                EventContext(producer="notes"),
            ).id
            for i in range(n)
        ]


async def run_toy_process(*args: str, timeout: float = 30) -> int:
    """Run toy_process.py until it exits by itself (it crashes on purpose) or time runs out."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "toy_process.py"),
        *args,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return await asyncio.wait_for(process.wait(), timeout)
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


async def test_the_same_message_delivered_twice_has_one_effect(tally_url, amqp_url, amqp_namespace):
    envelope = note_envelope()
    duplicates_before = consumed("duplicate")
    async with running_tally(tally_url, amqp_url, amqp_namespace) as (db, messaging):
        await asyncio.wait_for(messaging.connection_ready(), 10)
        await publish_envelope(amqp_url, amqp_namespace, envelope)
        await publish_envelope(amqp_url, amqp_namespace, envelope)
        await eventually(
            lambda: consumed("duplicate") == duplicates_before + 1,
            message="the second delivery was never seen",
        )
    assert await count(db, effects, effects.c.event_id == envelope.id) == 1


async def test_consumer_killed_after_commit_before_ack_has_one_effect(
    tally_url, amqp_url, amqp_namespace
):
    envelope = note_envelope()
    # Declare the queue first (a consumer that starts and stops), so the event waits in it.
    async with running_tally(tally_url, amqp_url, amqp_namespace) as (_, messaging):
        await asyncio.wait_for(messaging.connection_ready(), 10)
    await publish_envelope(amqp_url, amqp_namespace, envelope)

    exit_code = await run_toy_process(
        "tally", tally_url, amqp_url, amqp_namespace, "crash-after-commit"
    )
    assert exit_code == CRASHED, "the consumer process should have died after its commit"
    db = Database(tally_url)
    assert await count(db, effects, effects.c.event_id == envelope.id) == 1  # committed
    await db.dispose()

    duplicates_before = consumed("duplicate")
    async with running_tally(tally_url, amqp_url, amqp_namespace) as (db, _):
        await eventually(
            lambda: consumed("duplicate") == duplicates_before + 1,
            timeout=20,
            message="the unacknowledged message was not redelivered",
        )
        assert await count(db, effects, effects.c.event_id == envelope.id) == 1


async def test_relay_killed_between_publish_and_mark_has_one_effect(
    database_url, sqlite_url, amqp_url, amqp_namespace
):
    notes_url, tally_url = database_url, sqlite_url
    for url in (notes_url, tally_url):
        await create_schema(url)
    notes_db = Database(notes_url)
    [event_id] = await record_notes(notes_db, 1)

    async with running_tally(tally_url, amqp_url, amqp_namespace) as (tally_db, messaging):
        await asyncio.wait_for(messaging.connection_ready(), 10)
        exit_code = await run_toy_process(
            "notes", notes_url, amqp_url, amqp_namespace, "crash-after-publish"
        )
        assert exit_code == CRASHED
        await wait_for_handled(tally_db, [event_id])
        # The crashed relay had published the row but not marked it.
        assert await count(notes_db, outbox, outbox.c.published_at.is_(None)) == 1

        duplicates_before = consumed("duplicate")
        notes_settings = settings(NotesSettings, notes_url, amqp_url, amqp_namespace)
        notes = Messaging(notes_settings, notes_db, EventHandlers())
        await notes.start()
        try:
            await eventually(
                lambda: consumed("duplicate") == duplicates_before + 1,
                message="the restarted relay did not send the row again",
            )
            await eventually(lambda: unsent(notes_db, 0), message="the row was never marked")
        finally:
            await notes.stop()
        assert await count(tally_db, effects, effects.c.event_id == event_id) == 1
    await notes_db.dispose()


async def unsent(db: Database, expected: int) -> bool:
    return await count(db, outbox, outbox.c.published_at.is_(None)) == expected


async def test_two_consumer_replicas_handle_each_event_exactly_once(
    tally_url, amqp_url, amqp_namespace
):
    seen_by = ([], [])
    async with (
        running_tally(tally_url, amqp_url, amqp_namespace, prefetch=4, seen=seen_by[0]) as (db, a),
        running_tally(tally_url, amqp_url, amqp_namespace, prefetch=4, seen=seen_by[1]) as (_, b),
    ):
        await asyncio.wait_for(asyncio.gather(a.connection_ready(), b.connection_ready()), 10)
        envelopes = [note_envelope(f"n{i}") for i in range(200)]
        await asyncio.gather(*(publish_envelope(amqp_url, amqp_namespace, e) for e in envelopes))
        await wait_for_handled(db, [e.id for e in envelopes], timeout=30)

    assert await count(db, effects) == 200
    assert len(seen_by[0]) + len(seen_by[1]) == 200, "an event was handled by both replicas"
    assert seen_by[0] and seen_by[1], "one replica did all the work: they do not compete"


@pytest.mark.postgres
async def test_two_relay_replicas_never_send_a_row_twice(
    postgres_url, sqlite_url, amqp_url, amqp_namespace
):
    """FOR UPDATE SKIP LOCKED: replicas sharing one outbox split the rows between them."""
    await create_schema(postgres_url)
    await create_schema(sqlite_url)
    notes_db = Database(postgres_url)
    event_ids = await record_notes(notes_db, 1000)
    duplicates_before = consumed("duplicate")

    async with running_tally(sqlite_url, amqp_url, amqp_namespace) as (tally_db, tally):
        await asyncio.wait_for(tally.connection_ready(), 10)
        config = settings(
            NotesSettings, postgres_url, amqp_url, amqp_namespace, relay_batch_size=50
        )
        replicas = [Messaging(config, Database(postgres_url), EventHandlers()) for _ in range(2)]
        for replica in replicas:
            await replica.start()
        try:
            await wait_for_handled(tally_db, event_ids, timeout=60)
        finally:
            for replica in replicas:
                await replica.stop()
                await replica.relay.database.dispose()
        assert consumed("duplicate") == duplicates_before, "a row was sent by both replicas"
        assert await count(tally_db, effects) == 1000
    assert all(replica.relay.published > 0 for replica in replicas), "the replicas did not share"
    await notes_db.dispose()
