"""Checking a second factor: a TOTP code, or one of the user's backup codes."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_auth.domain import twofactor as rules
from wayfare_auth.store import twofactor as store
from wayfare_auth.store.models import User


async def accept_code(session: AsyncSession, user: User, code: str, now: datetime) -> bool:
    """Whether `code` is a valid second factor for `user` now; using it up (the TOTP time
    step, or the backup code) in the caller's transaction."""
    if not user.totp_enabled or user.totp_secret is None:
        return False
    if rules.looks_like_totp(code):
        counter = rules.matching_counter(user.totp_secret, code, now, user.totp_last_counter)
        if counter is None:
            return False
        user.totp_last_counter = counter
        return True
    return await store.use_backup_code(session, user.id, rules.backup_code_hash(code), now)


async def issue_backup_codes(session: AsyncSession, user: User) -> list[str]:
    codes = rules.new_backup_codes()
    await store.replace_backup_codes(session, user.id, [rules.backup_code_hash(c) for c in codes])
    return codes
