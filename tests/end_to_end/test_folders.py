"""`intake check`, `poll`, `status` and `run` as an operator runs them against servers that name
folders differently: Dovecot with `.` and `/` delimiters, `INBOX.` and `INBOX/` prefixes, and
without MOVE. Mail in, the reply out through aiosmtpd, the mail in its folder; a folder the server
refuses is an alert until the configuration is fixed."""

from __future__ import annotations

import json
import os

import pytest

from tests.end_to_end.conftest import OUR_ADDRESS, Intake
from tests.end_to_end.test_mailbox_loop import application, school_list
from tests.support.mail import make_email

REFUSED = "Intake/Apstrādāti 2026.g."  # a dot: Dovecot's Maildir++ under "/" refuses it
FIXED = "Intake/Apstrādāti 2026"


@pytest.fixture
def operator(layout_server, smtp, dovecot, tmp_path):
    """`intake` against this layout's Dovecot and the session's aiosmtpd, on SQLite (the
    layouts are the mail server's business, not the database's)."""
    layout, server = layout_server
    server.reset("intake")
    database_url = f"sqlite:///{tmp_path / 'intake.sqlite3'}"
    bundle = tmp_path / "ca.pem"  # this Dovecot's certificate and the SMTP server's
    bundle.write_bytes(server.ca_file.read_bytes() + dovecot.ca_file.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update({
        "INTAKE_STATE_DIR": str(tmp_path / "state"), "INTAKE_DATABASE_URL": database_url,
        "INTAKE_MAILBOX_URL": server.url("intake"),
        "INTAKE_MAILBOX_PASSWORD": server.users["intake"], "INTAKE_SMTP_URL": smtp.url,
        "INTAKE_TLS_CA_FILE": str(bundle), "INTAKE_FROM": OUR_ADDRESS,
    })
    return layout, server, Intake(env, tmp_path, database_url)


def config(intake: Intake, folders: str) -> dict[str, str]:
    """A configuration file with these [mail.folders] lines, as INTAKE_CONFIG."""
    from intake.config import resource_dir

    path = intake.cwd / "intake.toml"
    path.write_text(f'programmes_dir = "{resource_dir("config") / "programmes"}"\n'
                    f"[mail]\nidle = false\n[mail.folders]\n{folders}\n", encoding="utf-8")
    return {"INTAKE_CONFIG": str(path)}


def question(number: int) -> bytes:
    return make_email(style="gmail", sender=f"Anna <anna{number}@skola.example.lv>",
                      to=OUR_ADDRESS, subject="Kā pieteikties?", body="Labdien!", number=number)


def test_check_creates_the_folders_then_a_poll_answers_and_files_the_mail(operator, smtp):
    layout, server, intake = operator

    check = intake("check")

    assert (f"hierarchy delimiter {layout.delimiter!r}, personal namespace prefix "
            f"{layout.prefix!r}") in check.stdout
    assert (f"application 'Intake/Applications' ({layout.applications!r} on the server): created"
            in check.stdout)
    assert check.stdout.count(": created") == 5
    assert server.folder_counts()[layout.applications] == 0  # there before the first poll
    server.append(application("outlook", 501, school_list(501)))
    server.append(question(502))

    poll = intake("poll")

    assert "application=1" in poll.stdout and "no_list=1" in poll.stdout
    assert "not-moved" not in poll.stdout and "ERROR" not in poll.stderr
    replies = smtp.inbox.wait_for(2)
    assert sorted(r.recipients[0] for r in replies) == [
        "anna502@skola.example.lv", "sekretare501@skola.example.lv"]
    counts = server.folder_counts()
    no_list = layout.applications.replace("Applications", "NoList")
    assert counts["INBOX"] == 0 and counts[layout.applications] == 1 and counts[no_list] == 1


@pytest.mark.parametrize("layout_server", ["slash", "inbox-dot"], indirect=True)
def test_a_configuration_in_the_older_dotted_form_works_on_any_delimiter(operator, smtp):
    layout, server, intake = operator
    dotted = config(intake, 'application = "Intake.Applications"\nno_list = "Intake.NoList"')
    server.append(application("thunderbird", 511, school_list(511)))

    intake("poll", extra_env=dotted)

    assert len(smtp.inbox.wait_for(1)) == 1
    assert server.folder_counts()[layout.applications] == 1


@pytest.mark.parametrize("layout_server", ["slash"], indirect=True)
def test_a_folder_the_server_refuses_is_an_alert_until_the_configuration_is_fixed(operator, smtp):
    """SQLite here; the marks on both databases: tests/integration/test_folders.py."""
    _layout, server, intake = operator
    refused = config(intake, f'application = "{REFUSED}"')
    server.append(application("outlook", 521, school_list(521)))

    first = intake("poll", extra_env=refused)  # succeeds: the school has its answer

    assert "application=1" in first.stdout and "not-moved=1" in first.stdout
    errors = [line for line in first.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and "mail not moved: 1 message(s)" in errors[0]
    assert "Character not allowed in mailbox name: '.'" in errors[0]
    assert "sekretare521" not in first.stderr and "supervīzijai" not in first.stderr
    assert len(smtp.inbox.wait_for(1)) == 1
    status = intake("status", "--json", extra_env=refused, check=False)
    assert status.returncode == 1
    report = json.loads(status.stdout)
    assert report["not_moved"] == 1 and report["not_moved_since"]
    assert any("not moved to their folders" in p and "Character not allowed" in p
               for p in report["problems"])
    check = intake("check", extra_env=refused, check=False)
    assert check.returncode == 3
    assert (f"application '{REFUSED}' ('{REFUSED}' on the server): REFUSED: CREATE answered: "
            "[CANNOT] Character not allowed in mailbox name: '.'") in check.stdout
    assert "hierarchy delimiter '/', personal namespace prefix ''" in check.stdout
    assert "not moved: 1 message(s)" in check.stdout and "smtp: ok" in check.stdout

    again = intake("poll", extra_env=refused)  # neither fetched nor answered again

    assert "already-done=1" in again.stdout and "not-moved=1" in again.stdout
    assert len(smtp.inbox.messages) == 1
    assert server.folder_counts()["INBOX"] == 1

    fixed = config(intake, f'application = "{FIXED}"')
    assert intake("check", extra_env=fixed).returncode == 0
    last = intake("poll", extra_env=fixed)

    assert "not-moved" not in last.stdout and "ERROR" not in last.stderr
    counts = server.folder_counts()
    assert counts["INBOX"] == 0 and counts[FIXED] == 1
    after = intake("status", "--json", extra_env=fixed, check=False)
    assert after.returncode == 0 and json.loads(after.stdout)["not_moved"] == 0
    assert len(smtp.inbox.messages) == 1


@pytest.mark.parametrize("layout_server", ["dot"], indirect=True)
def test_a_name_part_holding_the_delimiter_stops_check_and_the_daemon_saying_why(operator):
    _layout, server, intake = operator
    bad = config(intake, 'application = "Intake/Pieteikumi 2.0"')

    check = intake("check", extra_env=bad, check=False)

    assert check.returncode == 2
    said = "'Pieteikumi 2.0' holds '.', which this server puts between folder names"
    assert said in check.stdout and said in check.stderr
    assert "CONFIGURATION" in check.stdout
    daemon = intake.start("run", extra_env=bad)
    assert daemon.process.wait(timeout=60) == 78  # EX_CONFIG: systemd does not restart it
    assert said in daemon.log() and "Traceback" not in daemon.log()
    assert "Intake.Pieteikumi 2.0" not in server.folder_counts()


@pytest.mark.parametrize("layout_server", ["slash"], indirect=True)
def test_the_daemon_creates_the_folders_at_start_and_reports_a_refused_one(operator, smtp):
    _layout, server, intake = operator
    refused = config(intake, f'application = "{REFUSED}"')
    server.append(question(531))
    daemon = intake.start("run", extra_env=refused)
    try:
        daemon.wait_for_log("poll: seen=1")
    finally:
        assert daemon.stop() == 0
    log = daemon.log()
    assert f"folder application '{REFUSED}' ('{REFUSED}' on the server): REFUSED" in log
    assert "'Intake/NoList' created" in log
    assert "no_list=1" in log and len(smtp.inbox.wait_for(1)) == 1
    assert server.folder_counts()["Intake/NoList"] == 1
