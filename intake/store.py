"""The database: SQLModel tables and the few queries the service needs, on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Field, Session, SQLModel, create_engine, delete, select

from intake.errors import StoreError
from intake.registry import FounderKind, Institution, InstitutionIndex


class InstitutionRecord(SQLModel, table=True):
    __tablename__ = "institutions"

    number: str = Field(primary_key=True, max_length=10)
    name: str
    kind: str
    founder: str
    municipality: str | None = None


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get their folder, WAL and foreign keys."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: object, _record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_schema(engine: Engine) -> None:
    try:
        SQLModel.metadata.create_all(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot create the schema: {exc.__class__.__name__}") from exc


def replace_institutions(engine: Engine, institutions: Iterable[Institution]) -> int:
    """Replace the registry with `institutions` in one transaction; returns how many were stored."""
    records = [
        InstitutionRecord(number=i.number, name=i.name, kind=i.kind, founder=i.founder.value,
                          municipality=i.municipality)
        for i in {i.number: i for i in institutions}.values()
    ]
    try:
        with Session(engine) as session:
            session.exec(delete(InstitutionRecord))
            session.add_all(records)
            session.commit()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot store the registry: {exc.__class__.__name__}") from exc
    return len(records)


def load_institution_index(engine: Engine) -> InstitutionIndex | None:
    """The imported registry, or None when none has been imported (names are then taken as given)."""
    try:
        with Session(engine) as session:
            records = session.exec(select(InstitutionRecord)).all()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the registry: {exc.__class__.__name__}") from exc
    if not records:
        return None
    return InstitutionIndex(
        Institution(r.number, r.name, r.kind, FounderKind(r.founder), r.municipality)
        for r in records)
