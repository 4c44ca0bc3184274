"""One poll: fetch -> parse -> read -> decide -> store (with the reply) -> send -> move.

The one place that sequences the shell. Each message is committed with its reply in one
transaction before anything is acknowledged; one message's failure never stops the others.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import select as io_select
import signal
import sys
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool as BrokenExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from multiprocessing import get_context
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from sqlalchemy import Engine, Executable, func, insert
from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlmodel import Session, col, select

from intake import LOG_FORMAT
from intake.config import Settings
from intake.core.annotation import annotate_workbook
from intake.core.automail import Ours
from intake.core.blank_list import make_blank_list
from intake.core.formats import Limits
from intake.core.messages import IncomingMessage
from intake.core.model import Decision
from intake.core.outcome import (
    TOO_LARGE,
    ListOutcome,
    MessageOutcome,
    Preparation,
    message_keys,
    prepare_message,
    recheck_registered,
    relate_lists,
    settle_lists,
)
from intake.core.registry import InstitutionIndex
from intake.core.replies import (
    Envelope,
    FileAttachment,
    ReplyItem,
    compose_email,
    make_environment,
    render_no_list,
    render_reply,
    reply_subject,
)
from intake.core.resubmission import Earlier, Relation
from intake.core.states import MessageState
from intake.errors import MailboxError, StoreError
from intake.mail.mailbox import MailSource, MessageRef
from intake.mail.outbox import Delivery, Transport, deliver_pending
from intake.poll.moves import decided_before, folder_for, move_decided
from intake.store.applications import (
    Prior,
    amend_application,
    clip,
    probe,
    record_resubmission,
    referenced,
    same_list,
    store_application,
    store_people,
    stored_groups,
    unresolved_rejections,
)
from intake.store.tables import (
    ApplicationRecord,
    MessageRecord,
    OutboxRecord,
    OutboxState,
    RegistrationRecord,
    ServiceRecord,
    WatermarkRecord,
)

log = logging.getLogger(__name__)

BLANK_LIST_NAME = "dalibnieku-saraksts.xlsx"
PREPARED_AHEAD = 8  # messages the worker processes prepare ahead of the one being written
# A message prepared (parsed and decided without the database), or the error that stopped it.
Prepared = tuple[MessageOutcome, IncomingMessage] | str


class PreparationError(Exception):
    """Deciding a message failed in a worker process; the message is recorded as failed."""


FINAL_STATES = frozenset({MessageState.APPLICATION, MessageState.AUTO, MessageState.CORRESPONDENCE,
                          MessageState.NO_LIST, MessageState.QUARANTINED})
Failpoint = Callable[[str], None]


@dataclass
class PollSummary:
    """What one poll did, for its one log line and for `intake poll`'s output."""

    seen: int = 0
    states: Counter[str] = field(default_factory=Counter)
    already_done: int = 0
    accepted_lists: int = 0
    rejected_lists: int = 0
    delivery: Delivery = field(default_factory=Delivery)
    not_moved: int = 0  # decided, but a folder the server refused kept them in the mailbox

    def line(self) -> str:
        states = " ".join(f"{k}={v}" for k, v in sorted(self.states.items())) or "none"
        return (f"poll: seen={self.seen} new: {states} already-done={self.already_done} "
                f"lists accepted={self.accepted_lists} rejected={self.rejected_lists} "
                f"replies sent={self.delivery.sent} retried={self.delivery.retried} "
                f"failed={self.delivery.failed}"
                + (f" not-moved={self.not_moved}" if self.not_moved else ""))


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    engine: Engine
    environment: jinja2.Environment
    registry: InstitutionIndex | None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    failpoint: Failpoint = lambda _name: None
    should_stop: Callable[[], bool] = lambda: False  # SIGTERM: finish the message in hand, then stop

    @property
    def ours(self) -> Ours:
        return Ours(self.settings.mail.address, self.settings.mail.domain)


