"""Messaging benchmark: what the outbox relay costs, and how soon an event is handled.

    .venv/bin/python bench/messaging.py [--events 20000] [--latency-events 300]

Needs PostgreSQL and RabbitMQ (BENCH_DATABASE_URL / BENCH_AMQP_URL, else TEST_DATABASE_URL /
TEST_AMQP_URL, else the local defaults). It creates its own database and broker namespace
and removes both.

1. Raw aio-pika: publish N envelopes with confirms kept in flight (the ceiling), and a
   smaller run awaiting each confirm in turn (what the relay must not do).
2. Relay: N committed outbox rows, published and marked sent by the real relay.
   Reported as a ratio of (1); DESIGN target >= 0.7.
3. Commit-to-handled latency: one event at a time, from the producer's commit to the
   commit of the consumer's handler transaction (inbox row included), p50/p95/p99.
"""

import argparse
import asyncio
import os
import platform
import statistics
import time
import uuid
from typing import ClassVar

import aio_pika
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wayfare_common.db import Database, create_engine
from wayfare_common.events.envelope import Event, EventContext
from wayfare_common.messaging.broker import topology_for
from wayfare_common.messaging.handlers import EventHandlers, HandlerContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_common.messaging.publisher import Outgoing, Publisher
from wayfare_common.messaging.runtime import Messaging
from wayfare_common.messaging.tables import messaging_metadata, outbox
from wayfare_common.messaging.topology import declared
from wayfare_common.settings import ServiceSettings
from wayfare_common.testing.plugin import create_postgres_database, drop_postgres_database


class BenchPing(Event):
    type: ClassVar[str] = "bench.ping"
    n: int
    note: str


class ProducerSettings(ServiceSettings):
    service_name: ClassVar[str] = "bench-producer"
    default_port: ClassVar[int] = 0


class ConsumerSettings(ServiceSettings):
    service_name: ClassVar[str] = "bench-consumer"
    default_port: ClassVar[int] = 0


def ping(n: int) -> BenchPing:
    # About the size of a real booking.created envelope.
    return BenchPing(n=n, note="x" * 300)


