"""One poll: fetch -> parse -> read -> decide -> store (with the reply) -> send -> move.

The one place that sequences the shell. Each message is committed with its reply in one
transaction before anything is acknowledged; one message's failure never stops the others.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from intake.errors import MailboxError, StoreError
from intake.mail.outbox import Transport
from intake.mail.source import MailSource, MessageRef
from intake.poll.context import Context
from intake.poll.moves import decided_before, move_decided
from intake.poll.replies import replies_of
from intake.poll.sending import Delivery, deliver_pending
from intake.poll.workers import Lookahead, workers_for
from intake.poll.writing import BatchKeys, write_batch
from intake.store.messages import set_service

log = logging.getLogger(__name__)

TAPER_FLOOR = 8  # the smallest of the last batches of a large poll


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


def poll(context: Context, source: MailSource, transport: Transport) -> PollSummary:
    """One cycle. Raises only for our own environment (mailbox, database); a bad message is data.

    Each batch's replies go out once it is committed: in a large poll from a thread of their own
    while the next batches are prepared and written, else between batches; the mail is moved at
    the end."""
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

    database: AbstractContextManager[object] | None = None  # taken in turns with the sender
    sender: _Sender | None = None

    def send() -> None:
        nonlocal sending
        if not sending:
            return
        try:
            summary.delivery += deliver_pending(
                context.engine, transport, sender=mail.address, now=context.now(),
                max_attempts=mail.send_retries, retry_seconds=mail.send_retry_seconds,
                failpoint=context.failpoint, lock=database,
                stop=lambda: context.should_stop() or (sender is not None and sender.stopping))
        except SQLAlchemyError as exc:  # the database went away: the replies wait in the outbox
            sending = False
            raise StoreError(f"cannot send the replies: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:300]}") from exc
        sending = not summary.delivery.unreachable

    preparation = context.preparation()
    try:
        with workers_for(len(refs), mail.parallel_from, preparation,
                         replies_of(context.settings)) as workers:
            ahead = Lookahead(workers, preparation)
            if workers is not None:
                database = threading.Lock()
                sender = _Sender(send)

            def fetch(batch: list[MessageRef]) -> list[tuple[MessageRef, bytes]]:
                fetched = []
                for ref, raw in source.fetch([r for r in batch
                                              if r.size <= mail.max_message_bytes]):
                    context.failpoint("after-fetch")
                    fetched.append((ref, raw))
                ahead.add(fetched)
                return fetched

            try:
                batches = _batches(refs, mail.batch_size, mail.batch_bytes,
                                   taper=sender is not None)
                batch = next(batches, None)
                fetched: list[tuple[MessageRef, bytes]] | None = None
                number = 0
                while batch is not None:
                    if context.should_stop():
                        break
                    for ref in batch:
                        if ref.size > mail.max_message_bytes:
                            folder = _handle_oversized(context, source, ref, summary, ahead,
                                                       database)
                            if folder:
                                done.setdefault(folder, []).append(ref)
                    if fetched is None:
                        fetched = fetch(batch)
                    if sender is None and number and sending:
                        send()  # the last batch's replies, before this one is written
                    # With workers, the next batch is fetched while they prepare this one, and
                    # they start on it while this one is written.
                    following = next(batches, None)
                    fetched_next, unfetched = None, None
                    if following is not None and sender is not None and not context.should_stop():
                        try:
                            fetched_next = fetch(following)
                        except MailboxError as exc:
                            unfetched = exc  # raised once this batch is written
                    for ref, folder in _process_batch(context, source.name, fetched, summary,
                                                      ahead, database):
                        done.setdefault(folder, []).append(ref)
                    if sender is not None:
                        sender.wake()
                    if unfetched is not None:
                        raise unfetched
                    batch, fetched, number = following, fetched_next, number + 1
            finally:
                ahead.close()
    except (StoreError, MailboxError) as exc:
        failure = exc  # what earlier batches committed is still answered (and moved) below
    except BaseException:
        if sender is not None:  # the reply in hand goes out; the thread is not left behind
            sender.stopping = True
            with suppress(Exception):  # what stopped the sender is logged where it happened
                sender.finish()
        raise
    try:
        if sender is not None:
            sender.finish()  # its last pass sends what the last batch queued
        else:
            send()
    except StoreError as exc:
        failure = failure or exc
    context.failpoint("before-move")
    if not isinstance(failure, MailboxError):
        # Over a dropped connection nothing is moved: the next poll finds these done, moves them.
        summary.not_moved = move_decided(context.engine, source, done, decided, context.now())
    if failure is not None:
        raise failure
    set_service(context.engine, "last_good_poll", context.now().isoformat())
    return summary


def _batches(refs: list[MessageRef], count: int, size: int, *,
             taper: bool = False) -> Iterator[list[MessageRef]]:
    """At most `count` messages and about `size` bytes at a time: memory stays bounded. With
    `taper`, the last batches halve (to no fewer than `TAPER_FLOOR`): the replies of the last
    commit go out after it with nothing left to overlap them, so they had better be few."""
    start = 0
    while start < len(refs):
        limit = min(count, max((len(refs) - start + 1) // 2, TAPER_FLOOR)) if taper else count
        end, total = start, 0
        while end < len(refs) and (end == start or (end - start < limit
                                                    and total + refs[end].size <= size)):
            total += refs[end].size
            end += 1
        yield refs[start:end]
        start = end


def _process_batch(context: Context, mailbox: str, fetched: list[tuple[MessageRef, bytes]],
                   summary: PollSummary, ahead: Lookahead,
                   database: AbstractContextManager[object] | None, *,
                   oversized: bool = False) -> list[tuple[MessageRef, str]]:
    """Decide and store a batch in one transaction (`intake.poll.writing`); returns where each
    message goes once that transaction is committed. With a sender thread (`database` is then
    the lock the two take turns at), the batch is prepared before its transaction begins."""
    try:
        written = write_batch(context, BatchKeys.of(mailbox, fetched), fetched,
                              lambda ref, raw: ahead.take(ref, raw, oversized=oversized),
                              workers=ahead.workers, prepare_first=database is not None,
                              lock=database)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot store a batch of messages: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:300]}") from exc
    context.failpoint("after-commit")
    for level, line in written.log:
        log.log(level, "%s", line)
    summary.already_done += written.already_done
    summary.states.update(written.states)
    summary.accepted_lists += written.lists.accepted
    summary.rejected_lists += written.lists.rejected
    return [(ref, folder) for ref, folder in written.moves if folder]


def _handle_oversized(context: Context, source: MailSource, ref: MessageRef,
                      summary: PollSummary, ahead: Lookahead,
                      database: AbstractContextManager[object] | None) -> str | None:
    """Too large to download: decided from its header alone, and told so."""
    header = source.fetch_header(ref)
    moves = _process_batch(context, source.name, [(ref, header + b"\r\n\r\n")], summary, ahead,
                           database, oversized=True)
    return moves[0][1] if moves else None


class _Sender:
    """The replies of a large poll sent from a thread of its own: the SMTP round trips (four a
    reply, to a server that may share the machine) overlap the preparing and writing of the next
    batches instead of adding to them. Woken after each commit; `finish` makes a last pass over
    the outbox and raises what stopped the thread. Each reply is still claimed in a committed
    transaction before the server sees it: the writer and this thread take turns at the database."""

    def __init__(self, send: Callable[[], None]) -> None:
        self._send = send
        self._wake = threading.Event()
        self._finishing = False
        self.stopping = False  # claim no further reply (the poll is failing)
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="intake-send", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """After a commit; raises what stopped the thread, so that the poll stops as it would
        have with the sending in its own thread."""
        if self._error is not None:
            raise self._error
        self._wake.set()

    def finish(self) -> None:
        self._finishing = True
        self._wake.set()
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            last = self._finishing
            try:
                self._send()
            except Exception as exc:  # noqa: BLE001 - raised in the poll's thread by `wake`
                log.error("sending stopped: %s", exc)  # the rest waits in the outbox
                self._error = exc
                return
            if last:
                return
