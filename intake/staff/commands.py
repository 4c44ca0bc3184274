"""What staff and operators do besides the poll: the daily summary, reprocessing stored mail,
withdrawing an application, releasing replies, and purging raw mail after the retention period.

Each action is one transaction: a crash leaves it done or not done, never half done.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from intake.config import Settings
from intake.core.outcome import TOO_LARGE, MessageOutcome, prepare_message
from intake.core.replies import Envelope, FileAttachment, Rendered, compose_email, make_environment
from intake.core.states import MessageState, Verdict
from intake.errors import IntakeError
from intake.poll.context import Context
from intake.poll.recording import Arrival, finish, write_outcome
from intake.poll.replies import REPLIED_STATES
from intake.poll.sending import Delivery, deliver_pending
from intake.poll.service import make_context, open_smtp
from intake.staff.export import write_export
from intake.staff.reports import build_report
from intake.staff.summary import due_day, export_name, render_summary
from intake.store import lease
from intake.store.registry import load_institution_index
from intake.store.tables import (
    ApplicationRecord,
    FindingRecord,
    GroupRecord,
    MessageRecord,
    OutboxRecord,
    OutboxState,
    ParticipantRecord,
    RegistrationRecord,
    ResubmissionRecord,
    SummaryRecord,
)

log = logging.getLogger(__name__)


class StaffError(IntakeError):
    """A staff action that cannot be done as asked (unknown record, wrong state)."""


# --- the daily summary ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SummaryMail:
    subject: str
    text: str
    html: str
    export: bytes | None


def make_summary(settings: Settings, engine: Engine, day: date) -> SummaryMail:
    zone = ZoneInfo(settings.timezone)
    report = build_report(engine, day, zone, settings.programmes)
    rendered = render_summary(report, make_environment(settings.templates_dir))
    export = None if report.quiet else write_export(engine, zone, first=day, last=day)
    return SummaryMail(rendered.subject, rendered.text, rendered.html, export)


def queue_summary(settings: Settings, engine: Engine, day: date, now: datetime, *,
                  once: bool) -> int:
    """Put the day's summary in the outbox for each staff address; returns how many mails.
    `once`: recorded for the day, so the daily job never sends a day twice (0 if it already has)."""
    staff = settings.mail.staff
    if not staff:
        raise StaffError("no staff addresses are configured ([mail] staff or INTAKE_STAFF)")
    summary = make_summary(settings, engine, day)
    attachments = [FileAttachment(export_name(day), summary.export)] if summary.export else []
    with Session(engine) as session:
        if once:
            session.add(SummaryRecord(day=day, created_at=now, recipients=len(staff)))
        for address in staff:
            envelope = Envelope(sender=settings.mail.address, recipient=address,
                                message_id=f"<{uuid.uuid4().hex}@{settings.mail.domain}>",
                                date=now, auto_submitted="auto-generated")
            raw = compose_email(Rendered(summary.subject, summary.text, summary.html), envelope,
                                attachments)
            session.add(OutboxRecord(recipient=address, subject=summary.subject[:998], raw=raw,
                                     state=OutboxState.PENDING, next_attempt_at=now,
                                     created_at=now))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return 0  # another process queued this day first
    return len(staff)


def summary_already_queued(engine: Engine, day: date) -> bool:
    with Session(engine) as session:
        return session.get(SummaryRecord, day) is not None


def send_due_summary(settings: Settings, engine: Engine, now: datetime) -> int:
    """The daily job: the latest due day's summary, once; sent at once. Returns mails queued."""
    if not settings.mail.staff:
        log.warning("daily summary: no staff addresses configured; nothing sent")
        return 0
    day = due_day(now, ZoneInfo(settings.timezone), settings.summary_time)
    if summary_already_queued(engine, day):
        log.info("daily summary for %s was queued before; nothing to send", day)
        return 0
    queued = queue_summary(settings, engine, day, now, once=True)
    if queued:
        log.info("daily summary for %s queued for %d staff address(es)", day, queued)
        send_outbox(settings, engine, now)
    return queued


