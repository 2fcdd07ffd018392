from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_auth.store.models import Identity, OAuthState


async def take_state(session: AsyncSession, state: str, now: datetime) -> sa.Row | None:
    """The pending authorization request for `state` (code_verifier, nonce, browser_hash),
    deleted as it is read: a state is good for one callback."""
    row = (
        await session.execute(
            sa.delete(OAuthState)
            .where(OAuthState.state == state)
            .returning(
                OAuthState.code_verifier,
                OAuthState.nonce,
                OAuthState.browser_hash,
                OAuthState.expires_at,
            )
        )
    ).first()
    if row is None or row.expires_at <= now:
        return None
    return row


async def identity(session: AsyncSession, provider: str, subject: str) -> Identity | None:
    return await session.get(Identity, (provider, subject))


async def purge_states(session: AsyncSession, now: datetime) -> None:
    await session.execute(sa.delete(OAuthState).where(OAuthState.expires_at < now))
