"""Registration, email verification, passwords, login, refresh and logout."""

import uuid

from fastapi import APIRouter, Request, Response

from wayfare_auth import accounts, sessions, throttling, twofactor
from wayfare_auth.api.deps import AuthDep, CallerDep, client_ip
from wayfare_auth.api.responses import mfa_challenge, tokens_response
from wayfare_auth.api.schemas import (
    AcceptedOut,
    EmailIn,
    LoginIn,
    MfaLoginIn,
    MfaRequiredOut,
    RefreshIn,
    RegisterIn,
    ResetIn,
    TokenIn,
    TokensOut,
    UserOut,
)
from wayfare_auth.domain import tokens as purposes
from wayfare_auth.domain.accounts import lookup_key
from wayfare_auth.store import fastpath, users
from wayfare_auth.store import throttle as throttle_store
from wayfare_auth.store.models import utcnow
from wayfare_common.api import EventContextDep, OutboxDep, SessionDep
from wayfare_common.problems import Forbidden, Problem, Unauthorized

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

FORGOT_ANSWER = "If an account exists for this address, a link to reset its password is on its way."
RESEND_ANSWER = "If this address has an account waiting for verification, a new link is on its way."


@router.post(
    "/register",
    status_code=201,
    response_model=UserOut,
    summary="Create an account",
    responses={409: {"description": "The email has an account already (`email_taken`)"}},
)
async def register(
    body: RegisterIn, db: SessionDep, outbox: OutboxDep, context: EventContextDep, auth: AuthDep
):
    """Creates an unverified customer account and mails a verification link
    (`auth.user_registered`, `auth.email_verification_requested`). 409 `email_taken`,
    422 `weak_password` with one field error per broken rule."""
    accounts.check_password(body.password, body.email)
    now = utcnow()
    user = await accounts.create(
        db,
        outbox,
        context,
        email=body.email,
        full_name=body.full_name,
        phone=body.phone,
        password_hash=await auth.hashing.hash(body.password),
        self_service=True,
        now=now,
    )
    accounts.request_verification(
        db, outbox, accounts.acting(context, user), auth.tokens, user, now
    )
    await db.commit()
    return user


INVALID_LINK = {400: {"description": "The token is malformed, expired or used (`invalid_token`)"}}


@router.post(
    "/verify-email",
    summary="Verify an email address with the mailed token",
    responses=INVALID_LINK,
)
async def verify_email(body: TokenIn, db: SessionDep, auth: AuthDep) -> UserOut:
    now = utcnow()
    claims = await auth.tokens.redeem(db, body.token, purposes.VERIFY_EMAIL, now)
    user = await users.by_id(db, claims["sub"], for_update=True)
    if user is None or user.email != claims.get("email"):
        raise Problem("This link is not valid.", status=400, code="invalid_token")
    user.email_verified = True
    await db.commit()
    return user


@router.post("/verify-email/resend", status_code=202, summary="Mail a new verification link")
async def resend_verification(
    body: EmailIn, db: SessionDep, outbox: OutboxDep, context: EventContextDep, auth: AuthDep
) -> AcceptedOut:
    now = utcnow()
    user = await users.by_email(db, lookup_key(body.email))
    if user is not None and user.is_active and not user.email_verified:
        accounts.request_verification(
            db, outbox, accounts.acting(context, user), auth.tokens, user, now
        )
        await db.commit()
    return AcceptedOut(detail=RESEND_ANSWER)


@router.post("/password/forgot", status_code=202, summary="Mail a password-reset link")
async def forgot_password(
    body: EmailIn, db: SessionDep, outbox: OutboxDep, context: EventContextDep, auth: AuthDep
) -> AcceptedOut:
    """Always 202 with the same body. The same work is done whether or not the account
    exists (look-up, signing a link, a commit), so the timing does not tell either."""
    now = utcnow()
    user = await users.by_email(db, lookup_key(body.email))
    exists = user is not None and user.is_active
    url, issued = accounts.reset_link(
        auth.tokens,
        user.id if exists else uuid.uuid4(),
        user.password_version if exists else 0,
        now,
    )
    if exists:
        accounts.request_reset(
            db, outbox, accounts.acting(context, user), user, url, issued.expires_at
        )
    await db.commit()
    return AcceptedOut(detail=FORGOT_ANSWER)


@router.post(
    "/password/reset",
    status_code=204,
    summary="Set a new password with a reset token",
    responses=INVALID_LINK,
)
async def reset_password(
    body: ResetIn, db: SessionDep, outbox: OutboxDep, context: EventContextDep, auth: AuthDep
):
    """The token works once, for at most an hour, and not after any other password change.
    Ends every session of the account; two-factor authentication stays as it was."""
    now = utcnow()
    claims = await auth.tokens.redeem(db, body.token, purposes.PASSWORD_RESET, now)
    user = await users.by_id(db, claims["sub"], for_update=True)
    if user is None or not user.is_active or claims.get("pwv") != user.password_version:
        raise Problem("This link is not valid any more.", status=400, code="invalid_token")
    accounts.check_password(body.password, user.email)
    accounts.set_password(user, await auth.hashing.hash(body.password), now)
    user.email_verified = True  # the link reached the mailbox
    context = accounts.acting(context, user)
    await sessions.revoke_all(db, outbox, context, user.id, "password_reset", now)
    # Proof of the mailbox lifts the account-wide throttle (README: "Throttling").
    await throttle_store.forget(db, user.email)
    await db.commit()
    return Response(status_code=204)


