"""Who is calling: access tokens checked with the shared verifier before anything is
routed, with verified tokens cached for the rest of their life (bounded), since the
gateway sees the same token on every request of a session."""

import time
from collections import OrderedDict

from wayfare_common.security.tokens import InvalidToken, Principal, TokenVerifier


class CachedVerifier:
    def __init__(self, verifier: TokenVerifier, size: int = 10_000):
        self.verifier = verifier
        self.size = size
        self._cache: OrderedDict[str, Principal] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        principal = self._cache.get(token)
        if principal is not None:
            if principal.expires_at.timestamp() > time.time():
                self._cache.move_to_end(token)
                return principal
            del self._cache[token]
            raise InvalidToken("expired")
        principal = await self.verifier.verify(token)  # raises for every refused token
        self._cache[token] = principal
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return principal
