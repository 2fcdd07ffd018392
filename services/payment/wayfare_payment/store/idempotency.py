"""Idempotency keys (DESIGN §5): the unique (user, key) row is claimed by the first request;
a request that finds it replays the stored response, or is told to wait while the first is
still working, or takes over when the first died (its lock ran out)."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from wayfare_common.db import Database
from wayfare_payment.store.models import IdempotencyKey

LOCK_SECONDS = 60.0


class KeyReused(Exception):
    """The key was used with another request."""


class KeyBusy(Exception):
    """The first request with this key is still being worked on."""


@dataclass
class Claim:
    id: uuid.UUID
    attempt_id: uuid.UUID | None  # a charge the key had started: drive it, do not start one
    response: tuple[int, dict[str, Any]] | None  # set: replay this


async def claim(database: Database, user_id: uuid.UUID, key: str, fingerprint: str) -> Claim:
    for _ in range(3):  # the row can vanish between our insert and our read (released)
        try:
            async with database.sessions() as session, session.begin():
                row = IdempotencyKey(
                    id=uuid.uuid4(),
                    user_id=user_id,
                    key=key,
                    request_hash=fingerprint,
                    locked_until=_lock_until(),
                )
                session.add(row)
            return Claim(row.id, None, None)
        except IntegrityError:
            pass
        async with database.sessions() as session, session.begin():
            row = await session.scalar(
                sa.select(IdempotencyKey)
                .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
                .with_for_update()
            )
            if row is None:
                continue
            if row.request_hash != fingerprint:
                raise KeyReused()
            if row.response_status is not None:
                return Claim(row.id, row.attempt_id, (row.response_status, row.response_body))
            if row.locked_until is not None and row.locked_until > datetime.now(UTC):
                raise KeyBusy()
            row.locked_until = _lock_until()  # the first request died: take over
            return Claim(row.id, row.attempt_id, None)
    raise KeyBusy()


async def complete(database: Database, claim_id: uuid.UUID, status: int, body: dict) -> None:
    async with database.sessions() as session, session.begin():
        await session.execute(
            sa.update(IdempotencyKey)
            .where(IdempotencyKey.id == claim_id)
            .values(response_status=status, response_body=body, locked_until=None)
        )


async def release(database: Database, claim_id: uuid.UUID, forget: bool) -> None:
    """After a failure: forget the key when nothing was started (the request may be sent
    again as new), else unlock it so that a retry with it takes over at once."""
    async with database.sessions() as session, session.begin():
        if forget:
            await session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.id == claim_id))
        else:
            await session.execute(
                sa.update(IdempotencyKey)
                .where(IdempotencyKey.id == claim_id)
                .values(locked_until=None)
            )


def _lock_until() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=LOCK_SECONDS)
