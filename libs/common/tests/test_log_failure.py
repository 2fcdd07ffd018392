"""Loops that run again (relay, sweeps, workers) log a database outage as one warning
line per poll, and anything else with its traceback."""

import asyncpg
import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from wayfare_common.db import log_failure

log = structlog.get_logger("test")


def _logged(exc: BaseException) -> dict:
    with structlog.testing.capture_logs() as logs:
        try:
            raise exc
        except Exception:
            log_failure(log, "relay_failed", task="relay")
    [entry] = logs
    return entry


def _as_sqlalchemy_raises_it(driver_error: Exception) -> DBAPIError:
    """SQLAlchemy wraps the driver's error and chains it (`raise ... from`)."""
    try:
        try:
            raise driver_error
        except Exception as err:
            raise DBAPIError("SELECT 1", {}, err) from err
    except DBAPIError as wrapped:
        return wrapped


def test_a_database_outage_is_a_warning_without_traceback():
    wrapped = _as_sqlalchemy_raises_it(asyncpg.CannotConnectNowError("starting up"))
    too_many = asyncpg.TooManyConnectionsError("sorry, too many clients already")
    for exc in (wrapped, too_many, PoolTimeout("QueuePool limit reached")):
        entry = _logged(exc)
        assert entry["log_level"] == "warning", entry
        assert entry["reason"] == "database_unreachable" and entry["task"] == "relay"
        assert "exc_info" not in entry


def test_anything_else_keeps_its_traceback():
    # A refused connection of our own (an SMTP server, say) is not the database's.
    for exc in (ValueError("a bug of ours"), ConnectionRefusedError(111, "refused")):
        entry = _logged(exc)
        assert entry["log_level"] == "error" and entry["exc_info"] is True, entry
        assert "reason" not in entry
