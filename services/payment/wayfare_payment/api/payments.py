"""The customer's side: pay a booking, finish a 3-D Secure challenge, see payments and
invoices. Owners and staff see a payment; anyone else gets 404."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from wayfare_common.api import EventContextDep, OutboxDep, SessionDep
from wayfare_common.pagination import Page, PageParamsDep, paginate
from wayfare_common.security import PrincipalDep
from wayfare_payment.api import idempotency
from wayfare_payment.api.deps import DatabaseDep, ProvidersDep, can_see
from wayfare_payment.api.schemas import ConfirmIn, PayIn, PaymentOut
from wayfare_payment.domain.errors import PaymentNotFound
from wayfare_payment.store import idempotency as keys
from wayfare_payment.store import payments as store
from wayfare_payment.store.models import IdempotencyKey, Payment
from wayfare_payment.usecases import charges
from wayfare_payment.usecases.invoices import invoice_filename, invoice_pdf_of

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])

PROBLEMS = {
    400: {"description": "No Idempotency-Key (`idempotency_key_required`)"},
    404: {"description": "Not your booking or payment (`not_found`)"},
    409: {
        "description": "`booking_not_known` (retry after Retry-After), `already_paid`, "
        "`payment_in_progress`, `booking_closed`, `payment_window_closed`, "
        "`idempotency_key_in_use`"
    },
    422: {"description": "`invalid_payment_method`, `idempotency_key_reused`"},
    503: {"description": "`provider_unavailable`: retry with the same Idempotency-Key"},
}


@router.post(
    "",
    response_model=PaymentOut,
    summary="Pay a booking",
    description="Charges the booking's payment through the configured provider and answers "
    "with its status: `succeeded`, `failed` (with `failure_reason`) or `requires_action` "
    "(with `next_action`). Requires `Idempotency-Key`; a retry with the same key and body "
    "replays the first answer and never charges twice.",
    responses=PROBLEMS,
)
async def pay(
    body: PayIn,
    request: Request,
    principal: PrincipalDep,
    database: DatabaseDep,
    providers: ProvidersDep,
    outbox: OutboxDep,
    context: EventContextDep,
    key: idempotency.KeyHeader = None,
):
    claim = await idempotency.claim(request, principal.user_id, key, body)
    if claim.response is not None:
        return idempotency.replay(claim)
    attempt_id = claim.attempt_id
    try:
        if attempt_id is None:
            async with database.sessions() as session, session.begin():
                row = await session.get(IdempotencyKey, claim.id)
                attempt = await charges.open_attempt(
                    session,
                    providers.default,
                    booking_id=body.booking_id,
                    user_id=idempotency.user_key(principal.user_id),
                    payment_method=body.payment_method,
                    key=row,
                )
            attempt_id = attempt.id
        payment = await charges.drive(database, providers, outbox, context, attempt_id)
    except BaseException:
        await keys.release(database, claim.id, forget=attempt_id is None)
        raise
    answer = PaymentOut.of(payment).model_dump(mode="json")
    await keys.complete(database, claim.id, 200, answer)
    return JSONResponse(answer)


@router.post(
    "/{payment_id}/confirm",
    response_model=PaymentOut,
    summary="Finish a payment that required action (3-D Secure)",
    responses={404: PROBLEMS[404], 409: {"description": "`nothing_to_confirm`"}},
)
async def confirm(
    payment_id: uuid.UUID,
    principal: PrincipalDep,
    database: DatabaseDep,
    providers: ProvidersDep,
    outbox: OutboxDep,
    context: EventContextDep,
    body: ConfirmIn | None = None,
):
    payment = await charges.confirm(
        database,
        providers,
        outbox,
        context,
        payment_id=payment_id,
        user_id=idempotency.user_key(principal.user_id),
        authenticated=(body or ConfirmIn()).authenticated,
    )
    return PaymentOut.of(payment)


@router.get("", response_model=Page[PaymentOut], summary="Your payments (staff: everyone's)")
async def list_payments(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageParamsDep,
    booking_id: Annotated[uuid.UUID | None, Query(description="Only this booking's")] = None,
):
    owner = None if principal.role == "admin" else idempotency.user_key(principal.user_id)
    found = await paginate(
        session,
        store.payments_query(owner, booking_id),
        [Payment.created_at, Payment.id],
        page,
        descending=True,
    )
    return found.map(PaymentOut.of)


async def _visible(session, principal, payment_id: uuid.UUID) -> Payment:
    payment = await session.get(Payment, payment_id)
    if not can_see(principal, payment):
        raise PaymentNotFound("There is no such payment.")
    return payment


@router.get(
    "/{payment_id}",
    response_model=PaymentOut,
    summary="One payment",
    responses={404: PROBLEMS[404]},
)
async def get_payment(payment_id: uuid.UUID, principal: PrincipalDep, session: SessionDep):
    return PaymentOut.of(await _visible(session, principal, payment_id))


@router.get(
    "/{payment_id}/invoice.pdf",
    summary="The invoice (PDF), with refunds as credit notes",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}},
        404: PROBLEMS[404],
        409: {"description": "`invoice_not_available`: not paid"},
    },
)
async def invoice(payment_id: uuid.UUID, principal: PrincipalDep, session: SessionDep):
    payment = await _visible(session, principal, payment_id)
    content = await invoice_pdf_of(session, payment)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{invoice_filename(payment)}"'},
    )
