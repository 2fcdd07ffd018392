"""Dependencies of the auth service's routes."""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from wayfare_auth import sessions
from wayfare_auth.runtime import Auth
from wayfare_auth.store.models import Session, User, utcnow
from wayfare_common.api import SessionDep
from wayfare_common.problems import Forbidden, Unauthorized
from wayfare_common.security import Principal, PrincipalDep


async def get_auth(request: Request) -> Auth:
    # async: FastAPI runs plain `def` dependencies in a thread pool, a hand-off per request.
    return request.app.state.auth


AuthDep = Annotated[Auth, Depends(get_auth)]


def client_ip(request: Request) -> str:
    """The caller's address. Behind the gateway it comes from X-Forwarded-For, which
    uvicorn honours only from FORWARDED_ALLOW_IPS (default 127.0.0.1)."""
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class Caller:
    user: User
    session: Session
    principal: Principal


async def current_caller(principal: PrincipalDep, db: SessionDep) -> Caller:
    """The signed-in user, re-checked against the database: auth's own routes refuse a
    token whose session was ended (logout, reuse, deactivation) even before it expires."""
    try:
        user_id = uuid.UUID(principal.user_id)
        session_id = uuid.UUID(str(principal.claims.get("sid")))
    except ValueError:
        raise Unauthorized("The access token names no session.", code="invalid_token") from None
    found = await sessions.live_user(db, user_id, session_id, utcnow())
    if found is None or not found[0].is_active:
        raise Unauthorized("This session has ended; please log in again.", code="session_ended")
    return Caller(found[0], found[1], principal)


CallerDep = Annotated[Caller, Depends(current_caller)]


async def current_admin(caller: CallerDep) -> Caller:
    # The role in the database, not only the token's: a demoted admin stops at once.
    if caller.user.role != "admin":
        raise Forbidden("Your account is not allowed to do this.")
    return caller


AdminCallerDep = Annotated[Caller, Depends(current_admin)]
