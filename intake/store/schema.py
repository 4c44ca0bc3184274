"""Runs the store's migrations (Alembic), so every database gets the same schema the same way."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from intake.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported only when a migration runs: a database already at the newest revision (every
# start but the first after an upgrade) is checked with one query, and start-up stays short.
_MIGRATIONS = Path(__file__).parent / "migrations"

log = logging.getLogger(__name__)


def _config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["engine"] = engine
    return config


# Our key among the database's advisory locks ("SUP_MIG"); the poll lock has its own.
_MIGRATION_LOCK = 0x5355505F4D4947


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (the newest by default); safe to run on every start, and
    from any number of processes at once: one migrates, the others wait for it under a lock, then
    find the schema current and do nothing.

    The lock, and the check of the current revision, are on the migration's own connection:
    PostgreSQL takes a session advisory lock there (a waiting process blocks in
    pg_advisory_lock; a holder that dies frees it with its connection). SQLite takes the
    database's write lock with the transaction itself (the store BEGINs IMMEDIATE): DDL is
    transactional there, so Alembic reads the revision, migrates and records the new one in one
    transaction that the others' BEGIN IMMEDIATE waits for (busy timeout). A lock file beside the
    database would add a file that must be writable and could be bypassed by anything opening the
    database directly; the database's own lock covers every connection."""
    try:
        if revision == "head" and current_revision(engine) == head_revision():
            return
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the database: {exc.__class__.__name__}: {exc}") from exc
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as connection, _migration_lock(connection), connection.begin():
            before = MigrationContext.configure(connection).get_current_revision()
            config = _config(engine)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            after = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the database: {exc.__class__.__name__}: {exc}") from exc
    if after != before:
        log.info("database schema upgraded from %s to %s", before or "nothing", after)


@contextlib.contextmanager
def _migration_lock(connection: Connection) -> Iterator[None]:
    if connection.dialect.name != "postgresql":
        yield  # SQLite: the transaction's own write lock (see `upgrade`)
        return
    # A session lock (not pg_advisory_xact_lock): it would also hold across a migration that
    # commits part way (Alembic's autocommit_block), which a transaction lock would not.
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
    connection.commit()
    try:
        yield
    finally:
        # A connection lost meanwhile took the lock with it; the migration's error is the one
        # to report.
        with contextlib.suppress(SQLAlchemyError):
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
            connection.commit()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (Alembic's table), or None for a database without it."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str:
    """The newest migration's revision: each file in versions/ is named after its revision
    (`0007_move_pending.py` is revision 0007, revised from 0006), a rule a test holds them to."""
    return max(path.name.split("_", 1)[0] for path in (_MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
