"""Outages: the IMAP server, the SMTP server or the database gone for a while. The daemon stays up,
backs off, catches up when they are back, loses nothing and answers nothing twice."""

from __future__ import annotations

import re
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import make_url

from intake.config import Settings, load_settings, resource_dir
from intake.poll.service import poll_once
from intake.store.status import read_status
from tests.end_to_end.conftest import OUR_ADDRESS, STAFF, Daemon
from tests.end_to_end.test_mailbox_loop import application, school_list
from tests.support.proxy import TcpProxy
from tests.support.smtp import start_smtp

# Where the dialect matters: both databases throughout.
pytestmark = pytest.mark.databases("sqlite", "postgresql")


def write_config(intake, mail_lines: str) -> Path:
    path = intake.cwd / "outage.toml"
    path.write_text(f'programmes_dir = "{resource_dir("config") / "programmes"}"\n'
                    f"[mail]\n{mail_lines}\n", encoding="utf-8")
    return path


def settings_for(database_url: str, dovecot, smtp_url: str, state_dir: Path, **mail) -> Settings:
    """What `intake` reads from its environment, for a poll run in this process."""
    settings = load_settings({
        "INTAKE_STATE_DIR": str(state_dir), "INTAKE_DATABASE_URL": database_url,
        "INTAKE_MAILBOX_URL": dovecot.url("intake"),
        "INTAKE_MAILBOX_PASSWORD": dovecot.users["intake"], "INTAKE_SMTP_URL": smtp_url,
        "INTAKE_TLS_CA_FILE": str(dovecot.ca_file), "INTAKE_FROM": OUR_ADDRESS})
    return replace(settings, mail=replace(settings.mail, **mail))


@contextmanager
def daemon(intake, **env: str) -> Iterator[Daemon]:
    running = intake.start("run", extra_env=env)
    try:
        yield running
    finally:
        if running.alive:
            running.process.kill()
        running.process.wait(timeout=60)


def answered_once(smtp, count: int, *, but: str = "") -> Counter[str]:
    """Each school's reply, counted by recipient (`but`: leave that address out)."""
    replies = Counter(r.recipients[0] for r in smtp.inbox.wait_for(count) if r.recipients[0] != but)
    return replies


# --- the IMAP server ------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_imap_server_stopped_mid_backlog_and_restarted_loses_nothing(intake, mailbox_server,
                                                                          smtp):
    count = 48
    mailbox_server.append_many([application("gmail", n, school_list(n, size=2))
                                for n in range(2000, 2000 + count)])
    config = write_config(intake, "poll_interval_seconds = 1\nbatch_size = 6")
    intake("db", "upgrade")
    committed = lambda: intake.rows("select count(*) from messages")[0][0]  # noqa: E731

    with daemon(intake, INTAKE_CONFIG=str(config)) as running:
        try:
            intake.wait_until(lambda: committed() > 0)
            running.process.send_signal(signal.SIGSTOP)  # frozen between two steps of the backlog
            before = committed()
            mailbox_server.halt()  # every connection to it drops
            running.process.send_signal(signal.SIGCONT)
            running.wait_for_failed_polls(2)
            assert running.alive
            answered_meanwhile = len(smtp.inbox.messages)  # what was stored before it went down
            alert = intake("status", check=False)
            assert alert.returncode == 1 and "ALERT: no poll has succeeded yet" in alert.stdout
        finally:
            if not mailbox_server.running:
                mailbox_server.restart()  # the same ports, the same mail
        intake.wait_until(lambda: intake.status()["outbox"] == {"sent": count}
                          and mailbox_server.folder_counts()["INBOX"] == 0)
        assert running.stop() == 0
    log = running.log()

    assert 0 < before < count  # the server went down in the middle of the backlog
    assert answered_meanwhile >= before  # answered though the mailbox was down
    (first, kind, delay), (second, _kind, longer) = running.failed_polls()[:2]
    assert (first, kind, delay, second, longer) == (1, "MailboxError", 1, 2, 2)  # backing off
    assert re.search(r"poll succeeded again after \d+ failed poll\(s\)", log)
    replies = answered_once(smtp, count)
    assert len(replies) == count and set(replies.values()) == {1}  # none lost, none twice
    assert intake.rows("select count(*), count(distinct message_row) from applications") == [
        (count, count)]
    assert mailbox_server.folder_counts()["Intake.Applications"] == count


# --- the SMTP server, an hour on a simulated clock ------------------------------------------------

START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
BACK_AT = 60  # minutes
ARRIVALS = {0: [3001, 3002, 3003], 10: [3004], 20: [3005], 30: [3006], 40: [3007], 50: [3008]}


