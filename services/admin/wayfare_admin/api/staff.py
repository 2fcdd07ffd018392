"""Staff actions, forwarded to the owning service with the admin's own token. The
owner's answer comes back as it is (its status and JSON body, problems included); the
`X-Audit-Seq` header names the audit row that records the attempt."""

import uuid
from typing import Annotated

from asgi_correlation_id import correlation_id
from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from wayfare_admin import staff
from wayfare_admin.api.deps import ADMIN_ONLY, PREFIX, AdminDep, DatabaseDep, OwnersDep
from wayfare_admin.api.schemas import (
    AccountActionIn,
    CancelIn,
    MarkPaidIn,
    RefundIn,
    RoleIn,
)
from wayfare_admin.clients.owners import Caller
from wayfare_common.problems import Problem, problem_response

router = APIRouter(prefix=PREFIX, tags=["admin: staff actions"], dependencies=ADMIN_ONLY)

PASSED_ON = "The owning service's refusal, passed on as it is"
OWNER_RESPONSES = {
    400: {"description": PASSED_ON},
    404: {"description": PASSED_ON + " (e.g. `not_found`)"},
    409: {"description": PASSED_ON + " (e.g. `invalid_transition`, `already_paid`)"},
    422: {"description": PASSED_ON + ", or the request is not valid"},
    502: {"description": "`owner_error`: the owning service failed"},
    503: {"description": "`owner_unreachable`: the owning service cannot be reached"},
    504: {"description": "`owner_no_answer`: no answer in time; the action may have happened"},
}
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Forwarded to the owner. Required for refunds: a retry with the same "
        "key refunds once.",
    ),
]


def _caller(request: Request, idempotency_key: str | None = None) -> Caller:
    return Caller(
        authorization=request.headers["Authorization"],
        request_id=correlation_id.get(),
        idempotency_key=idempotency_key,
    )


def _respond(outcome: staff.Outcome) -> Response:
    headers = {"X-Audit-Seq": str(outcome.entry.seq)}
    if outcome.failure is not None:
        service = outcome.failure.service
        if outcome.failure.reason == "no_answer":
            return problem_response(
                504,
                "owner_no_answer",
                detail=f"The {service} service did not answer in time. The action may or "
                "may not have been applied: check before trying again.",
                headers=headers,
            )
        return problem_response(
            503,
            "owner_unreachable",
            detail=f"The {service} service cannot be reached; nothing was changed.",
            headers={**headers, "Retry-After": "5"},
        )
    answer = outcome.answer
    if answer.status >= 500 or not answer.is_json:
        # Passed on as our own problem: an upstream error page is not for clients.
        return problem_response(
            502,
            "owner_error",
            detail=f"The {answer.service} service failed (status {answer.status}).",
            headers=headers,
        )
    return Response(
        answer.body, status_code=answer.status, media_type=answer.content_type, headers=headers
    )


async def _do(database, admin, action: staff.StaffAction, call) -> Response:
    outcome = await staff.perform(database, admin, correlation_id.get(), action, call)
    return _respond(outcome)


@router.post(
    "/users/{user_id}/deactivate", summary="Deactivate an account", responses=OWNER_RESPONSES
)
async def deactivate_user(
    user_id: uuid.UUID,
    request: Request,
    admin: AdminDep,
    database: DatabaseDep,
    owners: OwnersDep,
    body: AccountActionIn | None = None,
):
    reason = body.reason if body else None
    action = staff.StaffAction("user.deactivate", "user", str(user_id), reason, {})
    caller = _caller(request)
    return await _do(database, admin, action, lambda: owners.deactivate_user(caller, user_id))


@router.post(
    "/users/{user_id}/reactivate", summary="Reactivate an account", responses=OWNER_RESPONSES
)
async def reactivate_user(
    user_id: uuid.UUID,
    request: Request,
    admin: AdminDep,
    database: DatabaseDep,
    owners: OwnersDep,
    body: AccountActionIn | None = None,
):
    reason = body.reason if body else None
    action = staff.StaffAction("user.reactivate", "user", str(user_id), reason, {})
    caller = _caller(request)
    return await _do(database, admin, action, lambda: owners.reactivate_user(caller, user_id))


@router.put("/users/{user_id}/role", summary="Change an account's role", responses=OWNER_RESPONSES)
async def change_role(
    user_id: uuid.UUID,
    body: RoleIn,
    request: Request,
    admin: AdminDep,
    database: DatabaseDep,
    owners: OwnersDep,
):
    action = staff.StaffAction(
        "user.change_role", "user", str(user_id), body.reason, {"role": body.role}
    )
    caller = _caller(request)
    return await _do(
        database, admin, action, lambda: owners.change_role(caller, user_id, body.role)
    )


@router.post("/bookings/{booking_id}/cancel", summary="Cancel a booking", responses=OWNER_RESPONSES)
async def cancel_booking(
    booking_id: uuid.UUID,
    body: CancelIn,
    request: Request,
    admin: AdminDep,
    database: DatabaseDep,
    owners: OwnersDep,
    idempotency_key: IdempotencyKey = None,
):
    action = staff.StaffAction("booking.cancel", "booking", str(booking_id), body.reason, {})
    caller = _caller(request, idempotency_key)
    return await _do(
        database,
        admin,
        action,
        lambda: owners.cancel_booking(caller, booking_id, body.reason),
    )


@router.post(
    "/payments/{payment_id}/refund",
    status_code=201,  # payment's answer, passed on
    summary="Refund a payment, in full or in part",
    description="Requires `Idempotency-Key` (forwarded). Without `amount`, refunds all "
    "that is left.",
    responses={
        **OWNER_RESPONSES,
        400: {"description": "`idempotency_key_required`, or the owner's refusal passed on"},
    },
)
async def refund_payment(
    payment_id: uuid.UUID,
    body: RefundIn,
    request: Request,
    admin: AdminDep,
    database: DatabaseDep,
    owners: OwnersDep,
    idempotency_key: IdempotencyKey = None,
):
    if not idempotency_key:
        raise Problem(
            "Send an Idempotency-Key header (a unique value per refund, e.g. a UUID).",
            status=400,
            code="idempotency_key_required",
        )
    asked = {
        "amount": body.amount.to_json() if body.amount else None,
        "idempotency_key": idempotency_key,
    }
    action = staff.StaffAction("payment.refund", "payment", str(payment_id), body.reason, asked)
    caller = _caller(request, idempotency_key)
    return await _do(
        database,
        admin,
        action,
        lambda: owners.refund_payment(caller, payment_id, body.amount, body.reason),
    )


@router.post(
    "/payments/{payment_id}/mark-paid",
    summary="Record a payment made outside the platform (a bank transfer)",
    responses=OWNER_RESPONSES,
)
async def mark_paid(
    payment_id: uuid.UUID,
    body: MarkPaidIn,
    request: Request,
    admin: AdminDep,
    database: DatabaseDep,
    owners: OwnersDep,
    idempotency_key: IdempotencyKey = None,
):
    action = staff.StaffAction(
        "payment.mark_paid", "payment", str(payment_id), body.reason, {"reference": body.reference}
    )
    caller = _caller(request, idempotency_key)
    return await _do(
        database,
        admin,
        action,
        lambda: owners.mark_paid(caller, payment_id, body.reason, body.reference),
    )