def poll(context: Context, source: MailSource, transport: Transport) -> PollSummary:
    """One cycle. Raises only for our own environment (mailbox, database); a bad message is data.

    Each batch's replies go out once it is committed, while the worker processes (if any) prepare
    the next batch; the mail is moved at the end."""
    summary = PollSummary()
    mail = context.settings.mail
    refs = source.list_new()
    summary.seen = len(refs)
    # Decided by an earlier poll and not moved (a refused folder, a crash): not fetched again.
    decided = decided_before(context.engine, source.name, refs, mail.folders)
    done = decided.moves(refs)
    summary.already_done += len(decided.folders)
    refs = [ref for ref in refs if ref.location not in decided.folders]
    failure: StoreError | MailboxError | None = None
    sending = True  # until the server cannot be reached: then the replies wait for the next poll

    def send() -> None:
        nonlocal sending
        try:
            summary.delivery += deliver_pending(
                context.engine, transport, sender=mail.address, now=context.now(),
                max_attempts=mail.send_retries, retry_seconds=mail.send_retry_seconds,
                failpoint=context.failpoint)
        except SQLAlchemyError as exc:  # the database went away: the replies wait in the outbox
            sending = False
            raise StoreError(f"cannot send the replies: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:300]}") from exc
        sending = not summary.delivery.unreachable

    preparation = preparation_of(context)
    try:
        with _workers_for(len(refs), mail.parallel_from, preparation,
                          replies_of(context)) as workers:
            ahead = _Lookahead(workers, preparation)
            try:
                for number, batch in enumerate(_batches(refs, mail.batch_size, mail.batch_bytes)):
                    if context.should_stop():
                        break
                    for ref in batch:
                        if ref.size > mail.max_message_bytes:
                            folder = _handle_oversized(context, source, ref, summary, ahead)
                            if folder:
                                done.setdefault(folder, []).append(ref)
                    fetched = []
                    for ref, raw in source.fetch([r for r in batch
                                                  if r.size <= mail.max_message_bytes]):
                        context.failpoint("after-fetch")
                        fetched.append((ref, raw))
                    ahead.add(fetched)
                    if number and sending:  # the last batch's replies, while this one is prepared
                        ahead.fill(len(fetched))
                        send()
                    for ref, folder in _process_batch(context, source.name, fetched, summary,
                                                      ahead):
                        done.setdefault(folder, []).append(ref)
            finally:
                ahead.close()
    except (StoreError, MailboxError) as exc:
        failure = exc  # what earlier batches committed is still answered (and moved) below
    try:
        if sending:
            send()
    except StoreError as exc:
        failure = failure or exc
    context.failpoint("before-move")
    if not isinstance(failure, MailboxError):
        # Over a dropped connection nothing is moved: the next poll finds these done, moves them.
        summary.not_moved = move_decided(context.engine, source, done, decided, context.now())
    if failure is not None:
        raise failure
    _set_service(context.engine, "last_good_poll", context.now().isoformat())
    return summary


def _batches(refs: list[MessageRef], count: int, size: int) -> Iterator[list[MessageRef]]:
    """At most `count` messages and about `size` bytes at a time: memory stays bounded."""
    batch: list[MessageRef] = []
    total = 0
    for ref in refs:
        if batch and (len(batch) >= count or total + ref.size > size):
            yield batch
            batch, total = [], 0
        batch.append(ref)
        total += ref.size
    if batch:
        yield batch


@contextmanager
def _workers_for(count: int, parallel_from: int, preparation: Preparation,
                 replies: Replies) -> Iterator[Executor | None]:
    """Worker processes for a large poll (a backlog after downtime): parsing and deciding are
    CPU-bound, and the database and SMTP work stays here. Not forked from this process: a fork
    would share its database and mailbox connections. Forked from a fork server instead, a clean
    process that imported the deciding code once (for every poll of a daemon), so each worker
    starts without importing it again."""
    processes = min(os.cpu_count() or 1, 4)
    if count < parallel_from or processes < 2:
        yield None
        return
    log.info("%d messages: deciding them in %d worker processes", count, processes)
    context = get_context("forkserver")
    context.set_forkserver_preload(["intake.poll.pipeline"])
    with ProcessPoolExecutor(max_workers=processes, mp_context=context,
                             initializer=_start_worker,
                             initargs=(preparation, replies, os.getpid())) as pool:
        # The fork server and the workers start while this thread fetches the first batch.
        threading.Thread(target=_warm, args=(pool, processes), daemon=True).start()
        yield pool


def _warm(pool: Executor, processes: int) -> None:
    """Starts the workers (each submit starts at most one); a pool already shut down is left be."""
    try:
        for _ in range(processes):
            pool.submit(int)
    except RuntimeError:
        pass


_worker_preparation: Preparation | None = None
_worker_replies: tuple[Replies, jinja2.Environment] | None = None


def _start_worker(preparation: Preparation, replies: Replies, parent: int) -> None:
    """In a worker process: keep what every message needs (the registry is sent once, here), and
    die with the parent — a SIGKILLed poller must not leave workers holding its stdout open."""
    global _worker_preparation, _worker_replies
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the poller's to answer, not ours
    # What a worker logs (an annotated copy that failed, say) reads as the poller's own lines.
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    _worker_preparation = preparation
    _worker_replies = (replies, make_environment(replies.templates_dir))
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    try:
        handle = os.pidfd_open(parent)
    except OSError:  # already gone
        os._exit(1)
    io_select.select([handle], [], [])  # readable once the parent has exited
    os._exit(1)


