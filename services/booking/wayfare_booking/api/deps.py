"""What the routes share: the caller as a customer id, the caller's credentials to
forward to the flight service, and the app's parts."""

import uuid
from typing import Annotated

from asgi_correlation_id import correlation_id
from fastapi import Depends, Request

from wayfare_booking.clients.flight import Caller
from wayfare_booking.usecases.create import Services
from wayfare_common.problems import Forbidden, NotFound
from wayfare_common.security import Principal

STAFF_ROLES = ("admin",)


def is_staff(principal: Principal) -> bool:
    return principal.role in STAFF_ROLES


def user_uuid(principal: Principal) -> uuid.UUID:
    try:
        return uuid.UUID(principal.user_id)
    except ValueError:
        raise Forbidden("This account cannot hold bookings.", code="invalid_subject") from None


async def caller(request: Request) -> Caller:
    """The customer's own token goes to flight (DESIGN §6); it was verified already.
    (async, as every dependency here: FastAPI runs a plain `def` one in a worker thread.)"""
    return Caller(request.headers.get("Authorization", ""), correlation_id.get())


async def services(request: Request) -> Services:
    return request.app.state.services


def not_found() -> NotFound:
    return NotFound("There is no such booking.", code="booking_not_found")


def visible(booking, principal: Principal):
    """Owners and staff see a booking; to anyone else it does not exist (404, not 403,
    so that booking ids cannot be probed)."""
    if booking is None or not (is_staff(principal) or str(booking.user_id) == principal.user_id):
        raise not_found()
    return booking


CallerDep = Annotated[Caller, Depends(caller)]
ServicesDep = Annotated[Services, Depends(services)]
