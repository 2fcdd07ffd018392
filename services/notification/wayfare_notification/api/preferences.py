from fastapi import APIRouter, Request

from wayfare_common.api import SessionDep
from wayfare_common.problems import Problem
from wayfare_notification.api.owner import OwnerDep
from wayfare_notification.api.schemas import PreferencesIn, PreferencesOut
from wayfare_notification.domain.preferences import (
    CHANNELS,
    LOCKED,
    LockedPreference,
    Preferences,
    key_name,
)
from wayfare_notification.store import preferences
from wayfare_notification.store.models import Preference

router = APIRouter(prefix="/api/v1/notifications/preferences", tags=["preferences"])


def _out(request: Request, row: Preference | None) -> PreferencesOut:
    settings = request.app.state.settings
    table = preferences.choices(row).table()
    return PreferencesOut(
        **table,
        locked=sorted(map(key_name, LOCKED)),
        locale=(row.locale if row else None) or settings.default_locale,
        time_zone=(row.time_zone if row else None) or settings.default_time_zone,
    )


@router.get("", summary="Which messages you get, through which channel")
async def get_preferences(request: Request, owner: OwnerDep, session: SessionDep) -> PreferencesOut:
    return _out(request, await preferences.get(session, owner))


@router.put(
    "",
    summary="Change which messages you get",
    responses={422: {"description": "Invalid, or turns off an email that cannot be turned off."}},
)
async def put_preferences(
    body: PreferencesIn, request: Request, owner: OwnerDep, session: SessionDep
) -> PreferencesOut:
    updates = {
        (channel, category): enabled
        for channel in CHANNELS
        if (choices := getattr(body, channel)) is not None
        for category, enabled in choices.model_dump(exclude_none=True).items()
    }
    row = await preferences.for_update(session, owner)
    try:
        changed = Preferences.from_storage(row.choices).changed(updates)
    except LockedPreference as locked:
        raise Problem(
            "Security and transactional emails cannot be turned off: they carry your "
            "account's security notices, bookings, payments and refunds.",
            status=422,
            code="preference_locked",
            errors=[
                {
                    "field": f"body.{key_name(key)}",
                    "message": "cannot be turned off",
                    "type": "preference_locked",
                }
                for key in locked.keys
            ],
        ) from None
    row.choices = changed.to_storage()
    if body.locale is not None:
        row.locale = body.locale
    if body.time_zone is not None:
        row.time_zone = body.time_zone
    await session.commit()
    return _out(request, row)