def _prepare_job(job: tuple[bytes, bool]) -> Prepared:
    assert _worker_preparation is not None
    return _prepare_in_worker(job, _worker_preparation)


def _compose_job(job: ReplyJob) -> _Reply:
    assert _worker_replies is not None
    return compose_reply(job, *_worker_replies)


def _folder(context: Context, state: str) -> str | None:
    return folder_for(context.settings.mail.folders, state)


def _process_batch(context: Context, mailbox: str, fetched: list[tuple[MessageRef, bytes]],
                   summary: PollSummary, ahead: _Lookahead, *,
                   oversized: bool = False) -> list[tuple[MessageRef, str]]:
    """Decide and store a batch in one transaction; returns where each message goes once that
    transaction is committed.

    The batch is first written straight through. Should one message fail, the transaction is
    rolled back and the batch written again with each message in its own savepoint, where a
    failure is that message's alone: savepoints cost, and failures are rare."""
    digests = {ref.location: hashlib.sha256(raw).hexdigest() for ref, raw in fetched}
    contents = {ref.location: content_key(raw) for ref, raw in fetched}
    keys = _BatchKeys(mailbox, digests, contents)
    prepared: dict[str, Prepared] = {}  # the second pass reads the same: each is prepared once

    def prepare(todo: list[tuple[MessageRef, bytes]]) -> Iterator[Prepared]:
        for ref, raw in todo:
            if ref.location not in prepared:
                prepared[ref.location] = ahead.take(ref, raw, oversized=oversized)
            yield prepared[ref.location]

    reached = [0]  # messages the first pass got to: a stop request is honoured after them
    try:
        try:
            written = _write_batch(context, keys, fetched, prepare, isolated=False,
                                   workers=ahead.workers, reached=reached)
        except _MessageFailed as failed:
            log.warning("message %s failed (%s); the batch is written again, message by message",
                        failed.location, type(failed.__cause__).__name__)
            written = _write_batch(context, keys, fetched, prepare, isolated=True,
                                   stop_from=reached[0])
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot store a batch of messages: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:300]}") from exc
    context.failpoint("after-commit")
    for level, line in written.log:
        log.log(level, "%s", line)
    summary.already_done += written.already_done
    summary.states.update(written.states)
    summary.accepted_lists += written.lists[0]
    summary.rejected_lists += written.lists[1]
    return [(ref, folder) for ref, folder in written.moves if folder]


@dataclass(frozen=True, slots=True)
class _BatchKeys:
    """How each message of a batch is recognised when seen before."""

    mailbox: str
    digests: dict[str, str]
    contents: dict[str, str | None]


@dataclass
class _Written:
    """What a committed batch did, for the poll's summary and the moves."""

    moves: list[tuple[MessageRef, str]] = field(default_factory=list)
    states: Counter[str] = field(default_factory=Counter)
    lists: list[int] = field(default_factory=lambda: [0, 0])  # accepted, rejected
    already_done: int = 0
    log: list[tuple[int, str]] = field(default_factory=list)  # logged once committed


class _MessageFailed(Exception):
    """A message failed where there was no savepoint: the batch is written again with them."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class _Lookahead:
    """The messages fetched, handed to the worker processes ahead of the one being written: a few
    while a batch is written (the replies it hands them wait behind these only), a whole batch
    while the last one's replies go out. Without workers (a small poll, or a pool that died), a
    message is prepared here when it is taken."""

    def __init__(self, workers: Executor | None, preparation: Preparation) -> None:
        self.workers = workers
        self._preparation = preparation
        self._jobs: deque[tuple[str, tuple[bytes, bool]]] = deque()  # in the order fetched
        self._running: dict[str, Future[Prepared]] = {}  # the first of them, in the workers

    def add(self, fetched: list[tuple[MessageRef, bytes]], *, oversized: bool = False) -> None:
        if self.workers is not None:
            self._jobs.extend((ref.location, (raw, oversized)) for ref, raw in fetched)

    def fill(self, ahead: int) -> None:
        """Keep `ahead` messages in the workers' hands."""
        running = len(self._running)
        while self.workers is not None and running < min(ahead, len(self._jobs)):
            location, job = self._jobs[running]
            try:
                self._running[location] = self.workers.submit(_prepare_job, job)
            except RuntimeError:  # BrokenProcessPool is one
                self._broken()
            running += 1

    def take(self, ref: MessageRef, raw: bytes, *, oversized: bool = False) -> Prepared:
        """The message prepared; those fetched before it and not taken were not needed (done
        before)."""
        future = None
        if any(location == ref.location for location, _job in self._jobs):
            while self._jobs[0][0] != ref.location:
                location, _job = self._jobs.popleft()
                if (skipped := self._running.pop(location, None)) is not None:
                    skipped.cancel()
            self.fill(PREPARED_AHEAD + 1)  # this one and those after it
            if self._jobs:  # (a pool found broken empties it)
                self._jobs.popleft()
                future = self._running.pop(ref.location, None)
        if future is not None:
            try:
                return future.result()
            except BrokenExecutor:
                self._broken()
        return _prepare_in_worker((raw, oversized), self._preparation)

    def close(self) -> None:
        """What was not started is not waited for (a stop request, or a failure)."""
        for future in self._running.values():
            future.cancel()
        self._running.clear()
        self._jobs.clear()

    def _broken(self) -> None:
        if self.workers is not None:
            log.error("worker processes died; deciding the rest of the poll in this process")
        self.workers = None
        self.close()


