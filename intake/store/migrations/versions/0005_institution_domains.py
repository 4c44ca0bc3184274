"""institution domains: the e-mail domains of the registry's institutions, to recognise a sender

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN of a nullable column needs no table rebuild on SQLite or PostgreSQL. Rows imported
    # before it have no domains until the next `intake institutions import`.
    op.add_column("institutions", sa.Column("domains", sqlmodel.sql.sqltypes.AutoString(),
                                            nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("institutions") as batch:
        batch.drop_column("domains")
