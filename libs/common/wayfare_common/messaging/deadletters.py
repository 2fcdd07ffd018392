"""List, replay and purge one service's dead letters (`python -m wayfare_<service>
dead-letters ...`).

Listing takes every message without acknowledging it and then closes the channel, which
gives them all back untouched. Replaying sends a message straight to the service's own
queue (not to the exchange: the other services handled it already) with its attempt
count reset, and removes it from the dead-letter queue only after the broker confirmed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import orjson
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from wayfare_common.messaging.broker import connect, topology_for
from wayfare_common.messaging.consumer import ATTEMPT_HEADER
from wayfare_common.messaging.publisher import Outgoing, Publisher
from wayfare_common.settings import ServiceSettings


def describe(message: AbstractIncomingMessage) -> dict:
    headers = message.headers or {}
    try:
        body = orjson.loads(message.body)
    except orjson.JSONDecodeError:
        body = message.body.decode("utf-8", "replace")
    return {
        "message_id": message.message_id,
        "type": message.type,
        "error": headers.get("x-wayfare-error") or headers.get("x-first-death-reason"),
        "attempts": headers.get(ATTEMPT_HEADER, 0),
        "failed_at": headers.get("x-wayfare-failed-at"),
        "body": body,
    }


class DeadLetters:
    def __init__(self, connection: AbstractRobustConnection, settings: ServiceSettings):
        self.connection = connection
        self.topology = topology_for(settings)
        self.queue_name = self.topology.dead_letter_queue

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, settings: ServiceSettings) -> AsyncIterator[DeadLetters]:
        connection = await connect(settings)
        try:
            yield cls(connection, settings)
        finally:
            await connection.close()

    @contextlib.asynccontextmanager
    async def _taken(self) -> AsyncIterator[tuple[Publisher, list[AbstractIncomingMessage]]]:
        """Every dead letter, unacknowledged; closing the channel gives back the rest."""
        channel = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
        try:
            queue = await channel.get_queue(self.queue_name, ensure=True)
            taken = []
            while (message := await queue.get(no_ack=False, fail=False, timeout=5)) is not None:
                taken.append(message)
            yield Publisher(channel, channel.default_exchange), taken
        finally:
            await channel.close()

    def _selected(self, message: AbstractIncomingMessage, ids: list[str] | None) -> bool:
        return not ids or message.message_id in ids

    async def list(self) -> list[dict]:
        async with self._taken() as (_, taken):
            return [describe(message) for message in taken]

    async def replay(self, ids: list[str] | None = None) -> int:
        count = 0
        async with self._taken() as (publisher, taken):
            for message in filter(lambda m: self._selected(m, ids), taken):
                headers = {
                    k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")
                }
                await publisher.publish_to_queue(
                    Outgoing(message.body, message.type or "", message.message_id or "", headers),
                    self.topology.queue_name,
                )
                await message.ack()  # only once the broker confirmed the copy
                count += 1
        return count

    async def purge(self, ids: list[str] | None = None) -> int:
        count = 0
        async with self._taken() as (_, taken):
            for message in filter(lambda m: self._selected(m, ids), taken):
                await message.ack()
                count += 1
        return count
