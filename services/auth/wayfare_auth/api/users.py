"""The user's own profile, and the staff's view of every account."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from wayfare_auth import accounts, sessions, throttling
from wayfare_auth.api.deps import AdminCallerDep, AuthDep, CallerDep, client_ip
from wayfare_auth.api.schemas import ChangePasswordIn, ProfilePatch, RoleIn, UserOut
from wayfare_auth.store import users
from wayfare_auth.store.models import User, utcnow
from wayfare_common.api import EventContextDep, OutboxDep, SessionDep
from wayfare_common.pagination import Page, PageParamsDep, paginate
from wayfare_common.problems import Conflict, Forbidden, NotFound, Problem
from wayfare_common.security import require_role

me = APIRouter(prefix="/api/v1/users/me", tags=["profile"])
staff = APIRouter(
    prefix="/api/v1/users", tags=["staff"], dependencies=[Depends(require_role("admin"))]
)


@me.get("", summary="My profile")
async def get_me(caller: CallerDep) -> UserOut:
    return UserOut.model_validate(caller.user)


@me.patch("", summary="Change my name or phone")
async def patch_me(
    body: ProfilePatch,
    caller: CallerDep,
    db: SessionDep,
    outbox: OutboxDep,
    context: EventContextDep,
) -> UserOut:
    """Only `full_name` and `phone` (null removes it). Any other field, such as `role`,
    `is_active` or `email_verified`, is refused with 422 `field_not_editable`."""
    if body.model_extra:
        raise Problem(
            "Only full_name and phone can be changed here.",
            status=422,
            code="field_not_editable",
            errors=[
                {
                    "field": f"body.{name}",
                    "message": "This field cannot be changed here.",
                    "type": "not_editable",
                }
                for name in sorted(body.model_extra)
            ],
        )
    user = caller.user
    changes = body.model_dump(include=body.model_fields_set)
    changed = False
    for name, value in changes.items():
        if getattr(user, name) != value:
            setattr(user, name, value)
            changed = True
    if changed:
        user.updated_at = utcnow()
        outbox.record(db, accounts.user_updated(user), context)
        await db.commit()
    return UserOut.model_validate(user)


@me.delete("", status_code=204, summary="Delete my account (soft delete)")
async def delete_me(caller: CallerDep, db: SessionDep, outbox: OutboxDep, context: EventContextDep):
    """The account is deactivated (kept for bookings and the audit trail), every session
    ends, and `auth.user_updated` says `is_active: false`."""
    user, now = caller.user, utcnow()
    user.is_active, user.deleted_at, user.updated_at = False, now, now
    await sessions.revoke_all(db, outbox, context, user.id, "account_deleted", now)
    outbox.record(db, accounts.user_updated(user), context)
    await db.commit()
    return Response(status_code=204)


@me.post(
    "/password",
    status_code=204,
    summary="Change my password",
    responses={
        403: {"description": "The current password is wrong (`invalid_credentials`)"},
        429: {"description": "`too_many_attempts`, with Retry-After"},
    },
)
async def change_password(
    body: ChangePasswordIn,
    request: Request,
    caller: CallerDep,
    db: SessionDep,
    outbox: OutboxDep,
    context: EventContextDep,
    auth: AuthDep,
):
    """Needs the current password. Every other session ends, and reset links sent
    before stop working."""
    user, now = caller.user, utcnow()
    attempt = await throttling.admit(db, auth.limits, user.email, client_ip(request), now)
    if not await auth.hashing.verify(user.password_hash, body.current_password):
        await attempt.failed(db, now)
        raise Forbidden("The current password is wrong.", code="invalid_credentials")
    accounts.check_password(body.new_password, user.email, field="body.new_password")
    accounts.set_password(user, await auth.hashing.hash(body.new_password), now)
    await sessions.revoke_all(
        db, outbox, context, user.id, "password_changed", now, keep=caller.session.id
    )
    await db.commit()
    return Response(status_code=204)


@staff.get("", summary="List accounts (staff)")
async def list_users(
    page: PageParamsDep,
    _admin: AdminCallerDep,
    db: SessionDep,
    include_inactive: Annotated[
        bool, Query(description="Also deactivated and deleted accounts.")
    ] = False,
) -> Page[UserOut]:
    found = await paginate(db, users.listing(include_inactive), [User.created_at, User.id], page)
    return found.map(UserOut.model_validate)


async def _target(db, user_id: uuid.UUID, admin: User) -> User:
    user = await users.by_id(db, user_id, for_update=True)
    if user is None:
        raise NotFound("There is no such account.", code="user_not_found")
    if user.id == admin.id:
        # So that the last admin cannot lock everyone out of the staff routes.
        raise Conflict(
            "Staff cannot deactivate or change the role of their own account.", code="own_account"
        )
    return user


TARGET_PROBLEMS = {
    404: {"description": "No such account (`user_not_found`)"},
    409: {"description": "The caller's own account (`own_account`)"},
}


@staff.post(
    "/{user_id}/deactivate", summary="Deactivate an account (staff)", responses=TARGET_PROBLEMS
)
async def deactivate(
    user_id: uuid.UUID,
    admin: AdminCallerDep,
    db: SessionDep,
    outbox: OutboxDep,
    context: EventContextDep,
) -> UserOut:
    user, now = await _target(db, user_id, admin.user), utcnow()
    if user.is_active:
        user.is_active, user.updated_at = False, now
        await sessions.revoke_all(db, outbox, context, user.id, "deactivated", now)
        outbox.record(db, accounts.user_updated(user), context)
        await db.commit()
    return UserOut.model_validate(user)


@staff.post(
    "/{user_id}/reactivate", summary="Reactivate an account (staff)", responses=TARGET_PROBLEMS
)
async def reactivate(
    user_id: uuid.UUID,
    admin: AdminCallerDep,
    db: SessionDep,
    outbox: OutboxDep,
    context: EventContextDep,
) -> UserOut:
    user, now = await _target(db, user_id, admin.user), utcnow()
    if not user.is_active:
        user.is_active, user.deleted_at, user.updated_at = True, None, now
        outbox.record(db, accounts.user_updated(user), context)
        await db.commit()
    return UserOut.model_validate(user)


@staff.put("/{user_id}/role", summary="Change an account's role (staff)", responses=TARGET_PROBLEMS)
async def change_role(
    user_id: uuid.UUID,
    body: RoleIn,
    admin: AdminCallerDep,
    db: SessionDep,
    outbox: OutboxDep,
    context: EventContextDep,
) -> UserOut:
    """The account's sessions end, so that no access token keeps the old role."""
    user, now = await _target(db, user_id, admin.user), utcnow()
    if user.role != body.role:
        user.role, user.updated_at = body.role, now
        await sessions.revoke_all(db, outbox, context, user.id, "role_changed", now)
        outbox.record(db, accounts.user_updated(user), context)
        await db.commit()
    return UserOut.model_validate(user)
