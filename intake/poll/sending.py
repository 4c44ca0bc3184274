"""Sending the replies waiting in the outbox. A reply is claimed (committed as SENDING) before the
server sees it and marked SENT after, in the transaction that claims the next: a crash in between
leaves it SENDING, shown to staff and never sent twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection, Engine

from intake.mail.outbox import TEMPORARY_FAILURES_FOR, TemporaryFailure, Transport, Unreachable
from intake.store import outbox

log = logging.getLogger(__name__)

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Delivery:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unreachable: bool = False  # the run stopped: the server could not be reached

    def __add__(self, other: Delivery) -> Delivery:
        return Delivery(self.sent + other.sent, self.retried + other.retried,
                        self.failed + other.failed, self.unreachable or other.unreachable)


def retry_delay(attempts: int, base_seconds: int = 60) -> timedelta:
    """base, 2 × base, 4 × base … after each failed attempt; at most an hour."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), 3600))


def deliver_pending(engine: Engine, transport: Transport, *, sender: str, now: datetime,
                    max_attempts: int, retry_seconds: int = 60, failpoint: object = None,
                    lock: AbstractContextManager[object] | None = None,
                    stop: Callable[[], bool] = lambda: False) -> Delivery:
    """Send every reply that is due. `lock` is held for each use of the database (a thread that
    sends while another writes takes turns with it: a reply the server took is then marked SENT
    once the writer's transaction is committed, and a crash meanwhile leaves that one reply
    SENDING). Once `stop()` is true (SIGTERM), no further reply is claimed: the rest wait in
    the outbox for the next poll.

    A reply the server deferred waits out its backoff; but once another reply goes through, the
    server takes mail again, and the deferred ones are sent at once rather than up to an hour
    later."""
    lock = lock or nullcontext()
    with engine.connect() as connection:  # one connection for the run, a transaction a step
        run = _Run(connection, transport, sender=sender, now=now, max_attempts=max_attempts,
                   retry_seconds=retry_seconds, failpoint=failpoint, lock=lock)
        tried: set[int] = set()
        with lock:
            due = outbox.pending(engine, now, due=True)
        outcome = _attempt_all(run, due, tried, stop)
        if outcome == "done" and (run.accepted or run.sent):
            with lock:
                waiting = outbox.pending(engine, now, due=False)
            deferred = [i for i in waiting if i not in tried]
            if deferred:
                log.info("outbox: the server takes mail again; %d deferred repl(ies) go now",
                         len(deferred))
                outcome = _attempt_all(run, deferred, tried, stop)
        if run.accepted:
            run.step(lambda _connection: None)
        return Delivery(run.sent, run.retried, run.failed, outcome == "unreachable")


def _attempt_all(run: _Run, row_ids: list[int], tried: set[int], stop: Callable[[], bool]) -> str:
    """"done", "stopped" (a stop request) or "unreachable" (no use trying the rest)."""
    for position, row_id in enumerate(row_ids):
        if stop():
            return "stopped"
        tried.add(row_id)
        if not run.attempt(row_id, len(row_ids) - position):
            return "unreachable"
    return "done"


class _Run:
    """One sender's pass over the outbox, on one connection."""

    def __init__(self, connection: Connection, transport: Transport, *, sender: str,
                 now: datetime, max_attempts: int, retry_seconds: int, failpoint: object,
                 lock: AbstractContextManager[object]) -> None:
        self.connection, self.transport, self.sender, self.now = connection, transport, sender, now
        self.max_attempts, self.retry_seconds, self.failpoint = max_attempts, retry_seconds, failpoint
        self.lock = lock
        self.accepted: list[int] = []  # taken by the server; marked SENT in the next transaction
        self.sent = self.retried = self.failed = 0

    def step(self, statement: Callable[[Connection], _T]) -> _T:
        """One step, and the SENT mark of the replies before it (one commit for both)."""
        with self.lock, self.connection.begin():
            outbox.mark_sent(self.connection, self.accepted, self.now)
            self.sent += len(self.accepted)
            self.accepted.clear()
            return statement(self.connection)

    def attempt(self, row_id: int, waiting: int) -> bool:
        """Send one reply; False when the server cannot be reached (no use trying the rest)."""
        claimed = self.step(lambda c: outbox.claim(c, row_id))  # committed before the server sees it
        if claimed is None:
            return True  # another sender took it
        try:
            self.transport.send(claimed.raw, self.sender, [claimed.recipient])
        except Unreachable as exc:
            # Nothing reached the server: not an attempt of this reply. Try again next poll.
            error = str(exc)
            self.step(lambda c: outbox.put_back(c, row_id, error))
            log.warning("outbox: server unreachable, %d replies wait for the next poll: %s",
                        waiting, exc)
            return False
        except Exception as exc:  # noqa: BLE001 - whatever the server said, the reply waits
            error, attempts = str(exc), claimed.attempts + 1
            given_up = (self.now - claimed.created_at >= TEMPORARY_FAILURES_FOR
                        if isinstance(exc, TemporaryFailure) else attempts >= self.max_attempts)
            retry_at = None if given_up else self.now + retry_delay(attempts, self.retry_seconds)
            if given_up:
                self.failed += 1
            else:
                self.retried += 1
            self.step(lambda c: outbox.record_attempt(c, row_id, attempts=attempts, error=error,
                                                      retry_at=retry_at))
            log.warning("outbox %d: send failed (attempt %d): %s", row_id, attempts, exc)
            return True
        if callable(self.failpoint):
            self.failpoint("after-send")
        self.accepted.append(row_id)
        return True
