"""The database: SQLModel tables and the few queries the service needs, on SQLite or PostgreSQL.

Constraints, not care, keep a message from being processed twice: a message's SHA-256 and its
place in a mailbox are unique, an incoming message has at most one reply in the outbox, and (where
the programme allows one supervision per educator) a person's key is registered once.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import (
    URL,
    Column,
    ColumnElement,
    Connection,
    Engine,
    LargeBinary,
    UniqueConstraint,
    event,
    make_url,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Field, Session, SQLModel, col, create_engine, delete, func, select

from intake.core.registry import (
    DEFAULT_EXPORT,
    FounderKind,
    Institution,
    InstitutionIndex,
    default_institutions,
)
from intake.core.states import Verdict
from intake.errors import StoreError


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender; left so only by a crash mid-send (never resent)
    SENT = "sent"
    HELD = "held"  # over the per-recipient daily limit: for staff
    FAILED = "failed"  # gave up after retries
    CANCELLED = "cancelled"  # replaced by a later reply (reprocess) or its application withdrawn


class InstitutionRecord(SQLModel, table=True):
    __tablename__ = "institutions"

    number: str = Field(primary_key=True, max_length=10)
    name: str
    kind: str
    founder: str
    municipality: str | None = None
    domains: str | None = None  # the e-mail domains of the export's "E-pasts", space-separated


class MessageRecord(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("mailbox", "location", name="uq_messages_place"),
                      UniqueConstraint("content_key", name="uq_messages_content_key"))

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(max_length=300)
    location: str = Field(max_length=300)  # "UIDVALIDITY:UID" on IMAP, the file's key in a Maildir
    sha256: str = Field(max_length=64, unique=True)
    # The same mail delivered again differs in its transport headers only: Message-ID + body.
    content_key: str | None = Field(default=None, max_length=64)
    message_id: str = Field(default="", max_length=998, index=True)
    sender: str = Field(default="", max_length=320, index=True)
    subject: str = Field(default="", max_length=998)
    state: str = Field(max_length=20, index=True)
    reason: str = Field(default="", max_length=200)
    attempts: int = 0
    error: str = ""
    received_at: datetime
    processed_at: datetime | None = None
    purged_at: datetime | None = None  # raw mail removed after the retention period
    # Decided and answered, but still in the mailbox: the server refused the move to its folder.
    # Since when, and what it said; cleared once the mail is moved (or gone from the mailbox).
    unmoved_since: datetime | None = Field(default=None, index=True)
    move_error: str | None = Field(default=None, max_length=500)
    raw: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class ApplicationRecord(SQLModel, table=True):
    __tablename__ = "applications"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True)
    message_row: int = Field(foreign_key="messages.id", index=True)
    attachment: str = Field(max_length=300)
    programme: str = Field(max_length=50)
    institution: str | None = Field(default=None, max_length=300)
    institution_number: str | None = Field(default=None, max_length=10, index=True)  # in the registry
    verdict: str = Field(max_length=10)  # accepted, rejected; superseded (replaced by reprocess)
    errors: int = 0
    warnings: int = 0
    created_at: datetime
    # Withdrawn by staff (`intake withdraw`): its people are free again (R5); the rows stay.
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = Field(default=None, max_length=100)
    withdrawn_reason: str | None = Field(default=None, max_length=500)
    # The list's fingerprint (resubmission.list_fingerprint): the same people sent again.
    fingerprint: str | None = Field(default=None, max_length=64, index=True)
    # The rejected application this list corrects: staff see how long schools take to fix a list.
    resolves_id: int | None = Field(default=None, foreign_key="applications.id", index=True)
    amended_at: datetime | None = None  # its list last replaced by an amendment (same number)


def standing() -> tuple[ColumnElement[bool], ...]:
    """Accepted and not withdrawn: the applications that hold supervisions and people."""
    return (col(ApplicationRecord.verdict) == Verdict.ACCEPTED,
            col(ApplicationRecord.withdrawn_at).is_(None))


class FindingRecord(SQLModel, table=True):
    """How often a finding's code occurred in an application: the summary's reasons, no values."""

    __tablename__ = "findings"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    severity: str = Field(max_length=10)
    code: str = Field(max_length=50, index=True)
    count: int = 1


class ResubmissionRecord(SQLModel, table=True):
    """A list that came again for an existing application: the same list (accepted or rejected),
    or an amendment (applied or refused). Counts only; the people are in the application's groups."""

    __tablename__ = "resubmissions"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    message_row: int = Field(foreign_key="messages.id", index=True)
    kind: str = Field(max_length=20)  # resubmission.Relation
    added: int = 0
    removed: int = 0
    unchanged: int = 0
    created_at: datetime


