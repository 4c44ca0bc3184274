"""SIGKILL at every step of a poll: no application lost, no reply sent twice."""

from __future__ import annotations

import signal

import pytest

from tests.end_to_end.test_mailbox_loop import application, school_list

FAILPOINTS = ["after-fetch", "after-commit", "after-send", "before-move"]


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
