"""One message decided to the end and written: the decision completed against the store (R5, the
lists sent before), the message's row, its applications and its reply, or its failure.

The poll writes each message of a batch with these; `intake reprocess` writes a stored message
again with the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from intake.core.messages import IncomingMessage
from intake.core.outcome import (
    ListOutcome,
    MessageOutcome,
    message_keys,
    recheck_registered,
    relate_lists,
    settle_lists,
)
from intake.core.replies import ReplyItem
from intake.core.resubmission import Earlier, Relation
from intake.core.states import MessageState
from intake.poll.context import Context
from intake.poll.replies import REPLIED_STATES, Reply, ReplyJob, compose_reply, replies_of
from intake.poll.workers import PreparationError, Prepared, WorkerFailure
from intake.store import messages
from intake.store.applications import (
    amend_application,
    clip,
    probe,
    record_resubmission,
    referenced,
    registered,
    same_list,
    store_application,
    store_people,
    stored_groups,
    unresolved_rejections,
)
from intake.store.capacity import admit
from intake.store.tables import MessageRecord, OutboxState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Arrival:
    """A message as it came: its place, its bytes and how it is recognised when it comes again."""

    mailbox: str
    location: str
    raw: bytes
    digest: str  # SHA-256 of `raw`
    content_key: str | None = None  # None: the stored row's is kept
    received_at: datetime | None = None  # when it first came (a message decided again); None: now


@dataclass(frozen=True, slots=True)
class Decided:
    """A message decided to the end (R5 included): what is written and answered."""

    outcome: MessageOutcome
    message: IncomingMessage
    replies_today: int | None = None  # the recipient's automatic replies in the last 24 hours


def finish(context: Context, prepared: Prepared, session: Session) -> Decided:
    """A prepared decision, completed with R5 against the registrations (this batch's too)."""
    if isinstance(prepared, WorkerFailure):
        raise PreparationError(prepared)
    outcome, message = prepared
    if not outcome.lists:
        return Decided(outcome, message)
    name = outcome.programme.name
    prior = probe(session, programme=name,
                  fingerprints=[item.fingerprint for item in outcome.lists if item.fingerprint],
                  sender=message.sender, keys=message_keys(outcome),
                  since=context.now() - timedelta(days=1))
    known: dict[str, list[Earlier]] = {}

    def same(fingerprint: str) -> list[Earlier]:
        if fingerprint not in known:
            known[fingerprint] = same_list(session, name, fingerprint) if prior.same_list else []
        return known[fingerprint]

    earlier = referenced(session, message)
    outcome = relate_lists(outcome, referenced=earlier, same_list=same,
                           today=context.local_day(context.now()),
                           zone=ZoneInfo(context.settings.timezone))
    # Registered people are looked up only if the probe found any.
    if prior.registered:
        outcome = recheck_registered(outcome, message, context.preparation(),
                                     lambda name, keys, amended: registered(session, name, keys,
                                                                            amended))
    unresolved = (unresolved_rejections(session, name, message.sender) if prior.rejections
                  and any(item.relation is Relation.NEW for item in outcome.lists) else [])
    outcome = settle_lists(outcome, referenced=earlier, same_list=same, unresolved=unresolved)
    return Decided(outcome, message, prior.replies_today)


def write_outcome(context: Context, session: Session, arrival: Arrival, decided: Decided,
                  existing: MessageRecord | None, *, reply: bool = True, revision: int = 0,
                  defer: Callable[[ReplyJob], None] | None = None) -> MessageRecord:
    """The decision, the application rows and (unless `reply` is False) the reply, together.
    `revision` numbers a later reply to the same message (`intake reprocess --reply`). With
    `defer`, the reply is handed to it to be composed elsewhere and queued before the commit."""
    message, outcome = decided.message, decided.outcome
    now = context.now()
    record = existing if existing is not None else MessageRecord(
        mailbox=arrival.mailbox, location=arrival.location, sha256=arrival.digest,
        received_at=now, state=outcome.state)
    if arrival.content_key is not None:
        record.content_key = arrival.content_key
    record.message_id = clip(message.message_id, 998)
    record.sender = clip(message.sender, 320)
    record.subject = clip(message.subject, 998)
    record.state = outcome.state
    record.reason = outcome.reason[:200]
    record.processed_at = now
    record.raw = arrival.raw
    record.error = ""
    if existing is None:
        messages.insert_message(session, record)
    else:
        session.add(record)
        session.flush()
    assert record.id is not None
    items = [_store_list(context, session, record.id, outcome, item, arrival.received_at or now)
             for item in outcome.lists]
    if not reply or outcome.state not in REPLIED_STATES:
        return record
    job = ReplyJob(record.id, message, outcome, items, now, revision, decided.replies_today)
    if defer is not None:
        defer(job)
    else:
        queue_reply(session, context, job, compose_reply(job, replies_of(context.settings),
                                                         context.environment))
    return record


def _store_list(context: Context, session: Session, message_row: int, outcome: MessageOutcome,
                item: ListOutcome, now: datetime) -> ReplyItem:
    """One list's rows by what it is to earlier applications, and its part of the reply."""
    decision, earlier, relation = item.decision, item.earlier, item.relation
    programme = outcome.programme.name
    earlier_on = None
    if earlier is not None:  # a repeat is of the list as it stands (last amended)
        earlier_on = context.local_day(earlier.confirmed_at if relation is Relation.REPEAT
                                       else earlier.created_at)
    if earlier is not None and relation is not Relation.NEW:
        change = item.change
        if relation is Relation.AMENDMENT and change is not None:
            amend_application(session, earlier, decision, item.registration_keys,
                              filename=item.attachment.filename, fingerprint=item.fingerprint,
                              now=now, details=item.details)
        record_resubmission(session, earlier, message_row, relation, now,
                            added=len(change.added) if change else 0,
                            removed=len(change.removed) if change else 0,
                            unchanged=len(change.unchanged) if change else 0)
        if relation is Relation.REPEAT:  # the groups as confirmed, not as this file's order gives
            decision = replace(decision, groups=stored_groups(session, earlier.id), findings=())
        number = None if relation is Relation.REPEAT_REJECTED else earlier.number
        return ReplyItem(decision, number=number, relation=relation, earlier_on=earlier_on,
                         change=change)
    cap = outcome.programme.supervision_cap
    place = None  # on the waiting list (R7)
    if decision.accepted and cap is not None:
        place = admit(session, programme, cap, sum(not g.to_merge for g in decision.groups))
    number, application_id = store_application(
        session, message_row, programme, item.attachment.filename, decision, now,
        context.registry, fingerprint=item.fingerprint, resolves=earlier.id if earlier else None,
        details=item.details, waitlisted=place is not None)
    if not decision.accepted:
        return ReplyItem(decision, earlier_on=earlier_on)
    store_people(session, application_id, programme, decision, item.registration_keys)
    return ReplyItem(decision, number=number, earlier_on=earlier_on, waitlisted=place)


def queue_reply(session: Session, context: Context, job: ReplyJob, reply: Reply,
                earlier_in_batch: int = 0) -> None:
    """The reply in the outbox: pending, or held for staff when this recipient has had its
    automatic replies for the day (counted by the message's probe, when it ran, plus those queued
    before this one in the same batch after the probes ran)."""
    message_row, recipient, now = job.message_row, job.message.sender, job.now
    sent_today = job.replies_today
    if sent_today is None:
        sent_today = messages.replies_since(session, recipient, now - timedelta(days=1))
    state = OutboxState.PENDING
    if sent_today + earlier_in_batch >= context.settings.mail.replies_per_recipient_per_day:
        state = OutboxState.HELD
        log.warning("message row %d: reply held, recipient over the daily limit", message_row)
    messages.queue_reply(session, message_row=message_row, revision=job.revision,
                         message_id=reply.message_id, recipient=recipient, subject=reply.subject,
                         raw=reply.raw, state=state, now=now)


def write_failure(context: Context, session: Session, arrival: Arrival,
                  existing: MessageRecord | None, exc: Exception) -> MessageRecord:
    """The message recorded as failed (its attempt counted), or quarantined after too many."""
    attempts = (existing.attempts if existing is not None else 0) + 1
    state = (MessageState.QUARANTINED if attempts >= context.settings.mail.max_attempts
             else MessageState.FAILED)
    now = context.now()
    record = existing if existing is not None else MessageRecord(
        mailbox=arrival.mailbox, location=arrival.location, sha256=arrival.digest,
        received_at=now, raw=arrival.raw, state=state)
    if arrival.content_key is not None:
        record.content_key = arrival.content_key
    record.state = state
    record.attempts = attempts
    record.error = clip(f"{type(exc).__name__}: {exc}", 2000)
    record.reason = "our-error"
    record.processed_at = now
    session.add(record)
    session.flush()
    return record