def _write_batch(context: Context, keys: _BatchKeys, fetched: list[tuple[MessageRef, bytes]],
                 prepare: Callable[[list[tuple[MessageRef, bytes]]], Iterator[Prepared]], *,
                 isolated: bool, workers: Executor | None = None, reached: list[int] | None = None,
                 stop_from: int = 0) -> _Written:
    """One pass over a batch. Straight through (not `isolated`) with worker processes, the replies
    are composed by the workers while this process writes the next messages, and queued at the
    end, before the commit."""
    written = _Written()
    deferred: list[tuple[ReplyJob, str, Future[_Reply] | None]] = []
    digests, contents = keys.digests, keys.contents
    with Session(context.engine) as session:
        known = _known(session, keys.mailbox, digests, contents)
        todo = []
        for ref, raw in fetched:
            existing = _find(known, ref, digests, contents)
            if existing is not None and existing.state in FINAL_STATES:
                written.already_done += 1  # a copy, a resend, or an unfinished move
                written.moves.append((ref, _folder(context, existing.state) or ""))
            else:
                todo.append((ref, raw))
        for number, ((ref, raw), prepared) in enumerate(zip(todo, prepare(todo), strict=False)):
            if number >= stop_from and context.should_stop():
                break  # SIGTERM: what is decided so far is committed below; the rest waits
            if reached is not None:
                reached[0] = number + 1
            existing = _find(known, ref, digests, contents)
            if existing is not None and existing.state in FINAL_STATES:
                written.already_done += 1  # the same mail twice in this batch
                written.moves.append((ref, _folder(context, existing.state) or ""))
                continue
            if isolated:
                state, record = _handle_isolated(context, session, keys, ref, raw, existing,
                                                 written, prepared)
            else:
                defer = None
                if workers is not None:
                    def defer(job: ReplyJob, location: str = ref.location) -> None:
                        deferred.append((job, location, _submit_reply(workers, job)))
                state, record = _handle(context, session, keys, ref, raw, existing, written,
                                        prepared, defer)
            written.states[state] += 1
            known[digests[ref.location]] = known[ref.location] = record  # again in this batch
            if key := contents[ref.location]:
                known[key] = record
            folder = _folder(context, state)
            if folder:
                written.moves.append((ref, folder))
        _queue_deferred(context, session, deferred)
        _advance_watermark(session, keys.mailbox, [ref for ref, _raw in fetched])
        session.commit()
    return written


def _queue_deferred(context: Context, session: Session,
                    deferred: list[tuple[ReplyJob, str, Future[_Reply] | None]]) -> None:
    """The replies the workers composed, into the outbox in the messages' order. One that failed
    (or a broken pool) ends the batch's first pass: the second composes each reply here."""
    queued: Counter[str] = Counter()  # per recipient, for the daily limit the probes counted
    for job, location, future in deferred:
        recipient = job.message.sender
        try:
            try:
                reply = future.result() if future is not None else None
            except Exception as exc:  # noqa: BLE001 - a broken pool, say: composed here instead
                log.warning("message %s: the reply is composed here (%s in the worker)", location,
                            type(exc).__name__)
                reply = None
            if reply is None:
                reply = compose_reply(job, replies_of(context), context.environment)
            _queue_reply(session, context, job, reply,
                         earlier_in_batch=queued[recipient] if job.replies_today is not None else 0)
        except (OperationalError, InterfaceError):
            raise  # the database itself is unreachable: not this message's fault
        except Exception as exc:
            raise _MessageFailed(location) from exc
        queued[recipient] += 1


