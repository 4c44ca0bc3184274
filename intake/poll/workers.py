"""The worker processes of a large poll and the look-ahead that keeps them busy.

Parsing and deciding a message (and composing its reply) need no database: in a backlog they run
in worker processes while this process writes. A message whose preparation raised comes back as a
`WorkerFailure`, recorded as our error; a pool that dies leaves the rest to be prepared here.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context

import jinja2

from intake import LOG_FORMAT
from intake.core.messages import IncomingMessage
from intake.core.outcome import MessageOutcome, Preparation, prepare_message
from intake.core.replies import make_environment
from intake.mail.source import MessageRef
from intake.poll.replies import Replies, Reply, ReplyJob, compose_reply

log = logging.getLogger(__name__)

WORKER_NICENESS = 10  # added to a worker process's: the poll's own process comes first
QUEUED_PER_WORKER = 2  # messages handed to the worker processes and not finished, per worker


@dataclass(frozen=True, slots=True)
class WorkerFailure:
    """Preparing a message raised (in a worker, or here): the exception's type and text, plain
    values that cross from a worker process."""

    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


# A message prepared (parsed and decided without the database), or what stopped it.
Prepared = tuple[MessageOutcome, IncomingMessage] | WorkerFailure


class PreparationError(Exception):
    """Deciding a message failed in preparation; the message is recorded as failed."""

    def __init__(self, failure: WorkerFailure) -> None:
        super().__init__(str(failure))
        self.failure = failure


def prepare(raw: bytes, preparation: Preparation, *, oversized: bool = False) -> Prepared:
    """Runs in a worker (or here): an exception becomes a `WorkerFailure`."""
    try:
        return prepare_message(raw, preparation, oversized=oversized)
    except Exception as exc:  # noqa: BLE001 - the per-message boundary, on the worker's side
        return WorkerFailure(type(exc).__name__, str(exc))


@dataclass
class Workers:
    """The worker processes, and whether one has started. Until one answers (the fork server
    imports the deciding code first: about half a second), this process prepares and composes the
    messages itself rather than wait for them."""

    pool: Executor
    processes: int = 1
    started: threading.Event = field(default_factory=threading.Event)

    def warm(self) -> None:
        """Starts the workers (each submit starts at most one; a pool already shut down is left
        be), and marks them started when the first answers."""
        try:
            for _ in range(self.processes):
                self.pool.submit(int).add_done_callback(lambda _done: self.started.set())
        except RuntimeError:
            pass


@contextmanager
def workers_for(count: int, parallel_from: int, preparation: Preparation,
                replies: Replies) -> Iterator[Workers | None]:
    """Worker processes for a large poll (a backlog after downtime): parsing and deciding are
    CPU-bound, and the database and SMTP work stays here. Not forked from this process: a fork
    would share its database and mailbox connections. Forked from a fork server instead, a clean
    process that imported the deciding code once (for every poll of a daemon), so each worker
    starts without importing it again."""
    processes = min(len(os.sched_getaffinity(0)), 4)  # the cores this process may use
    if count < parallel_from or processes < 2:
        yield None
        return
    log.info("%d messages: deciding them in %d worker processes", count, processes)
    context = get_context("forkserver")
    # The modules that compose a rejection's reply (openpyxl) too: `intake poll` imports them only
    # when it composes one itself.
    context.set_forkserver_preload([__name__, "intake.core.annotation", "intake.core.blank_list"])
    with ProcessPoolExecutor(max_workers=processes, mp_context=context,
                             initializer=_start_worker,
                             initargs=(preparation, replies, os.getpid())) as pool:
        workers = Workers(pool, processes)
        # The fork server and the workers start while this thread fetches and decides the first
        # messages.
        threading.Thread(target=workers.warm, daemon=True).start()
        yield workers


def submit_reply(workers: Executor, job: ReplyJob) -> Future[Reply] | None:
    """The reply handed to a worker; None where the pool is gone (it is composed here then)."""
    try:
        return workers.submit(_compose_job, job)
    except RuntimeError:  # BrokenProcessPool is one
        return None


_worker_preparation: Preparation | None = None
_worker_replies: tuple[Replies, jinja2.Environment] | None = None


def _start_worker(preparation: Preparation, replies: Replies, parent: int) -> None:
    """In a worker process: keep what every message needs (the registry is sent once, here), and
    die with the parent — a SIGKILLed poller must not leave workers holding its stdout open."""
    global _worker_preparation, _worker_replies
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the poller's to answer, not ours
    # Behind this process: its writer holds the database and its sender the SMTP round trips,
    # and each reply waits on both; the workers prepare ahead and can wait for a core.
    os.nice(WORKER_NICENESS)
    # What a worker logs (an annotated copy that failed, say) reads as the poller's own lines.
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    _worker_preparation = preparation
    _worker_replies = (replies, make_environment(replies.templates_dir, auto_reload=False))
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    try:
        handle = os.pidfd_open(parent)
    except OSError:  # already gone
        os._exit(1)
    select.select([handle], [], [])  # readable once the parent has exited
    os._exit(1)


def _prepare_job(job: tuple[bytes, bool]) -> Prepared:
    assert _worker_preparation is not None
    raw, oversized = job
    return prepare(raw, _worker_preparation, oversized=oversized)


def _compose_job(job: ReplyJob) -> Reply:
    assert _worker_replies is not None
    return compose_reply(job, *_worker_replies)


class Lookahead:
    """The messages fetched, handed to the worker processes in the order fetched, a few at a time:
    each one a worker finishes is replaced at once (`QUEUED_PER_WORKER`), so once started the
    workers do not run dry while this process writes, and a reply handed to them waits behind a
    few messages only.
    Without workers (a small poll, or a pool that died), or before one has started, a message is
    prepared here when it is taken."""

    def __init__(self, workers: Workers | None, preparation: Preparation) -> None:
        self._workers = workers
        self._preparation = preparation
        self._queued_at_most = QUEUED_PER_WORKER * (workers.processes if workers else 1)
        # Taken by this thread and by the pool's thread that finishes futures (re-entered when a
        # future is already done as its callback is added).
        self._lock = threading.RLock()
        self._jobs: deque[tuple[str, tuple[bytes, bool]]] = deque()  # not handed over yet
        self._running: dict[str, Future[Prepared]] = {}  # handed over and not taken, in order
        self._queued = 0  # handed over and not finished

    @property
    def workers(self) -> Executor | None:
        """The pool, once a worker has started; None before, and once it is gone."""
        if self._workers is None or not self._workers.started.is_set():
            return None
        return self._workers.pool

    def add(self, fetched: list[tuple[MessageRef, bytes]], *, oversized: bool = False) -> None:
        if self._workers is not None:
            with self._lock:
                self._jobs.extend((ref.location, (raw, oversized)) for ref, raw in fetched)
                self._hand_over()

    def take(self, ref: MessageRef, raw: bytes, *, oversized: bool = False) -> Prepared:
        """The message prepared; those handed over before it and not taken were not needed (done
        before): dropped, not cancelled (see `_broken`)."""
        with self._lock:
            self._hand_over()  # a worker may have started since
            future = None
            if ref.location in self._running:
                for location in list(self._running):
                    future = self._running.pop(location)
                    if location == ref.location:
                        break
            elif any(location == ref.location for location, _job in self._jobs):
                self._running.clear()  # all handed over before it: not needed
                while self._jobs[0][0] != ref.location:
                    self._jobs.popleft()  # not needed
                _location, job = self._jobs.popleft()
                future = self._submit(job)  # the workers are behind: this one goes next
                if future is not None:
                    future.add_done_callback(self._finished)
        if future is not None:
            try:
                return future.result()
            except BrokenProcessPool:
                self._broken()
        return prepare(raw, self._preparation, oversized=oversized)

    def close(self) -> None:
        """Nothing more is handed over (a stop request, or a failure); the few handed over are
        dropped, not cancelled (see `_broken`)."""
        with self._lock:
            self._jobs.clear()
            self._running.clear()

    def _hand_over(self) -> None:
        while (self._jobs and self._queued < self._queued_at_most
               and self.workers is not None):
            location, job = self._jobs.popleft()
            future = self._submit(job)
            if future is None:
                return
            # In order before its callback, which runs here at once if it is done already.
            self._running[location] = future
            future.add_done_callback(self._finished)

    def _submit(self, job: tuple[bytes, bool]) -> Future[Prepared] | None:
        pool = self.workers
        if pool is None:
            return None
        try:
            future = pool.submit(_prepare_job, job)
        except RuntimeError:  # BrokenProcessPool is one
            self._broken()
            return None
        self._queued += 1
        return future

    def _finished(self, _future: Future[Prepared]) -> None:
        with self._lock:
            self._queued -= 1
            self._hand_over()

    def _broken(self) -> None:
        """Nothing is cancelled: a pool whose worker dies fails each of its futures itself, and a
        future cancelled meanwhile would stop it doing so (Python 3.11), leaving the rest waiting
        for ever."""
        with self._lock:
            if self._workers is not None:
                log.error("worker processes died; deciding the rest of the poll in this process")
            self._workers = None
            self.close()