def send_outbox(settings: Settings, engine: Engine, now: datetime) -> Delivery:
    """Send what is due now (the poll does the same at its end)."""
    transport = open_smtp(settings)
    try:
        return deliver_pending(engine, transport, sender=settings.mail.address, now=now,
                               max_attempts=settings.mail.send_retries,
                               retry_seconds=settings.mail.send_retry_seconds)
    finally:
        transport.close()


# --- reprocessing stored mail ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Reprocessed:
    message_row: int
    before: str
    after: str
    changed: bool
    replied: bool
    note: str = ""


def find_messages(engine: Engine, selector: str | None, *, quarantined: bool) -> list[int]:
    """Message rows by row id or Message-ID, or every quarantined and failed one."""
    with Session(engine) as session:
        if quarantined:
            query = select(MessageRecord.id).where(col(MessageRecord.state).in_(
                [MessageState.QUARANTINED, MessageState.FAILED]))
        elif selector and selector.isdigit():
            query = select(MessageRecord.id).where(MessageRecord.id == int(selector))
        elif selector:
            wanted = selector if selector.startswith("<") else f"<{selector}>"
            query = select(MessageRecord.id).where(MessageRecord.message_id == wanted)
        else:
            raise StaffError("name a message (its number or Message-ID) or give --quarantined")
        rows = [row for row in session.exec(query.order_by(col(MessageRecord.id))).all() if row]
    if not rows and not quarantined:
        raise StaffError(f"no stored message {selector}")
    return rows


def reprocess(settings: Settings, engine: Engine, rows: Iterable[int], *, reply: bool,
              now: Callable[[], datetime], progress: Callable[[], object] = lambda: None
              ) -> list[Reprocessed]:
    """The current rules and registry on stored raw mail. A changed outcome supersedes the old
    applications (kept, marked `superseded`, their people released) with new ones numbered anew;
    a reply goes out only if `reply`, and replaces any reply of the message not yet sent."""
    with lease.poll_lock(engine) as held:
        if not held:
            raise StaffError("the daemon is polling right now; try again in a minute")
        context = make_context(settings, engine, now=now)
        results = []
        for row in rows:
            results.append(_reprocess_one(context, row, reply=reply))
            progress()
        return results


def _reprocess_one(context: Context, row: int, *, reply: bool) -> Reprocessed:
    with Session(context.engine) as session:
        record = session.get(MessageRecord, row)
        if record is None:
            raise StaffError(f"no stored message {row}")
        before = _signature(session, record)
        if record.raw is None:
            return Reprocessed(row, before, before, False, False,
                               "raw mail purged after the retention period")
        withdrawn = session.exec(select(ApplicationRecord.number).where(
            ApplicationRecord.message_row == row,
            col(ApplicationRecord.withdrawn_at).is_not(None))).all()
        if withdrawn:
            return Reprocessed(row, before, before, False, False,
                               f"not reprocessed: {', '.join(withdrawn)} was withdrawn")
        # An amended application (or the mail that amended or repeated one) holds a later list
        # than this mail's: deciding the mail again would undo what the school sent since.
        amended = session.exec(select(ApplicationRecord.number).where(
            ApplicationRecord.message_row == row,
            col(ApplicationRecord.amended_at).is_not(None))).all()
        again = session.exec(select(ResubmissionRecord.id).where(
            ResubmissionRecord.message_row == row)).first()
        if amended or again is not None:
            what = f"{', '.join(amended)} was amended since" if amended else (
                "it resubmitted or amended an earlier application")
            return Reprocessed(row, before, before, False, False, f"not reprocessed: {what}")
        raw = record.raw
        _supersede_applications(session, row)
        try:
            prepared = prepare_message(raw, context.preparation(),
                                       oversized=record.reason == TOO_LARGE)
            decided = finish(context, prepared, session)
        except Exception as exc:  # noqa: BLE001 - still our error: left as it was
            session.rollback()
            return Reprocessed(row, before, before, False, False,
                               f"still fails: {type(exc).__name__}")
        after = _outcome_signature(decided.outcome)
        if after == before:
            session.rollback()
            return Reprocessed(row, before, after, False, False)
        revision = _next_revision(session, row)
        send = reply and decided.outcome.state in REPLIED_STATES
        if send:
            _cancel_unsent(session, OutboxRecord.message_row == row)
        record.attempts = 0
        arrival = Arrival(record.mailbox, record.location, raw, record.sha256,
                          received_at=record.received_at)
        write_outcome(context, session, arrival, decided, record, reply=send, revision=revision)
        session.commit()
    log.info("message %d reprocessed: %s -> %s%s", row, before, after,
             " (reply queued)" if send else "")
    return Reprocessed(row, before, after, True, send)


