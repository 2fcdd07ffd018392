"""Signing the tokens of domain/tokens.py, and redeeming the single-purpose ones."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_auth.domain import tokens as claims
from wayfare_auth.keys import InvalidSignedToken, KeyRing
from wayfare_auth.settings import Settings
from wayfare_auth.store import tokens as used_tokens
from wayfare_common.problems import Problem


class Account(Protocol):
    """What signing needs of a user: a `User`, or the row the login path reads."""

    id: uuid.UUID
    role: str
    password_version: int


class Tokens:
    def __init__(self, settings: Settings, keys: KeyRing):
        self.settings = settings
        self.keys = keys
        self.access_ttl = timedelta(seconds=settings.access_token_ttl)
        self._ttls = {
            claims.VERIFY_EMAIL: timedelta(seconds=settings.verify_email_ttl),
            claims.PASSWORD_RESET: timedelta(seconds=settings.password_reset_ttl),
            claims.MFA: timedelta(seconds=settings.mfa_token_ttl),
        }

    def access(
        self, user: Account, session_id: uuid.UUID, now: datetime
    ) -> tuple[str, claims.Issued]:
        issued = claims.access_claims(
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
            user_id=user.id,
            role=user.role,
            session_id=session_id,
            now=now,
            ttl=self.access_ttl,
        )
        return self.keys.sign(claims.ACCESS, issued.claims), issued

    def purpose(self, purpose: str, user_id: uuid.UUID, now: datetime, **extra: Any):
        """A signed single-purpose token for `user_id`; returns (token, Issued)."""
        issued = claims.purpose_claims(
            purpose,
            issuer=self.settings.jwt_issuer,
            user_id=user_id,
            now=now,
            ttl=self._ttls[purpose],
            **extra,
        )
        return self.keys.sign(purpose, issued.claims), issued

    async def redeem(
        self,
        session: AsyncSession,
        token: str,
        purpose: str,
        now: datetime,
        *,
        status: int = 400,
        code: str = "invalid_token",
    ) -> dict[str, Any]:
        """The claims of a valid, unexpired, unused `purpose` token, now marked used (in the
        caller's transaction). Raises a problem with `status` and `code` otherwise."""
        found = self.check(token, purpose, now, status=status, code=code)
        expires_at = datetime.fromtimestamp(found["exp"], UTC)
        if not await used_tokens.mark_used(session, found["jti"], purpose, expires_at):
            raise _refused("used", status, code)
        return found

    def check(
        self,
        token: str,
        purpose: str,
        now: datetime,
        *,
        status: int = 400,
        code: str = "invalid_token",
    ) -> dict[str, Any]:
        """Like `redeem`, without using the token up."""
        try:
            found = self.keys.verify(token, purpose)
        except InvalidSignedToken as err:
            raise _refused(err.reason, status, code) from None
        audience = claims.purpose_audience(self.settings.jwt_issuer, purpose)
        if found.get("iss") != self.settings.jwt_issuer or found.get("aud") != audience:
            raise _refused("wrong_audience", status, code)
        exp, sub, jti = found.get("exp"), found.get("sub"), found.get("jti")
        if not isinstance(exp, int) or not isinstance(sub, str) or not isinstance(jti, str):
            raise _refused("missing_claim", status, code)
        if exp <= now.timestamp():
            raise _refused("expired", status, code)
        try:
            found["sub"] = uuid.UUID(sub)
        except ValueError:
            raise _refused("invalid_claim", status, code) from None
        return found


_DETAILS = {
    "used": "This link or code was used already.",
    "expired": "This link or code has expired.",
}


def _refused(reason: str, status: int, code: str) -> Problem:
    detail = _DETAILS.get(reason, "This link or code is not valid.")
    return Problem(detail, status=status, code=code, reason=reason)
