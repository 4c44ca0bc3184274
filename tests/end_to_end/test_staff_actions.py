"""The staff summary names what staff must act on: each rejected application with its school,
sender and first reason (and whether it has been corrected since), read back from a real poll."""

from __future__ import annotations

import pytest

from intake.staff.summary import finding_label
from tests.conftest import HEADER, make_workbook
from tests.end_to_end.test_mailbox_loop import application, school_list
from tests.end_to_end.test_staff import today


@pytest.mark.databases("sqlite", "postgresql")  # the smoke test on PostgreSQL
def test_summary_names_each_rejected_school_sender_and_first_reason(intake, mailbox_server, smtp):
    broken = make_workbook([("Izglītības iestāde: Skola 61",), HEADER,
                            (1, "Anna", "Bērziņa", "skolotāja", "anna@@skola.example.lv"),
                            (2, "Jānis", "Kalns", "skolotājs", "")])
    mailbox_server.append(application("outlook", 61, broken))
    no_institution = make_workbook([HEADER, (1, "Ilze", "Ozola", "skolotāja",
                                             "ilze@skola.example.lv")])
    mailbox_server.append(application("gmail", 62, no_institution, subject="Saraksts"))
    mailbox_server.append(application("thunderbird", 63, school_list(63)))
    intake("poll")
    smtp.inbox.wait_for(3)
    rejected = intake.rows("select number, first_error from applications where verdict = "
                           "'rejected' order by id")
    assert [code for _number, code in rejected] == ["email.invalid", "institution.missing"]

    text = intake("summary", "--date", today()).stdout

    assert "NORAIDĪTIE PIETEIKUMI" in text
    (first, _), (second, _) = rejected
    assert (f"– {first}, Skola 61 (sekretare61@skola.example.lv): "
            f"{finding_label('email.invalid')}") in text
    assert (f"– {second}, iestāde nav norādīta (sekretare62@skola.example.lv): "
            f"{finding_label('institution.missing')}") in text
    assert "sekretare63@" not in text.split("NORAIDĪTIE PIETEIKUMI")[1]  # accepted: not listed


def test_a_rejection_corrected_since_says_by_which_application(intake, mailbox_server, smtp):
    broken = make_workbook([("Izglītības iestāde: Skola 64",), HEADER,
                            (1, "Anna", "Bērziņa", "skolotāja", "anna@@skola.example.lv")])
    mailbox_server.append(application("outlook", 64, broken))
    intake("poll")
    smtp.inbox.wait_for(1)
    fixed = make_workbook([("Izglītības iestāde: Skola 64",), HEADER,
                           (1, "Anna", "Bērziņa", "skolotāja", "anna@skola.example.lv")])
    mailbox_server.append(application("outlook", 65, fixed,
                                      sender="Sekretāre <sekretare64@skola.example.lv>"))
    intake("poll")
    smtp.inbox.wait_for(2)
    ((rejected,), (accepted,)) = intake.rows("select number from applications order by id")

    text = intake("summary", "--date", today()).stdout

    assert f"– {rejected}, Skola 64 (sekretare64@skola.example.lv): " in text
    assert f"jau izlabots, pieņemts {accepted}" in text