class GroupRecord(SQLModel, table=True):
    __tablename__ = "groups"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    position: int
    kind: str = Field(max_length=10)
    label: str | None = Field(default=None, max_length=100)


class ParticipantRecord(SQLModel, table=True):
    """What R5 and the confirmation need; never a personal code."""

    __tablename__ = "participants"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id", index=True)
    row: int
    first_name: str = Field(max_length=200)
    last_name: str = Field(max_length=200)
    position: str = Field(max_length=300)
    email: str = Field(max_length=320)
    role: str = Field(max_length=10)


class RegistrationRecord(SQLModel, table=True):
    """R5: a person (by folded name at an institution, or by e-mail) registered once per programme."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("programme", "key", name="uq_registrations_key"),)

    id: int | None = Field(default=None, primary_key=True)
    programme: str = Field(max_length=50)
    key: str = Field(max_length=700)
    application_id: int = Field(foreign_key="applications.id", index=True)


class OutboxRecord(SQLModel, table=True):
    """Mail to send: a reply (one per message and revision) or a staff summary (no message)."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("message_row", "revision", name="uq_outbox_reply"),)

    id: int | None = Field(default=None, primary_key=True)
    message_row: int | None = Field(default=None, foreign_key="messages.id", index=True)
    # 0 for the first reply; `intake reprocess --reply` adds one each time the outcome changes.
    revision: int = 0
    # Our Message-ID: a school's reply to it (In-Reply-To) finds the application it answers.
    message_id: str | None = Field(default=None, max_length=300, index=True)
    recipient: str = Field(max_length=320, index=True)
    subject: str = Field(max_length=998)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: str = Field(max_length=10, index=True)
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str = ""
    created_at: datetime
    sent_at: datetime | None = None


class WatermarkRecord(SQLModel, table=True):
    """The highest IMAP UID committed per mailbox and UIDVALIDITY."""

    __tablename__ = "watermarks"

    mailbox: str = Field(primary_key=True, max_length=300)
    uidvalidity: int
    last_uid: int


class SummaryRecord(SQLModel, table=True):
    """A day whose staff summary has been queued: the daily job sends each day once."""

    __tablename__ = "summaries"

    day: date = Field(primary_key=True)
    created_at: datetime
    recipients: int


class ServiceRecord(SQLModel, table=True):
    """Small facts about the service: the last good poll, the application number sequence."""

    __tablename__ = "service"

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(max_length=100)


# How long a SQLite connection waits for another process's write transaction before it gives up
# with "database is locked": longer than any transaction of ours (a poll's batch, a registry
# import), so a writer waits its turn instead of failing.
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def open_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for `url`. SQLite files get their folder, WAL, foreign keys, a busy timeout, and
    transactions that take the write lock when they begin (see `_sqlite_begin_immediate`).

    `read_only`: the engine never writes and creates nothing: a SQLite file is opened with
    `mode=ro` (it must exist: `sqlite_file` says where), PostgreSQL runs every transaction
    READ ONLY. Its transactions read one consistent snapshot."""
    sqlite_path = sqlite_file(url)
    if sqlite_path is not None and not read_only:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        options: dict[str, object] = {}
        if read_only and make_url(url).get_backend_name() == "postgresql":
            options["postgresql_readonly"] = True  # each transaction BEGINs READ ONLY
        target: str | URL = url
        if read_only and sqlite_path is not None:
            target = _read_only_sqlite_url(url, sqlite_path)
        # hide_parameters: a failing statement's values (educators' names) never reach a log.
        engine = create_engine(target, pool_pre_ping=True, hide_parameters=True,
                               connect_args=_connect_args(url), execution_options=options)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot use database URL ({exc.__class__.__name__})") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_reader_pragmas if read_only else _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin if read_only else _sqlite_begin_immediate)
    return engine


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for another database or one in memory."""
    try:
        parsed = make_url(url)
    except (SQLAlchemyError, ValueError):
        return None  # open_engine says what is wrong with it
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("uri") in ("true", "1") or parsed.database.startswith("file:"):
        return None  # a SQLite URI of the operator's own: taken as it is
    return Path(parsed.database)


