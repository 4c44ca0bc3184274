"""resubmissions: list fingerprints, corrections linked to the rejection they fix, amendments,
and our replies' Message-IDs (a school's answer to one finds its application)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import re

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]{1,290}>)", re.IGNORECASE | re.MULTILINE)


def upgrade() -> None:
    op.create_table(
        "resubmissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("message_row", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["message_row"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("resubmissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resubmissions_application_id"), ["application_id"])
        batch_op.create_index(batch_op.f("ix_resubmissions_message_row"), ["message_row"])
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column("resolves_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("amended_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.create_index(batch_op.f("ix_applications_fingerprint"), ["fingerprint"])
        batch_op.create_index(batch_op.f("ix_applications_resolves_id"), ["resolves_id"])
        batch_op.create_foreign_key("fk_applications_resolves_id", "applications",
                                    ["resolves_id"], ["id"])
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=300),
                                      nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_message_id"), ["message_id"])
    # Replies sent before this revision: their Message-ID read back from the stored mail.
    bind = op.get_bind()
    outbox = sa.table("outbox", sa.column("id", sa.Integer()), sa.column("raw", sa.LargeBinary()),
                      sa.column("message_id", sa.String()))
    rows = bind.execute(sa.select(outbox.c.id, outbox.c.raw)).all()
    for row_id, raw in rows:
        head = bytes(raw or b"").split(b"\r\n\r\n", 1)[0]
        found = _MESSAGE_ID.search(head)
        if found:
            bind.execute(sa.update(outbox).where(outbox.c.id == row_id)
                         .values(message_id=found.group(1).decode("ascii", "replace")))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_id"))
        batch_op.drop_column("message_id")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_constraint("fk_applications_resolves_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_applications_resolves_id"))
        batch_op.drop_index(batch_op.f("ix_applications_fingerprint"))
        for column in ("amended_at", "resolves_id", "fingerprint"):
            batch_op.drop_column(column)
    with op.batch_alter_table("resubmissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resubmissions_message_row"))
        batch_op.drop_index(batch_op.f("ix_resubmissions_application_id"))
    op.drop_table("resubmissions")
