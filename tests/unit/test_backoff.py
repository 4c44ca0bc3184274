"""The daemon's backoff: polls that fail in a row wait longer and longer; the watchdog is still fed;
a failed daily job is tried again instead of waiting a day."""

from __future__ import annotations

import os
import signal
import time
from datetime import time as clock_time
from itertools import pairwise
from zoneinfo import ZoneInfo

from intake.daemon import DailyJob, backoff_seconds, run_forever
from intake.errors import MailboxError, StoreError


def test_backoff_doubles_from_the_interval_to_five_minutes():
    assert [backoff_seconds(n, 60) for n in range(1, 7)] == [60, 120, 240, 300, 300, 300]
    assert [backoff_seconds(n, 1) for n in range(1, 5)] == [1, 2, 4, 8]
    assert backoff_seconds(1000, 600) == 600  # an interval longer than the cap is kept


def test_failing_polls_back_off_feed_the_watchdog_and_a_failed_daily_job_is_retried(caplog):
    polls: list[float] = []
    summaries: list[float] = []
    pings: list[str] = []

    def poll(_should_stop) -> None:
        polls.append(time.monotonic())
        if len(polls) == 4:
            os.kill(os.getpid(), signal.SIGTERM)  # as systemd stops it
            return
        raise MailboxError("cannot connect to 127.0.0.1:993: ConnectionRefusedError")

    def summary() -> None:
        summaries.append(time.monotonic())
        if len(summaries) < 3:
            raise StoreError("database unreachable")

    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        status = run_forever(poll, interval_seconds=1, notify=pings.append, daily=[
            DailyJob("daily summary", clock_time(7, 0), ZoneInfo("Europe/Riga"), summary)])
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])

    assert status == 0
    gaps = [later - earlier for earlier, later in pairwise(polls)]
    # After the 1st, 2nd, 3rd failure: about 1, 2, 4 s (the next tick of a 1 s interval).
    assert 0.5 < gaps[0] < 2.4 and 1.5 < gaps[1] < 3.4 and 3.5 < gaps[2] < 5.4, gaps
    assert 6.5 < polls[-1] - polls[0] < 10
    # Every tick fed the watchdog, the skipped ones too: only a hung poll starves it.
    assert pings.count("WATCHDOG=1") >= 7  # 3 failed polls, 4 skipped ticks, the last poll
    # The daily job: at start, again 1 s later, then 2 s later, when it succeeded; then not again.
    summary_gaps = [later - earlier for earlier, later in pairwise(summaries)]
    assert len(summaries) == 3 and 0.9 < summary_gaps[0] < 2.4 and 1.9 < summary_gaps[1] < 3.4
    failures = [r.getMessage() for r in caplog.records if "failed (" in r.getMessage()]
    assert "daily summary failed (2 in a row): StoreError: database unreachable; next attempt in " \
           "about 2 s" in failures
    assert "poll failed (3 in a row): MailboxError: cannot connect to 127.0.0.1:993: " \
           "ConnectionRefusedError; next attempt in about 4 s" in failures
    assert not any(r.exc_info for r in caplog.records)  # an outage is one line, not a traceback
