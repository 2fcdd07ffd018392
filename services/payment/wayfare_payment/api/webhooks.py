"""Stripe's webhooks: the signature is checked over the raw body (with the tolerance on its
timestamp) before anything is parsed; each event id has effect once."""

from fastapi import APIRouter, Request

from wayfare_common.api import EventContextDep, OutboxDep
from wayfare_common.problems import Problem
from wayfare_payment.api.deps import DatabaseDep, ProvidersDep
from wayfare_payment.usecases.webhooks import handle_stripe_event

router = APIRouter(prefix="/api/v1/payments/webhooks", tags=["webhooks"])


@router.post(
    "/stripe",
    summary="Stripe webhook endpoint (signed by Stripe)",
    responses={
        400: {"description": "`invalid_signature` (bad, missing or stale) or `invalid_payload`"},
        503: {"description": "`webhooks_disabled`: no webhook secret configured"},
    },
)
async def stripe_webhook(
    request: Request,
    database: DatabaseDep,
    providers: ProvidersDep,
    outbox: OutboxDep,
    context: EventContextDep,
):
    settings = request.app.state.settings
    if not settings.stripe_webhook_secret:
        raise Problem(
            "PAYMENT_STRIPE_WEBHOOK_SECRET is not set.", status=503, code="webhooks_disabled"
        )
    import stripe  # only where Stripe is used (see providers/registry.py)

    payload = await request.body()
    try:
        event = stripe.Webhook.construct_event(
            payload,
            request.headers.get("Stripe-Signature"),
            settings.stripe_webhook_secret,
            tolerance=settings.stripe_webhook_tolerance,
        )
    except stripe.SignatureVerificationError:
        raise Problem(
            "The Stripe-Signature does not match the body, or is too old.",
            status=400,
            code="invalid_signature",
        ) from None
    except ValueError:
        raise Problem(
            "The body is not a Stripe event.", status=400, code="invalid_payload"
        ) from None
    outcome = await handle_stripe_event(database, providers, outbox, context, event.to_dict())
    return {"received": True, "outcome": outcome}
