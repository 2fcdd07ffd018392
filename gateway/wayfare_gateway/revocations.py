"""Access tokens of revoked sessions, refused until they would have expired anyway.

Auth publishes `auth.session_revoked` on logout; every gateway replica needs every such
event (not one of them, as with a service's competing consumers), so each replica reads
them through its own exclusive queue into memory: a lookup per request costs a dict
access. With REDIS_URL set, revocations are also kept in Redis, and a replica loads them
on start and after reconnecting, so one that was down or away from the broker catches up.
"""

import asyncio
import contextlib
import time
import uuid

import structlog
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from wayfare_common.events.catalog import SessionRevoked
from wayfare_common.events.envelope import parse_envelope
from wayfare_common.messaging.broker import connect, topology_for
from wayfare_common.security.tokens import Principal
from wayfare_common.settings import ServiceSettings

log = structlog.get_logger("wayfare.gateway.revocations")


class DenyList:
    def __init__(self) -> None:
        self._until: dict[str, float] = {}  # token id or session id -> expiry (epoch s)
        self._next_prune = 0.0

    def revoke(self, key: str, until: float) -> None:
        if until > time.time():
            self._until[key] = max(until, self._until.get(key, 0.0))

    def refuses(self, principal: Principal) -> bool:
        now = time.time()
        if now >= self._next_prune:
            self._prune(now)
        if self._until.get(principal.token_id, 0.0) > now:
            return True
        session = principal.claims.get("sid")
        return session is not None and self._until.get(str(session), 0.0) > now

    def _prune(self, now: float) -> None:
        self._until = {key: until for key, until in self._until.items() if until > now}
        self._next_prune = now + 60

    def __len__(self) -> int:
        return len(self._until)


class RevocationFeed:
    """Consumes `auth.session_revoked` into a DenyList (and Redis when configured)."""

    def __init__(self, settings: ServiceSettings, deny: DenyList, redis=None):
        self.settings = settings
        self.deny = deny
        self.redis = redis
        self.redis_prefix = f"{settings.amqp_namespace}wayfare:revoked:"
        self.connection: AbstractRobustConnection | None = None
        self.ready = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def state(self) -> str:
        if not self.settings.amqp_url:
            return "disabled"
        connected = self.connection is not None and self.connection.connected.is_set()
        return "ok" if connected else "unreachable"

    async def start(self) -> None:
        await self._load_from_redis()
        if self.settings.amqp_url:
            self._task = asyncio.create_task(self._run(), name="revocation-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close()

    async def _run(self) -> None:
        while True:
            try:
                self.connection = await connect(self.settings)
                break
            except Exception as exc:
                log.warning(
                    "revocation_feed_waiting_for_broker", error=str(exc) or type(exc).__name__
                )
                await asyncio.sleep(self.settings.amqp_reconnect_interval)
        channel = await self.connection.channel()
        exchange = await topology_for(self.settings).declare_exchange(channel)
        # Exclusive: this replica's own copy of every revocation, gone when it stops.
        queue = await channel.declare_queue(
            f"{self.settings.amqp_namespace}gateway.revocations.{uuid.uuid4().hex[:12]}",
            exclusive=True,
        )
        await queue.bind(exchange, routing_key=SessionRevoked.type)
        await queue.consume(self._on_message)
        self.connection.reconnect_callbacks.add(self._on_reconnect)
        self.ready.set()
        log.info("revocation_feed_ready")

    async def _on_reconnect(self, *_args) -> None:
        await self._load_from_redis()  # what others saw while we were away

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        async with message.process(ignore_processed=True):
            try:
                event = SessionRevoked.model_validate(parse_envelope(message.body).data)
            except ValueError:
                log.error("revocation_unreadable", message_id=message.message_id)
                return
            until = event.expires_at.timestamp()
            keys = [event.token_id] + ([str(event.session_id)] if event.session_id else [])
            for key in keys:
                self.deny.revoke(key, until)
            await self._save_to_redis(keys, until)

    async def _save_to_redis(self, keys: list[str], until: float) -> None:
        if self.redis is None:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(self.redis_prefix + key, int(until), exat=int(until) + 1)
                await pipe.execute()
        except Exception as exc:
            log.warning("revocation_not_shared", error=str(exc))

    async def _load_from_redis(self) -> None:
        if self.redis is None:
            return
        try:
            async for key in self.redis.scan_iter(match=self.redis_prefix + "*", count=1000):
                until = await self.redis.get(key)
                if until is not None:
                    name = key.decode() if isinstance(key, bytes) else key
                    self.deny.revoke(name.removeprefix(self.redis_prefix), float(until))
        except Exception as exc:
            log.warning("revocations_not_loaded", error=str(exc))