def _submit_reply(workers: Executor, job: ReplyJob) -> Future[_Reply] | None:
    """The reply handed to a worker; None where the pool is gone (it is composed here then)."""
    try:
        return workers.submit(_compose_job, job)
    except RuntimeError:  # BrokenProcessPool is one
        return None


def content_key(raw: bytes) -> str | None:
    """Message-ID + body: equal for the same mail delivered again with other Received headers.

    None without a Message-ID: several clients' mails share none, and a body alone is no identity."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        head, _separator, body = raw.partition(b"\n\n")
    found = _MESSAGE_ID.search(head)
    if not found:
        return None
    return hashlib.sha256(found.group(1).strip() + b"\0" + body.replace(b"\r\n", b"\n")).hexdigest()


_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(<[^>\r\n]{1,900}>)", re.IGNORECASE | re.MULTILINE)


def _known(session: Session, mailbox: str, digests: dict[str, str],
           contents: dict[str, str | None]) -> dict[str, MessageRecord]:
    """Messages of this batch seen before: by SHA-256, by content key, by place in this mailbox."""
    keys = [k for k in contents.values() if k]
    rows = session.exec(select(MessageRecord).where(
        col(MessageRecord.sha256).in_(list(digests.values()))
        | col(MessageRecord.content_key).in_(keys)
        | ((col(MessageRecord.mailbox) == mailbox)
           & col(MessageRecord.location).in_(list(digests))))).all()
    known: dict[str, MessageRecord] = {}
    for row in rows:
        known[row.sha256] = row
        if row.content_key:
            known[row.content_key] = row
        if row.mailbox == mailbox:
            known[row.location] = row
    return known


def _find(known: dict[str, MessageRecord], ref: MessageRef, digests: dict[str, str],
          contents: dict[str, str | None]) -> MessageRecord | None:
    for key in (digests[ref.location], contents[ref.location], ref.location):
        if key and key in known:
            return known[key]
    return None


def _handle(context: Context, session: Session, keys: _BatchKeys, ref: MessageRef, raw: bytes,
            existing: MessageRecord | None, written: _Written, prepared: Prepared,
            defer: Callable[[ReplyJob], None] | None = None) -> tuple[str, MessageRecord]:
    """Decide one message and write its rows and reply, without a savepoint: any failure but the
    database's own ends the batch's first pass."""
    if isinstance(prepared, str):  # nothing written yet: no need of a savepoint to record it
        error = PreparationError(prepared)
        record = _write_failure(context, session, keys, ref, raw, existing, error)
        written.log.append((logging.ERROR, f"message {ref.location}: PreparationError: {error} "
                                           f"(attempt {record.attempts})"))
        return record.state, record
    try:
        outcome, message, prior = finish(context, prepared, session)
        record = write_outcome(context, session, keys.mailbox, ref, raw, keys.digests[ref.location],
                               message, outcome, existing, content_key=keys.contents[ref.location],
                               replies_today=prior.replies_today if prior else None, defer=defer)
    except (OperationalError, InterfaceError):
        raise  # the database itself is unreachable: not this message's fault
    except Exception as exc:
        raise _MessageFailed(ref.location) from exc
    _count(written, ref, outcome)
    return outcome.state, record


def _handle_isolated(context: Context, session: Session, keys: _BatchKeys, ref: MessageRef,
                     raw: bytes, existing: MessageRecord | None, written: _Written,
                     prepared: Prepared) -> tuple[str, MessageRecord]:
    """Decide one message and write its rows and reply in a savepoint; returns its record."""
    savepoint = session.begin_nested()
    try:
        outcome, message, prior = finish(context, prepared, session)
        record = write_outcome(context, session, keys.mailbox, ref, raw, keys.digests[ref.location],
                               message, outcome, existing, content_key=keys.contents[ref.location],
                               replies_today=prior.replies_today if prior else None)
        savepoint.commit()
    except (OperationalError, InterfaceError):
        savepoint.rollback()
        raise  # the database itself is unreachable: not this message's fault
    except (IntegrityError, DataError) as exc:
        # A value this message carries that the schema refuses: its failure, not the batch's.
        savepoint.rollback()
        record = _write_failure(context, session, keys, ref, raw, existing, exc)
        log.error("message %s: %s (attempt %d)", ref.location, type(exc).__name__, record.attempts)
        return record.state, record
    except Exception as exc:
        savepoint.rollback()
        record = _write_failure(context, session, keys, ref, raw, existing, exc)
        log.exception("message %s: %s (attempt %d)", ref.location, type(exc).__name__,
                      record.attempts)
        return record.state, record
    _count(written, ref, outcome)
    return outcome.state, record


def _count(written: _Written, ref: MessageRef, outcome: MessageOutcome) -> None:
    for item in outcome.lists:
        accepted = item.decision.accepted or item.relation is Relation.REPEAT
        written.lists[0 if accepted else 1] += 1
    written.log.append((logging.INFO, f"message {ref.location}: {outcome.state} "
                                      f"({outcome.reason}), {len(outcome.lists)} list(s)"))


def preparation_of(context: Context) -> Preparation:
    settings = context.settings
    return Preparation(context.ours, settings.programmes, settings.default_programme,
                       settings.limits, context.registry, _local_day(context, context.now()))


def finish(context: Context, prepared: Prepared, session: Session
            ) -> tuple[MessageOutcome, IncomingMessage, Prior | None]:
    """A prepared decision, completed with R5 against the registrations (this batch's too)."""
    if isinstance(prepared, str):
        raise PreparationError(prepared)
    outcome, message = prepared
    if not outcome.lists:
        return outcome, message, None
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
                           today=_local_day(context, context.now()),
                           zone=ZoneInfo(context.settings.timezone))
    # Registered people are looked up only if the probe found any.
    if prior.registered:
        outcome = recheck_registered(outcome, message, preparation_of(context),
                                     lambda name, keys, amended: _registered(session, name, keys,
                                                                             amended))
    unresolved = (unresolved_rejections(session, name, message.sender) if prior.rejections
                  and any(item.relation is Relation.NEW for item in outcome.lists) else [])
    outcome = settle_lists(outcome, referenced=earlier, same_list=same, unresolved=unresolved)
    return outcome, message, prior


