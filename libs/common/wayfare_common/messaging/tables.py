"""The outbox and inbox tables that every service's database holds.

They live on their own metadata; each service's Alembic environment includes it next to
the service's own models, and each service's first migration calls `create_tables_v1`.
A later change to these tables adds `upgrade_to_v2` here rather than editing v1, so every
service's history stays reproducible.
"""

import sqlalchemy as sa

from wayfare_common.db import BigId, new_metadata

messaging_metadata = new_metadata()


outbox = sa.Table(
    "outbox",
    messaging_metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", sa.Uuid, nullable=False, unique=True),
    sa.Column("routing_key", sa.String(200), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),  # the envelope's JSON, as sent
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.Index(
        "ix_outbox_unpublished",
        "seq",
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    ),
)

inbox = sa.Table(
    "inbox",
    messaging_metadata,
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
)


def create_tables_v1(op) -> None:
    """Create the outbox and inbox as of version 1 (called from a service migration)."""
    op.create_table(
        "outbox",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("routing_key", sa.String(200), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox"),
        sa.UniqueConstraint("id", name="uq_outbox_id"),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["seq"],
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_inbox"),
    )


def drop_tables_v1(op) -> None:
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")
