"""Wires configuration to the pipeline: engine, templates, registry, mailbox and SMTP connections."""

from __future__ import annotations

import logging
import os
import signal
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from intake.config import Settings
from intake.core.replies import make_environment
from intake.core.states import MessageState
from intake.errors import StoreError
from intake.mail.mailbox import open_source, with_retries
from intake.mail.oauth import token_source
from intake.mail.outbox import Transport, open_transport
from intake.mail.source import MailSource
from intake.poll.context import Context
from intake.poll.pipeline import PollSummary, poll
from intake.store import lease
from intake.store.applications import fix_times
from intake.store.engine import open_engine
from intake.store.registry import load_institution_index
from intake.store.schema import is_current, upgrade
from intake.store.tables import (
    ApplicationRecord,
    GroupRecord,
    MessageRecord,
    OutboxRecord,
    OutboxState,
    ParticipantRecord,
    ResubmissionRecord,
    ServiceRecord,
    standing,
)

log = logging.getLogger(__name__)


def prepare_engine(settings: Settings) -> Engine:
    engine = open_engine(settings.database_url)
    upgrade(engine)
    return engine


@dataclass
class _Failpoint:
    """Tests only: INTAKE_FAILPOINT=NAME kills at the first pass through that step, NAME:N at the
    Nth."""

    wanted: str
    passes: int  # left until the kill

    @classmethod
    def of(cls, setting: str | None) -> _Failpoint:
        wanted, _sep, nth = (setting or "").partition(":")
        return cls(wanted, int(nth) if nth.isdigit() else 1)

    def __call__(self, name: str) -> None:
        if name != self.wanted:
            return
        self.passes -= 1
        if self.passes <= 0:
            log.warning("failpoint %s: killing the process", name)
            os.kill(os.getpid(), signal.SIGKILL)


def make_context(settings: Settings, engine: Engine, **overrides: object) -> Context:
    """The context of a poll or a staff action; `overrides` replace its clock or hooks (tests)."""
    return Context(settings=settings, engine=engine,
                   environment=make_environment(settings.templates_dir),
                   registry=load_institution_index(engine),
                   failpoint=_Failpoint.of(settings.failpoint),
                   **overrides)  # type: ignore[arg-type]


def open_mailbox(settings: Settings) -> MailSource:
    mail = settings.mail
    tokens = token_source(settings) if mail.mailbox_auth == "xoauth2" else None
    return with_retries(lambda: open_source(mail.mailbox_url, password=mail.mailbox_password,
                                            ca_file=mail.tls_ca_file, timeout=mail.timeout_seconds,
                                            tokens=tokens))


def open_smtp(settings: Settings) -> Transport:
    mail = settings.mail
    tokens = token_source(settings) if mail.smtp_auth == "xoauth2" else None
    return open_transport(mail.smtp_url, password=mail.smtp_password, ca_file=mail.tls_ca_file,
                          timeout=mail.timeout_seconds, tokens=tokens)


def poll_once(settings: Settings, engine: Engine, **overrides: object) -> PollSummary | None:
    """One poll under the poll lock; None when another poller holds it (two daemons started by
    mistake against one database never work the same mailbox at once)."""
    try:
        with lease.poll_lock(engine) as held:
            if not held:
                log.info("another poller holds the lock; this poll is skipped")
                return None
            context = make_context(settings, engine, **overrides)
            source = open_mailbox(settings)
            transport = open_smtp(settings)
            try:
                return poll(context, source, transport)
            finally:
                transport.close()
                source.close()
    except SQLAlchemyError as exc:  # the database is out (the lock, the registry): one line
        raise StoreError(f"database unreachable: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:300]}") from exc


