"""Schemathesis against each service's OpenAPI document (issue 10).

For every operation of auth, flight, booking, payment, notification and admin (the
gateway only proxies them; it is not tested here), schemathesis generates requests from
the service's own document, `create_app(...).openapi()`: the schema's examples, its
coverage cases (boundary, missing, wrong-typed and malformed values, a method the path
does not allow) and random valid and invalid data. They go to the real app over HTTP
(contract_support.py: migrated, on its own database, with a little seed data), signed in
with a token the service accepts: the examples and the random valid requests as a
customer and again as an admin, every other case as one of the two. Every answer must:

- not be a server error (5xx);
- have a status code, a Content-Type and headers that the document lists for the
  operation, and a body that matches the documented schema;
- if it is an error (4xx/5xx), be an RFC 9457 problem: `application/problem+json` with
  `type`, `title`, `code` and its own `status` (unless the operation documents another
  content for that status, as /readyz does for its 503).

Generation is deterministic (derandomized, no example database, no deadline; Hypothesis's
caches go to the system's temporary directory) and bounded: WAYFARE_API_SCHEMA_EXAMPLES
random cases per operation (default 5, which keeps the six services at about a minute
here; the coverage cases come on top). To hunt longer locally:

    WAYFARE_API_SCHEMA_EXAMPLES=200 .venv/bin/python -m pytest tests/api_schema -x -q

A failure prints the request that showed it as a curl line, with an `X-Test-Role` header
naming the role it was sent as; the Authorization header itself is printed as
`[Filtered]`. To replay it, run the service alone and put in a token it accepts.
"""

import os
import tempfile
import zlib
from importlib import import_module
from typing import Any

import hypothesis.strategies as st
import schemathesis
from schemathesis import GenerationMode, checks

from contract_support import RUNNING, Api

MAX_EXAMPLES = int(os.environ.get("WAYFARE_API_SCHEMA_EXAMPLES", "5"))
ROLES = ("customer", "admin")
PROBLEM_JSON = "application/problem+json"
PROBLEM_MEMBERS = ("type", "title", "status", "code")


def openapi_of(service: str) -> dict[str, Any]:
    """The document the service's app serves at /openapi.json (built without starting it)."""
    create_app = import_module(f"wayfare_{service}.app").create_app
    settings_class = import_module(f"wayfare_{service}.settings").Settings
    with tempfile.TemporaryDirectory() as folder:
        settings = settings_class(
            database_url=f"sqlite+aiosqlite:///{folder}/unused.db",
            amqp_url="",
            environment="test",
            data_dir=folder,
        )
        return create_app(settings).openapi()


def load(service: str) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict(
        {
            "generation": {
                "mode": "all",  # valid and invalid data
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            # One method a path does not allow is enough to see the 405 problem.
            "phases": {"coverage": {"unexpected-methods": ["TRACE"]}},
            "request-timeout": 10,
            "operations": [
                {
                    # The notification stream never ends, and with no news it sends only
                    # heartbeats (comments, not events): each call reads it for a second.
                    # Its two optional strings need few cases.
                    "include-path": "/api/v1/notifications/stream",
                    "request-timeout": 1.0,
                    "phases": {"coverage": {"enabled": False}},
                    "generation": {"max-examples": 2},
                }
            ],
        }
    )
    schema = schemathesis.openapi.from_dict(openapi_of(service), config=config)

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        """Now and then a path names a row that exists (the seed data)."""
        running = RUNNING.get(service)  # None while pytest collects the schema's examples
        if not path_parameters or running is None:
            return st.just(path_parameters)
        return st.fixed_dictionaries(
            {
                name: st.sampled_from([value, *running.known.get(name, [])])
                for name, value in path_parameters.items()
            }
        )

    return schema


def problem_details(ctx, response, case) -> bool | None:
    """An error answer is an RFC 9457 problem (DESIGN §5)."""
    if response.status_code < 400 or _documents_other_content(case, response.status_code):
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith(PROBLEM_JSON), (
        f"An error answer must be {PROBLEM_JSON}, got {content_type!r}"
    )
    body = response.json()
    missing = [name for name in PROBLEM_MEMBERS if name not in body]
    assert not missing, f"The problem lacks {', '.join(missing)}"
    assert body["status"] == response.status_code, (
        f"The problem's status {body['status']} is not the response's {response.status_code}"
    )
    return True


def _documents_other_content(case, status: int) -> bool:
    documented = case.operation.definition.raw.get("responses", {}).get(str(status), {})
    content = documented.get("content", {})
    return bool(content) and PROBLEM_JSON not in content


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    problem_details,
]


def roles_for(case) -> tuple[str, ...]:
    """The schema's examples and the random valid requests go out as a customer and as an
    admin: the role decides what they do. The many coverage cases (boundaries and invalid
    values) and the random invalid requests go out once, as one of the two by a hash of
    the request, so that both roles see them and a replayed failure uses the same one."""
    meta = case.meta
    if (
        meta is None
        or meta.phase.name == "examples"
        or (meta.phase.name == "fuzzing" and meta.generation.mode == GenerationMode.POSITIVE)
    ):
        return ROLES
    content = repr((case.method, case.path_parameters, case.query, case.headers, case.body))
    return (ROLES[zlib.crc32(content.encode("utf-8", "surrogatepass")) % len(ROLES)],)


def exercise(case, api: Api) -> None:
    for role in roles_for(case):
        # The role header is for people: a failure's curl line filters Authorization out.
        headers = {**api.signers[role](), "X-Test-Role": role}
        response = case.call(base_url=api.url, headers=headers)
        api.after_call(case, response)
        case.validate_response(response, checks=CHECKS, headers=headers)


auth = load("auth")
flight = load("flight")
booking = load("booking")
payment = load("payment")
notification = load("notification")
admin = load("admin")


@auth.parametrize()
def test_auth(case, auth_api):
    exercise(case, auth_api)


@flight.parametrize()
def test_flight(case, flight_api):
    exercise(case, flight_api)


@booking.parametrize()
def test_booking(case, booking_api):
    exercise(case, booking_api)


@payment.parametrize()
def test_payment(case, payment_api):
    exercise(case, payment_api)


@notification.parametrize()
def test_notification(case, notification_api):
    exercise(case, notification_api)


@admin.parametrize()
def test_admin(case, admin_api):
    exercise(case, admin_api)