def _prepare_in_worker(job: tuple[bytes, bool], preparation: Preparation) -> Prepared:
    """Runs in a worker (or here): an exception becomes a string, recorded as our error."""
    raw, oversized = job
    try:
        return prepare_message(raw, preparation, oversized=oversized)
    except Exception as exc:  # noqa: BLE001 - the per-message boundary, on the worker's side
        return f"{type(exc).__name__}: {exc}"


def _registered(session: Session, programme: str, keys: Sequence[str],
                amended: int | None = None) -> Mapping[str, str]:
    """R5: which of these people an earlier application registered (this batch's included),
    except in the application the list amends."""
    query = (select(RegistrationRecord.key, ApplicationRecord.number)
             .join(ApplicationRecord,
                   col(ApplicationRecord.id) == col(RegistrationRecord.application_id))
             .where(RegistrationRecord.programme == programme)
             .where(col(RegistrationRecord.key).in_(list(keys))))
    if amended is not None:
        query = query.where(col(ApplicationRecord.id) != amended)
    return dict(session.exec(query).all())


def write_outcome(context: Context, session: Session, mailbox: str, ref: MessageRef, raw: bytes,
                  digest: str, message: IncomingMessage, outcome: MessageOutcome,
                  existing: MessageRecord | None, *, reply: bool = True,
                  revision: int = 0, received_at: datetime | None = None,
                  content_key: str | None = None, replies_today: int | None = None,
                  defer: Callable[[ReplyJob], None] | None = None) -> MessageRecord:
    """The decision, the application rows and (unless `reply` is False) the reply, together.
    `revision` numbers a later reply to the same message (`intake reprocess --reply`). With
    `defer`, the reply is handed to it to be composed elsewhere and queued before the commit."""
    now = context.now()
    record = existing if existing is not None else MessageRecord(
        mailbox=mailbox, location=ref.location, sha256=digest, received_at=now,
        state=outcome.state)
    if content_key is not None:
        record.content_key = content_key
    record.message_id = clip(message.message_id, 998)
    record.sender = clip(message.sender, 320)
    record.subject = clip(message.subject, 998)
    record.state = outcome.state
    record.reason = outcome.reason[:200]
    record.processed_at = now
    record.raw = raw
    record.error = ""
    session.add(record)
    session.flush()
    assert record.id is not None
    items = [_store_list(context, session, record.id, outcome, item, received_at or now)
             for item in outcome.lists]
    if not reply or outcome.state not in REPLIED_STATES:
        return record
    job = ReplyJob(record.id, message, outcome, items, now, revision, replies_today)
    if defer is not None:
        defer(job)
    else:
        _queue_reply(session, context, job, compose_reply(job, replies_of(context),
                                                          context.environment))
    return record