async def create_schema(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(messaging_metadata.create_all)
    await engine.dispose()


async def raw_publish(amqp_url: str, namespace: str, n: int, pipelined: bool) -> float:
    """Messages per second straight through aio-pika into a bound queue."""
    settings = ProducerSettings(amqp_url=amqp_url, amqp_namespace=namespace)
    topology = topology_for(settings)
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        publisher = Publisher(channel, await topology.declare_exchange(channel))
        context = EventContext(producer="bench")
        items = [
            Outgoing(envelope.to_json(), envelope.type, str(envelope.id))
            for envelope in (context.envelope(ping(i)) for i in range(n))
        ]
        started = time.perf_counter()
        if pipelined:
            for start in range(0, n, 500):  # the relay's batch size
                results = await publisher.publish_many(items[start : start + 500])
                assert not any(results), results
        else:
            for item in items:
                await publisher.publish(item)
        return n / (time.perf_counter() - started)


async def relay_publish(database_url: str, amqp_url: str, namespace: str, n: int) -> float:
    """Rows per second from a committed outbox to confirmed-and-marked-sent."""
    database = Database(database_url)
    recorder, context = Outbox(), EventContext(producer="bench")
    for start in range(0, n, 1000):
        async with database.sessions() as session, session.begin():
            for i in range(start, min(start + 1000, n)):
                recorder.record(session, ping(i), context)
    settings = ProducerSettings(
        database_url=database_url, amqp_url=amqp_url, amqp_namespace=namespace
    )
    messaging = Messaging(settings, database, EventHandlers())
    # The relay first runs on the wake-up that follows `connection_ready`, so the clock
    # below starts before any row is sent.
    await messaging.start()
    try:
        await messaging.connection_ready()
        started = time.perf_counter()
        while True:
            async with database.sessions() as session:
                left = await session.scalar(
                    select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                )
            if left == 0:
                break
            await asyncio.sleep(0.05)  # polls less than the relay works
        return n / (time.perf_counter() - started)
    finally:
        await messaging.stop()
        await database.dispose()


async def latency(producer_url: str, consumer_url: str, amqp_url: str, namespace: str, n: int):
    """Seconds from the producer's commit to the consumer's handler commit, per event."""
    handled: dict[int, asyncio.Future] = {}
    handlers = EventHandlers()

    @handlers.on(BenchPing)
    async def on_ping(event: BenchPing, ctx: HandlerContext) -> None:
        ctx.session.sync_session.info["bench_ping"] = event.n

    @sa_event.listens_for(Session, "after_commit")
    def _committed(session: Session) -> None:
        number = session.info.pop("bench_ping", None)
        if number is not None and number in handled and not handled[number].done():
            handled[number].set_result(time.perf_counter())

    producer_db, consumer_db = Database(producer_url), Database(consumer_url)
    producer = Messaging(
        ProducerSettings(database_url=producer_url, amqp_url=amqp_url, amqp_namespace=namespace),
        producer_db,
        EventHandlers(),
    )
    consumer = Messaging(
        ConsumerSettings(database_url=consumer_url, amqp_url=amqp_url, amqp_namespace=namespace),
        consumer_db,
        handlers,
    )
    await consumer.start()
    await producer.start()
    samples = []
    try:
        await asyncio.gather(consumer.connection_ready(), producer.connection_ready())
        context = EventContext(producer="bench")
        for i in range(n):
            handled[i] = asyncio.get_running_loop().create_future()
            async with producer_db.sessions() as session:
                producer.outbox.record(session, ping(i), context)
                await session.commit()
            committed = time.perf_counter()
            samples.append(await asyncio.wait_for(handled[i], 10) - committed)
    finally:
        sa_event.remove(Session, "after_commit", _committed)
        await producer.stop()
        await consumer.stop()
        await producer_db.dispose()
        await consumer_db.dispose()
    return samples


async def cleanup(amqp_url: str, namespace: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        for kind, name in sorted(declared.pop(namespace, set()), reverse=True):
            channel = await connection.channel()
            await (channel.queue_delete(name) if kind == "queue" else channel.exchange_delete(name))
            await channel.close()


async def bound_sink(amqp_url: str, namespace: str) -> None:
    """A queue bound to bench.ping, so that mandatory publishes are routable; it is deleted
    with the namespace (messages are dropped with it, nobody consumes them)."""
    settings = ConsumerSettings(amqp_url=amqp_url, amqp_namespace=namespace)
    sink = topology_for(settings, ["bench.ping"])
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        await sink.declare_queues(await connection.channel())


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--sequential-events", type=int, default=2000)
    parser.add_argument("--latency-events", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    args = parser.parse_args()

    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    amqp_url = os.environ.get("BENCH_AMQP_URL") or os.environ.get(
        "TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"
    )
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )

    raw, relay = [], []
    for _ in range(args.rounds):
        namespace = f"bench-{uuid.uuid4().hex[:8]}."
        database_url = await create_postgres_database(server)
        try:
            await create_schema(database_url)
            await bound_sink(amqp_url, namespace)
            raw.append(await raw_publish(amqp_url, namespace, args.events, pipelined=True))
            relay.append(await relay_publish(database_url, amqp_url, namespace, args.events))
        finally:
            await drop_postgres_database(database_url)
            await cleanup(amqp_url, namespace)

    namespace = f"bench-{uuid.uuid4().hex[:8]}."
    await bound_sink(amqp_url, namespace)
    sequential = await raw_publish(amqp_url, namespace, args.sequential_events, pipelined=False)
    await cleanup(amqp_url, namespace)

    namespace = f"bench-{uuid.uuid4().hex[:8]}."
    producer_url = await create_postgres_database(server)
    consumer_url = await create_postgres_database(server)
    try:
        for url in (producer_url, consumer_url):
            await create_schema(url)
        samples = await latency(
            producer_url, consumer_url, amqp_url, namespace, args.latency_events
        )
    finally:
        for url in (producer_url, consumer_url):
            await drop_postgres_database(url)
        await cleanup(amqp_url, namespace)

    best_raw, best_relay = max(raw), max(relay)
    print(
        f"raw aio-pika, confirms in flight : {best_raw:9.0f} msg/s  (rounds: {', '.join(f'{r:.0f}' for r in raw)})"
    )
    print(
        f"raw aio-pika, one confirm at once: {sequential:9.0f} msg/s  ({best_raw / sequential:.1f}x slower)"
    )
    print(
        f"outbox relay (PostgreSQL)        : {best_relay:9.0f} msg/s  (rounds: {', '.join(f'{r:.0f}' for r in relay)})"
    )
    print(f"relay / raw, best of each        : {best_relay / best_raw:9.2f}      (target >= 0.70)")
    print(
        f"relay / raw, median of each      : {statistics.median(relay) / statistics.median(raw):9.2f}"
    )
    ms = [s * 1000 for s in samples]
    print(
        f"commit-to-handled latency, {len(ms)} events: p50 {percentile(ms, 50):.1f} ms, "
        f"p95 {percentile(ms, 95):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
        f"mean {statistics.fmean(ms):.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
