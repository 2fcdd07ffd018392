"""Failed attempts, counted per account from one IP, per IP, and per account."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_auth.domain.throttle import Limit
from wayfare_auth.store import fastpath
from wayfare_auth.store.models import LoginFailure, User

F = LoginFailure
SCOPES = ("account_ip", "ip", "account")


def _in_scope(scope: str, since: sa.BindParameter) -> sa.ColumnElement[bool]:
    account, ip = sa.bindparam("account"), sa.bindparam("ip")
    match scope:
        case "account_ip":
            return sa.and_(F.account == account, F.ip == ip, F.created_at > since)
        case "ip":
            return sa.and_(F.ip == ip, F.created_at > since)
        case _:
            return sa.and_(F.account == account, F.created_at > since)


def _since(scope: str) -> sa.BindParameter:
    return sa.bindparam(f"since_{scope}", type_=F.created_at.type)


# Built once, with bound parameters: the login path runs this on every attempt, in one
# round trip with the account's row (a LEFT JOIN, so the counts come back without one).
_COUNTS = (
    sa.select(
        *(sa.func.count().filter(_in_scope(scope, _since(scope))).label(scope) for scope in SCOPES)
    )
    .where(
        sa.or_(F.account == sa.bindparam("account"), F.ip == sa.bindparam("ip")),
        F.created_at > sa.bindparam("oldest", type_=F.created_at.type),
    )
    .subquery("counts")
)
_COUNTS_ONLY = fastpath.Statement(sa.select(_COUNTS))
_U = User.__table__.c
# What a login needs of the account, as plain columns (no ORM object to build).
LOGIN_COLUMNS = (
    _U.id,
    _U.role,
    _U.password_hash,
    _U.password_version,
    _U.is_active,
    _U.email_verified,
    _U.totp_enabled,
)
_COUNTS_AND_USER = fastpath.Statement(
    sa.select(_COUNTS, *LOGIN_COLUMNS)
    .select_from(_COUNTS)
    .outerjoin(User.__table__, _U.email == sa.bindparam("account"))
)


def _params(limits: list[Limit], account: str, ip: str, now: datetime) -> dict:
    params = {f"since_{limit.scope}": now - limit.window for limit in limits}
    params.update(account=account, ip=ip, oldest=now - longest_window(limits))
    return params


async def counts(
    db: fastpath.LoginDB, limits: list[Limit], account: str, ip: str, now: datetime
) -> dict[str, int]:
    """Failures inside each limit's window."""
    row = await _COUNTS_ONLY.fetchrow(db, _params(limits, account, ip, now))
    return {scope: row[scope] for scope in SCOPES}


@dataclass(frozen=True, slots=True)
class LoginAccount:
    """The `LOGIN_COLUMNS` of an account."""

    id: uuid.UUID
    role: str
    password_hash: str | None
    password_version: int
    is_active: bool
    email_verified: bool
    totp_enabled: bool


async def counts_and_user(
    db: fastpath.LoginDB, limits: list[Limit], account: str, ip: str, now: datetime
) -> tuple[dict[str, int], LoginAccount | None]:
    """`counts`, and the account whose email is `account` (or None), in one round trip."""
    row = await _COUNTS_AND_USER.fetchrow(db, _params(limits, account, ip, now))
    user = None
    if row["id"] is not None:
        user = LoginAccount(**{column.name: row[column.name] for column in LOGIN_COLUMNS})
    return {scope: row[scope] for scope in SCOPES}, user


_NTH_LATEST = {
    scope: fastpath.Statement(
        sa.select(F.created_at)
        .where(_in_scope(scope, _since(scope)))
        .order_by(F.created_at.desc())
        .offset(sa.bindparam("skip"))
        .limit(1)
    )
    for scope in SCOPES
}


async def nth_latest(
    db: fastpath.LoginDB, limit: Limit, account: str, ip: str, now: datetime
) -> datetime:
    """When the `max_failures`-th most recent failure in the limit's scope happened."""
    params = {
        "account": account,
        "ip": ip,
        f"since_{limit.scope}": now - limit.window,
        "skip": limit.max_failures - 1,
    }
    row = await _NTH_LATEST[limit.scope].fetchrow(db, params)
    return row["created_at"] if row else now


_RECORD = fastpath.Statement(
    sa.insert(F.__table__).values(
        account=sa.bindparam("account"),
        ip=sa.bindparam("ip"),
        created_at=sa.bindparam("now", type_=F.created_at.type),
    )
)
_FORGET_FROM_IP = fastpath.Statement(
    sa.delete(F.__table__).where(F.account == sa.bindparam("account"), F.ip == sa.bindparam("ip"))
)


async def record(db: fastpath.LoginDB, account: str, ip: str, now: datetime) -> None:
    await _RECORD.execute(db, {"account": account, "ip": ip, "now": now})


async def forget(db: fastpath.LoginDB, account: str, ip: str | None = None) -> None:
    """Drop failures of `account` (from `ip` only, when given): after a successful login
    from there, or for the whole account after a password reset proved the mailbox."""
    if ip is not None:
        await _FORGET_FROM_IP.execute(db, {"account": account, "ip": ip})
    else:
        assert isinstance(db, AsyncSession)
        await db.execute(sa.delete(F).where(F.account == account))


async def purge(session: AsyncSession, before: datetime) -> None:
    await session.execute(sa.delete(F).where(F.created_at < before))


def longest_window(limits: list[Limit]) -> timedelta:
    return max(limit.window for limit in limits)
