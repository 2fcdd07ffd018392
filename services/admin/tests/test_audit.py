"""The audit log: append-only on PostgreSQL, tampering found by the verify endpoint (which
names the first broken row), filters, and the streamed CSV and JSON exports, which can be
checked offline with nothing but the rules in the service README (re-implemented here)."""

import csv
import hashlib
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from wayfare_admin.domain.audit import AuditDraft
from wayfare_admin.store import audit
from wayfare_admin.store.models import audit_head, audit_log
from wayfare_common.db import Database

from admin_support import running_admin

ADMIN = "9b0c8a57-4a0e-4a55-8a43-1d9f1b6a2c11"
OTHER = "1f0c8a57-4a0e-4a55-8a43-1d9f1b6a2c22"
T0 = datetime(2025, 6, 1, 12, tzinfo=UTC)


async def append(database: Database, count: int, start: int = 0) -> None:
    """Rows as staff actions leave them, straight through the store."""
    async with database.sessions() as session, session.begin():
        for i in range(start, start + count):
            await audit.append(
                session,
                AuditDraft(
                    occurred_at=T0 + timedelta(hours=i),
                    actor_user_id=ADMIN if i % 2 == 0 else OTHER,
                    actor_role="admin",
                    action="booking.cancel" if i % 3 else "payment.refund",
                    target_type="booking",
                    target_id=f"target-{i}",
                    details={"reason": f"Zoë's case {i}", "amount": "12.50", "n": i},
                ),
            )


async def verify(client, tokens) -> dict:
    response = await client.get("/api/v1/admin/audit/verify", headers=tokens.headers(ADMIN))
    assert response.status_code == 200, response.text
    return response.json()


async def row_id(database: Database, seq: int) -> str:
    async with database.sessions() as session:
        return str(await session.scalar(sa.select(audit_log.c.id).where(audit_log.c.seq == seq)))


async def superuser_execute(database: Database, *statements: str) -> None:
    """As a superuser with triggers off (session_replication_role = replica): the one way
    around the append-only trigger, and what a tamperer with full access would do."""
    async with database.engine.connect() as connection:
        await connection.execute(sa.text("SET session_replication_role = replica"))
        for statement in statements:
            await connection.execute(sa.text(statement))
        await connection.commit()


@pytest.fixture
async def postgres_admin(admin_postgres, tokens):
    async with running_admin(admin_postgres, tokens) as client:
        yield client


