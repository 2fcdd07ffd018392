"""The audit log: list with filters, verify the chain, export as CSV or JSON."""

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from wayfare_admin.api.deps import ADMIN_ONLY, PREFIX, DatabaseDep, parse_bound
from wayfare_admin.api.schemas import (
    AdminPage,
    AuditEntryOut,
    BrokenLinkOut,
    HeadOut,
    VerifyOut,
    page_response,
)
from wayfare_admin.domain.audit import ChainCheck, format_time
from wayfare_admin.store import audit, listings
from wayfare_admin.store.models import audit_log
from wayfare_common.api import SessionDep
from wayfare_common.pagination import PageParamsDep, paginate

router = APIRouter(prefix=PREFIX + "/audit", tags=["admin: audit log"], dependencies=ADMIN_ONLY)


class AuditFilters:
    def __init__(
        self,
        actor: Annotated[str | None, Query(max_length=64, description="Actor's user id")] = None,
        action: Annotated[
            str | None,
            Query(max_length=100, description="e.g. payment.refund or booking.cancelled"),
        ] = None,
        target: Annotated[str | None, Query(max_length=64, description="Target's id")] = None,
        target_type: Annotated[
            str | None, Query(max_length=40, description="user, booking, payment ...")
        ] = None,
        since: Annotated[
            str | None,
            Query(alias="from", description="A date, or a time with an offset (inclusive)"),
        ] = None,
        until: Annotated[
            str | None,
            Query(
                alias="to",
                description="A date (that whole day included), or a time with an offset "
                "(exclusive)",
            ),
        ] = None,
    ):
        self.conditions = listings.audit_filters(
            actor=actor,
            action=action,
            target=target,
            target_type=target_type,
            since=parse_bound(since, "from", end=False),
            before=parse_bound(until, "to", end=True),
        )


@router.get("", response_model=AdminPage[AuditEntryOut], summary="Audit log entries, newest first")
async def list_entries(
    session: SessionDep,
    page: PageParamsDep,
    filters: Annotated[AuditFilters, Depends()],
    total: Annotated[bool, Query(description="Also count the matching entries.")] = False,
):
    stmt = audit_log.select().where(*filters.conditions)
    found = await paginate(session, stmt, listings.AUDIT_ORDER, page, descending=True)
    return page_response(
        AdminPage[AuditEntryOut](
            data=[AuditEntryOut.of(audit.entry_of(row._mapping)) for row in found.data],
            next_cursor=found.next_cursor,
            total=await listings.count(session, stmt) if total else None,
        )
    )


@router.get(
    "/verify",
    response_model=VerifyOut,
    summary="Check the whole chain; name the first row that does not hold",
    description="Recomputes every row's hash and checks each link to the previous row, "
    "then that the chain ends where the head says. `first_broken.reason`: "
    "`hash_mismatch` (the row was changed), `prev_hash_mismatch` (the row before it was "
    "changed, replaced or removed), `seq_gap` (rows removed before it), `missing_rows` "
    "(rows removed from the end; `id` is null).",
)
async def verify(session: SessionDep) -> VerifyOut:
    head_seq, head_hash = await audit.head(session)
    check = ChainCheck()
    async for entry in audit.in_order(session):
        if not check.feed(entry):
            break
    broken = check.finish(head_seq, head_hash)
    return VerifyOut(
        valid=broken is None,
        rows_checked=check.rows_checked,
        first_broken=BrokenLinkOut(seq=broken.seq, id=broken.id, reason=broken.reason)
        if broken
        else None,
        head=HeadOut(seq=head_seq, hash=head_hash),
    )


CSV_COLUMNS = (
    "seq",
    "id",
    "occurred_at",
    "actor_user_id",
    "actor_role",
    "action",
    "target_type",
    "target_id",
    "details",
    "prev_hash",
    "hash",
)


@router.get(
    "/export",
    summary="The audit log as a CSV or JSON download, streamed",
    description="Entries in chain order (oldest first) up to the head at the start of the "
    "export, with the same filters as the list. CSV: one row per entry, `details` as "
    "JSON. JSON: an array of the list's entries. Unfiltered, the file is the whole chain "
    "and can be checked offline with the rules in the service README.",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
)
async def export(
    database: DatabaseDep,
    filters: Annotated[AuditFilters, Depends()],
    format: Literal["csv", "json"] = "csv",
):
    async with database.sessions() as session:
        up_to, _ = await audit.head(session)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    rows = _rows(database, filters, up_to)
    body = _csv(rows) if format == "csv" else _json(rows)
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8" if format == "csv" else "application/json",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.{format}"'},
    )


async def _rows(database, filters: AuditFilters, up_to: int):
    # Its own session: the response body is sent after the route (and its dependencies)
    # have returned.
    async with database.sessions() as session:
        async for entry in audit.in_order(session, filters.conditions, up_to=up_to):
            yield entry


async def _csv(entries) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    async for entry in entries:
        writer.writerow(
            (
                entry.seq,
                entry.id,
                format_time(entry.occurred_at),
                entry.actor_user_id or "",
                entry.actor_role,
                entry.action,
                entry.target_type or "",
                entry.target_id or "",
                orjson.dumps(entry.details, option=orjson.OPT_SORT_KEYS).decode(),
                entry.prev_hash,
                entry.hash,
            )
        )
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def _json(entries) -> AsyncIterator[bytes]:
    chunk, separator = bytearray(b"["), b""
    async for entry in entries:
        chunk += separator + AuditEntryOut.of(entry).model_dump_json().encode()
        separator = b","
        if len(chunk) > 64 * 1024:
            yield bytes(chunk)
            chunk.clear()
    yield bytes(chunk + b"]")
