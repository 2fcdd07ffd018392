"""Access tokens: verification (`tokens`) and the FastAPI dependencies built on it."""

from wayfare_common.security.dependencies import (
    AdminDep,
    OptionalPrincipalDep,
    PrincipalDep,
    current_principal,
    get_token_verifier,
    optional_principal,
    require_role,
)
from wayfare_common.security.tokens import (
    InvalidToken,
    Principal,
    Role,
    TokenServiceUnavailable,
    TokenVerifier,
)

__all__ = [
    "AdminDep",
    "InvalidToken",
    "OptionalPrincipalDep",
    "Principal",
    "PrincipalDep",
    "Role",
    "TokenServiceUnavailable",
    "TokenVerifier",
    "current_principal",
    "get_token_verifier",
    "optional_principal",
    "require_role",
]
