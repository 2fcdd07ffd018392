"""The claims of the tokens the auth service signs.

Access tokens follow RFC 9068 (`typ: at+jwt`) and are for every service. The other
tokens are for the auth service alone: each has its own `typ` and audience, so no
verifier of access tokens accepts them, and none of them passes for another.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ACCESS = "at+jwt"
VERIFY_EMAIL = "email-verify+jwt"
PASSWORD_RESET = "password-reset+jwt"
MFA = "mfa+jwt"
PURPOSES = (VERIFY_EMAIL, PASSWORD_RESET, MFA)


@dataclass(frozen=True)
class Issued:
    claims: dict
    jti: str
    expires_at: datetime


def _times(now: datetime, ttl: timedelta) -> tuple[dict, datetime]:
    """iat/nbf/exp in whole seconds (NumericDate), and exp as the datetime it stands for."""
    issued = int(now.timestamp())
    expires = issued + int(ttl.total_seconds())
    return {"iat": issued, "nbf": issued, "exp": expires}, datetime.fromtimestamp(expires, UTC)


def access_claims(
    *,
    issuer: str,
    audience: str,
    user_id: uuid.UUID,
    role: str,
    session_id: uuid.UUID,
    now: datetime,
    ttl: timedelta,
) -> Issued:
    jti = str(uuid.uuid4())
    times, expires_at = _times(now, ttl)
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": str(user_id),
        "role": role,
        "jti": jti,
        "sid": str(session_id),
        **times,
    }
    return Issued(claims, jti, expires_at)


def purpose_audience(issuer: str, purpose: str) -> str:
    """e.g. "wayfare-auth#password-reset": only the auth service's own checks accept it."""
    return f"{issuer}#{purpose.removesuffix('+jwt')}"


def purpose_claims(
    purpose: str, *, issuer: str, user_id: uuid.UUID, now: datetime, ttl: timedelta, **extra
) -> Issued:
    jti = uuid.uuid4().hex
    times, expires_at = _times(now, ttl)
    claims = {
        "iss": issuer,
        "aud": purpose_audience(issuer, purpose),
        "sub": str(user_id),
        "jti": jti,
        **times,
        **extra,
    }
    return Issued(claims, jti, expires_at)
