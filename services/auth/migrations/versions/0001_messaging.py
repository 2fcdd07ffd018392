"""The outbox and inbox.

Revision ID: 0001
Revises:
"""

from alembic import op
from wayfare_common.messaging.tables import create_tables_v1, drop_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_tables_v1(op)


def downgrade() -> None:
    drop_tables_v1(op)