@dataclass(frozen=True, slots=True)
class Status:
    messages: dict[str, int]
    outbox: dict[str, int]
    last_good_poll: str | None
    applications: dict[str, int]
    oldest_pending: str | None = None  # when the longest-waiting unsent reply was queued
    # Lists sent again: by resubmission.Relation; applications amended; rejections corrected.
    resubmissions: dict[str, int] = field(default_factory=dict)
    registered_participants: int = 0  # in accepted applications not withdrawn
    amended: int = 0
    corrections: int = 0
    median_hours_to_fix: float | None = None  # from a rejection to the accepted correction
    # Decided and answered, but kept in the mailbox by a folder the server refuses (intake.poll.moves).
    not_moved: int = 0
    not_moved_since: str | None = None
    move_error: str | None = None

    @property
    def quarantined(self) -> int:
        return self.messages.get(MessageState.QUARANTINED, 0)

    def problems(self, now: datetime, interval_seconds: int) -> list[str]:
        """What an operator must look at: a monitor alerts on a non-empty list."""
        found = []
        if self.last_good_poll is None:
            found.append("no poll has succeeded yet")
        elif now - datetime.fromisoformat(self.last_good_poll) > timedelta(
                seconds=3 * interval_seconds):
            found.append(f"the last good poll was at {self.last_good_poll}, more than three "
                         "intervals ago")
        if self.quarantined:
            found.append(f"{self.quarantined} message(s) in quarantine")
        if self.oldest_pending is not None and now - datetime.fromisoformat(
                self.oldest_pending) > timedelta(seconds=3 * interval_seconds):
            found.append(f"{self.outbox.get(OutboxState.PENDING, 0)} repl(ies) waiting to be sent, "
                         f"the oldest since {self.oldest_pending}: the SMTP server is unreachable "
                         "or refusing them")
        if self.not_moved:
            found.append(f"{self.not_moved} message(s) decided and answered but not moved to their "
                         f"folders since {self.not_moved_since}: {self.move_error}; they are not "
                         "answered again, and the first poll after the folder works moves them "
                         "(`intake check` tests the folders)")
        return found

    def as_json(self) -> dict[str, object]:
        return {"messages": self.messages, "outbox": self.outbox,
                "applications": self.applications, "quarantined": self.quarantined,
                "last_good_poll": self.last_good_poll, "oldest_pending": self.oldest_pending,
                "registered_participants": self.registered_participants,
                "resubmissions": self.resubmissions, "amended": self.amended,
                "corrections": self.corrections, "median_hours_to_fix": self.median_hours_to_fix,
                "not_moved": self.not_moved, "not_moved_since": self.not_moved_since}


def read_status(engine: Engine) -> Status:
    try:
        return _read_status(engine)
    except SQLAlchemyError as exc:  # a monitor gets exit status 3 and one line, not a traceback
        raise StoreError(f"database unreachable: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:300]}") from exc


def _read_status(engine: Engine) -> Status:
    if not is_current(engine):
        raise StoreError("the database schema is not current: run `intake db upgrade`")
    with Session(engine) as session:
        messages = Counter(dict(session.exec(
            select(MessageRecord.state, func.count()).group_by(col(MessageRecord.state))).all()))
        outbox = Counter(dict(session.exec(
            select(OutboxRecord.state, func.count()).group_by(col(OutboxRecord.state))).all()))
        applications = Counter(dict(session.exec(
            select(ApplicationRecord.verdict, func.count())
            .group_by(col(ApplicationRecord.verdict))).all()))
        last = session.get(ServiceRecord, "last_good_poll")
        oldest = session.exec(select(func.min(OutboxRecord.created_at))
                              .where(OutboxRecord.state == OutboxState.PENDING)).one()
        resubmissions = dict(session.exec(
            select(ResubmissionRecord.kind, func.count())
            .group_by(col(ResubmissionRecord.kind))).all())
        people = session.exec(
            select(func.count()).select_from(ParticipantRecord)
            .join(GroupRecord, col(GroupRecord.id) == col(ParticipantRecord.group_id))
            .join(ApplicationRecord, col(ApplicationRecord.id) == col(GroupRecord.application_id))
            .where(*standing())).one()
        amended = session.exec(select(func.count()).select_from(ApplicationRecord)
                               .where(col(ApplicationRecord.amended_at).is_not(None))).one()
        fixes = fix_times(session)
        not_moved, since = session.exec(
            select(func.count(), func.min(MessageRecord.unmoved_since))
            .where(col(MessageRecord.unmoved_since).is_not(None))).one()
        move_error = session.exec(
            select(MessageRecord.move_error).where(col(MessageRecord.unmoved_since).is_not(None))
            .order_by(col(MessageRecord.unmoved_since).desc()).limit(1)).first()
    return Status(dict(messages), dict(outbox), last.value if last else None, dict(applications),
                  oldest.isoformat() if oldest is not None else None, resubmissions, people,
                  amended, len(fixes),
                  round(median(fixes) / 3600, 1) if fixes else None, not_moved=not_moved,
                  not_moved_since=since.isoformat() if since is not None else None,
                  move_error=move_error)
