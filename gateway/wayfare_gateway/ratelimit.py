"""Rate limits by the `limits` library: counters in memory, or in Redis when REDIS_URL is
set so that every replica counts the same requests."""

import math
import time

from limits import parse
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter

from wayfare_gateway.routes import Limit
from wayfare_gateway.settings import Settings


class RateLimits:
    def __init__(self, settings: Settings):
        if settings.redis_url:
            uri = settings.redis_url.replace("redis://", "async+redis://", 1)
            storage = RedisStorage(
                uri, implementation="redispy", key_prefix=f"{settings.amqp_namespace}wayfare-limits"
            )
        else:
            storage = MemoryStorage()
        self._limiter = FixedWindowRateLimiter(storage)
        self._items = {
            Limit.LOGIN: parse(settings.login_rate),
            Limit.REGISTER: parse(settings.register_rate),
            Limit.PASSWORD_RESET: parse(settings.password_reset_rate),
            Limit.USER: parse(settings.user_rate),
        }
        self._anonymous = parse(settings.anonymous_rate)

    async def retry_after(self, limit: Limit, who: str, signed_in: bool) -> int | None:
        """Count this request; None if it may pass, else the seconds until it may."""
        item = self._items[limit] if signed_in or limit is not Limit.USER else self._anonymous
        if await self._limiter.hit(item, limit.value, who):
            return None
        stats = await self._limiter.get_window_stats(item, limit.value, who)
        return max(1, math.ceil(stats.reset_time - time.time()))
