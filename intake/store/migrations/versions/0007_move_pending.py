"""move pending: mail decided and answered whose move to its folder the server refused

Revision ID: 0007
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: a batch rebuild of `messages` on SQLite would have to
    # drop a table that applications, outbox and resubmissions point to.
    op.add_column("messages", sa.Column(
        "unmoved_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column("messages", sa.Column(
        "move_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
    op.create_index(op.f("ix_messages_unmoved_since"), "messages", ["unmoved_since"])


def downgrade() -> None:
    op.drop_index(op.f("ix_messages_unmoved_since"), table_name="messages")
    # ALTER TABLE … DROP COLUMN (SQLite 3.35 and later) for the same reason as above.
    op.drop_column("messages", "move_error")
    op.drop_column("messages", "unmoved_since")