@pytest.mark.slow
@pytest.mark.parametrize("outage", ["down", "refusing"])
def test_smtp_out_for_an_hour_replies_wait_with_backoff_and_go_once(engine, database_url,
                                                                   mailbox_server, tmp_path, outage):
    """`down`: the port refuses connections; `refusing`: every message gets 451. The clock is the
    pipeline's (Context.now), a poll a minute, 90 minutes in all; the SMTP server is real."""
    server = start_smtp(mailbox_server.ca_file, mailbox_server.root / "key.pem")
    settings = settings_for(database_url, mailbox_server, server.url, tmp_path)
    up = True
    delivered_at: dict[str, int] = {}
    try:
        if outage == "down":
            server.halt()
            up = False
        else:
            server.inbox.refuse = True
        for minute in range(0, 91):
            now = START + timedelta(minutes=minute)
            if minute == BACK_AT:
                if outage == "down":
                    server.resume()
                    up = True
                else:
                    server.inbox.refuse = False
            mailbox_server.append_many([application("outlook", n, school_list(n))
                                        for n in ARRIVALS.get(minute, [])])
            summary = poll_once(settings, engine, now=lambda now=now: now)
            assert summary is not None
            for received in server.inbox.wait_for(0):
                delivered_at.setdefault(received.recipients[0], minute)
            if minute == BACK_AT - 1:  # the last minute of the outage
                during = read_status(engine)
                problems = during.problems(now, settings.mail.poll_interval_seconds)
                refusals = server.inbox.refused
    finally:
        if up:
            server.stop()

    schools = [f"sekretare{n}@skola.example.lv" for ns in ARRIVALS.values() for n in ns]
    # Meanwhile every mail was decided, stored and moved; each reply waited, and a monitor knew.
    assert during.applications == {"accepted": len(schools)}
    assert during.outbox == {"pending": len(schools)}
    assert [p for p in problems if "waiting to be sent" in p] == [
        f"{len(schools)} repl(ies) waiting to be sent, the oldest since {START.isoformat()}: the "
        "SMTP server is unreachable or refusing them"]
    assert mailbox_server.folder_counts()["Intake.Applications"] == len(schools)
    # Then each went out once, soon after the server came back; nothing failed, nothing is stuck.
    assert sorted(delivered_at) == sorted(schools)
    assert len(server.inbox.messages) == len(schools)
    after = read_status(engine)
    assert after.outbox == {"sent": len(schools)}
    assert after.problems(START + timedelta(minutes=90), 60) == []
    attempts = sorted(a for (a,) in _rows(engine, "select attempts from outbox"))
    if outage == "down":
        # Unreachable: one connection attempt a poll, no attempt counted against any reply.
        assert set(delivered_at.values()) == {BACK_AT} and attempts == [0] * len(schools)
    else:
        # 451: each reply retried after 1, 2, 4, 8, 16, 32 … minutes (send_retry_seconds = 60,
        # doubling): 44 refusals in the hour instead of 330 at one a poll; past the five
        # send_retries without failing; the first retry after 60 min succeeds (the one queued at
        # 30 min, due at 61) and takes the deferred others with it.
        assert refusals == 44 and server.inbox.refused == 44
        assert attempts == [4, 5, 5, 6, 6, 6, 6, 6]
        assert set(delivered_at.values()) == {61}


def _rows(engine, query: str) -> list[tuple[object, ...]]:
    from sqlalchemy import text

    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


