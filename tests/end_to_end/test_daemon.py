"""`intake run` and `intake check` as an operator starts them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.end_to_end.test_mailbox_loop import application, school_list


def test_sigterm_mid_poll_finishes_the_message_in_hand_and_exits_cleanly(intake, mailbox_server,
                                                                         smtp):
    count = 60
    for number in range(100, 100 + count):
        mailbox_server.append(application("gmail", number, school_list(number, size=2)))
    intake("db", "upgrade")  # as ExecStartPre does, so the test can watch the tables
    daemon = subprocess.Popen([sys.executable, "-m", "intake", "run"], env=intake.env,
                              cwd=intake.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        deadline = time.monotonic() + 60
        while not intake.rows("select count(*) from messages")[0][0]:  # wait for the first commit
            assert daemon.poll() is None, daemon.communicate()
            assert time.monotonic() < deadline, "the daemon committed nothing"
            time.sleep(0.02)
        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, err
    assert "received SIGTERM" in err and "stopped" in err
    assert "Traceback" not in err

    intake("poll")

    assert intake.rows("select count(*) from applications") == [(count,)]
    assert len(smtp.inbox.wait_for(count)) == count
    assert len({r.recipients[0] for r in smtp.inbox.messages}) == count  # one reply each
    assert mailbox_server.folder_counts()["INBOX"] == 0


@pytest.mark.databases("sqlite", "postgresql")  # the smoke test on PostgreSQL
def test_check_reaches_the_database_mailbox_and_smtp(intake, mailbox_server):
    mailbox_server.append(application("outlook", 90, school_list(90)))
    result = intake("check")
    assert "database: ok" in result.stdout
    assert "mailbox: ok (1 message(s) waiting)" in result.stdout
    assert "smtp: ok" in result.stdout


def test_check_fails_with_a_wrong_mailbox_password(intake):
    result = intake("check", extra_env={"INTAKE_MAILBOX_PASSWORD": "wrong"}, check=False,
                    process=True)  # all it writes, whatever thread or process
    assert result.returncode == 3
    assert "SignInRefused: cannot log in" in result.stderr  # once: a refusal is not retried
    assert "wrong" not in result.stderr  # secrets never reach the log


def test_check_fails_when_smtp_cannot_be_reached(intake):
    from tests.support.dovecot import free_port

    result = intake("check", extra_env={"INTAKE_SMTP_URL": f"smtps://localhost:{free_port()}"},
                    check=False)
    assert result.returncode == 3
    assert "Unreachable" in result.stderr


def test_a_password_written_into_a_url_is_refused(intake):
    result = intake("check", extra_env={"INTAKE_SMTP_URL": "smtps://user:secret@localhost"},
                    check=False, process=True)  # all it writes, whatever thread or process
    assert result.returncode == 78
    assert "secret" not in result.stderr


def test_status_alerts_a_monitor_when_nothing_was_polled_or_mail_is_quarantined(intake, mailbox_server,
                                                                               smtp):
    intake("db", "upgrade")
    before = intake("status", check=False)
    assert before.returncode == 1 and "no poll has succeeded yet" in before.stdout
    intake("poll")
    assert intake("status", check=False).returncode == 0
    assert intake.status()["problems"] == []


def test_run_tells_systemd_it_is_ready_healthy_and_stopping(intake, tmp_path):
    import socket

    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        server.settimeout(60)
        intake("db", "upgrade")
        daemon = subprocess.Popen([sys.executable, "-m", "intake", "run"],
                                  env={**intake.env, "NOTIFY_SOCKET": path}, cwd=intake.cwd,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            received = [server.recv(100), server.recv(100)]
            assert sorted(received) in ([b"READY=1", b"WATCHDOG=1"], [b"WATCHDOG=1", b"WATCHDOG=1"])
            daemon.send_signal(signal.SIGTERM)
            later = [server.recv(100)]
            while later[-1] != b"STOPPING=1":  # a poll woken by IDLE may still feed the watchdog
                later.append(server.recv(100))
            assert set(received + later) == {b"READY=1", b"WATCHDOG=1", b"STOPPING=1"}
            daemon.communicate(timeout=60)
        finally:
            if daemon.poll() is None:
                daemon.kill()
    assert daemon.returncode == 0


def test_run_exits_78_on_a_configuration_error_so_systemd_does_not_loop(intake):
    result = intake("run", extra_env={"INTAKE_MAILBOX_URL": "ftp://nowhere"}, check=False)
    assert result.returncode == 78
    assert "mailbox URL must start with" in result.stderr


def test_run_exits_78_when_a_password_is_missing(intake):
    env = {k: v for k, v in intake.env.items() if k != "INTAKE_MAILBOX_PASSWORD"}
    result = subprocess.run([sys.executable, "-m", "intake", "run"], env=env, cwd=intake.cwd,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 78
    assert "INTAKE_MAILBOX_PASSWORD is not set" in result.stderr


def test_two_pollers_started_together_answer_each_mail_once(intake, mailbox_server, smtp):
    count = 40
    for number in range(500, 500 + count):
        mailbox_server.append(application("outlook", number, school_list(number, size=2)))
    intake("db", "upgrade")
    pollers = [subprocess.Popen([sys.executable, "-m", "intake", "poll"], env=intake.env,
                                cwd=intake.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in pollers]
    assert [p.returncode for p in pollers] == [0, 0], results
    intake("poll")  # whatever the skipped one left is taken by the next poll

    assert intake.rows("select count(*) from applications") == [(count,)]
    assert len(smtp.inbox.wait_for(count)) == count
    assert len({r.recipients[0] for r in smtp.inbox.messages}) == count


def test_new_mail_is_answered_at_once_through_imap_idle_not_at_the_next_interval(
        intake, mailbox_server, smtp):
    config = intake.cwd / "idle.toml"
    from intake.config import resource_dir

    config.write_text(f'programmes_dir = "{resource_dir("config") / "programmes"}"\n'
                      "[mail]\npoll_interval_seconds = 3600\n", encoding="utf-8")
    intake("db", "upgrade")
    daemon = intake.start("run", extra_env={"INTAKE_CONFIG": str(config)})
    try:
        intake.wait_until(lambda: intake.status()["last_good_poll"] is not None)
        for number in (801, 802, 803):  # one by one, each after the last was answered
            mailbox_server.append(application("outlook", number, school_list(number)))
            started = time.monotonic()
            assert len(smtp.inbox.wait_for(number - 800, timeout=30)) == number - 800
            assert time.monotonic() - started < 15  # the interval is an hour
    finally:
        assert daemon.stop() == 0
    assert intake.rows("select count(*) from applications") == [(3,)]
