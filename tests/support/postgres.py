"""PostgreSQL databases for the tests on 127.0.0.1:5432: made from a migrated template, dropped afterwards."""

from __future__ import annotations

import uuid

import psycopg

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def create_database(template: str | None = None) -> str:
    """A new database, empty or a copy of `template` (no one may be connected to it)."""
    name = f"intake_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}" STRATEGY WAL_LOG' if template else ""
    with psycopg.connect(ADMIN, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE DATABASE "{name}"{copy}')
    return name


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
