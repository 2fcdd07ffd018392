"""Bookings: quote, create (idempotent), read, list, correct names, cancel."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from wayfare_booking.api.deps import (
    CallerDep,
    ServicesDep,
    is_staff,
    user_uuid,
    visible,
)
from wayfare_booking.api.schemas import (
    BookingIn,
    BookingOut,
    BookingPage,
    CancelIn,
    CancellationQuoteOut,
    PassengerChange,
    QuoteIn,
    QuoteOut,
)
from wayfare_booking.api.views import booking_json, cancellation_json
from wayfare_booking.domain import states
from wayfare_booking.domain.states import Status
from wayfare_booking.store import bookings as store
from wayfare_booking.usecases import create as creating
from wayfare_booking.usecases import lifecycle
from wayfare_common.api import EventContextDep, SessionDep
from wayfare_common.pagination import PageParamsDep
from wayfare_common.problems import Conflict, Forbidden, NotFound, Problem
from wayfare_common.security import PrincipalDep

router = APIRouter(prefix="/api/v1/bookings", tags=["bookings"])

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Required: a unique value per booking attempt (a UUID is fine); "
        "sending the same request again with it returns the first answer",
    ),
]


BOOKING_NOT_FOUND = {404: {"description": "No such booking, or not yours (`booking_not_found`)"}}
FLIGHT_UNAVAILABLE = {
    503: {"description": "The flight service cannot be reached (`flight_unavailable`)"}
}
WAIVER_FOR_STAFF = {403: {"description": "Only staff may waive the refund policy (`forbidden`)"}}


@router.post(
    "/quote",
    response_model=QuoteOut,
    summary="Price items for a party (holds nothing)",
    responses={
        409: {"description": "The flight service refused an item (e.g. `seats_unavailable`)"},
        **FLIGHT_UNAVAILABLE,
    },
)
async def quote(
    body: QuoteIn, principal: PrincipalDep, caller: CallerDep, services: ServicesDep
) -> dict:
    return await creating.quote(services, body, user_uuid(principal), caller)


@router.post(
    "",
    status_code=201,
    response_model=BookingOut,
    summary="Book: price, hold the seats, store as pending_payment (idempotent)",
    responses={
        400: {"description": "idempotency_key_missing"},
        409: {"description": "seats_unavailable, hold_limit_reached, request_in_progress, ..."},
        422: {
            "description": "validation_error, idempotency_key_reused, coupon_not_applicable, ..."
        },
        **FLIGHT_UNAVAILABLE,
    },
)
async def create_booking(
    body: BookingIn,
    principal: PrincipalDep,  # before the event context: it names the actor
    caller: CallerDep,
    services: ServicesDep,
    context: EventContextDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    key = (idempotency_key or "").strip()
    if not key or len(key) > 255:
        raise Problem(
            "Send an Idempotency-Key header (1 to 255 characters, e.g. a UUID) with each "
            "new booking, and the same one when retrying it.",
            status=400,
            code="idempotency_key_missing",
        )
    status, answer, replayed = await creating.create(
        services,
        body,
        user_id=user_uuid(principal),
        key=key,
        caller=caller,
        context=context,
        render=booking_json,
    )
    headers = {"Location": f"/api/v1/bookings/{answer['id']}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(answer, status_code=status, headers=headers)


@router.get("", response_model=BookingPage, summary="The caller's bookings, newest first")
async def list_bookings(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageParamsDep,
    status: Annotated[Status | None, Query(description="Only bookings in this status")] = None,
) -> JSONResponse:
    found = await store.page_of(session, user_uuid(principal), status, page)
    return JSONResponse(
        {"data": [booking_json(b) for b in found.data], "next_cursor": found.next_cursor}
    )


@router.get(
    "/{booking_id}",
    response_model=BookingOut,
    summary="A booking (owner or staff)",
    responses=BOOKING_NOT_FOUND,
)
async def get_booking(
    booking_id: uuid.UUID, principal: PrincipalDep, session: SessionDep
) -> JSONResponse:
    booking = visible(await store.get(session, booking_id), principal)
    return JSONResponse(booking_json(booking))


@router.patch(
    "/{booking_id}/passengers/{passenger_id}",
    response_model=BookingOut,
    summary="Correct a passenger's name while the booking awaits payment",
    responses={
        404: {"description": "`booking_not_found`, or `passenger_not_found`"},
        409: {"description": "The booking is paid or closed (`booking_not_editable`)"},
    },
)
async def correct_passenger(
    booking_id: uuid.UUID,
    passenger_id: uuid.UUID,
    body: PassengerChange,
    principal: PrincipalDep,
    session: SessionDep,
) -> JSONResponse:
    async with session.begin():
        booking = visible(await store.get(session, booking_id, lock=True), principal)
        if booking.status != Status.PENDING_PAYMENT:
            raise Conflict(
                f"Names can be corrected only before payment; this booking is {booking.status}.",
                code="booking_not_editable",
            )
        passenger = next((p for p in booking.passengers if p.id == passenger_id), None)
        if passenger is None:
            raise NotFound("This booking has no such passenger.", code="passenger_not_found")
        now = datetime.now(UTC)
        for name, value in body.model_dump(exclude_none=True).items():
            setattr(passenger, name, value)
        passenger.updated_at = booking.updated_at = now
        answer = booking_json(booking)
    return JSONResponse(answer)


@router.get(
    "/{booking_id}/cancellation",
    response_model=CancellationQuoteOut,
    summary="What cancelling now would refund (nothing changes)",
    responses={**BOOKING_NOT_FOUND, **WAIVER_FOR_STAFF},
)
async def cancellation_quote(
    booking_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    services: ServicesDep,
    waive_policy: Annotated[bool, Query(description="Staff only: the refund if waived")] = False,
) -> JSONResponse:
    booking = visible(await store.get(session, booking_id), principal)
    if waive_policy and not is_staff(principal):
        raise Forbidden("Only staff may waive the refund policy.")
    now = datetime.now(UTC)
    quoted = lifecycle.cancellation_quote(
        booking, services.settings.refund_policy.policy(), now, waive=waive_policy
    )
    cancellable = states.can(booking.status, Status.CANCELLED) and (
        is_staff(principal) or now < booking.travel_starts_at
    )
    return JSONResponse(cancellation_json(booking, quoted, cancellable))


@router.post(
    "/{booking_id}/cancel",
    response_model=BookingOut,
    summary="Cancel, refunding by policy (emits booking.cancelled)",
    responses={
        **BOOKING_NOT_FOUND,
        **WAIVER_FOR_STAFF,
        409: {"description": "invalid_transition, travel_started, refund_changed"},
    },
)
async def cancel_booking(
    booking_id: uuid.UUID,
    principal: PrincipalDep,  # before the event context: it names the actor
    session: SessionDep,
    services: ServicesDep,
    context: EventContextDep,
    body: CancelIn | None = None,
) -> JSONResponse:
    body = body or CancelIn()
    staff = is_staff(principal)
    if body.waive_policy and not staff:
        raise Forbidden("Only staff may waive the refund policy.")
    async with session.begin():
        booking = visible(await store.get(session, booking_id, lock=True), principal)
        if staff and str(booking.user_id) != principal.user_id and not body.reason:
            raise Problem(
                "Staff cancelling a customer's booking must give a reason.",
                status=422,
                code="validation_error",
                errors=[{"field": "body.reason", "message": "required", "type": "missing"}],
            )
        await lifecycle.cancel(
            session,
            booking,
            actor=context.actor,
            reason=body.reason,
            waive=body.waive_policy,
            expected_refund=body.expected_refund,
            policy=services.settings.refund_policy.policy(),
            emit=lambda event: services.outbox.record(session, event, context),
        )
        answer = booking_json(booking)
    return JSONResponse(answer)
