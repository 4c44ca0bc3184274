"""Routing through the real mailbox loop: by the address a mail was sent to (a `+tag`), and mail
naming another activity goes to staff instead of falling into the default programme."""

from __future__ import annotations

from tests.conftest import HEADER, make_workbook
from tests.end_to_end.test_staff import today
from tests.support.mail import make_email


def ogre_list() -> bytes:
    return make_workbook([("Izglītības iestāde: Ogres tehnikums",), HEADER,
                          (1, "Anna", "Kalniņa", "skolotāja", "anna.k@ogrestehnikums.example.lv"),
                          (2, "Jānis", "Ozols", "skolotājs", "janis.o@ogrestehnikums.example.lv")])


def test_a_plus_tag_routes_to_its_programme(intake, mailbox_server, smtp):
    mailbox_server.append(make_email(
        style="outlook", sender="Lietvede <lietvede@ogrestehnikums.example.lv>",
        to="IKVD Supervīzijas <supervizija+pumpurs@ikvd.example.lv>",
        subject="Pieteikums", body="Labdien! Pielikumā saraksts.", number=81,
        attachment=("saraksts.xlsx", ogre_list())))

    intake("poll")

    reply = smtp.inbox.wait_for(1)[0].message
    assert "programmā «Projekts PuMPuRS»" in reply.get_body(("plain",)).get_content()
    assert intake.rows("select programme, verdict from applications") == [("pumpurs", "accepted")]


def test_mail_for_another_activity_goes_to_staff_unanswered(intake, mailbox_server, smtp):
    mailbox_server.append(make_email(
        style="gmail", sender="Direktore <direktore@skola.example.lv>",
        to="supervizija@ikvd.example.lv", subject="Pieteikums reģionālajai konferencei",
        body="Labdien! Pielikumā dalībnieku saraksts konferencei.", number=82,
        attachment=("saraksts.xlsx", ogre_list())))
    mailbox_server.append(make_email(
        style="outlook", sender="Sekretāre <sekretare83@skola.example.lv>",
        to="supervizija@ikvd.example.lv", subject="Pieteikums supervīzijai",
        body="Labdien! Pielikumā saraksts.", number=83, attachment=("saraksts.xlsx", ogre_list())))

    intake("poll")

    (answered,) = smtp.inbox.wait_for(1)
    assert answered.recipients == ["sekretare83@skola.example.lv"]
    assert intake.rows("select sender, state, reason from messages order by id") == [
        ("direktore@skola.example.lv", "correspondence", "other-activity"),
        ("sekretare83@skola.example.lv", "application", "1 attachment(s)")]
    assert intake.rows("select count(*) from applications") == [(1,)]
    assert mailbox_server.folder_counts()["Intake.Correspondence"] == 1
    summary = intake("summary", "--date", today()).stdout
    assert "direktore@skola.example.lv, «Pieteikums reģionālajai konferencei»" in summary
