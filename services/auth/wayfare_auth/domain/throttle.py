"""Failed-login limits: sliding windows over recorded failures (README: "Throttling")."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limit:
    scope: str  # "account_ip", "ip" or "account": which failures count
    max_failures: int
    window: timedelta


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: Limit | None = None  # the limit that refuses, when not allowed


def judge(limits: list[Limit], counts: dict[str, int]) -> Verdict:
    """Refuse once any scope has `max_failures` failures inside its window."""
    for limit in limits:
        if counts.get(limit.scope, 0) >= limit.max_failures:
            return Verdict(False, limit)
    return Verdict(True)


def retry_after(limit: Limit, nth_latest_failure_at: datetime, now: datetime) -> int:
    """Seconds until the count falls below the limit again: when the `max_failures`-th most
    recent failure leaves the window. Never zero, never more than the window."""
    remaining = (nth_latest_failure_at + limit.window - now).total_seconds()
    return max(1, min(math.ceil(remaining), math.ceil(limit.window.total_seconds())))
