"""application details: the contact person, preferred times, mode, questions and remarks a school
wrote, and the first reason of a rejection, for the coordinator and the staff summary

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_COLUMNS = (("contact_name", 200), ("contact_position", 200), ("contact_phone", 20),
            ("contact_email", 320), ("preferred_times", 1000), ("mode", 20),
            ("questions", 2000), ("remarks", 2000), ("first_error", 50))


def upgrade() -> None:
    # Plain ADD COLUMN on both databases (see 0007): applications is pointed to by other tables.
    for name, length in _COLUMNS:
        op.add_column("applications", sa.Column(
            name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True))


def downgrade() -> None:
    for name, _length in reversed(_COLUMNS):
        op.drop_column("applications", name)
