"""TOTP (RFC 6238) and backup codes."""

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp

STEP = 30  # seconds per TOTP code
DRIFT = 1  # codes accepted either side of the current one (clock skew)
BACKUP_CODES = 10
# 12 characters from 31 unambiguous ones: about 59 bits, so a plain SHA-256 is enough.
_BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_BACKUP_LENGTH = 12


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def matching_counter(secret: str, code: str, now: datetime, last_counter: int | None) -> int | None:
    """The time step whose code `code` is, within the allowed drift, or None. A step at or
    before `last_counter` (already used) never matches again, so a code cannot be replayed."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for counter in range(current - DRIFT, current + DRIFT + 1):
        if last_counter is not None and counter <= last_counter:
            continue
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def looks_like_totp(code: str) -> bool:
    code = code.strip().replace(" ", "")
    return code.isdigit() and len(code) == 6


def new_backup_codes() -> list[str]:
    codes = []
    for _ in range(BACKUP_CODES):
        raw = "".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(_BACKUP_LENGTH))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def backup_code_hash(code: str) -> str:
    """The stored form: SHA-256 of the code without separators, in lower case."""
    normal = "".join(c for c in code.lower() if c.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()
