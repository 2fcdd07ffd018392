import sys
from pathlib import Path

import httpx
import pytest

# suite_support, beside this file, is imported by the journeys.
sys.path.insert(0, str(Path(__file__).parent))

from wayfare_common.testing.plugin import POSTGRES_REASON, RABBITMQ_REASON, eventually

from suite_support import PASSWORD, bearer, expect, new_email, run_command, running_suite


@pytest.fixture(scope="module")
async def suite(postgres_server_url, amqp_server_url, tmp_path_factory):
    """The whole suite, started once for the journeys and stopped after them (before the
    drills start a suite of their own: the two together would not fit PostgreSQL's
    connections)."""
    if postgres_server_url is None:
        pytest.skip(POSTGRES_REASON)
    if amqp_server_url is None:
        pytest.skip(RABBITMQ_REASON)
    async with running_suite(
        tmp_path_factory.mktemp("e2e"), postgres_server_url, amqp_server_url
    ) as running:
        yield running


@pytest.fixture
async def client(suite):
    """A browser pointed at the gateway."""
    async with httpx.AsyncClient(base_url=suite.gateway_url, timeout=20) as http:
        yield http


@pytest.fixture(scope="module")
async def staff(suite):
    """A member of staff: an admin made with `create-admin` (what `make admin` runs),
    signed in through the gateway: (profile, tokens)."""
    email = new_email("staff")
    await run_command(
        suite,
        ["-m", "wayfare_auth", "create-admin", "--email", email, "--password", PASSWORD],
        "create-admin",
    )
    async with httpx.AsyncClient(base_url=suite.gateway_url, timeout=20) as http:
        tokens = expect(
            await http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}),
            200,
            "staff login",
        )
        me = expect(await http.get("/api/v1/users/me", headers=bearer(tokens)), 200, "staff")
        assert me["role"] == "admin", f"[staff profile] {me}"

        # create-admin ran in its own process: auth's relay publishes its registration on
        # its next poll. Hand the account out only once the admin service has it, so that
        # no journey's "before" snapshot is taken ahead of it.
        async def admin_service_knows_it() -> bool:
            listed = await http.get(
                "/api/v1/admin/users", params={"limit": 100}, headers=bearer(tokens)
            )
            return listed.status_code == 200 and any(
                user["id"] == me["id"] for user in listed.json()["data"]
            )

        await eventually(
            admin_service_knows_it,
            timeout=20,
            message="[staff] the admin service never saw the staff account",
        )
    return me, tokens


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed journey shows the tail of every part's log, and where the full logs are."""
    outcome = yield
    report = outcome.get_result()
    running = getattr(item, "funcargs", {}).get("suite")
    if report.failed and running is not None:
        report.sections.append(
            ("suite logs", f"full logs in {running.logs}\n{running.logs_tail(tail=12)}")
        )
