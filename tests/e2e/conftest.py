import sys
from pathlib import Path

import pytest

# suite_support, beside this file, is imported by the journeys.
sys.path.insert(0, str(Path(__file__).parent))

from wayfare_common.testing.plugin import POSTGRES_REASON, RABBITMQ_REASON

import suite_support
from suite_support import running_suite

# Fixtures shared by the journeys and the drills, defined in suite_support.
client, staff = suite_support.client, suite_support.staff


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
