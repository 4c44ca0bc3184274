"""The database's tables (SQLModel), on SQLite or PostgreSQL.

Constraints, not care, keep a message from being processed twice: a message's SHA-256 and its
place in a mailbox are unique, an incoming message has at most one reply in the outbox, and (where
the programme allows one supervision per educator) a person's key is registered once.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Column,
    ColumnElement,
    LargeBinary,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel, col

from intake.core.states import Verdict


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
    # What the school wrote for the coordinator (core.details): the contact person, the days and
    # times that suit it, in person or remote; questions and remarks one per line.
    contact_name: str | None = Field(default=None, max_length=200)
    contact_position: str | None = Field(default=None, max_length=200)
    contact_phone: str | None = Field(default=None, max_length=20)
    contact_email: str | None = Field(default=None, max_length=320)
    preferred_times: str | None = Field(default=None, max_length=1000)
    mode: str | None = Field(default=None, max_length=20)
    questions: str | None = Field(default=None, max_length=2000)
    remarks: str | None = Field(default=None, max_length=2000)
    first_error: str | None = Field(default=None, max_length=50)  # a rejection's first finding code
    # Accepted beyond the programme's supervision cap: waiting for a place (R7); moved up (and
    # the school told) when a withdrawal frees one.
    waitlisted_at: datetime | None = Field(default=None, index=True)
    promoted_at: datetime | None = None


def standing() -> tuple[ColumnElement[bool], ...]:
    """Accepted, not withdrawn and not waiting: the applications that hold supervisions and people."""
    return (col(ApplicationRecord.verdict) == Verdict.ACCEPTED,
            col(ApplicationRecord.withdrawn_at).is_(None),
            col(ApplicationRecord.waitlisted_at).is_(None))


def waiting() -> tuple[ColumnElement[bool], ...]:
    """Accepted beyond the cap, not withdrawn: the waiting list (R7)."""
    return (col(ApplicationRecord.verdict) == Verdict.ACCEPTED,
            col(ApplicationRecord.withdrawn_at).is_(None),
            col(ApplicationRecord.waitlisted_at).is_not(None))


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
    # Below the programme's `merge_below`: no supervision of its own until staff merge it.
    to_merge: bool = False


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
