"""The failed-login throttle (README: "Throttling"): checked before a password or code is
looked at, so a refused attempt costs no hashing and teaches the attacker nothing."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from wayfare_auth.domain.throttle import Limit, judge, retry_after
from wayfare_auth.settings import Settings
from wayfare_auth.store import throttle as store
from wayfare_auth.store.fastpath import LoginDB, commit
from wayfare_common.problems import Problem


def limits_from(settings: Settings) -> list[Limit]:
    window = timedelta(seconds=settings.login_window)
    return [
        Limit("account_ip", settings.login_max_failures_per_account_ip, window),
        Limit("ip", settings.login_max_failures_per_ip, window),
        Limit(
            "account",
            settings.login_max_failures_per_account,
            timedelta(seconds=settings.login_account_window),
        ),
    ]


@dataclass(frozen=True)
class Attempt:
    account: str
    ip: str
    counts: dict[str, int]
    user: store.LoginAccount | None = None  # when asked for

    async def failed(self, db: LoginDB, now: datetime) -> None:
        """Record the failure and commit it (the request is about to be refused)."""
        await store.record(db, self.account, self.ip, now)
        await commit(db)

    async def succeeded(self, db: LoginDB) -> None:
        """The right credentials from this IP: its earlier failures for the account no
        longer count against it (in the caller's transaction)."""
        if self.counts.get("account_ip"):
            await store.forget(db, self.account, self.ip)


async def admit(
    db: LoginDB,
    limits: list[Limit],
    account: str,
    ip: str,
    now: datetime,
    *,
    load_user: bool = False,
) -> Attempt:
    """Let an attempt through, or raise 429 with Retry-After. `load_user` also loads the
    account's user in the same round trip (the login path)."""
    user = None
    if load_user:
        counts, user = await store.counts_and_user(db, limits, account, ip, now)
    else:
        counts = await store.counts(db, limits, account, ip, now)
    verdict = judge(limits, counts)
    if not verdict.allowed:
        assert verdict.limit is not None
        nth = await store.nth_latest(db, verdict.limit, account, ip, now)
        seconds = retry_after(verdict.limit, nth, now)
        raise Problem(
            "Too many failed attempts. Try again later.",
            status=429,
            code="too_many_attempts",
            headers={"Retry-After": str(seconds)},
            retry_after=seconds,
        )
    return Attempt(account, ip, counts, user)
