"""`intake run`: APScheduler polls on an interval, never two at once; SIGTERM ends it cleanly."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from intake.errors import ConfigError

EXIT_CONFIG = 78  # sysexits.h EX_CONFIG: systemd's RestartPreventExitStatus stops the loop

log = logging.getLogger(__name__)


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
                daily: Sequence[DailyJob] = ()) -> int:
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

    def job() -> None:
        if stop.is_set():
            return
        try:
            poll_once(stop.is_set)
        except ConfigError as exc:  # a missing password, say: no later poll would do better
            log.error("configuration: %s", exc)
            status[0] = EXIT_CONFIG
            stop.set()
            return
        except Exception:  # a failed poll is logged; the next one tries again
            log.exception("poll failed")
            return
        notify("WATCHDOG=1")  # only a healthy poll feeds the watchdog

    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(job, IntervalTrigger(seconds=interval_seconds), id="poll", max_instances=1,
                      coalesce=True, next_run_time=datetime.now(UTC))
    for daily_job in daily:
        scheduler.add_job(_guarded(daily_job, stop), CronTrigger(
            hour=daily_job.at.hour, minute=daily_job.at.minute, timezone=daily_job.zone),
            id=daily_job.name, max_instances=1, coalesce=True, misfire_grace_time=3600,
            next_run_time=datetime.now(UTC))  # at start too: catches up a day missed while down
    scheduler.start()
    notify("READY=1")
    log.info("running: polling every %d s", interval_seconds)
    stop.wait()
    notify("STOPPING=1")
    scheduler.shutdown(wait=True)  # the poll in hand sees `stop` and returns after its message
    log.info("stopped")
    return status[0]


def _guarded(daily_job: DailyJob, stop: threading.Event) -> Callable[[], None]:
    def run() -> None:
        if stop.is_set():
            return
        try:
            daily_job.run()
        except Exception:  # the next day tries again; the poll goes on meanwhile
            log.exception("%s failed", daily_job.name)
    return run
