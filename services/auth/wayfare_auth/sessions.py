"""Sessions: a login opens one, each refresh rotates its refresh token, and revoking it
tells the gateway (auth.session_revoked) to refuse its access token at once."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_auth.store import sessions as store
from wayfare_auth.store.fastpath import LoginDB
from wayfare_auth.store.models import RotatedRefreshToken, Session, User
from wayfare_auth.tokens import Account, Tokens
from wayfare_common.events.catalog import SessionRevoked
from wayfare_common.events.envelope import EventContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_common.problems import Unauthorized


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: uuid.UUID


def refresh_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh() -> tuple[str, str]:
    """A refresh token (256 random bits) and the hash that is all we store of it."""
    token = secrets.token_urlsafe(32)
    return token, refresh_hash(token)


async def open_session(
    db: LoginDB,
    tokens: Tokens,
    user: Account,
    now: datetime,
    *,
    lifetime: timedelta,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    """A new session for `user` with its first token pair, in the caller's transaction."""
    session_id = uuid.uuid4()
    access, issued = tokens.access(user, session_id, now)
    refresh, hashed = _new_refresh()
    await store.add(
        db,
        id=session_id,
        user_id=user.id,
        refresh_hash=hashed,
        created_at=now,
        expires_at=now + lifetime,
        access_jti=issued.jti,
        access_expires_at=issued.expires_at,
        ip=ip,
        user_agent=(user_agent or "")[:200] or None,
    )
    return TokenPair(access, refresh, int(tokens.access_ttl.total_seconds()), session_id)


def _invalid(detail: str = "The refresh token is not valid.", code: str = "invalid_refresh_token"):
    return Unauthorized(detail, code=code)


async def rotate(
    session: AsyncSession,
    tokens: Tokens,
    outbox: Outbox,
    context: EventContext,
    refresh_token: str,
    now: datetime,
) -> TokenPair:
    """Trade a refresh token for a new pair. A token that was replaced before is a sign
    of theft: the whole session (every token descended from the login) is revoked."""
    old_hash = refresh_hash(refresh_token)
    found = await store.by_refresh_hash(session, old_hash)
    if found is None:
        reused = await store.session_of_rotated(session, old_hash)
        if reused is None:
            raise _invalid()
        if reused.revoked_at is None:
            revoke(session, outbox, context, reused, "refresh_token_reused", now)
            await session.commit()
        raise _invalid(
            "This refresh token was used before; the session has been ended.",
            "refresh_token_reused",
        )
    row, user = found
    if row.revoked_at is not None or not user.is_active:
        raise _invalid()
    if row.expires_at <= now:
        raise _invalid("The session has expired; please log in again.", "refresh_token_expired")

    access, issued = tokens.access(user, row.id, now)
    refresh, new_hash = _new_refresh()
    session.add(RotatedRefreshToken(token_hash=old_hash, session_id=row.id, rotated_at=now))
    row.refresh_hash = new_hash
    row.access_jti, row.access_expires_at = issued.jti, issued.expires_at
    return TokenPair(access, refresh, int(tokens.access_ttl.total_seconds()), row.id)


def revoke(
    session: AsyncSession,
    outbox: Outbox,
    context: EventContext,
    row: Session,
    reason: str,
    now: datetime,
) -> None:
    """End a session; its latest access token is named in auth.session_revoked (the
    gateway also refuses every token carrying the session id until `expires_at`)."""
    row.revoked_at, row.revoked_reason = now, reason
    outbox.record(
        session,
        SessionRevoked(
            user_id=row.user_id,
            token_id=row.access_jti,
            session_id=row.id,
            expires_at=row.access_expires_at,
        ),
        context,
    )


async def revoke_all(
    session: AsyncSession,
    outbox: Outbox,
    context: EventContext,
    user_id: uuid.UUID,
    reason: str,
    now: datetime,
    *,
    keep: uuid.UUID | None = None,
) -> int:
    """End every live session of the user (but `keep`), one event each."""
    ended = 0
    for row in await store.live(session, user_id, now):
        if row.id != keep:
            revoke(session, outbox, context, row, reason, now)
            ended += 1
    return ended


async def live_user(
    session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime
) -> tuple[User, Session] | None:
    """The user behind an access token whose session is still open, and that session."""
    found = await store.with_user(session, session_id)
    if found is None:
        return None
    row, user = found
    if row.user_id != user_id or row.revoked_at is not None or row.expires_at <= now:
        return None
    return user, row
