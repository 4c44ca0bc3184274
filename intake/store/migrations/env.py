"""Alembic's environment: the engine comes from `intake.store.schema.upgrade`, never from a file."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import intake.store.tables  # noqa: F401 - registers the tables on SQLModel.metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
# `upgrade` hands over a connection already in its transaction (under the migration lock), so
# this adds none: the revision check, every migration and the new revision commit together, or
# not at all, on SQLite (whose BEGIN the store emits) as on PostgreSQL.
with context.begin_transaction():
    context.run_migrations()
