"""SIGKILL at every step of a poll: no application lost, no reply sent twice."""

from __future__ import annotations

import signal
from collections import Counter

import pytest

from tests.end_to_end.test_mailbox_loop import application, school_list

FAILPOINTS = ["after-fetch", "after-commit", "after-send", "before-move"]

# Where the dialect matters: both databases throughout.
pytestmark = pytest.mark.databases("sqlite", "postgresql")


@pytest.mark.parametrize("failpoint", FAILPOINTS)
def test_a_killed_poll_loses_nothing_and_answers_each_mail_once(intake, mailbox_server, smtp,
                                                                 failpoint):
    for number in (71, 72):
        mailbox_server.append(application("outlook", number, school_list(number)))

    killed = intake("poll", extra_env={"INTAKE_FAILPOINT": failpoint}, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    intake("poll")
    intake("poll")

    assert intake.rows("select count(*), count(distinct message_row) from applications") == [(2, 2)]
    assert sorted(intake.rows("select state from messages")) == [("application",), ("application",)]
    recipients = sorted(r.recipients[0] for r in smtp.inbox.wait_for(2))
    assert recipients == ["sekretare71@skola.example.lv", "sekretare72@skola.example.lv"]
    counts = mailbox_server.folder_counts()
    assert counts["INBOX"] == 0 and counts["Intake.Applications"] == 2


def test_a_reply_interrupted_mid_send_is_left_for_staff_not_resent(intake, mailbox_server, smtp):
    mailbox_server.append(application("gmail", 73, school_list(73)))

    intake("poll", extra_env={"INTAKE_FAILPOINT": "after-send"}, check=False)
    intake("poll")

    assert len(smtp.inbox.wait_for(1)) == 1
    assert intake.status()["outbox"] == {"sending": 1}


# Kills at every kind of step boundary, spread over the backlog (batches of 50): half-way through
# a batch, after a batch's commit, after the first and the 50th reply, before moving, and before
# moving in a poll that finds everything decided already (it fetches nothing then).
CRASHES = [("after-fetch", 1), ("after-commit", 1), ("after-fetch", 30), ("after-commit", 1),
           ("after-send", 1), ("after-send", 50), ("before-move", 1), ("before-move", 1)]


def snapshot(intake, database_url: str | None = None) -> dict[str, object]:
    """What the service decided, without ids, numbers or times (which depend on timing)."""
    env_url = database_url or intake.database_url
    original = intake.database_url
    intake.database_url = env_url
    try:
        return {
            "messages": sorted(intake.rows("select message_id, state from messages")),
            "applications": sorted(intake.rows(
                "select m.message_id, a.verdict, a.errors, a.warnings, a.institution, "
                "(select count(*) from groups g where g.application_id = a.id), "
                "(select count(*) from participants p join groups g on p.group_id = g.id "
                " where g.application_id = a.id) "
                "from applications a join messages m on m.id = a.message_row")),
            "registrations": intake.rows("select count(*), count(distinct key) from registrations"),
            "replies": sorted(intake.rows(
                "select m.message_id, count(*) from outbox o join messages m on m.id = o.message_row "
                "group by m.message_id")),
        }
    finally:
        intake.database_url = original


@pytest.mark.slow
def test_sigkill_at_every_step_of_a_backlog_loses_nothing_and_sends_nothing_twice(
        intake, mailbox_server, smtp, tmp_path):
    mails = [application("gmail", number, school_list(number, size=2))
             for number in range(1000, 1200)]
    for raw in mails:
        mailbox_server.append(raw)

    for failpoint, nth in CRASHES:
        killed = intake("poll", extra_env={"INTAKE_FAILPOINT": f"{failpoint}:{nth}"}, check=False)
        assert killed.returncode == -signal.SIGKILL, (failpoint, nth, killed.stderr[-2000:])
    killed_after_send = sum(failpoint == "after-send" for failpoint, _nth in CRASHES)
    intake("poll")
    intake("poll")

    crashed = snapshot(intake)
    replies = smtp.inbox.wait_for(200)
    per_recipient = Counter(r.recipients[0] for r in replies)
    assert len(per_recipient) == 200 and max(per_recipient.values()) == 1  # none lost, none twice
    assert mailbox_server.folder_counts()["INBOX"] == 0
    # A kill between the server's "250 OK" and our commit leaves the reply `sending`: delivered
    # once, and shown to staff, never sent again.
    assert intake.status()["outbox"] == {"sent": 200 - killed_after_send,
                                         "sending": killed_after_send}

    mailbox_server.reset()  # the same mail again, into a fresh database, without crashes
    smtp.inbox.clear()
    for raw in mails:
        mailbox_server.append(raw)
    reference = f"sqlite:///{tmp_path / 'reference.sqlite3'}"
    intake("poll", extra_env={"INTAKE_DATABASE_URL": reference})
    assert len(smtp.inbox.wait_for(200)) == 200

    assert crashed == snapshot(intake, reference)
    assert len(crashed["applications"]) == 200
