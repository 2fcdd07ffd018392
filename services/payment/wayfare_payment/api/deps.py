"""Dependencies of the payment routes: the database, the providers, and who may see what."""

from typing import Annotated

from fastapi import Depends, Request

from wayfare_common.db import Database
from wayfare_common.security import Principal
from wayfare_payment.api.idempotency import user_key
from wayfare_payment.providers.registry import Providers
from wayfare_payment.store.models import Payment


# async: FastAPI runs a plain `def` dependency in a worker thread, for every request.
async def get_database(request: Request) -> Database:
    return request.app.state.database


async def get_providers(request: Request) -> Providers:
    return request.app.state.providers


DatabaseDep = Annotated[Database, Depends(get_database)]
ProvidersDep = Annotated[Providers, Depends(get_providers)]


def can_see(principal: Principal, payment: Payment | None) -> bool:
    """Owners and staff; everyone else gets a 404, as if the payment did not exist."""
    if payment is None:
        return False
    return principal.role == "admin" or payment.user_id == user_key(principal.user_id)