@router.post(
    "/login",
    response_model=TokensOut | MfaRequiredOut,
    summary="Log in with email and password",
    responses={
        401: {"description": "`invalid_credentials`: wrong email or password (the same for both)"},
        403: {"description": "`email_not_verified` or `account_inactive`"},
        429: {"description": "`too_many_attempts`, with Retry-After"},
    },
)
async def login(body: LoginIn, request: Request, auth: AuthDep):
    """Tokens, or `{"mfa_required": true, "mfa_token": ...}` when two-factor
    authentication is on: then POST the token and a code to `/api/v1/auth/login/2fa`."""
    account = lookup_key(body.email)
    # A bounded number of logins run at once, each on one connection (Settings.login_slots):
    # one of the login pool's on PostgreSQL (store/fastpath.py), else a session's (SQLite).
    database = request.app.state.database
    async with auth.login_slots, fastpath.connection(auth.login_pool, database.sessions) as db:
        now = utcnow()
        attempt = await throttling.admit(
            db, auth.limits, account, client_ip(request), now, load_user=True
        )
        user = attempt.user
        # Unknown accounts are checked against a dummy hash: the same work, the same answer.
        if not await auth.hashing.verify(user.password_hash if user else None, body.password):
            await attempt.failed(db, now)
            raise Unauthorized("The email or password is wrong.", code="invalid_credentials")
        assert user is not None
        if not user.is_active:
            raise Forbidden("This account has been deactivated.", code="account_inactive")
        if not user.email_verified:
            raise Forbidden(
                "Verify your email address first: follow the mailed link.",
                code="email_not_verified",
            )
        if auth.hashing.needs_rehash(user.password_hash):
            await users.set_password_hash(db, user.id, await auth.hashing.hash(body.password))
        await attempt.succeeded(db)
        if user.totp_enabled:
            await fastpath.commit(db)
            return mfa_challenge(auth, user)
        pair = await sessions.open_session(
            db,
            auth.tokens,
            user,
            now,
            lifetime=auth.session_lifetime,
            ip=attempt.ip,
            user_agent=request.headers.get("user-agent"),
        )
        await fastpath.commit(db)
    return tokens_response(pair)


@router.post(
    "/login/2fa",
    response_model=TokensOut,
    summary="Second step of a login: a TOTP code or a backup code",
    responses={
        401: {"description": "`invalid_code` or `invalid_mfa_token`"},
        429: {"description": "`too_many_attempts`"},
    },
)
async def login_second_factor(body: MfaLoginIn, request: Request, db: SessionDep, auth: AuthDep):
    now = utcnow()
    claims = auth.tokens.check(
        body.mfa_token, purposes.MFA, now, status=401, code="invalid_mfa_token"
    )
    user = await users.by_id(db, claims["sub"], for_update=True)
    if user is None or not user.is_active or claims.get("pwv") != user.password_version:
        raise Unauthorized("Log in again.", code="invalid_mfa_token")
    attempt = await throttling.admit(db, auth.limits, user.email, client_ip(request), now)
    if not await twofactor.accept_code(db, user, body.code, now):
        await attempt.failed(db, now)
        raise Unauthorized("The code is wrong or was used already.", code="invalid_code")
    await auth.tokens.redeem(
        db, body.mfa_token, purposes.MFA, now, status=401, code="invalid_mfa_token"
    )
    await attempt.succeeded(db)
    pair = await sessions.open_session(
        db,
        auth.tokens,
        user,
        now,
        lifetime=auth.session_lifetime,
        ip=attempt.ip,
        user_agent=request.headers.get("user-agent"),
    )
    await db.commit()
    return tokens_response(pair)


@router.post(
    "/refresh",
    response_model=TokensOut,
    summary="Trade a refresh token for a new pair",
    responses={
        401: {
            "description": "`invalid_refresh_token`, `refresh_token_expired` or `refresh_token_reused` (the session is ended)"
        }
    },
)
async def refresh(
    body: RefreshIn, db: SessionDep, outbox: OutboxDep, context: EventContextDep, auth: AuthDep
):
    pair = await sessions.rotate(db, auth.tokens, outbox, context, body.refresh_token, utcnow())
    await db.commit()
    return tokens_response(pair)


@router.post("/logout", status_code=204, summary="End this session")
async def logout(caller: CallerDep, db: SessionDep, outbox: OutboxDep, context: EventContextDep):
    """Ends the session of the access token (its refresh token stops working) and emits
    `auth.session_revoked`, on which the gateway refuses the access token at once."""
    sessions.revoke(db, outbox, context, caller.session, "logout", utcnow())
    await db.commit()
    return Response(status_code=204)


@router.post("/logout-all", status_code=204, summary="End every session of this account")
async def logout_all(
    caller: CallerDep, db: SessionDep, outbox: OutboxDep, context: EventContextDep
):
    await sessions.revoke_all(db, outbox, context, caller.user.id, "logout_all", utcnow())
    await db.commit()
    return Response(status_code=204)
