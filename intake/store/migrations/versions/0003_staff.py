"""staff work: findings per application, registry numbers, withdrawals, reprocess replies,
daily summaries, retention

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# SQLite reflects the first schema's unnamed UNIQUE(message_row) without a name: batch mode names
# it by this convention so it can be dropped. PostgreSQL named it itself.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_application_id"), ["application_id"])
        batch_op.create_index(batch_op.f("ix_findings_code"), ["code"])
    op.create_table(
        "summaries",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("institution_number",
                                      sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by", sqlmodel.sql.sqltypes.AutoString(length=100),
                                      nullable=True))
        batch_op.add_column(sa.Column("withdrawn_reason",
                                      sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.create_index(batch_op.f("ix_applications_institution_number"),
                              ["institution_number"])
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("outbox", schema=None,
                              naming_convention=_NAMING if sqlite else None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.drop_constraint("uq_outbox_message_row" if sqlite else "outbox_message_row_key",
                                 type_="unique")
        batch_op.create_unique_constraint("uq_outbox_reply", ["message_row", "revision"])
        batch_op.create_index(batch_op.f("ix_outbox_message_row"), ["message_row"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_row"))
        batch_op.drop_constraint("uq_outbox_reply", type_="unique")
        batch_op.create_unique_constraint("uq_outbox_message_row", ["message_row"])
        batch_op.drop_column("revision")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_institution_number"))
        for column in ("withdrawn_reason", "withdrawn_by", "withdrawn_at", "institution_number"):
            batch_op.drop_column(column)
    op.drop_table("summaries")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_code"))
        batch_op.drop_index(batch_op.f("ix_findings_application_id"))
    op.drop_table("findings")
