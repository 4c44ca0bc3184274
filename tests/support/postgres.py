"""A fresh PostgreSQL database per test session on 127.0.0.1:5432, dropped afterwards."""

from __future__ import annotations

import uuid

import psycopg

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def create_database() -> str:
    name = f"intake_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
