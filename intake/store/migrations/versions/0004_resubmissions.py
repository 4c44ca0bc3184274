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
    op.create_index(op.f("ix_resubmissions_application_id"), "resubmissions", ["application_id"])
    op.create_index(op.f("ix_resubmissions_message_row"), "resubmissions", ["message_row"])
    op.add_column("applications", sa.Column(
        "fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.add_column("applications", sa.Column(
        "amended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # Batch mode would rebuild the table, and with foreign keys on, SQLite refuses to drop a
        # table that findings and groups point to; ALTER TABLE can add a referencing column.
        op.execute("ALTER TABLE applications ADD COLUMN resolves_id INTEGER "
                   "CONSTRAINT fk_applications_resolves_id REFERENCES applications (id)")
    else:
        op.add_column("applications", sa.Column("resolves_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_applications_resolves_id", "applications", "applications",
                              ["resolves_id"], ["id"])
    op.create_index(op.f("ix_applications_fingerprint"), "applications", ["fingerprint"])
    op.create_index(op.f("ix_applications_resolves_id"), "applications", ["resolves_id"])
    op.add_column("outbox", sa.Column(
        "message_id", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
    op.create_index(op.f("ix_outbox_message_id"), "outbox", ["message_id"])
    _fingerprint_accepted_lists()
    _read_back_message_ids()


def _fingerprint_accepted_lists() -> None:
    """Lists accepted before this revision get their fingerprint from their stored people, so the
    same list sent again is recognised as already registered. (Rejected lists kept no people.)
    The fingerprint is the application's own: a later change of its definition needs a revision."""
    from intake.core.model import Participant, Role
    from intake.core.resubmission import list_fingerprint

    bind = op.get_bind()
    applications = sa.table("applications", sa.column("id", sa.Integer()),
                            sa.column("institution", sa.String()), sa.column("verdict", sa.String()),
                            sa.column("fingerprint", sa.String()))
    groups = sa.table("groups", sa.column("id", sa.Integer()),
                      sa.column("application_id", sa.Integer()), sa.column("label", sa.String()))
    people = sa.table("participants", *(sa.column(name) for name in (
        "group_id", "row", "first_name", "last_name", "position", "email", "role")))
    institutions = dict(bind.execute(sa.select(applications.c.id, applications.c.institution)
                                     .where(applications.c.verdict == "accepted")).all())
    found: dict[int, list[Participant]] = {}
    for application_id, label, row, first, last, position, email, role in bind.execute(
            sa.select(groups.c.application_id, groups.c.label, people.c.row, people.c.first_name,
                      people.c.last_name, people.c.position, people.c.email, people.c.role)
            .join(people, people.c.group_id == groups.c.id)).all():
        if application_id in institutions:
            found.setdefault(application_id, []).append(
                Participant(row, first, last, position, email, Role(role), label))
    for application_id, members in found.items():
        bind.execute(sa.update(applications).where(applications.c.id == application_id).values(
            fingerprint=list_fingerprint(institutions[application_id], members)))


def _read_back_message_ids() -> None:
    """Replies not sent yet: their Message-ID read from the stored mail. (A sent reply's copy was
    dropped once sent: an answer to it finds its application by the number the school names.)"""
    bind = op.get_bind()
    outbox = sa.table("outbox", sa.column("id", sa.Integer()), sa.column("raw", sa.LargeBinary()),
                      sa.column("message_id", sa.String()))
    ids = bind.execute(sa.select(outbox.c.id).where(sa.func.length(outbox.c.raw) > 0)).scalars()
    for row_id in list(ids):  # one mail at a time: the outbox may hold many
        raw = bind.execute(sa.select(outbox.c.raw).where(outbox.c.id == row_id)).scalar_one()
        found = _MESSAGE_ID.search(bytes(raw).split(b"\r\n\r\n", 1)[0])
        if found:
            bind.execute(sa.update(outbox).where(outbox.c.id == row_id)
                         .values(message_id=found.group(1).decode("ascii", "replace")))


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_message_id"), table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("message_id")
    op.drop_index(op.f("ix_applications_resolves_id"), table_name="applications")
    op.drop_index(op.f("ix_applications_fingerprint"), table_name="applications")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        if op.get_bind().dialect.name != "sqlite":
            batch_op.drop_constraint("fk_applications_resolves_id", type_="foreignkey")
        for column in ("amended_at", "resolves_id", "fingerprint"):
            batch_op.drop_column(column)
    op.drop_index(op.f("ix_resubmissions_message_row"), table_name="resubmissions")
    op.drop_index(op.f("ix_resubmissions_application_id"), table_name="resubmissions")
    op.drop_table("resubmissions")
