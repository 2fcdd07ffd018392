from typing import Annotated
from uuid import UUID

from fastapi import Depends

from wayfare_common.problems import Unauthorized
from wayfare_common.security import PrincipalDep


async def owner_id(principal: PrincipalDep) -> UUID:
    """The caller's user id: everything here belongs to one user."""
    try:
        return UUID(principal.user_id)
    except ValueError:
        raise Unauthorized("The access token does not name a user.", code="invalid_token") from None


OwnerDep = Annotated[UUID, Depends(owner_id)]
