"""What the routes and commands share for the life of a process (on `app.state.auth`)."""

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg

from wayfare_auth.domain.throttle import Limit
from wayfare_auth.google import GoogleSignIn
from wayfare_auth.hashing import PasswordHashing
from wayfare_auth.keys import KeyRing
from wayfare_auth.settings import Settings
from wayfare_auth.store import fastpath
from wayfare_auth.throttling import limits_from
from wayfare_auth.tokens import Tokens


@dataclass
class Auth:
    settings: Settings
    keys: KeyRing
    hashing: PasswordHashing
    tokens: Tokens = field(init=False)
    limits: list[Limit] = field(init=False)
    google: GoogleSignIn | None = field(init=False)
    login_slots: asyncio.Semaphore = field(init=False)
    login_pool: asyncpg.Pool | None = None  # PostgreSQL only; opened by the app's lifespan

    def __post_init__(self) -> None:
        self.login_slots = asyncio.Semaphore(self.settings.login_slots)
        self.tokens = Tokens(self.settings, self.keys)
        self.limits = limits_from(self.settings)
        self.google = GoogleSignIn(self.settings) if self.settings.google_enabled else None

    @classmethod
    def from_settings(cls, settings: Settings) -> "Auth":
        return cls(settings, KeyRing.from_settings(settings), PasswordHashing(settings))

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(seconds=self.settings.refresh_token_ttl)

    async def open(self) -> None:
        self.login_pool = await fastpath.create_pool(
            self.settings.database_url, self.settings.login_slots
        )

    async def close(self) -> None:
        if self.login_pool is not None:
            await self.login_pool.close()
        self.hashing.close()
        if self.google is not None:
            await self.google.close()