def _read_only_sqlite_url(url: str, path: Path) -> URL:
    # mode=ro: SQLite itself refuses every write and never creates the file; percent-encoded by
    # as_uri(), so a path with '?', '#' or '%' stays a path.
    return make_url(url).set(database=path.resolve().as_uri(),
                             query={"mode": "ro", "uri": "true"})


# PostgreSQL over the network: a server that does not answer fails the connection within 10 s
# (as SQLite's busy timeout fails a locked file) instead of hanging the poll, and keepalives find a
# connection whose peer vanished. Parameters given in the URL's query win.
_POSTGRES_CONNECT = {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30,
                     "keepalives_interval": 10, "keepalives_count": 3}


def _connect_args(url: str) -> dict[str, object]:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {}
    return {k: v for k, v in _POSTGRES_CONNECT.items() if k not in parsed.query}


def _sqlite_pragmas(connection: Any, _record: object) -> None:
    _sqlite_reader_pragmas(connection, _record)
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL survives a crash of the process (not of the OS) without an fsync per
    # commit; the daemon's guarantee is about its own crashes.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_reader_pragmas(connection: Any, _record: object) -> None:
    # The driver's own transaction handling (a BEGIN before INSERT, UPDATE and DELETE only, none
    # before DDL) is switched off: SQLAlchemy's "begin" event emits the BEGIN (the pattern the
    # SQLAlchemy SQLite dialect documents), so DDL is transactional and a transaction's reads
    # share its snapshot.
    connection.isolation_level = None
    cursor = connection.cursor()
    # First, so that even switching to WAL waits for another process's lock.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    # The write lock from the start. A deferred transaction that has read and then writes cannot
    # wait for another writer (in WAL its snapshot would be stale): SQLite fails it at once with
    # "database is locked", busy timeout or not. Taken at BEGIN, the busy timeout applies, and the
    # transactions of a writing process simply queue. Readers in other processes (WAL) never wait.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def _records(institutions: list[Institution]) -> list[InstitutionRecord]:
    return [
        InstitutionRecord(number=i.number, name=i.name, kind=i.kind, founder=i.founder.value,
                          municipality=i.municipality, domains=" ".join(i.domains) or None)
        for i in {i.number: i for i in institutions}.values()
    ]


def replace_institutions(engine: Engine, institutions: list[Institution]) -> int:
    """Replace the registry with `institutions` in one transaction; returns how many were stored."""
    records = _records(institutions)
    try:
        with Session(engine) as session:
            session.exec(delete(InstitutionRecord))
            session.exec(delete(ServiceRecord).where(col(ServiceRecord.key) == _SHIPPED_KEY))
            session.add_all(records)
            session.merge(_new_version())
            session.commit()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot store the registry: {exc.__class__.__name__}") from exc
    return len(records)


# Present while the institutions are the shipped export's, until an import replaces them.
_SHIPPED_KEY = "registry_shipped"
# A new value with every write of the institutions: a process keeps its index while it is unchanged.
_VERSION_KEY = "registry_version"
_indexes: dict[str, tuple[str, InstitutionIndex | None]] = {}  # database URL -> (version, index)


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
            records = _records(default_institutions())
            session.add_all(records)
            session.merge(ServiceRecord(key=_SHIPPED_KEY, value=DEFAULT_EXPORT.rpartition("/")[2]))
            session.merge(_new_version())
            session.commit()
            return len(records)
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
            if version is None and not read_only:  # a registry stored before versions were kept
                session.merge(_new_version())
                session.commit()
                version = session.get(ServiceRecord, _VERSION_KEY)
            stamp = version.value if version is not None else None
            cached = _indexes.get(key)
            if stamp is not None and cached is not None and cached[0] == stamp:
                return cached[1]
            records = session.exec(select(InstitutionRecord)).all()
            shipped = session.get(ServiceRecord, _SHIPPED_KEY) is not None
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the registry: {exc.__class__.__name__}") from exc
    if not records:
        return shipped_index() if read_only else None
    index = InstitutionIndex(
        (Institution(r.number, r.name, r.kind, FounderKind(r.founder), r.municipality,
                     tuple((r.domains or "").split()))
         for r in records), imported=not shipped)
    if stamp is not None:
        _indexes[key] = (stamp, index)
    return index
