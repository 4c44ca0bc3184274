"""capacity: applications wait-listed beyond a programme's supervision cap (and moved up when a
place is freed), and groups too small to be a supervision of their own, which staff merge

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases (see 0007).
    op.add_column("applications", sa.Column(
        "waitlisted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column("applications", sa.Column(
        "promoted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_index(op.f("ix_applications_waitlisted_at"), "applications", ["waitlisted_at"])
    op.add_column("groups", sa.Column("to_merge", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("groups", "to_merge")
    op.drop_index(op.f("ix_applications_waitlisted_at"), table_name="applications")
    op.drop_column("applications", "promoted_at")
    op.drop_column("applications", "waitlisted_at")
