"""A real broker restart (not a cut connection): the broker closes every connection with
CONNECTION_FORCED and comes back with only its durable objects. Producer and consumer
must carry on without being restarted.

Restarting the broker disturbs anything else using it, so this runs only where
TEST_BROKER_RESTART_COMMAND says how (.ci/run sets it on machines with rabbitmqctl)."""

import asyncio
import os

import httpx
import pytest
from asgi_lifespan import LifespanManager

from wayfare_common.testing.plugin import eventually, wait_for_handled

from messaging_helpers import running_tally
from toy import NotesSettings, create_schema, notes_app, settings

RESTART = os.environ.get("TEST_BROKER_RESTART_COMMAND")


@pytest.mark.skipif(
    not RESTART,
    reason="set TEST_BROKER_RESTART_COMMAND to restart the broker "
    "(e.g. 'rabbitmqctl stop_app && rabbitmqctl start_app && rabbitmqctl await_startup')",
)
async def test_producer_and_consumer_carry_on_after_a_real_broker_restart(
    database_url, sqlite_url, amqp_url, amqp_namespace
):
    for url in (database_url, sqlite_url):
        await create_schema(url)
    app = notes_app(settings(NotesSettings, database_url, amqp_url, amqp_namespace))
    async with (
        LifespanManager(app),
        running_tally(sqlite_url, amqp_url, amqp_namespace) as (db, tally),
    ):
        notes = app.state.messaging
        await asyncio.wait_for(
            asyncio.gather(notes.connection_ready(), tally.connection_ready()), 10
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notes") as client:
            before = await client.post("/notes", json={"text": "before"})
            await wait_for_handled(db, [before.json()["event_id"]])

            restart = await asyncio.create_subprocess_shell(RESTART)
            assert await asyncio.wait_for(restart.wait(), 120) == 0, "the restart command failed"

            during = await client.post("/notes", json={"text": "right after the restart"})
            assert during.status_code == 201
            for messaging in (notes, tally):
                await eventually(
                    lambda m=messaging: m.broker_state == "ok",
                    timeout=30,
                    message=f"{messaging.settings.service_name} did not reconnect",
                )
            after = await client.post("/notes", json={"text": "after"})
            await wait_for_handled(
                db, [during.json()["event_id"], after.json()["event_id"]], timeout=30
            )
