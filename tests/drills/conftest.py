import contextlib
import sys
from pathlib import Path

import pytest

# suite_support (tests/e2e) and drill_support, beside this file, are imported by the drills.
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))

from wayfare_common.testing.plugin import POSTGRES_REASON, RABBITMQ_REASON

import suite_support
from drill_support import CONSUMERS, DRILL_ENV, wait_until_quiet
from suite_support import restart_part, running_suite, wait_until_ready

# Fixtures shared by the journeys and the drills, defined in suite_support.
client, staff = suite_support.client, suite_support.staff


@pytest.fixture(scope="module")
async def suite(postgres_server_url, amqp_server_url, tmp_path_factory):
    """The whole suite with a second replica of every service that handles events, and
    every part's broker and database connections through proxies the drills can cut."""
    if postgres_server_url is None:
        pytest.skip(POSTGRES_REASON)
    if amqp_server_url is None:
        pytest.skip(RABBITMQ_REASON)
    async with running_suite(
        tmp_path_factory.mktemp("drills"),
        postgres_server_url,
        amqp_server_url,
        replicas=CONSUMERS,
        env_overrides=DRILL_ENV,
        broker_proxy=True,
        database_proxy=True,
    ) as running:
        yield running


@pytest.fixture
async def full_strength(suite):
    """Every part running and ready (a replica a drill killed is started again), and the
    work of earlier drills settled, so that each drill starts from a quiet suite."""
    suite.broker_proxy.restore()
    suite.database_proxy.restore()
    for name in suite.replicas:
        process = suite.parts[name].process
        if process is None or process.returncode is not None:
            await restart_part(suite, name)
    await wait_until_ready(suite, tuple(suite.parts), timeout=60)
    await wait_until_quiet(suite, "earlier drills settle")
    return suite


@pytest.fixture
def say(request):
    """A line in pytest's output, shown without -s: what a drill did and measured."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")

    def write(line: str) -> None:
        if reporter is None:
            return
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(f"[{request.node.name}] {line}")

    return write


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed drill shows the tail of every part's log, and where the full logs are."""
    outcome = yield
    report = outcome.get_result()
    running = getattr(item, "funcargs", {}).get("suite")
    if report.failed and running is not None:
        names = tuple(running.parts)
        report.sections.append(
            ("suite logs", f"full logs in {running.logs}\n{running.logs_tail(names, tail=12)}")
        )
