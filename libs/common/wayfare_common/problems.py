"""RFC 9457 problem details for every error a client can see.

Services raise `Problem` (or one of its named subclasses); validation errors and
unexpected exceptions are turned into the same shape. Nothing internal (stack traces,
SQL, host names) reaches the client: unexpected errors are logged with the request id and
answered with a generic 500; a database that cannot be reached is a 503 with Retry-After.
"""

from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any, TypeVar

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger("wayfare.problems")


class Problem(Exception):
    """An error with a stable `code` that clients can switch on."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        self.status = status or self.status
        self.code = code or self.code
        self.title = title or HTTPStatus(self.status).phrase
        self.detail = detail
        self.headers = headers
        self.extra = extra
        super().__init__(detail or self.title)


class NotFound(Problem):
    status, code = 404, "not_found"


class Conflict(Problem):
    status, code = 409, "conflict"


class Unauthorized(Problem):
    status, code = 401, "unauthorized"

    def __init__(self, detail: str | None = None, **kwargs):
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(Problem):
    status, code = 403, "forbidden"


def problem_response(
    status: int,
    code: str,
    *,
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": f"/problems/{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        errors.append(
            {
                # ("body", "passengers", 0, "name") -> "body.passengers.0.name"
                "field": ".".join(str(part) for part in error.get("loc", ())),
                "message": error.get("msg", "invalid"),
                "type": error.get("type", "value_error"),
            }
        )
    return errors


def install_problem_handlers(app: FastAPI, *, database: bool = True) -> None:
    """`database`: the app has one, and its outages are answered 503 (a part without one,
    the gateway, does not load the database libraries at all)."""
    if database:
        from wayfare_common import db

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(
            exc.status,
            exc.code,
            title=exc.title,
            detail=exc.detail,
            instance=request.url.path,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return problem_response(
            422,
            "validation_error",
            detail="The request is not valid.",
            instance=request.url.path,
            errors=_field_errors(exc),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else None
        if detail == HTTPStatus(exc.status_code).phrase:
            detail = None
        return problem_response(
            exc.status_code,
            _CODES_BY_STATUS.get(exc.status_code, "error"),
            detail=detail,
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        if database and db.database_unreachable(exc):
            # Nothing the client did, and it passes: say so, and when to try again.
            log.warning(
                "database_unreachable",
                path=request.url.path,
                method=request.method,
                error=f"{type(exc).__name__}: {exc}"[:500],
            )
            return problem_response(
                503,
                "database_unavailable",
                detail="The service cannot reach its database right now. Try again shortly.",
                instance=request.url.path,
                headers={"Retry-After": "5"},
            )
        if database and db.nul_in_text(exc):
            # Validation lets it through, PostgreSQL refuses it: the client's data is wrong.
            return problem_response(
                422,
                "validation_error",
                detail="Text must not contain NUL (\\u0000) characters.",
                instance=request.url.path,
            )
        log.exception("unhandled_error", path=request.url.path, method=request.method)
        return problem_response(
            500,
            "internal_error",
            detail="Something went wrong on our side. It has been logged.",
            instance=request.url.path,
        )

    # The driver's errors, handled inside the app rather than by the outermost middleware,
    # which would log each of them once more as a crash of the app.
    for driver_error in (OSError, *(db.DRIVER_ERRORS if database else ())):
        app.add_exception_handler(driver_error, _unexpected)


# The OpenAPI side: every error response is documented as a problem, and the problems
# that shared dependencies raise are documented on every route that uses them.


class FieldError(BaseModel):
    field: str  # e.g. "body.passengers.0.birth_date"
    message: str
    type: str


class ProblemDetails(BaseModel):
    """An RFC 9457 problem: what every error response carries."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


PROBLEM_REF = "#/components/schemas/Problem"
# Statuses a dependency marked with `raises` adds to a route that documents none of its own.
DEFAULT_DESCRIPTIONS = {
    400: "Bad request",
    401: "No valid access token (`missing_token`, `invalid_token`)",
    403: "Not allowed for this account (`forbidden`)",
    404: "No such resource, or not yours (`not_found`)",
    409: "Conflicts with the current state (`conflict`)",
    413: "The request body is too large",
    422: "The request is not valid (`validation_error`, with field `errors`)",
    503: "A service this one needs is unavailable; retry shortly",
}

UNREADABLE_BODY = "The body cannot be read (`bad_request`): not UTF-8, or broken form data"

Call = TypeVar("Call", bound=Callable[..., Any])


def raises(*statuses: int, **descriptions: str) -> Callable[[Call], Call]:
    """Mark a FastAPI dependency with the problem statuses it may answer, so that every
    route depending on it documents them. `descriptions` (`s401="..."`) replace the
    default text of a status."""

    def mark(call: Call) -> Call:
        documented = dict(getattr(call, "problem_responses", {}))
        for status in statuses:
            documented[status] = descriptions.get(f"s{status}", DEFAULT_DESCRIPTIONS[status])
        call.problem_responses = documented  # type: ignore[attr-defined]
        return call

    return mark


def install_problem_docs(app: FastAPI) -> None:
    """Wrap `app.openapi` so that the document it builds (once) says what clients get."""
    generate = app.openapi
    completed: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = generate()  # FastAPI's, cached until the routes change
        if not completed or completed[-1] is not document:
            document_problems(document, app.routes)
            completed[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def document_problems(document: dict[str, Any], routes: list[Any]) -> None:
    """Add the statuses that a route's dependencies may raise, and make every 4xx/5xx
    response an `application/problem+json` Problem (FastAPI documents 422 as its own
    `HTTPValidationError` in `application/json`, which is not what clients get)."""
    for route in iter_route_contexts(routes):  # routes of included routers too
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        item = document["paths"].get(route.path_format, {})
        for method in route.methods:
            operation = item.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _dependency_problems(route.dependant).items():
                responses.setdefault(str(status), {"description": description})
            if route.body_field is not None:  # FastAPI's answer to a body it cannot parse
                responses.setdefault("400", {"description": UNREADABLE_BODY})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400 and not _own_content(route, status):
                    response["content"] = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's, now unused
        if f'"#/components/schemas/{name}"' not in orjson.dumps(document).decode():
            schemas.pop(name, None)


def _own_content(route: Any, status: str) -> bool:
    """Whether the route documents what it answers with `status` itself (e.g. /readyz)."""
    response = route.responses.get(int(status)) or route.responses.get(status) or {}
    return "content" in response or "model" in response


def _dependency_problems(dependant: Dependant) -> dict[int, str]:
    found: dict[int, str] = {}
    for call in _calls(dependant):
        for status, description in getattr(call, "problem_responses", {}).items():
            found.setdefault(status, description)
    return dict(sorted(found.items()))


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)
