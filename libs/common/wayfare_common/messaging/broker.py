"""The broker connection and topology of one service, without the outbox and inbox: what a
part with no database (the gateway) needs to listen to events."""

import aio_pika
from aio_pika.abc import AbstractRobustConnection

from wayfare_common.messaging.topology import Topology
from wayfare_common.settings import ServiceSettings


def topology_for(settings: ServiceSettings, routing_keys=()) -> Topology:
    return Topology(
        service=settings.service_name,
        routing_keys=tuple(routing_keys),
        namespace=settings.amqp_namespace,
        retry_delays=tuple(settings.retry_delays),
        delivery_limit=settings.delivery_limit,
    )


async def connect(settings: ServiceSettings) -> AbstractRobustConnection:
    return await aio_pika.connect_robust(
        settings.amqp_url,
        reconnect_interval=settings.amqp_reconnect_interval,
        client_properties={"connection_name": settings.service_name},
    )
