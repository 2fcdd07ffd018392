"""The broker objects of DESIGN §4, declared the same way by every service.

    wayfare.events (topic) --binding keys--> <service>            quorum queue, competing replicas
                                              |  handler fails: copy to a delay queue, ack
                                              v
                             <service>.retry.<ms>ms  quorum, TTL --expires back--> <service>
                                              |  attempts exhausted / bad message
                                              v
                             <service>.dead-letter  quorum; the broker also dead-letters here
                                                    after `delivery_limit` redeliveries (crash loops)

RabbitMQ before 4.0 gives quorum queues no delivery limit and dead-letters at most once
unless asked, so both are set explicitly; at-least-once dead-lettering needs
`x-overflow: reject-publish`. An optional namespace prefixes every name so that tests (or
several suites on one broker) never see each other's messages.
"""

from dataclasses import dataclass, field

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

EXCHANGE = "wayfare.events"

# Names declared per namespace, so a test can delete exactly what it created.
declared: dict[str, set[tuple[str, str]]] = {}


def _quorum(**arguments) -> dict:
    return {"x-queue-type": "quorum", **arguments}


def _dead_letter_to(queue: str) -> dict:
    return {
        "x-dead-letter-exchange": "",  # the default exchange routes by queue name
        "x-dead-letter-routing-key": queue,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


@dataclass(frozen=True)
class Topology:
    service: str
    routing_keys: tuple[str, ...] = ()
    namespace: str = ""
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)
    delivery_limit: int = 10
    _names: set = field(default_factory=set, compare=False, repr=False)

    @property
    def exchange_name(self) -> str:
        return f"{self.namespace}{EXCHANGE}"

    @property
    def queue_name(self) -> str:
        return f"{self.namespace}{self.service}"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.queue_name}.dead-letter"

    def retry_queue(self, attempt: int) -> str:
        """The delay queue for the `attempt`-th retry (0-based); named by its delay so a
        changed configuration declares new queues instead of clashing with old ones."""
        return f"{self.queue_name}.retry.{round(self.retry_delays[attempt] * 1000)}ms"

    async def declare_exchange(self, channel: AbstractChannel) -> AbstractExchange:
        self._remember("exchange", self.exchange_name)
        return await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )

    async def declare_queues(self, channel: AbstractChannel) -> AbstractQueue:
        """Declare this service's queues and bindings; returns the queue to consume."""
        exchange = await self.declare_exchange(channel)
        await self._queue(channel, self.dead_letter_queue, _quorum())
        queue = await self._queue(
            channel,
            self.queue_name,
            _quorum(
                **{"x-delivery-limit": self.delivery_limit},
                **_dead_letter_to(self.dead_letter_queue),
            ),
        )
        for attempt, delay in enumerate(self.retry_delays):
            await self._queue(
                channel,
                self.retry_queue(attempt),
                _quorum(
                    **{"x-message-ttl": round(delay * 1000)}, **_dead_letter_to(self.queue_name)
                ),
            )
        for key in self.routing_keys:
            await queue.bind(exchange, routing_key=key)
        return queue

    async def _queue(self, channel: AbstractChannel, name: str, arguments: dict) -> AbstractQueue:
        self._remember("queue", name)
        return await channel.declare_queue(name, durable=True, arguments=arguments)

    def _remember(self, kind: str, name: str) -> None:
        declared.setdefault(self.namespace, set()).add((kind, name))
