"""Staff actions on a payment (admin only): refund, and record a bank transfer as payment.
The acting admin is the envelope's actor of the events they cause (and `refunded_by`)."""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from wayfare_common.api import EventContextDep, OutboxDep
from wayfare_common.events.envelope import Actor
from wayfare_common.security import AdminDep
from wayfare_payment.api import idempotency
from wayfare_payment.api.deps import DatabaseDep, ProvidersDep
from wayfare_payment.api.schemas import MarkPaidIn, PaymentOut, RefundIn, RefundOut
from wayfare_payment.store import idempotency as keys
from wayfare_payment.usecases import staff
from wayfare_payment.usecases.settlement import derived_id

router = APIRouter(prefix="/api/v1/payments", tags=["staff"])


@router.post(
    "/{payment_id}/refund",
    status_code=201,
    response_model=RefundOut,
    summary="Refund a payment, in full or in part (staff)",
    description="Requires `Idempotency-Key`. Without `amount`, refunds all that is left. "
    "More than what is left is refused (`refund_exceeds_captured`), never capped.",
    responses={
        400: {"description": "No Idempotency-Key (`idempotency_key_required`)"},
        404: {"description": "`not_found`"},
        409: {
            "description": "`not_refundable`: nothing captured or nothing left; "
            "`idempotency_key_in_use`"
        },
        422: {"description": "`refund_exceeds_captured`, `idempotency_key_reused`"},
    },
)
async def refund(
    payment_id: uuid.UUID,
    body: RefundIn,
    request: Request,
    admin: AdminDep,
    database: DatabaseDep,
    providers: ProvidersDep,
    outbox: OutboxDep,
    context: EventContextDep,
    key: idempotency.KeyHeader = None,
):
    claim = await idempotency.claim(request, admin.user_id, key, body)
    if claim.response is not None:
        return idempotency.replay(claim)
    try:
        async with database.sessions() as session, session.begin():
            payment, row = await staff.staff_refund(
                session,
                providers,
                payment_id=payment_id,
                amount=body.amount,
                reason=body.reason,
                admin=Actor(user_id=admin.user_id, role=admin.role),
                # From the key, not the claim: a retry after a forgotten claim derives the
                # same id, which the provider deduplicates.
                refund_id=derived_id(admin.user_id, key, "staff-refund"),
                emit=lambda event: outbox.record(session, event, context),
            )
    except BaseException:
        await keys.release(database, claim.id, forget=True)
        raise
    answer = RefundOut.of(row, payment).model_dump(mode="json")
    await keys.complete(database, claim.id, 201, answer)
    return JSONResponse(answer, status_code=201)


@router.post(
    "/{payment_id}/mark-paid",
    response_model=PaymentOut,
    summary="Record a payment made by bank transfer (staff)",
    responses={
        404: {"description": "`not_found`"},
        409: {"description": "`already_paid`, `booking_closed`, `payment_in_progress`"},
    },
)
async def mark_paid(
    payment_id: uuid.UUID,
    body: MarkPaidIn,
    admin: AdminDep,
    database: DatabaseDep,
    outbox: OutboxDep,
    context: EventContextDep,
):
    async with database.sessions() as session, session.begin():
        payment = await staff.mark_paid(
            session,
            payment_id=payment_id,
            reason=body.reason,
            reference=body.reference,
            admin=Actor(user_id=admin.user_id, role=admin.role),
            emit=lambda event: outbox.record(session, event, context),
        )
    return PaymentOut.of(payment)