def _signature(session: Session, record: MessageRecord) -> str:
    """A message's stored outcome as staff compare it: its state, each list's verdict and the
    codes of its errors (each code once, however many rows had it)."""
    lists = []
    for application in session.exec(select(ApplicationRecord).where(
            ApplicationRecord.message_row == record.id,
            ApplicationRecord.verdict != Verdict.SUPERSEDED).order_by(col(ApplicationRecord.id))).all():
        codes = session.exec(select(FindingRecord.code).where(
            FindingRecord.application_id == application.id, FindingRecord.severity == "error")
        ).all()
        lists.append((application.verdict, codes))
    return describe(str(record.state), record.reason, lists)


def _outcome_signature(outcome: MessageOutcome) -> str:
    lists = [(Verdict.of(item.decision.accepted),
              [f.code for f in item.decision.errors]) for item in outcome.lists]
    return describe(str(outcome.state), outcome.reason, lists)


def describe(state: str, reason: str, lists: Sequence[tuple[str, Sequence[str]]]) -> str:
    """`application: accepted[], rejected[email.invalid]`, `no_list`, `application (too-large)`."""
    if state != MessageState.APPLICATION:
        return state
    if not lists:
        return f"{state} ({reason})"
    return f"{state}: " + ", ".join(f"{verdict}[{' '.join(sorted(set(codes)))}]"
                                    for verdict, codes in lists)



def _supersede_applications(session: Session, message_row: int) -> None:
    """Mark a message's applications superseded and release their people (R5) and their rows of
    people, in the open transaction: the numbers stay taken, the findings stay for the record."""
    ids = list(session.exec(select(ApplicationRecord.id).where(
        ApplicationRecord.message_row == message_row,
        ApplicationRecord.verdict != Verdict.SUPERSEDED)).all())
    if not ids:
        return
    groups = select(GroupRecord.id).where(col(GroupRecord.application_id).in_(ids))
    session.execute(delete(ParticipantRecord).where(col(ParticipantRecord.group_id).in_(groups)))
    for table in (GroupRecord, RegistrationRecord):
        session.execute(delete(table).where(col(table.application_id).in_(ids)))
    session.execute(update(ApplicationRecord).where(col(ApplicationRecord.id).in_(ids))
                    .values(verdict=Verdict.SUPERSEDED))
    session.flush()


def _cancel_unsent(session: Session, *conditions: object) -> None:
    """Replies not sent yet (pending, held, failed) that a newer decision makes wrong."""
    session.execute(update(OutboxRecord).where(*conditions).where(  # type: ignore[arg-type]
        col(OutboxRecord.state).in_([OutboxState.PENDING, OutboxState.HELD, OutboxState.FAILED]))
        .values(state=OutboxState.CANCELLED))


