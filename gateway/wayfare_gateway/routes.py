"""What the gateway knows about paths, as plain data and functions: which service answers
a path, which routes anyone may call, which need an admin, and which rate limit applies.
No framework imports: the proxy asks, this module answers."""

import functools
import re
from dataclasses import dataclass
from enum import Enum

# Longest prefix first, so that a more specific prefix wins.
PREFIXES: list[tuple[str, str]] = sorted(
    [
        ("/api/v1/auth", "auth"),
        ("/api/v1/users", "auth"),
        ("/.well-known/jwks.json", "auth"),
        ("/api/v1/flights", "flight"),
        ("/api/v1/packages", "flight"),
        ("/api/v1/bookings", "booking"),
        ("/api/v1/coupons", "booking"),
        ("/api/v1/payments", "payment"),
        ("/api/v1/notifications", "notification"),
        ("/api/v1/admin", "admin"),
    ],
    key=lambda entry: -len(entry[0]),
)

ADMIN_PREFIXES = ("/api/v1/admin", "/api/v1/coupons")  # coupons are managed by staff


class Limit(Enum):
    LOGIN = "login"
    REGISTER = "register"
    PASSWORD_RESET = "password_reset"
    USER = "user"  # per user when signed in, else per IP


# (method, path pattern): routes a caller may use without a token.
_PUBLIC = [
    ("POST", r"/api/v1/auth/register"),
    ("POST", r"/api/v1/auth/login"),
    ("POST", r"/api/v1/auth/login/2fa"),
    ("POST", r"/api/v1/auth/refresh"),
    ("POST", r"/api/v1/auth/verify-email"),
    ("POST", r"/api/v1/auth/password/forgot"),
    ("POST", r"/api/v1/auth/password/reset"),
    ("GET", r"/api/v1/auth/oauth/[^/]+/(start|callback)"),
    ("GET", r"/\.well-known/jwks\.json"),
    ("GET", r"/api/v1/flights/search"),
    ("GET", r"/api/v1/flights/[^/]+(/seatmap)?"),
    ("GET", r"/api/v1/packages(/[^/]+)?"),
    ("POST", r"/api/v1/payments/webhooks/[^/]+"),
]
_PUBLIC_PATTERNS = [(method, re.compile(pattern + r"/?")) for method, pattern in _PUBLIC]

_LIMITS = {
    "/api/v1/auth/login": Limit.LOGIN,
    "/api/v1/auth/login/2fa": Limit.LOGIN,
    "/api/v1/auth/register": Limit.REGISTER,
    "/api/v1/auth/password/forgot": Limit.PASSWORD_RESET,
    "/api/v1/auth/password/reset": Limit.PASSWORD_RESET,
}

UPLOAD_PATHS = ("/api/v1/packages/import",)


@dataclass(frozen=True, slots=True)
class Route:
    upstream: str
    public: bool
    admin_only: bool
    limit: Limit
    max_body: str  # "upload" or "default"


@functools.lru_cache(maxsize=8192)  # paths repeat (ids aside): matching is regex work
def match(method: str, path: str) -> Route | None:
    """The route for a request, or None when the gateway serves no such path (including
    every `/internal/` path, which only services call, directly)."""
    if "/internal/" in path or path.startswith("/internal"):
        return None
    # Dot segments could walk from a public prefix to a guarded one: refuse them.
    if any(segment in (".", "..") for segment in path.split("/")):
        return None
    upstream = _upstream_for(path)
    if upstream is None:
        return None
    public = any(m == method and p.fullmatch(path) for m, p in _PUBLIC_PATTERNS)
    # CORS preflights carry no token; the CORS layer answers them before routing.
    return Route(
        upstream=upstream,
        public=public,
        admin_only=path.startswith(ADMIN_PREFIXES),
        limit=_LIMITS.get(path.rstrip("/"), Limit.USER) if method == "POST" else Limit.USER,
        max_body="upload" if path.startswith(UPLOAD_PATHS) else "default",
    )


def _upstream_for(path: str) -> str | None:
    for prefix, upstream in PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            return upstream
    return None
