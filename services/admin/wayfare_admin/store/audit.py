"""The audit log's storage: appending to the chain, and reading it back in order."""

from collections.abc import AsyncIterator
from dataclasses import fields

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_admin.domain.audit import AuditDraft, AuditEntry, seal
from wayfare_admin.store.models import audit_head, audit_log

_ENTRY_FIELDS = tuple(f.name for f in fields(AuditEntry))


async def append(session: AsyncSession, draft: AuditDraft) -> AuditEntry:
    """Chain `draft` after the current head, in the caller's transaction.

    The head row is locked (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already
    serialises writers) until the caller commits, so concurrent appends queue up and form
    one chain instead of two rows claiming the same predecessor."""
    head = (
        await session.execute(sa.select(audit_head).where(audit_head.c.id == 1).with_for_update())
    ).one()
    entry = seal(draft, head.seq + 1, head.hash)
    await session.execute(
        sa.insert(audit_log).values({name: getattr(entry, name) for name in _ENTRY_FIELDS})
    )
    await session.execute(
        sa.update(audit_head).where(audit_head.c.id == 1).values(seq=entry.seq, hash=entry.hash)
    )
    return entry


async def head(session: AsyncSession) -> tuple[int, str]:
    row = (await session.execute(sa.select(audit_head).where(audit_head.c.id == 1))).one()
    return row.seq, row.hash


def entry_of(row) -> AuditEntry:
    return AuditEntry(**{name: row[name] for name in _ENTRY_FIELDS})


async def in_order(
    session: AsyncSession, where=(), up_to: int | None = None, batch_size: int = 500
) -> AsyncIterator[AuditEntry]:
    """Rows by `seq`, in keyset batches; each batch is its own short query, so a long
    export or verification holds no lock and no open cursor between batches."""
    after = 0
    while True:
        stmt = (
            sa.select(audit_log)
            .where(audit_log.c.seq > after, *where)
            .order_by(audit_log.c.seq)
            .limit(batch_size)
        )
        if up_to is not None:
            stmt = stmt.where(audit_log.c.seq <= up_to)
        rows = (await session.execute(stmt)).mappings().all()
        for row in rows:
            yield entry_of(row)
        if len(rows) < batch_size:
            return
        after = rows[-1]["seq"]