def _store_list(context: Context, session: Session, message_row: int, outcome: MessageOutcome,
                item: ListOutcome, now: datetime) -> ReplyItem:
    """One list's rows by what it is to earlier applications, and its part of the reply."""
    decision, earlier, relation = item.decision, item.earlier, item.relation
    programme = outcome.programme.name
    earlier_on = None
    if earlier is not None:  # a repeat is of the list as it stands (last amended)
        earlier_on = _local_day(context, earlier.confirmed_at if relation is Relation.REPEAT
                                else earlier.created_at)
    if earlier is not None and relation is not Relation.NEW:
        change = item.change
        if relation is Relation.AMENDMENT and change is not None:
            amend_application(session, earlier, decision, item.registration_keys,
                              filename=item.attachment.filename, fingerprint=item.fingerprint,
                              now=now)
        record_resubmission(session, earlier, message_row, relation, now,
                            added=len(change.added) if change else 0,
                            removed=len(change.removed) if change else 0,
                            unchanged=len(change.unchanged) if change else 0)
        if relation is Relation.REPEAT:  # the groups as confirmed, not as this file's order gives
            decision = replace(decision, groups=stored_groups(session, earlier.id), findings=())
        number = None if relation is Relation.REPEAT_REJECTED else earlier.number
        return ReplyItem(decision, number=number, relation=relation, earlier_on=earlier_on,
                         change=change)
    number, application_id = store_application(
        session, message_row, programme, item.attachment.filename, decision, now,
        context.registry, fingerprint=item.fingerprint, resolves=earlier.id if earlier else None)
    if not decision.accepted:
        return ReplyItem(decision, earlier_on=earlier_on)
    store_people(session, application_id, programme, decision, item.registration_keys)
    return ReplyItem(decision, number=number, earlier_on=earlier_on)


def _local_day(context: Context, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(context.settings.timezone)).date()


@dataclass(frozen=True, slots=True)
class _Reply:
    subject: str
    raw: bytes
    message_id: str


REPLIED_STATES = frozenset({MessageState.APPLICATION, MessageState.NO_LIST})


@dataclass(frozen=True, slots=True)
class ReplyJob:
    """A reply to compose: plain values, so that a worker process can compose it."""

    message_row: int
    message: IncomingMessage
    outcome: MessageOutcome
    items: list[ReplyItem]
    now: datetime
    revision: int = 0
    replies_today: int | None = None  # the recipient's automatic replies in the last 24 hours


@dataclass(frozen=True, slots=True)
class Replies:
    """What composing any reply needs besides the job: plain values, for the worker processes."""

    templates_dir: Path
    address: str
    domain: str
    limits: Limits
    max_message_bytes: int


def replies_of(context: Context) -> Replies:
    settings = context.settings
    return Replies(settings.templates_dir, settings.mail.address, settings.mail.domain,
                   settings.limits, settings.mail.max_message_bytes)


def compose_reply(job: ReplyJob, replies: Replies, environment: jinja2.Environment) -> _Reply:
    message, outcome, programme = job.message, job.outcome, job.outcome.programme
    attachments: list[FileAttachment] = []
    if outcome.state is MessageState.NO_LIST or outcome.reason == TOO_LARGE:
        too_large = replies.max_message_bytes if outcome.reason == TOO_LARGE else None
        rendered = render_no_list(environment, programme=programme, blank_name=BLANK_LIST_NAME,
                                  too_large_bytes=too_large)
        attachments.append(FileAttachment(BLANK_LIST_NAME, make_blank_list(programme)))
    else:
        annotated_items = []
        for item, listed in zip(job.items, outcome.lists, strict=True):
            name = None
            if not item.decision.accepted and item.decision.findings:
                copy = _annotated_copy(listed.attachment.content, item.decision, replies.limits)
                if copy is not None:
                    name = _annotated_name(listed.attachment.filename)
                    attachments.append(FileAttachment(name, copy))
            annotated_items.append(replace(item, annotated=name))
        rejected = any(not i.decision.accepted for i in annotated_items)
        if rejected:
            attachments.append(FileAttachment(BLANK_LIST_NAME, make_blank_list(programme)))
        rendered = render_reply(annotated_items, environment, programme=programme,
                                blank_attached=rejected)
    subject = reply_subject(message.subject) or rendered.subject
    envelope = Envelope(
        sender=replies.address, recipient=message.sender,
        message_id=f"<{uuid.uuid4().hex}@{replies.domain}>", date=job.now,
        in_reply_to=message.message_id if message.message_id.startswith("<") else "",
        references=message.in_reply_to)
    raw = compose_email(replace(rendered, subject=subject), envelope, attachments)
    return _Reply(subject, raw, envelope.message_id)


