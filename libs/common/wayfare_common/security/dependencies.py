"""FastAPI dependencies that turn the `Authorization: Bearer` header into a `Principal`.

The verifier lives on `app.state.token_verifier`; apps that do not set one get a verifier
built from `app.state.settings` on first use. The principal is also put on
`request.state.principal`, where the event context picks up the acting user.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wayfare_common.problems import Forbidden, Problem, Unauthorized, raises
from wayfare_common.security.tokens import (
    ROLES,
    InvalidToken,
    Principal,
    Role,
    TokenServiceUnavailable,
    TokenVerifier,
)

# auto_error=False: the problem responses below replace FastAPI's plain 403/401. The
# scheme still documents bearer auth in the OpenAPI document.
_bearer = HTTPBearer(
    bearerFormat="JWT", description="An access token from the auth service.", auto_error=False
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def get_token_verifier(request: Request) -> TokenVerifier:
    # async so that it runs on the event loop: no two threads can each build a verifier.
    state = request.app.state
    verifier = getattr(state, "token_verifier", None)
    if verifier is None:
        verifier = state.token_verifier = TokenVerifier.from_settings(state.settings)
    return verifier


VerifierDep = Annotated[TokenVerifier, Depends(get_token_verifier)]


@raises(401, 503, s401="The access token was refused (`invalid_token`)")
async def optional_principal(
    request: Request, credentials: BearerDep, verifier: VerifierDep
) -> Principal | None:
    """The caller, or None when no token was sent. A token that was sent must be valid."""
    if credentials is None:
        return None
    try:
        principal = await verifier.verify(credentials.credentials)
    except InvalidToken as err:
        raise Unauthorized(
            f"The access token was refused ({err.reason}).",
            code="invalid_token",
            reason=err.reason,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    except TokenServiceUnavailable:
        raise Problem(
            "Access tokens cannot be checked right now. Please try again shortly.",
            status=503,
            code="auth_unavailable",
        ) from None
    request.state.principal = principal
    return principal


OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]


@raises(401)
async def current_principal(principal: OptionalPrincipalDep) -> Principal:
    if principal is None:
        raise Unauthorized(
            "This request needs an access token: send 'Authorization: Bearer <token>'.",
            code="missing_token",
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through only callers with one of `roles`."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"require_role needs roles among {ROLES}, got {roles}")

    @raises(403)
    async def _require_role(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise Forbidden("Your account is not allowed to do this.")
        return principal

    return _require_role


AdminDep = Annotated[Principal, Depends(require_role("admin"))]
