"""Column types shared by the admin tables."""

from datetime import UTC, datetime

import sqlalchemy as sa


class UtcDateTime(sa.types.TypeDecorator):
    """An aware datetime stored in UTC. SQLite keeps only the wall-clock digits it is
    given, so values are converted to UTC on the way in and marked UTC on the way out
    (PostgreSQL's timestamptz does the same by itself). The dashboard's day buckets and
    the audit hashes rely on every stored instant being UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: admin times must carry an offset")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
