"""`intake run`: APScheduler polls on an interval, never two at once; SIGTERM ends it cleanly."""

from __future__ import annotations

import logging
import signal
import threading
import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from types import FrameType
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import InterfaceError, OperationalError

from intake.errors import EXIT_CONFIG, ConfigError, IntakeError

MAX_BACKOFF_SECONDS = 300  # polls failing in a row are retried at least this often

log = logging.getLogger(__name__)


class Watcher(Protocol):
    """Something that calls the `wake` it was made with when new mail arrives."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class DailyJob:
    """A job at a local time each day, and once at start (it must be idempotent: the summary
    records its day, the purge finds nothing the second time)."""

    name: str
    at: time
    zone: ZoneInfo
    run: Callable[[], object]


def run_forever(poll_once: Callable[[Callable[[], bool]], None], *, interval_seconds: int,
                notify: Callable[[str], object] = lambda _state: None,
                daily: Sequence[DailyJob] = (),
                watcher: Callable[[Callable[[], None]], Watcher] | None = None) -> int:
    """Poll now and every `interval_seconds` until SIGTERM or SIGINT; returns the exit status.

    `poll_once` gets a `should_stop` callable: it checks it between messages, so a stop request
    finishes the message in hand and leaves the rest, untouched, for the next start.
    """
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: finishing the message in hand", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    status = [0]
    failures = [0]  # polls failed in a row (mailbox, database or SMTP out): the next ones back off
    resume_at = [0.0]  # clock.monotonic() before which no poll starts, whatever woke it
    polling = threading.Lock()
    again = threading.Event()  # new mail announced while a poll was running: poll once more

    def job() -> None:
        if clock.monotonic() < resume_at[0]:
            notify("WATCHDOG=1")  # backing off: alive, and `intake status` tells of the outage
            return
        while not stop.is_set():
            with polling:
                again.clear()
                if not poll_and_report():
                    return
            if not again.is_set():
                return

    def poll_and_report() -> bool:
        started = clock.monotonic()
        try:
            poll_once(stop.is_set)
        except ConfigError as exc:  # a missing password, say: no later poll would do better
            log.error("configuration: %s", exc)
            status[0] = EXIT_CONFIG
            stop.set()
            return False
        except Exception as exc:  # noqa: BLE001 - a failed poll is logged; a later one retries
            failures[0] += 1
            delay = backoff_seconds(failures[0], interval_seconds)
            _log_failure("poll", exc, failures[0], delay)
            # The ticks in between (and IMAP IDLE's wake-ups) pass: the tick `delay` after the
            # failed poll began polls again; each tick still pings the watchdog.
            resume_at[0] = started + delay - 0.5
            notify("WATCHDOG=1")  # the daemon is alive: only a poll that hangs stops the pings
            return False
        if failures[0]:
            log.info("poll succeeded again after %d failed poll(s)", failures[0])
            failures[0] = 0
        notify("WATCHDOG=1")
        return True

    def wake() -> None:
        """New mail (IMAP IDLE): poll now, or once more right after the poll in hand."""
        again.set()
        if not polling.locked() and not stop.is_set():
            scheduler.modify_job("poll", next_run_time=datetime.now(UTC))

    def guarded(daily_job: DailyJob) -> Callable[[], None]:
        """A daily job that failed (the database out at the hour, say) is tried again, backing off
        as the poll does, until it succeeds: a day's summary is not skipped for an outage."""
        failed = [0]

        def run() -> None:
            if stop.is_set():
                return
            try:
                daily_job.run()
            except Exception as exc:  # noqa: BLE001 - logged; the poll goes on meanwhile
                failed[0] += 1
                delay = backoff_seconds(failed[0], interval_seconds)
                _log_failure(daily_job.name, exc, failed[0], delay)
                if not stop.is_set():
                    scheduler.add_job(run, DateTrigger(datetime.now(UTC) + timedelta(seconds=delay)),
                                      id=f"{daily_job.name} (retry)", replace_existing=True,
                                      misfire_grace_time=None)
                return
            failed[0] = 0
        return run

    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(job, IntervalTrigger(seconds=interval_seconds), id="poll", max_instances=1,
                      coalesce=True, next_run_time=datetime.now(UTC))
    for daily_job in daily:
        scheduler.add_job(guarded(daily_job), CronTrigger(
            hour=daily_job.at.hour, minute=daily_job.at.minute, timezone=daily_job.zone),
            id=daily_job.name, max_instances=1, coalesce=True, misfire_grace_time=3600,
            next_run_time=datetime.now(UTC))  # at start too: catches up a day missed while down
    scheduler.start()
    watching = watcher(wake) if watcher is not None else None
    if watching is not None:
        watching.start()
    notify("READY=1")
    log.info("running: polling every %d s%s", interval_seconds,
             " and on new mail (IMAP IDLE)" if watching is not None else "")
    stop.wait()
    notify("STOPPING=1")
    if watching is not None:
        watching.stop()
    scheduler.shutdown(wait=True)  # the poll in hand sees `stop` and returns after its message
    log.info("stopped")
    return status[0]


def backoff_seconds(failures: int, interval_seconds: int) -> int:
    """The wait after the `failures`-th failure in a row: the interval, then twice, four times …
    as long, at most MAX_BACKOFF_SECONDS (or the interval, when that is longer)."""
    doubled: int = interval_seconds << min(max(failures - 1, 0), 30)
    return min(doubled, max(interval_seconds, MAX_BACKOFF_SECONDS))


def _log_failure(what: str, exc: Exception, failures: int, delay: int) -> None:
    """One line for what the environment does to us (an outage); a traceback only for a bug."""
    if isinstance(exc, IntakeError | OperationalError | InterfaceError):
        said = str(exc).splitlines()[0][:500] if str(exc) else ""
        log.error("%s failed (%d in a row): %s: %s; next attempt in about %d s", what, failures,
                  type(exc).__name__, said, delay)
    else:
        log.exception("%s failed (%d in a row); next attempt in about %d s", what, failures, delay)
