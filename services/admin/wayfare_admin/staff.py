"""Staff actions: ask the owning service, then record the attempt in the audit log.

The owner's change and the audit row cannot share a transaction (they live in two
databases), so the row is written once the owner has answered, with that answer's
status as the outcome; refusals and unreachable owners are recorded too. The call and
the write are shielded from the client going away, so a disconnect mid-action does not
skip the row. Should this process die between the owner's answer and the write, the
event the owner emits (its actor is the admin) still lands in the audit log.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wayfare_admin.clients.owners import Answer, OwnerUnavailable
from wayfare_admin.domain.audit import AuditDraft, AuditEntry
from wayfare_admin.store import audit
from wayfare_common.db import Database
from wayfare_common.security import Principal


@dataclass(frozen=True)
class StaffAction:
    action: str  # e.g. "payment.refund"
    target_type: str
    target_id: str
    reason: str | None
    request: dict[str, Any]  # what was asked of the owner, as recorded


@dataclass(frozen=True)
class Outcome:
    answer: Answer | None
    failure: OwnerUnavailable | None
    entry: AuditEntry


async def perform(
    database: Database,
    admin: Principal,
    request_id: str | None,
    action: StaffAction,
    call: Callable[[], Awaitable[Answer]],
) -> Outcome:
    return await asyncio.shield(_perform(database, admin, request_id, action, call))


async def _perform(database, admin, request_id, action, call) -> Outcome:
    answer: Answer | None = None
    failure: OwnerUnavailable | None = None
    try:
        answer = await call()
        outcome = {"status": answer.status, "code": answer.code}
    except OwnerUnavailable as exc:
        failure = exc
        outcome = {"status": None, "code": f"owner_{exc.reason}"}
    draft = AuditDraft(
        occurred_at=datetime.now(UTC),
        actor_user_id=admin.user_id,
        actor_role=admin.role,
        action=action.action,
        target_type=action.target_type,
        target_id=action.target_id,
        details={
            "source": "request",
            "request_id": request_id,
            "reason": action.reason,
            "request": action.request,
            "outcome": outcome,
        },
    )
    async with database.sessions() as session, session.begin():
        entry = await audit.append(session, draft)
    return Outcome(answer, failure, entry)
