"""Vendor payouts: the list (staff see all, a vendor its own), balances, a staff-triggered
run, and where a vendor's Stripe transfers go."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from wayfare_common.api import EventContextDep, OutboxDep, SessionDep
from wayfare_common.money import Money
from wayfare_common.pagination import Page, PageParamsDep, paginate
from wayfare_common.problems import Forbidden
from wayfare_common.security import AdminDep, PrincipalDep
from wayfare_payment.api.deps import DatabaseDep, ProvidersDep
from wayfare_payment.api.idempotency import user_key
from wayfare_payment.api.schemas import (
    Balance,
    BalancesOut,
    PayoutOut,
    PayoutRunOut,
    SkippedPayout,
    VendorAccountIn,
)
from wayfare_payment.store import ledger
from wayfare_payment.store.models import Payout, VendorAccount
from wayfare_payment.usecases import payouts

router = APIRouter(prefix="/api/v1/payments", tags=["payouts"])


@router.get(
    "/payouts",
    response_model=Page[PayoutOut],
    summary="Payouts to vendors",
    responses={403: {"description": "Neither staff nor a vendor (`forbidden`)"}},
)
async def list_payouts(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageParamsDep,
    vendor_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[Literal["pending", "sent", "failed"] | None, Query()] = None,
):
    if principal.role == "vendor":
        vendor_id = user_key(principal.user_id)  # a vendor sees only its own
    elif principal.role != "admin":
        raise Forbidden("Only staff and vendors see payouts.")
    found = await paginate(
        session,
        ledger.payouts_query(vendor_id, status),
        [Payout.created_at, Payout.id],
        page,
        descending=True,
    )
    return found.map(PayoutOut.of)


@router.get(
    "/payouts/balances", response_model=BalancesOut, summary="What is owed to vendors (staff)"
)
async def balances(admin: AdminDep, session: SessionDep):
    vendors = [
        Balance(vendor_id=vendor_id, balance=Money(minor, currency))
        for vendor_id, currency, minor in await ledger.vendor_balances(session)
    ]
    platform = [
        Money(minor, currency)
        for currency, minor in sorted((await ledger.platform_balances(session)).items())
    ]
    return BalancesOut(vendors=vendors, platform=platform)


@router.post(
    "/payouts/run",
    response_model=PayoutRunOut,
    summary="Pay every vendor owed at least the minimum, now (staff)",
    responses={409: {"description": "`payout_run_in_progress`"}},
)
async def run_payouts(
    request: Request,
    admin: AdminDep,
    database: DatabaseDep,
    providers: ProvidersDep,
    outbox: OutboxDep,
    context: EventContextDep,
):
    result = await payouts.run(
        database, outbox, providers.default, request.app.state.settings.payout_minimum, context
    )
    return PayoutRunOut(
        sent=[PayoutOut.of(p) for p in result.sent],
        failed=[PayoutOut.of(p) for p in result.failed],
        waiting=[PayoutOut.of(p) for p in result.waiting],
        skipped=[
            SkippedPayout(vendor_id=vendor, balance=balance, reason=reason)
            for vendor, balance, reason in result.skipped
        ],
    )


@router.put(
    "/vendors/{vendor_id}/payout-account",
    status_code=204,
    summary="Where a vendor's Stripe transfers go (staff)",
)
async def set_payout_account(
    vendor_id: uuid.UUID, body: VendorAccountIn, admin: AdminDep, session: SessionDep
):
    account = await session.get(VendorAccount, vendor_id)
    if account is None:
        session.add(VendorAccount(vendor_id=vendor_id, stripe_account=body.stripe_account))
    else:
        account.stripe_account = body.stripe_account
    await session.commit()
