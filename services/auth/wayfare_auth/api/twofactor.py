"""TOTP two-factor authentication: set up, enable (with backup codes), disable."""

import base64
import io

from fastapi import APIRouter, Request

from wayfare_auth import throttling, twofactor
from wayfare_auth.api.deps import AuthDep, CallerDep, client_ip
from wayfare_auth.api.schemas import BackupCodesOut, CodeIn, DisableTotpIn, TotpSetupOut
from wayfare_auth.domain import twofactor as rules
from wayfare_auth.store import twofactor as store
from wayfare_auth.store.models import utcnow
from wayfare_common.api import SessionDep
from wayfare_common.problems import Conflict, Forbidden, Problem

router = APIRouter(prefix="/api/v1/auth/2fa", tags=["two-factor"])
ISSUER = "Wayfare"


def _qr_png(uri: str) -> str:
    import segno  # when someone sets up 2FA, not in every auth process

    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="png", scale=5, border=2)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@router.post(
    "/setup",
    summary="Start setting up TOTP: a new secret and its QR code",
    responses={409: {"description": "TOTP is on already (`totp_already_enabled`)"}},
)
async def setup(caller: CallerDep, db: SessionDep) -> TotpSetupOut:
    """Nothing changes for logins until `/enable` confirms a code from the authenticator.
    Calling it again replaces the pending secret."""
    user = caller.user
    if user.totp_enabled:
        raise Conflict("Two-factor authentication is on already.", code="totp_already_enabled")
    user.totp_secret = rules.new_secret()
    user.totp_last_counter = None
    await db.commit()
    uri = rules.provisioning_uri(user.totp_secret, user.email, ISSUER)
    return TotpSetupOut(secret=user.totp_secret, otpauth_uri=uri, qr_png=_qr_png(uri))


@router.post(
    "/enable",
    summary="Turn TOTP on with a first code; returns 10 backup codes",
    responses={
        400: {"description": "The code does not match (`invalid_code`)"},
        409: {"description": "`totp_already_enabled` or `totp_not_set_up`"},
    },
)
async def enable(body: CodeIn, caller: CallerDep, db: SessionDep) -> BackupCodesOut:
    user = caller.user
    if user.totp_enabled:
        raise Conflict("Two-factor authentication is on already.", code="totp_already_enabled")
    if user.totp_secret is None:
        raise Conflict("Call /api/v1/auth/2fa/setup first.", code="totp_not_set_up")
    counter = rules.matching_counter(user.totp_secret, body.code, utcnow(), None)
    if counter is None:
        raise Problem(
            "The code does not match; check the authenticator's clock.",
            status=400,
            code="invalid_code",
        )
    user.totp_enabled, user.totp_last_counter = True, counter
    codes = await twofactor.issue_backup_codes(db, user)
    await db.commit()
    return BackupCodesOut(backup_codes=codes)


@router.post(
    "/backup-codes",
    summary="Replace the backup codes (needs a current code)",
    responses={
        403: {"description": "The code is wrong or was used (`invalid_code`)"},
        429: {"description": "`too_many_attempts`, with Retry-After"},
    },
)
async def new_backup_codes(
    body: CodeIn, request: Request, caller: CallerDep, db: SessionDep, auth: AuthDep
) -> BackupCodesOut:
    user, now = caller.user, utcnow()
    attempt = await throttling.admit(db, auth.limits, user.email, client_ip(request), now)
    if not await twofactor.accept_code(db, user, body.code, now):
        await attempt.failed(db, now)
        raise Forbidden("The code is wrong or was used already.", code="invalid_code")
    codes = await twofactor.issue_backup_codes(db, user)
    await db.commit()
    return BackupCodesOut(backup_codes=codes)


@router.post(
    "/disable",
    status_code=204,
    summary="Turn TOTP off (needs the password and a code)",
    responses={
        403: {"description": "The password or the code is wrong (`invalid_credentials`)"},
        409: {"description": "TOTP is off already (`totp_not_enabled`)"},
        429: {"description": "`too_many_attempts`, with Retry-After"},
    },
)
async def disable(
    body: DisableTotpIn, request: Request, caller: CallerDep, db: SessionDep, auth: AuthDep
):
    user, now = caller.user, utcnow()
    if not user.totp_enabled:
        raise Conflict("Two-factor authentication is off already.", code="totp_not_enabled")
    attempt = await throttling.admit(db, auth.limits, user.email, client_ip(request), now)
    password_ok = await auth.hashing.verify(user.password_hash, body.password)
    if not (password_ok and await twofactor.accept_code(db, user, body.code, now)):
        await attempt.failed(db, now)
        raise Forbidden("The password or the code is wrong.", code="invalid_credentials")
    user.totp_enabled, user.totp_secret, user.totp_last_counter = False, None, None
    await store.delete_backup_codes(db, user.id)
    await db.commit()
