"""CSV imports of tour packages, run in the background.

All or nothing: every row is validated first; if any row is refused, nothing is written
and the job lists each refused row with its reason. Otherwise all rows are written in one
transaction (a row that still fails there, e.g. a capacity below the places already
taken, fails the whole job the same way). Either way the job ends by emitting
flight.package_import_completed in the transaction that finishes it.
"""

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog

from wayfare_common.db import Database
from wayfare_common.events.catalog import PackageImportCompleted, RejectedRow
from wayfare_common.events.envelope import Actor, EventContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_flight.domain.packages import FileError, RowError, parse_row, read_rows
from wayfare_flight.store import packages as package_store
from wayfare_flight.store.models import import_jobs

log = structlog.get_logger("wayfare.flight.imports")

PROGRESS_EVERY = 200
STALE_AFTER = timedelta(minutes=10)  # a running job this old died with its process
MAX_REPORTED_ERRORS = 100


async def claim(database: Database, job_id: uuid.UUID) -> bool:
    now = datetime.now(UTC)
    async with database.sessions() as session, session.begin():
        result = await session.execute(
            sa.update(import_jobs)
            .where(
                import_jobs.c.id == job_id,
                sa.or_(
                    import_jobs.c.status == "pending",
                    sa.and_(
                        import_jobs.c.status == "running",
                        import_jobs.c.started_at < now - STALE_AFTER,
                    ),
                ),
            )
            .values(status="running", started_at=now, processed_rows=0)
        )
        return result.rowcount == 1


async def runnable_jobs(database: Database) -> list[uuid.UUID]:
    stale = datetime.now(UTC) - STALE_AFTER
    async with database.sessions() as session:
        return list(
            await session.scalars(
                sa.select(import_jobs.c.id)
                .where(
                    sa.or_(
                        import_jobs.c.status == "pending",
                        sa.and_(
                            import_jobs.c.status == "running", import_jobs.c.started_at < stale
                        ),
                    )
                )
                .order_by(import_jobs.c.created_at)
                .limit(10)
            )
        )


async def run(
    database: Database, outbox: Outbox, job_id: uuid.UUID, producer: str = "flight"
) -> None:
    if not await claim(database, job_id):
        return  # another replica has it, or it is done
    async with database.sessions() as session:
        job = (
            await session.execute(sa.select(import_jobs).where(import_jobs.c.id == job_id))
        ).one()
    context = EventContext(
        producer=producer,
        correlation_id=job.request_id,
        causation_id=job.request_id,
        actor=Actor(user_id=str(job.requested_by), role="admin"),
    )
    today = datetime.now(UTC).date()
    rows, errors, seen = [], [], {}
    try:
        for count, (line, fields) in enumerate(read_rows(job.content), start=1):
            try:
                row = parse_row(line, fields, today)
                if row.code in seen:
                    raise RowError(line, f"code {row.code} is also on line {seen[row.code]}")
                seen[row.code] = line
                rows.append(row)
            except RowError as err:
                errors.append({"row": err.row, "reason": err.reason})
            if count % PROGRESS_EVERY == 0:
                await _progress(database, job_id, count)
    except FileError as err:
        errors.append({"row": 1, "reason": str(err)})
    total = len(rows) + len([e for e in errors if e["row"] != 1 or not rows])

    created = updated = 0
    if not errors and rows:
        try:
            async with database.sessions() as session, session.begin():
                created, updated = await package_store.upsert_packages(
                    session, rows, now=datetime.now(UTC)
                )
                await _finish(
                    session, outbox, context, job, "succeeded", total, created, updated, []
                )
            log.info(
                "package_import_succeeded", job_id=str(job_id), created=created, updated=updated
            )
            return
        except RowError as err:
            errors.append({"row": err.row, "reason": err.reason})
    if not rows and not errors:
        errors.append({"row": 1, "reason": "the file has no packages"})
    async with database.sessions() as session, session.begin():
        await _finish(session, outbox, context, job, "failed", total, 0, 0, errors)
    log.info("package_import_failed", job_id=str(job_id), rejected=len(errors))


async def _progress(database: Database, job_id: uuid.UUID, processed: int) -> None:
    async with database.sessions() as session, session.begin():
        await session.execute(
            sa.update(import_jobs)
            .where(import_jobs.c.id == job_id)
            .values(processed_rows=processed)
        )


async def _finish(session, outbox, context, job, status, total, created, updated, errors) -> None:
    await session.execute(
        sa.update(import_jobs)
        .where(import_jobs.c.id == job.id)
        .values(
            status=status,
            total_rows=total,
            processed_rows=total,
            created=created,
            updated=updated,
            rejected=len(errors),
            errors=errors,
            finished_at=datetime.now(UTC),
        )
    )
    outbox.record(
        session,
        PackageImportCompleted(
            job_id=job.id,
            requested_by=job.requested_by,
            created=created,
            updated=updated,
            rejected=len(errors),
            rejected_rows=[RejectedRow(**e) for e in errors[:MAX_REPORTED_ERRORS]],
        ),
        context,
    )
