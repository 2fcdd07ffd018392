"""Messaging inside one service process: the outbox relay, and the consumer when the
service handles events.

The service starts whether or not the broker is there: requests keep recording events in
the outbox, and a background task keeps trying to connect. Once connected, aio-pika's
robust connection re-opens channels, re-declares the topology and resumes consuming after
a broker restart; the relay is woken on every reconnect to send what accumulated.
"""

import asyncio
import contextlib

import structlog
from aio_pika.abc import AbstractRobustConnection

from wayfare_common.db import Database
from wayfare_common.messaging.broker import connect, topology_for
from wayfare_common.messaging.consumer import Consumer
from wayfare_common.messaging.handlers import EventHandlers
from wayfare_common.messaging.outbox import Outbox
from wayfare_common.messaging.publisher import Publisher
from wayfare_common.messaging.relay import Relay
from wayfare_common.settings import ServiceSettings

log = structlog.get_logger("wayfare.messaging")


class Messaging:
    def __init__(self, settings: ServiceSettings, database: Database, handlers: EventHandlers):
        self.settings = settings
        self.outbox = Outbox()
        self.topology = topology_for(settings, handlers.routing_keys)
        self.relay = Relay(
            database,
            self.outbox,
            batch_size=settings.relay_batch_size,
            poll_interval=settings.relay_poll_interval,
        )
        self.consumer = (
            Consumer(
                service=settings.service_name,
                database=database,
                outbox=self.outbox,
                handlers=handlers,
                topology=self.topology,
                prefetch=settings.consumer_prefetch,
            )
            if handlers
            else None
        )
        self.connection: AbstractRobustConnection | None = None
        self._tasks: list[asyncio.Task] = []
        self._ready = asyncio.Event()

    @property
    def enabled(self) -> bool:
        return bool(self.settings.amqp_url)

    @property
    def broker_state(self) -> str:
        if not self.enabled:
            return "disabled"
        if self.connection is not None and self.connection.connected.is_set():
            return "ok"
        return "unreachable"

    async def connection_ready(self) -> None:
        """Wait until connected, with the topology declared and consuming (for tests and
        for callers that must not start before the broker is there)."""
        await self._ready.wait()

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        if self.enabled:
            self._tasks.append(asyncio.create_task(self._connect(), name="broker-connect"))

    async def _connect(self) -> None:
        delay = self.settings.amqp_reconnect_interval
        warned = False
        while True:
            try:
                connection = await connect(self.settings)
                break
            except Exception as exc:
                # One warning, not one per attempt: the service works on without a broker.
                (log.debug if warned else log.warning)(
                    "broker_unreachable_retrying",
                    error=str(exc) or type(exc).__name__,
                    retry_in=delay,
                )
                warned = True
                await asyncio.sleep(delay)
        self.connection = connection
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await self.topology.declare_exchange(channel)
        publisher = Publisher(channel, exchange)
        if self.consumer is not None:
            consume_channel = await connection.channel()
            await self.consumer.start(consume_channel, publisher)
        self.relay.publisher = publisher
        connection.reconnect_callbacks.add(self._on_reconnect)
        connection.close_callbacks.add(self._on_connection_lost)
        log.info("broker_connected", consuming=self.topology.routing_keys or None)
        self._ready.set()
        self.outbox.notify()

    def _on_connection_lost(self, *_args) -> None:
        if self._tasks:  # not our own stop()
            log.warning(
                "broker_connection_lost_reconnecting", every=self.settings.amqp_reconnect_interval
            )

    def _on_reconnect(self, *_args) -> None:
        log.info("broker_reconnected")
        self.outbox.notify()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close()
            self.connection = None
