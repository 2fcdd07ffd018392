"""argon2id password hashing off the event loop, with a bound on hashes in flight.

Each hash holds `memory_cost` KiB while it runs, so the number running at once is what
bounds memory: the pool has `hash_concurrency` threads. A semaphore lets twice that many
hashes into the pool, so a thread that finishes one starts the next at once (without
waiting for the event loop to hand it over); a login flood waits on the semaphore.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from wayfare_auth.settings import Settings


class PasswordHashing:
    def __init__(self, settings: Settings):
        self.hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self.concurrency = settings.hash_concurrency
        self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="argon2")
        self._slots = asyncio.Semaphore(2 * self.concurrency)
        # Verified when an account is unknown or has no password, so that a wrong email
        # costs exactly what a wrong password costs (no enumeration by timing).
        self._dummy = self.hasher.hash("not a password of anyone's")

    async def hash(self, password: str) -> str:
        return await self._run(self.hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        return await self._run(self._verify, stored or self._dummy, password) and bool(stored)

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _run(self, function, *args):
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