def _next_revision(session: Session, message_row: int) -> int:
    latest = session.exec(select(func.max(OutboxRecord.revision))
                          .where(OutboxRecord.message_row == message_row)).one()
    return 0 if latest is None else latest + 1


# --- the registry ---------------------------------------------------------------------------------

def link_institutions(engine: Engine) -> int:
    """After a registry import: each application's registration number (R8's municipality and
    funding route) from its institution's name. Returns how many changed."""
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


# --- withdrawal -----------------------------------------------------------------------------------

def withdraw(engine: Engine, number: str, *, by: str, reason: str, now: datetime) -> int:
    """Withdraw an accepted application: its people are free to be registered again (R5).
    Returns how many participants it had."""
    with Session(engine) as session:
        application = session.exec(select(ApplicationRecord).where(
            ApplicationRecord.number == number.strip().upper())).first()
        if application is None:
            raise StaffError(f"no application {number}")
        if application.withdrawn_at is not None:
            raise StaffError(f"{application.number} was withdrawn already "
                             f"({application.withdrawn_at:%Y-%m-%d} by {application.withdrawn_by})")
        if application.verdict != Verdict.ACCEPTED:
            raise StaffError(f"{application.number} was rejected: it holds no places")
        released = session.exec(
            select(func.count()).select_from(ParticipantRecord)
            .join(GroupRecord, col(GroupRecord.id) == col(ParticipantRecord.group_id))
            .where(GroupRecord.application_id == application.id)).one()
        session.execute(delete(RegistrationRecord).where(
            col(RegistrationRecord.application_id) == application.id))
        _cancel_unsent(session, OutboxRecord.message_row == application.message_row)
        application.withdrawn_at = now
        application.withdrawn_by = by[:100]
        application.withdrawn_reason = reason[:500]
        session.add(application)
        session.commit()
        number = application.number
    log.info("application %s withdrawn; %d participant(s) free to apply again", number, released)
    return released


# --- the outbox -----------------------------------------------------------------------------------

def resend(engine: Engine, ids: Sequence[int], now: datetime) -> int:
    """Send held, failed or interrupted (`sending`) replies again: staff have checked them."""
    with engine.begin() as connection:
        table = OutboxRecord.__table__  # type: ignore[attr-defined]
        result = connection.execute(
            update(table).where(table.c.id.in_(list(ids)))
            .where(table.c.state.in_([OutboxState.HELD, OutboxState.FAILED, OutboxState.SENDING]))
            .where(table.c.raw != b"")
            .values(state=OutboxState.PENDING, attempts=0, next_attempt_at=now))
    return int(result.rowcount)


# --- retention ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Purged:
    messages: int
    replies: int


def purge(engine: Engine, now: datetime, days: int) -> Purged:
    """Raw mail decided more than `days` ago, and unsent replies as old, are removed; the decisions
    stay. Mail still being retried (failed) and quarantined mail (for `intake reprocess`) are kept.
    """
    if days <= 0:
        return Purged(0, 0)
    cutoff = now - timedelta(days=days)
    messages = MessageRecord.__table__  # type: ignore[attr-defined]
    outbox = OutboxRecord.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        purged = connection.execute(
            update(messages).where(messages.c.raw.is_not(None))
            .where(messages.c.processed_at < cutoff)
            .where(messages.c.state.not_in([MessageState.FAILED, MessageState.QUARANTINED]))
            .values(raw=None, purged_at=now)).rowcount
        replies = connection.execute(
            update(outbox).where(outbox.c.raw != b"").where(outbox.c.created_at < cutoff)
            .where(outbox.c.state.in_([OutboxState.HELD, OutboxState.FAILED, OutboxState.SENDING,
                                       OutboxState.CANCELLED]))
            .values(raw=b"")).rowcount
    if purged or replies:
        log.info("retention: raw mail of %d message(s) and %d unsent reply(ies) purged "
                 "(older than %d days)", purged, replies, days)
    return Purged(int(purged), int(replies))
