"""Google sign-in: /start redirects to Google, Google redirects back to /callback."""

import hashlib
import secrets
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from wayfare_auth import accounts, sessions
from wayfare_auth.api.deps import AuthDep, client_ip
from wayfare_auth.api.responses import mfa_challenge, tokens_response
from wayfare_auth.api.schemas import MfaRequiredOut, TokensOut
from wayfare_auth.domain.accounts import lookup_key
from wayfare_auth.google import CALLBACK_PATH, GoogleSignIn, ProviderUnavailable, SignInRefused
from wayfare_auth.runtime import Auth
from wayfare_auth.store import oauth, users
from wayfare_auth.store.models import Identity, OAuthState, User, utcnow
from wayfare_common.api import EventContextDep, OutboxDep, SessionDep
from wayfare_common.events.envelope import EventContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_common.problems import Forbidden, NotFound, Problem

router = APIRouter(prefix="/api/v1/auth/oauth/google", tags=["google sign-in"])
PROVIDER = "google"
STATE_TTL = timedelta(minutes=10)
# Binds the authorization request to the browser that started it (login CSRF).
COOKIE = "wayfare_oauth"


def _google(auth: Auth) -> GoogleSignIn:
    if auth.google is None:
        raise NotFound("Google sign-in is not configured here.", code="google_sign_in_disabled")
    return auth.google


def _unavailable() -> Problem:
    return Problem(
        "Google cannot be reached right now; try again shortly.",
        status=503,
        code="provider_unavailable",
    )


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


GOOGLE_PROBLEMS = {
    404: {"description": "Google sign-in is not configured (`google_sign_in_disabled`)"},
    503: {"description": "Google cannot be reached (`provider_unavailable`)"},
}


@router.get(
    "/start",
    status_code=302,
    summary="Sign in with Google: redirects to Google",
    responses=GOOGLE_PROBLEMS,
)
async def start(db: SessionDep, auth: AuthDep):
    google = _google(auth)
    state, browser = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    code_verifier, nonce = secrets.token_urlsafe(64), secrets.token_urlsafe(32)
    try:
        url = await google.authorization_url(state, code_verifier, nonce)
    except ProviderUnavailable:
        raise _unavailable() from None
    db.add(
        OAuthState(
            state=state,
            code_verifier=code_verifier,
            nonce=nonce,
            browser_hash=_hash(browser),
            expires_at=utcnow() + STATE_TTL,
        )
    )
    await db.commit()
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        COOKIE,
        browser,
        max_age=int(STATE_TTL.total_seconds()),
        path=CALLBACK_PATH,
        httponly=True,
        samesite="lax",
        secure=auth.settings.public_url.startswith("https://"),
    )
    return response


@router.get(
    "/callback",
    response_model=TokensOut | MfaRequiredOut,
    summary="Where Google sends the browser back; answers with tokens",
    responses={
        400: {"description": "`oauth_denied`, `invalid_oauth_state` or `google_sign_in_failed`"},
        403: {"description": "`google_email_not_verified` or `account_inactive`"},
        **GOOGLE_PROBLEMS,
    },
)
async def callback(
    request: Request,
    db: SessionDep,
    outbox: OutboxDep,
    context: EventContextDep,
    auth: AuthDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
):
    """Links to the account with the same (verified) email, or creates a verified one.
    With two-factor authentication on, answers `mfa_required` like a password login."""
    google, now = _google(auth), utcnow()
    if error is not None:
        raise Problem(
            "Google sign-in was cancelled or refused.", code="oauth_denied", reason=error[:100]
        )
    pending = await oauth.take_state(db, state, now) if state else None
    await db.commit()  # the state is used up, whatever happens next
    browser = request.cookies.get(COOKIE)
    if (
        pending is None
        or browser is None
        or not secrets.compare_digest(pending.browser_hash, _hash(browser))
    ):
        raise Problem(
            "This sign-in was not started here, or took too long; start again.",
            code="invalid_oauth_state",
        )
    if not code:
        raise Problem("Google sent no authorization code.", code="oauth_denied")
    try:
        claims = await google.sign_in(code, pending.code_verifier, pending.nonce)
    except ProviderUnavailable:
        raise _unavailable() from None
    except SignInRefused as err:
        raise Problem(
            "Google sign-in failed; start again.", code="google_sign_in_failed", reason=err.reason
        ) from None
    if claims.get("email_verified") is not True or not isinstance(claims.get("email"), str):
        raise Forbidden(
            "Google has not verified this email address.", code="google_email_not_verified"
        )

    user = await _link_or_create(db, outbox, context, claims, now)
    if not user.is_active:
        raise Forbidden("This account has been deactivated.", code="account_inactive")
    if user.totp_enabled:
        await db.commit()
        response = mfa_challenge(auth, user)
    else:
        pair = await sessions.open_session(
            db,
            auth.tokens,
            user,
            now,
            lifetime=auth.session_lifetime,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
        )
        await db.commit()
        response = tokens_response(pair)
    response.delete_cookie(COOKIE, path=CALLBACK_PATH)
    return response


async def _link_or_create(db, outbox: Outbox, context: EventContext, claims: dict, now) -> User:
    subject, email = str(claims["sub"]), lookup_key(claims["email"])
    linked = await oauth.identity(db, PROVIDER, subject)
    if linked is not None:
        user = await users.by_id(db, linked.user_id)
        assert user is not None
        return user
    user = await users.by_email(db, email)
    if user is None:
        name = claims.get("name") if isinstance(claims.get("name"), str) else email.split("@")[0]
        user = await accounts.create(
            db,
            outbox,
            context,
            email=email,
            full_name=name[:200] or email,
            email_verified=True,
            self_service=True,
            now=now,
        )
    elif not user.email_verified:
        # Whoever registered this address never proved the mailbox; Google has. Their
        # password goes, so a squatter cannot keep a way into the owner's account.
        user.password_hash, user.email_verified = None, True
        user.password_version += 1
        user.updated_at = now
    db.add(
        Identity(provider=PROVIDER, subject=subject, user_id=user.id, email=email, created_at=now)
    )
    return user