def _annotated_copy(content: bytes, decision: Decision, limits: Limits) -> bytes | None:
    """The annotated workbook, or None: a copy we cannot make must not cost the school its reply."""
    try:
        return annotate_workbook(content, decision, limits=limits)
    except Exception as exc:  # noqa: BLE001 - the reply goes out without the copy
        log.warning("annotated copy failed: %s", type(exc).__name__)
        return None


def _annotated_name(filename: str) -> str:
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return f"{stem}-piezimes.xlsx"


def _queue_reply(session: Session, context: Context, job: ReplyJob, reply: _Reply,
                 earlier_in_batch: int = 0) -> None:
    """The reply in the outbox: pending, or held for staff when this recipient has had its
    automatic replies for the day (counted by the message's probe, when it ran, plus those queued
    before this one in the same batch after the probes ran)."""
    message_row, recipient, now = job.message_row, job.message.sender, job.now
    sent_today = job.replies_today
    if sent_today is None:
        sent_today = session.exec(
            select(func.count()).select_from(OutboxRecord)
            .where(OutboxRecord.recipient == recipient)
            .where(col(OutboxRecord.created_at) >= now - timedelta(days=1))
        ).one()
    state = OutboxState.PENDING
    if sent_today + earlier_in_batch >= context.settings.mail.replies_per_recipient_per_day:
        state = OutboxState.HELD
        log.warning("message row %d: reply held, recipient over the daily limit", message_row)
    session.execute(_outbox_insert(), {
        "message_row": message_row, "revision": job.revision, "message_id": reply.message_id,
        "recipient": clip(recipient, 320), "subject": clip(reply.subject, 998), "raw": reply.raw,
        "state": state, "attempts": 0, "next_attempt_at": now, "last_error": "",
        "created_at": now, "sent_at": None})


@cache
def _outbox_insert() -> Executable:
    """Built once: building a statement costs more than running it."""
    return insert(OutboxRecord.__table__)  # type: ignore[attr-defined]


def _write_failure(context: Context, session: Session, keys: _BatchKeys, ref: MessageRef,
                   raw: bytes, existing: MessageRecord | None, exc: Exception) -> MessageRecord:
    """The message recorded as failed (its attempt counted), or quarantined after too many."""
    attempts = (existing.attempts if existing is not None else 0) + 1
    state = (MessageState.QUARANTINED if attempts >= context.settings.mail.max_attempts
             else MessageState.FAILED)
    now = context.now()
    record = existing if existing is not None else MessageRecord(
        mailbox=keys.mailbox, location=ref.location, sha256=keys.digests[ref.location],
        received_at=now, raw=raw, state=state)
    if (content := keys.contents[ref.location]) is not None:
        record.content_key = content
    record.state = state
    record.attempts = attempts
    record.error = clip(f"{type(exc).__name__}: {exc}", 2000)
    record.reason = "our-error"
    record.processed_at = now
    session.add(record)
    session.flush()
    return record


def _handle_oversized(context: Context, source: MailSource, ref: MessageRef,
                      summary: PollSummary, ahead: _Lookahead) -> str | None:
    """Too large to download: decided from its header alone, and told so."""
    header = source.fetch_header(ref)
    moves = _process_batch(context, source.name, [(ref, header + b"\r\n\r\n")], summary, ahead,
                           oversized=True)
    return moves[0][1] if moves else None


def _advance_watermark(session: Session, mailbox: str, refs: list[MessageRef]) -> None:
    """Bookkeeping of the highest IMAP UID handled under the current UIDVALIDITY."""
    places = [ref.location.partition(":") for ref in refs]
    uids = [(int(v), int(u)) for v, sep, u in places if sep and v.isdigit() and u.isdigit()]
    if not uids:
        return  # a Maildir: file names, no UIDs
    uidvalidity = uids[0][0]
    highest = max(uid for _v, uid in uids)
    mark = session.get(WatermarkRecord, mailbox)
    if mark is None or mark.uidvalidity != uidvalidity:
        if mark is not None:
            log.warning("%s: UIDVALIDITY changed (%d -> %d); SHA-256 keeps old mail from being "
                        "processed again", mailbox, mark.uidvalidity, uidvalidity)
        mark = WatermarkRecord(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=highest)
    mark.last_uid = max(mark.last_uid, highest)
    session.add(mark)


def _set_service(engine: Engine, key: str, value: str) -> None:
    try:
        with Session(engine) as session:
            record = session.get(ServiceRecord, key) or ServiceRecord(key=key, value=value)
            record.value = value
            session.add(record)
            session.commit()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot record {key}: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:300]}") from exc
