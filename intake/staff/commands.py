"""What staff and operators do besides the poll: the daily summary, reprocessing stored mail,
withdrawing an application, releasing replies, and purging raw mail after the retention period.

Each action is one transaction: a crash leaves it done or not done, never half done.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from intake.config import Settings
from intake.core.outcome import TOO_LARGE, MessageOutcome, prepare_message
from intake.core.replies import (
    Envelope,
    FileAttachment,
    Rendered,
    compose_email,
    make_environment,
    render_promoted,
)
from intake.core.states import MessageState, Verdict
from intake.errors import UsageError
from intake.poll.context import Context
from intake.poll.recording import Arrival, finish, write_outcome
from intake.poll.replies import REPLIED_STATES
from intake.poll.sending import Delivery, deliver_pending
from intake.poll.service import make_context, open_smtp
from intake.staff.export import write_export
from intake.staff.reports import build_report
from intake.staff.summary import due_day, export_name, render_summary
from intake.store import applications, capacity, lease, messages, outbox, registry, withdrawals
from intake.store.tables import MessageRecord, OutboxRecord, OutboxState, SummaryRecord

log = logging.getLogger(__name__)


class StaffError(UsageError):
    """A staff action that cannot be done as asked (unknown record, wrong state)."""


# --- the daily summary ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SummaryMail:
    subject: str
    text: str
    html: str
    export: bytes | None


def make_summary(settings: Settings, engine: Engine, day: date,
                 now: datetime | None = None) -> SummaryMail:
    zone = ZoneInfo(settings.timezone)
    report = build_report(engine, day, zone, settings.programmes,
                          now=now or datetime.now(UTC),
                          poll_interval=timedelta(seconds=settings.mail.poll_interval_seconds))
    rendered = render_summary(report, make_environment(settings.templates_dir))
    export = None if report.quiet else write_export(
        engine, zone, first=day, last=day,
        titles={name: p.title for name, p in settings.programmes.items()})
    return SummaryMail(rendered.subject, rendered.text, rendered.html, export)


def queue_summary(settings: Settings, engine: Engine, day: date, now: datetime, *,
                  once: bool) -> int:
    """Put the day's summary in the outbox for each staff address; returns how many mails.
    `once`: recorded for the day, so the daily job never sends a day twice (0 if it already has)."""
    staff = settings.mail.staff
    if not staff:
        raise StaffError("no staff addresses are configured ([mail] staff or INTAKE_STAFF)")
    summary = make_summary(settings, engine, day, now)
    attachments = [FileAttachment(export_name(day), summary.export)] if summary.export else []
    with Session(engine) as session:
        if once:
            session.add(SummaryRecord(day=day, created_at=now, recipients=len(staff)))
        for address in staff:
            envelope = Envelope(sender=settings.mail.address, recipient=address,
                                sender_name=settings.programme(None).sender_name,
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
    if quarantined:
        rows = messages.unsettled_messages(engine)
    elif selector and selector.isdigit():
        rows = messages.named_messages(engine, int(selector))
    elif selector:
        rows = messages.named_messages(
            engine, selector if selector.startswith("<") else f"<{selector}>")
    else:
        raise StaffError("name a message (its number or Message-ID) or give --quarantined")
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
        blockers = applications.reprocess_blockers(session, row)
        if blockers.withdrawn:
            return Reprocessed(row, before, before, False, False,
                               f"not reprocessed: {', '.join(blockers.withdrawn)} was withdrawn")
        # An amended application (or the mail that amended or repeated one) holds a later list
        # than this mail's: deciding the mail again would undo what the school sent since.
        if blockers.amended or blockers.resubmitted:
            what = f"{', '.join(blockers.amended)} was amended since" if blockers.amended else (
                "it resubmitted or amended an earlier application")
            return Reprocessed(row, before, before, False, False, f"not reprocessed: {what}")
        raw = record.raw
        # In this transaction: an unchanged or failed decision rolls the release back.
        withdrawals.supersede_applications(session, row)
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
        revision = outbox.next_revision(session, row)
        send = reply and decided.outcome.state in REPLIED_STATES
        if send:
            outbox.cancel_unsent(session, row)
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
    assert record.id is not None
    return describe(str(record.state), record.reason, applications.live_verdicts(session, record.id))


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


# --- the registry ---------------------------------------------------------------------------------

def link_institutions(engine: Engine) -> int:
    """After a registry import: each application's registration number (R8's municipality and
    funding route) from its institution's name. Returns how many changed."""
    return registry.link_applications(engine)


# --- withdrawal -----------------------------------------------------------------------------------

def withdraw(engine: Engine, number: str, *, by: str, reason: str, now: datetime,
             settings: Settings | None = None) -> int:
    """Withdraw an accepted application: its people are free to be registered again (R5). Under
    a programme's cap (R7), the waiting applications that fit now move up and their schools are
    told (with `settings`). Returns how many participants it had."""
    with Session(engine) as session:
        application = withdrawals.application_by_number(session, number.strip().upper())
        if application is None:
            raise StaffError(f"no application {number}")
        if application.withdrawn_at is not None:
            raise StaffError(f"{application.number} was withdrawn already "
                             f"({application.withdrawn_at:%Y-%m-%d} by {application.withdrawn_by})")
        if application.verdict != Verdict.ACCEPTED:
            raise StaffError(f"{application.number} was rejected: it holds no places")
        released = withdrawals.withdraw_application(session, application, by=by, reason=reason,
                                                    now=now)
        outbox.cancel_unsent(session, application.message_row)
        moved = _move_up(session, settings, application.programme, now) if settings else []
        session.commit()
        number = application.number
    log.info("application %s withdrawn; %d participant(s) free to apply again", number, released)
    for item in moved:
        log.info("application %s moved up from the waiting list; its school is told", item)
    return released


def _move_up(session: Session, settings: Settings, programme_name: str,
             now: datetime) -> list[str]:
    """The waiting applications that fit under the cap now, moved up, each school told."""
    programme = settings.programmes.get(programme_name)
    if programme is None or programme.supervision_cap is None:
        return []
    environment = make_environment(settings.templates_dir)
    moved = capacity.move_up(session, programme_name, programme.supervision_cap, now)
    for item in moved:
        if not item.sender:
            continue
        rendered = render_promoted(environment, programme=programme, number=item.number,
                                   institution=item.institution)
        envelope = Envelope(sender=settings.mail.address, recipient=item.sender,
                            message_id=f"<{uuid.uuid4().hex}@{settings.mail.domain}>", date=now,
                            in_reply_to=item.message_id if item.message_id.startswith("<") else "")
        messages.queue_reply(session, message_row=item.message_row,
                             revision=outbox.next_revision(session, item.message_row),
                             message_id=envelope.message_id, recipient=item.sender,
                             subject=rendered.subject, raw=compose_email(rendered, envelope),
                             state=OutboxState.PENDING, now=now)
    return [item.number for item in moved]


# --- the outbox -----------------------------------------------------------------------------------

def resend(engine: Engine, ids: Sequence[int], now: datetime) -> int:
    """Send held, failed or interrupted (`sending`) replies again: staff have checked them."""
    return outbox.release(engine, ids, now)


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
    with engine.begin() as connection:  # the mail and its replies' copies go together
        purged = messages.purge_raw_mail(connection, cutoff, now)
        replies = outbox.purge_unsent(connection, cutoff)
    if purged or replies:
        log.info("retention: raw mail of %d message(s) and %d unsent reply(ies) purged "
                 "(older than %d days)", purged, replies, days)
    return Purged(purged, replies)
