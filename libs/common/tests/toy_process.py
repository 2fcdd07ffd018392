"""A toy service run as a real process, for the crash tests. It dies with exit code 17 at
the moment the test asks for:

    python toy_process.py tally DB AMQP NAMESPACE crash-after-commit
        consumes; dies right after the handler's transaction commits, before the ack.
    python toy_process.py notes DB AMQP NAMESPACE crash-after-publish
        relays the outbox; dies right after the broker confirmed, before marking sent.
"""

import asyncio
import os
import sys

from sqlalchemy import event
from sqlalchemy.orm import Session

from wayfare_common.db import Database
from wayfare_common.messaging.handlers import EventHandlers
from wayfare_common.messaging.publisher import Publisher
from wayfare_common.messaging.runtime import Messaging

from toy import NoteAdded, NotesSettings, TallySettings, settings, tally_handlers

CRASHED = 17


def crash_after_commit() -> EventHandlers:
    @event.listens_for(Session, "after_commit")
    def _die(session):
        if session.info.get("handled_an_event"):
            os._exit(CRASHED)

    _, count = tally_handlers().get(NoteAdded.type, NoteAdded.version)
    handlers = EventHandlers()

    @handlers.on(NoteAdded)
    async def count_then_flag(event_: NoteAdded, ctx) -> None:
        await count(event_, ctx)
        ctx.session.sync_session.info["handled_an_event"] = True

    return handlers


def crash_after_publish() -> None:
    publish_many = Publisher.publish_many

    async def publish_then_die(self, items):
        results = await publish_many(self, items)
        if any(result is None for result in results):
            os._exit(CRASHED)
        return results

    Publisher.publish_many = publish_then_die


async def main(service: str, database_url: str, amqp_url: str, namespace: str, mode: str) -> None:
    if service == "tally":
        handlers = crash_after_commit() if mode == "crash-after-commit" else tally_handlers()
        config = settings(TallySettings, database_url, amqp_url, namespace)
    else:
        if mode == "crash-after-publish":
            crash_after_publish()
        handlers = EventHandlers()
        config = settings(NotesSettings, database_url, amqp_url, namespace)
    database = Database(database_url)
    messaging = Messaging(config, database, handlers)
    await messaging.start()
    await asyncio.sleep(60)  # the test kills us long before this


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
