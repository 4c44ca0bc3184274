"""The institution registry in the database: the shipped export stored on first use, an imported
one replacing it, the index a poll matches names against (kept per process while unchanged), and
stored applications linked to it again after an import."""

from __future__ import annotations

import uuid

import sqlalchemy
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, delete, func, select

from intake.core.registry import (
    DEFAULT_EXPORT,
    FounderKind,
    Institution,
    InstitutionIndex,
    default_institutions,
)
from intake.errors import StoreError
from intake.store.tables import ApplicationRecord, InstitutionRecord, ServiceRecord


def _insert(session: Session, institutions: list[Institution]) -> int:
    """The institutions' rows, one statement for all (2,713 ORM objects cost half a second on the
    first start); returns how many."""
    rows = [{"number": i.number, "name": i.name, "kind": i.kind, "founder": i.founder.value,
             "municipality": i.municipality, "domains": " ".join(i.domains) or None}
            for i in {i.number: i for i in institutions}.values()]
    if rows:
        session.connection().execute(
            sqlalchemy.insert(InstitutionRecord.__table__), rows)  # type: ignore[attr-defined]
    return len(rows)


def replace_institutions(engine: Engine, institutions: list[Institution]) -> int:
    """Replace the registry with `institutions` in one transaction; returns how many were stored."""
    try:
        with Session(engine) as session:
            session.exec(delete(InstitutionRecord))
            session.exec(delete(ServiceRecord).where(col(ServiceRecord.key) == _SHIPPED_KEY))
            stored = _insert(session, institutions)
            session.merge(_new_version())
            session.commit()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot store the registry: {exc.__class__.__name__}") from exc
    return stored


# Present while the institutions are the shipped export's, until an import replaces them.
_SHIPPED_KEY = "registry_shipped"
# A new value with every write of the institutions: a process keeps its index while it is unchanged.
_VERSION_KEY = "registry_version"
_indexes: dict[str, tuple[str, InstitutionIndex]] = {}  # database URL -> (version, index)
_INDEXES_KEPT = 4  # a process uses one database; tools and tests may open a few


def _new_version() -> ServiceRecord:
    return ServiceRecord(key=_VERSION_KEY, value=uuid.uuid4().hex)


def load_default_registry(engine: Engine) -> int:
    """Store the registry that ships with the package if the database has none; returns how many
    were stored (0 when a registry was there). Safe when the daemon and commands start together:
    of two loaders the second finds the rows, or its insert collides with the first's and is undone."""
    try:
        with Session(engine) as session:
            if session.exec(select(func.count()).select_from(InstitutionRecord)).one():
                return 0
            stored = _insert(session, default_institutions())
            session.merge(ServiceRecord(key=_SHIPPED_KEY, value=DEFAULT_EXPORT.rpartition("/")[2]))
            session.merge(_new_version())
            session.commit()
            return stored
    except IntegrityError:
        # Another process loaded it meanwhile (PostgreSQL: a duplicate key; SQLite's writers take
        # turns, so the second finds the rows). A lock held beyond the busy timeout is raised.
        with Session(engine) as session:
            if session.exec(select(func.count()).select_from(InstitutionRecord)).one():
                return 0
        raise
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot store the registry: {exc.__class__.__name__}") from exc


def shipped_index() -> InstitutionIndex:
    """The registry that ships with the package, read without a database."""
    return InstitutionIndex(default_institutions(), imported=False)


def load_institution_index(engine: Engine, *, read_only: bool = False) -> InstitutionIndex | None:
    """The registry (the shipped one, stored on first use, until `intake institutions import`
    replaces it), or None when the table is empty after all (names are then taken as given).
    `read_only`: nothing is stored; an empty table gives the shipped registry from the package.
    Built once per process and database while the registry's version stays the same: a poll then
    costs two small queries, not the reading of every institution."""
    key = engine.url.render_as_string(hide_password=True)
    try:
        if not read_only:
            load_default_registry(engine)
        with Session(engine) as session:
            version = session.get(ServiceRecord, _VERSION_KEY)
            if version is None and not read_only:  # no version row yet: stamp one
                session.merge(_new_version())
                session.commit()
                version = session.get(ServiceRecord, _VERSION_KEY)
            stamp = version.value if version is not None else None
            cached = _indexes.get(key)
            if stamp is not None and cached is not None and cached[0] == stamp:
                return cached[1]
            table = InstitutionRecord.__table__  # type: ignore[attr-defined]
            records = session.connection().execute(  # plain rows: 2,713 ORM objects cost 60 ms
                sqlalchemy.select(table.c.number, table.c.name, table.c.kind, table.c.founder,
                                  table.c.municipality, table.c.domains)).all()
            shipped = session.get(ServiceRecord, _SHIPPED_KEY) is not None
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the registry: {exc.__class__.__name__}") from exc
    if not records:
        return shipped_index() if read_only else None
    index = InstitutionIndex(
        (Institution(number, name, kind, FounderKind(founder), municipality,
                     tuple((domains or "").split()))
         for number, name, kind, founder, municipality, domains in records), imported=not shipped)
    if stamp is not None:
        _indexes.pop(key, None)
        _indexes[key] = (stamp, index)
        while len(_indexes) > _INDEXES_KEPT:  # the oldest first
            del _indexes[next(iter(_indexes))]
    return index


def link_applications(engine: Engine) -> int:
    """Each stored application's registration number (R8's municipality and funding route) from
    its institution's name in the current registry, in one transaction. Returns how many changed."""
    index = load_institution_index(engine)
    changed = 0
    with Session(engine) as session:
        for application in session.exec(select(ApplicationRecord).where(
                col(ApplicationRecord.institution).is_not(None))).all():
            found = index.match(application.institution or "") if index else None
            number = found.number if found else None
            if number != application.institution_number:
                application.institution_number = number
                session.add(application)
                changed += 1
        session.commit()
    return changed
