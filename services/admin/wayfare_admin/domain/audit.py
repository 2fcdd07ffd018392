"""The tamper-evident audit log: what a row is, how it is hashed, how a chain is checked,
and which events are staff actions that belong in it.

Each row's `hash` is SHA-256 over a canonical JSON document of the row and the previous
row's hash:

    {"action", "actor": {"role", "user_id"}, "details", "id", "occurred_at", "prev_hash",
     "seq", "target": {"id", "type"}}

with keys sorted, no whitespace (separators "," and ":"), UTF-8 without \\u escapes,
`occurred_at` as UTC with microseconds ("2025-06-01T10:00:00.000000Z"), and hashes as
lower-case hex. The first row's `prev_hash` is 64 zeros. Changing any field of any row,
removing a row or reordering rows breaks the chain from that row on.
"""

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from wayfare_admin.domain.archive import redact
from wayfare_common.events.envelope import Envelope

GENESIS_HASH = "0" * 64
STAFF_ROLES = frozenset({"admin"})

# Which id in an event's data names what it is about, most specific first (a payment
# event also names its booking, a booking event its user).
_TARGETS = (
    ("payment_id", "payment"),
    ("payout_id", "payout"),
    ("booking_id", "booking"),
    ("job_id", "import_job"),
    ("flight_id", "flight"),
    ("user_id", "user"),
)


@dataclass(frozen=True)
class AuditDraft:
    """A row before it is chained."""

    occurred_at: datetime
    actor_user_id: str | None
    actor_role: str
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class AuditEntry(AuditDraft):
    seq: int = 0
    prev_hash: str = GENESIS_HASH
    hash: str = ""


def plain_json(value: Any) -> Any:
    """`value` as it reads back from a JSON column (tuples as lists, UUIDs as strings), so
    that the hash computed now is the hash recomputed later."""
    return orjson.loads(orjson.dumps(value, default=str))


def format_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(entry: AuditEntry) -> bytes:
    document = {
        "prev_hash": entry.prev_hash,
        "seq": entry.seq,
        "id": str(entry.id),
        "occurred_at": format_time(entry.occurred_at),
        "actor": {"user_id": entry.actor_user_id, "role": entry.actor_role},
        "action": entry.action,
        "target": {"type": entry.target_type, "id": entry.target_id},
        "details": entry.details,
    }
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def hash_of(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def seal(draft: AuditDraft, seq: int, prev_hash: str) -> AuditEntry:
    """Chain `draft` after the row whose hash is `prev_hash`."""
    entry = AuditEntry(
        id=draft.id,
        occurred_at=draft.occurred_at.astimezone(UTC),
        actor_user_id=draft.actor_user_id,
        actor_role=draft.actor_role,
        action=draft.action,
        target_type=draft.target_type,
        target_id=draft.target_id,
        details=plain_json(draft.details),
        seq=seq,
        prev_hash=prev_hash,
    )
    return replace(entry, hash=hash_of(entry))


@dataclass(frozen=True)
class Break:
    seq: int
    id: uuid.UUID | None
    reason: str  # hash_mismatch | prev_hash_mismatch | seq_gap | missing_rows


class ChainCheck:
    """Feed rows in `seq` order; the first row that does not hold is kept in `broken`."""

    def __init__(self) -> None:
        self.rows_checked = 0
        self.broken: Break | None = None
        self._seq = 0
        self._hash = GENESIS_HASH

    def feed(self, entry: AuditEntry) -> bool:
        """False once the chain is broken (stop feeding)."""
        self.rows_checked += 1
        if entry.seq != self._seq + 1:
            self.broken = Break(entry.seq, entry.id, "seq_gap")
        elif entry.prev_hash != self._hash:
            self.broken = Break(entry.seq, entry.id, "prev_hash_mismatch")
        elif hash_of(entry) != entry.hash:
            self.broken = Break(entry.seq, entry.id, "hash_mismatch")
        self._seq, self._hash = entry.seq, entry.hash
        return self.broken is None

    def finish(self, head_seq: int, head_hash: str) -> Break | None:
        """The head remembers the last row: rows cut off the end show here."""
        if self.broken is None and (head_seq, head_hash) != (self._seq, self._hash):
            self.broken = Break(self._seq + 1, None, "missing_rows")
        return self.broken


def staff_actor(envelope: Envelope, data: Mapping[str, Any]) -> tuple[str | None, str] | None:
    """Who on the staff caused this event: the envelope's actor, or an actor the payload
    names (`cancelled_by`, `refunded_by`, any `*_by` object with a role); else None."""
    if envelope.actor.role in STAFF_ROLES:
        return envelope.actor.user_id, envelope.actor.role
    for key, value in data.items():
        if key.endswith("_by") and isinstance(value, Mapping) and value.get("role") in STAFF_ROLES:
            return value.get("user_id"), value["role"]
    return None


def target_of(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    for key, kind in _TARGETS:
        if data.get(key) is not None:
            return kind, str(data[key])
    return None, None


def draft_for_event(envelope: Envelope) -> AuditDraft | None:
    """The audit row of an event a staff member caused; None for everyone else's."""
    actor = staff_actor(envelope, envelope.data)
    if actor is None:
        return None
    target_type, target_id = target_of(envelope.data)
    return AuditDraft(
        # Derived from the event id, so that the event's row is recognisable in the log.
        id=uuid.uuid5(uuid.NAMESPACE_URL, f"wayfare:audit:event:{envelope.id}"),
        occurred_at=envelope.occurred_at,
        actor_user_id=actor[0],
        actor_role=actor[1],
        action=envelope.type,
        target_type=target_type,
        target_id=target_id,
        details={
            "source": "event",
            "event_id": str(envelope.id),
            "version": envelope.version,
            "producer": envelope.producer,
            "correlation_id": envelope.correlation_id,
            "data": redact(envelope.type, envelope.data),
        },
    )