# --- the database ---------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_unreachable_the_daemon_stays_up_and_catches_up(intake, mailbox_server, smtp,
                                                                   database_url):
    """A TCP proxy between the daemon and PostgreSQL: down when the daemon starts (connections
    closed at once), then, while it runs, cut as a vanished host (nothing answers: only the connect
    timeout ends the wait)."""
    proxy = TcpProxy(("127.0.0.1", 5432)).start()
    proxied = make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)
    config = write_config(intake, "poll_interval_seconds = 1")
    first = [3101, 3102, 3103]
    second = [3104, 3105, 3106]
    intake("db", "upgrade")
    try:
        proxy.cut(refuse=True)
        mailbox_server.append_many([application("gmail", n, school_list(n)) for n in first])
        with daemon(intake, INTAKE_CONFIG=str(config), INTAKE_DATABASE_URL=proxied,
                    INTAKE_STAFF=STAFF) as running:
            running.wait_for_failed_polls(2)
            assert running.alive and intake.rows("select count(*) from messages") == [(0,)]
            unreachable = intake("status", extra_env={"INTAKE_DATABASE_URL": proxied}, check=False)
            assert unreachable.returncode == 3 and "database unreachable" in unreachable.stderr

            proxy.restore()
            intake.wait_until(lambda: intake.status()["outbox"] == {"sent": len(first) + 1})
            polls_failed_before = len(running.failed_polls())

            proxy.cut()
            mailbox_server.append_many([application("gmail", n, school_list(n)) for n in second])
            running.wait_for_failed_polls(polls_failed_before + 1)
            assert running.alive
            # A monitor that reaches the database itself (with the daemon's configuration) sees
            # the alert once three intervals have passed without a good poll.
            seen = []

            def alerting() -> bool:
                seen.append(intake("status", extra_env={"INTAKE_CONFIG": str(config)}, check=False))
                return "more than three intervals ago" in seen[-1].stdout

            intake.wait_until(alerting, timeout=120)  # status runs a process a try: slow on a busy machine
            assert seen[-1].returncode == 1

            proxy.restore()
            intake.wait_until(lambda: intake.status()["outbox"] == {
                "sent": len(first) + len(second) + 1})
            assert running.stop() == 0
    finally:
        proxy.close()
    log = running.log()

    assert "cannot migrate the database" in log  # at start: it started anyway
    assert re.search(r"daily summary failed \(\d+ in a row\)", log)  # and sent it once back
    failures = running.failed_polls()
    assert failures[:2] == [(1, "StoreError", 1), (2, "StoreError", 2)]
    assert log.count("poll succeeded again after") == 2
    replies = answered_once(smtp, len(first) + len(second) + 1, but=STAFF)
    assert sorted(replies) == sorted(f"sekretare{n}@skola.example.lv" for n in first + second)
    assert set(replies.values()) == {1}
    assert [r.recipients for r in smtp.inbox.messages].count([STAFF]) == 1
    assert mailbox_server.folder_counts()["INBOX"] == 0
    assert intake.rows("select count(*) from applications") == [(len(first) + len(second),)]


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_locked_beyond_the_busy_timeout_the_daemon_stays_up_and_catches_up(
        intake, mailbox_server, smtp, database_url):
    """Another process holds the write lock longer than the busy timeout. Each poll waits it out,
    then fails: its transactions take the write lock at BEGIN (IMMEDIATE), so even the first,
    which only reads the registry, waits as a writer does, and none fails at once."""
    busy = 3  # seconds: the URL's own busy timeout (30 s by default), so the test waits 3 s, not 30
    database_url = f"{database_url}?timeout={busy}"
    intake.env["INTAKE_DATABASE_URL"] = database_url
    config = write_config(intake, "poll_interval_seconds = 1")
    first = [3201, 3202, 3203]
    second = [3204, 3205, 3206]
    intake("db", "upgrade")
    mailbox_server.append_many([application("outlook", n, school_list(n)) for n in first])
    with daemon(intake, INTAKE_CONFIG=str(config)) as running:
        intake.wait_until(lambda: intake.status()["outbox"] == {"sent": len(first)})
        holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")  # what a long write by another program does
            locked_at = time.monotonic()
            # Each failed poll has waited out the busy timeout first.
            running.wait_for_failed_polls(1, timeout=20 * busy)
            waited = time.monotonic() - locked_at
            mailbox_server.append_many([application("outlook", n, school_list(n)) for n in second])
            running.wait_for_failed_polls(2, timeout=20 * busy)
            assert running.alive
            alert = intake("status", extra_env={"INTAKE_CONFIG": str(config)}, check=False)
            assert alert.returncode == 1 and "more than three intervals ago" in alert.stdout
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        intake.wait_until(lambda: intake.status()["outbox"] == {"sent": len(first) + len(second)})
        assert running.stop() == 0
    log = running.log()

    assert waited >= busy  # waited out, not failed at once
    assert running.failed_polls()[:2] == [(1, "StoreError", 1), (2, "StoreError", 2)]
    assert "poll failed (1 in a row): StoreError: cannot " in log  # where the lock was met
    # Two failures at least (the status call above may outlast a third attempt), each reported:
    assert f"poll succeeded again after {len(running.failed_polls())} failed poll(s)" in log
    replies = answered_once(smtp, len(first) + len(second))
    assert sorted(replies) == sorted(f"sekretare{n}@skola.example.lv" for n in first + second)
    assert set(replies.values()) == {1}
    assert mailbox_server.folder_counts()["INBOX"] == 0
    assert intake.rows("select count(*) from applications") == [(len(first) + len(second),)]