async def test_postgres_refuses_changes_and_verify_finds_bypassed_ones(postgres_admin, tokens):
    database = postgres_admin.app.state.database
    await append(database, 6)
    result = await verify(postgres_admin, tokens)
    assert (result["valid"], result["rows_checked"], result["first_broken"]) == (True, 6, None)
    assert result["head"]["seq"] == 6

    for statement in (
        "UPDATE audit_log SET action = 'nothing' WHERE seq = 3",
        "DELETE FROM audit_log WHERE seq = 6",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with database.sessions() as session, session.begin():
                await session.execute(sa.text(statement))
    assert (await verify(postgres_admin, tokens))["valid"] is True

    # Row 3's details changed behind the trigger's back: row 3 no longer matches its hash.
    await superuser_execute(
        database,
        'UPDATE audit_log SET details = \'{"reason": "nothing happened"}\' WHERE seq = 3',
    )
    result = await verify(postgres_admin, tokens)
    assert result["valid"] is False
    assert result["first_broken"] == {
        "seq": 3,
        "id": await row_id(database, 3),
        "reason": "hash_mismatch",
    }
    assert result["rows_checked"] == 3


async def test_verify_finds_rewritten_removed_and_cut_rows(postgres_admin, tokens):
    database = postgres_admin.app.state.database
    await append(database, 5)
    # Row 2 rewritten with a recomputed hash of its own: the next row's link breaks.
    async with database.sessions() as session:
        row = (await session.execute(sa.select(audit_log).where(audit_log.c.seq == 2))).one()
    forged = {**row._mapping, "action": "nothing"}
    forged["hash"] = offline_hash(forged)
    await superuser_execute(
        database,
        f"UPDATE audit_log SET action = 'nothing', hash = '{forged['hash']}' WHERE seq = 2",
    )
    result = await verify(postgres_admin, tokens)
    assert result["first_broken"] == {
        "seq": 3,
        "id": await row_id(database, 3),
        "reason": "prev_hash_mismatch",
    }

    # Row 2 put back, row 4 removed: the chain jumps from 3 to 5.
    await superuser_execute(
        database,
        f"UPDATE audit_log SET action = '{row.action}', hash = '{row.hash}' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 4",
    )
    result = await verify(postgres_admin, tokens)
    assert result["first_broken"] == {
        "seq": 5,
        "id": await row_id(database, 5),
        "reason": "seq_gap",
    }

    # The last rows cut off: the head still remembers row 5.
    await superuser_execute(database, "DELETE FROM audit_log WHERE seq >= 4")
    result = await verify(postgres_admin, tokens)
    assert result == {
        "valid": False,
        "rows_checked": 3,
        "first_broken": {"seq": 4, "id": None, "reason": "missing_rows"},
        "head": result["head"],
    }
    assert result["head"]["seq"] == 5


async def test_sqlite_has_no_trigger_but_verify_finds_the_change(admin_sqlite, tokens):
    async with running_admin(admin_sqlite, tokens) as client:
        database = client.app.state.database
        await append(database, 4)
        async with database.sessions() as session, session.begin():
            await session.execute(
                sa.update(audit_log).where(audit_log.c.seq == 2).values(actor_user_id="mallory")
            )
        result = await verify(client, tokens)
        assert result["first_broken"] == {
            "seq": 2,
            "id": await row_id(database, 2),
            "reason": "hash_mismatch",
        }


async def test_list_filters_and_streamed_exports(postgres_admin, tokens):
    database = postgres_admin.app.state.database
    await append(database, 600)  # more than one export batch
    headers = tokens.headers(ADMIN)

    async def listed(**params) -> dict:
        response = await postgres_admin.get("/api/v1/admin/audit", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    page = await listed(actor=OTHER, action="payment.refund", limit=3, total="true")
    # Odd i (OTHER) that are multiples of 3 (payment.refund): i = 3, 9, ..., 597.
    assert page["total"] == 100
    assert [e["seq"] for e in page["data"]] == [598, 592, 586]  # seq = i + 1, newest first
    assert (await listed(target="target-41"))["data"][0]["seq"] == 42
    window = await listed(**{"from": "2025-06-01T13:00:00Z", "to": "2025-06-01T15:00:00Z"})
    assert [e["seq"] for e in window["data"]] == [3, 2]  # 13:00 and 14:00; 15:00 excluded
    whole_day = await listed(**{"from": "2025-06-02", "to": "2025-06-02", "total": "true"})
    assert whole_day["total"] == 24
    bad = await postgres_admin.get(
        "/api/v1/admin/audit", params={"from": "2025-06-01T10:00:00"}, headers=headers
    )
    assert bad.status_code == 422  # a time without an offset

    async with postgres_admin.stream(
        "GET", "/api/v1/admin/audit/export", params={"format": "csv"}, headers=headers
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "content-length" not in response.headers  # streamed
        assert response.headers["content-disposition"].startswith("attachment;")
        text = "".join([chunk async for chunk in response.aiter_text()])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(row["seq"]) for row in rows] == list(range(1, 601))
    assert json.loads(rows[9]["details"]) == {"reason": "Zoë's case 9", "amount": "12.50", "n": 9}
    check_offline([{**row, "details": json.loads(row["details"])} for row in rows])

    response = await postgres_admin.get(
        "/api/v1/admin/audit/export", params={"format": "json"}, headers=headers
    )
    assert response.headers["content-type"] == "application/json"
    entries = response.json()
    assert len(entries) == 600
    check_offline(
        [
            {
                **entry,
                "actor_user_id": entry["actor"]["user_id"],
                "actor_role": entry["actor"]["role"],
                "target_type": entry["target"]["type"],
                "target_id": entry["target"]["id"],
            }
            for entry in entries
        ]
    )

    filtered = await postgres_admin.get(
        "/api/v1/admin/audit/export",
        params={"format": "json", "target": "target-7"},
        headers=headers,
    )
    assert [entry["seq"] for entry in filtered.json()] == [8]

    async with database.sessions() as session:
        head = (await session.execute(sa.select(audit_head))).one()
    assert head.hash == entries[-1]["hash"]


def offline_hash(row: dict) -> str:
    """The README's recipe, independently of the service's code."""

    def text(value):
        return None if value in (None, "") else str(value)

    occurred = row["occurred_at"]
    if isinstance(occurred, str):
        occurred = datetime.fromisoformat(occurred.replace("Z", "+00:00"))
    document = {
        "prev_hash": row["prev_hash"],
        "seq": int(row["seq"]),
        "id": str(row["id"]),
        "occurred_at": occurred.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": {"user_id": text(row["actor_user_id"]), "role": row["actor_role"]},
        "action": row["action"],
        "target": {"type": text(row["target_type"]), "id": text(row["target_id"])},
        "details": row["details"],
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_offline(rows: list[dict]) -> None:
    previous = "0" * 64
    for row in rows:
        assert row["prev_hash"] == previous, row["seq"]
        assert offline_hash(row) == row["hash"], row["seq"]
        previous = row["hash"]


def test_offline_check_notices_a_change():
    row = {
        "seq": 1,
        "id": uuid.uuid4(),
        "occurred_at": T0,
        "actor_user_id": ADMIN,
        "actor_role": "admin",
        "action": "booking.cancel",
        "target_type": "booking",
        "target_id": "b",
        "details": {"reason": "x"},
        "prev_hash": "0" * 64,
    }
    row["hash"] = offline_hash(row)
    check_offline([row])
    with pytest.raises(AssertionError):
        check_offline([{**row, "details": {"reason": "y"}}])
