"""The shipped example programmes (consultations, workshops, a regional conference registration),
switched on by configuration alone and driven through the real mailbox loop."""

from __future__ import annotations

import shutil

import pytest

from intake.config import resource_dir
from tests.conftest import HEADER, make_workbook
from tests.end_to_end.conftest import STAFF
from tests.support.mail import make_email

SCHOOL = "Ogres tehnikums"


@pytest.fixture
def examples(intake) -> dict[str, str]:
    """The shipped programmes with the three examples switched on, and a config naming them."""
    folder = intake.cwd / "programmes"
    shutil.copytree(resource_dir("config") / "programmes", folder)
    for name in ("consultations", "workshops", "conference"):
        path = folder / f"{name}.toml"
        path.write_text(path.read_text(encoding="utf-8").replace("enabled = false", "enabled = true"),
                        encoding="utf-8")
    config = intake.cwd / "intake.toml"
    config.write_text(f'programmes_dir = "{folder}"\n[mail]\n', encoding="utf-8")
    return {"INTAKE_CONFIG": str(config), "INTAKE_STAFF": STAFF}


def people(count: int, *extra: object) -> list[tuple[object, ...]]:
    return [(n, "Anna", f"Liepa{chr(96 + n)}", "skolotāja", f"a{n}@ogrestehnikums.example.lv", *extra)
            for n in range(1, count + 1)]


def send(mailbox_server, number: int, *, subject: str, workbook: bytes, style: str = "outlook",
         to: str = "supervizija@ikvd.example.lv", body: str = "Labdien! Pielikumā saraksts.") -> None:
    mailbox_server.append(make_email(
        style=style, sender=f"Lietvede <lietvede{number}@ogrestehnikums.example.lv>", to=to,
        subject=subject, body=body, number=number, attachment=("saraksts.xlsx", workbook)))


def reply_to(smtp, number: int, count: int):
    replies = {r.recipients[0]: r.message for r in smtp.inbox.wait_for(count)}
    return replies[f"lietvede{number}@ogrestehnikums.example.lv"]


def text(reply) -> str:
    return reply.get_body(("plain",)).get_content()


def test_a_consultation_by_its_plus_tag_is_worded_as_a_consultation(intake, mailbox_server, smtp,
                                                                     examples):
    workbook = make_workbook([(f"Izglītības iestāde: {SCHOOL}",), (*HEADER, "Tēma"),
                              *people(2, "sadarbība ar vecākiem")])
    send(mailbox_server, 91, subject="Pieteikums", workbook=workbook,
         to="IKVD <supervizija+konsultacijas@ikvd.example.lv>",
         body="Labdien! Vai konsultācija var notikt attālināti?\n\nAr cieņu\nIlze Ozola\nlietvede")

    intake("poll", extra_env=examples)

    reply = reply_to(smtp, 91, 1)
    body = text(reply)
    assert "programmā «Projekta PuMPuRS individuālās konsultācijas»" in body
    assert "Ilgums: 1 stunda (60 minūtes)." in body
    assert "Norise: klātienē vai attālināti – to saskaņosim ar iestādi." in body
    assert "Konsultanta kontaktus un laiku Jums nosūtīsim" in body
    assert "Zoom" not in body and "3 stundas" not in body
    assert intake.rows("select programme, verdict, remarks, questions from applications") == [
        ("consultations", "accepted", "Tēma: sadarbība ar vecākiem",
         "Vai konsultācija var notikt attālināti?")]


def test_a_workshop_by_its_subject_is_held_in_person(intake, mailbox_server, smtp, examples):
    workbook = make_workbook([(f"Izglītības iestāde: {SCHOOL}",), HEADER, *people(12)])
    send(mailbox_server, 92, subject="Pieteikums darbnīcai par diferencētu mācīšanos",
         workbook=workbook, style="gmail")

    intake("poll", extra_env=examples)

    reply = reply_to(smtp, 92, 1)
    assert reply["Subject"].startswith(
        "Re: Pieteikums darbnīcai par diferencētu mācīšanos — pieņemts, SUP-")
    body = text(reply)
    assert "Izveidota 1 grupa (kopā 12 dalībnieki)" in body
    assert "Ilgums: 4 stundas (240 minūtes)." in body
    assert "Norise: klātienē." in body
    assert intake.rows("select programme, verdict from applications") == [("workshops", "accepted")]


def test_a_conference_registration_needs_its_region_and_keeps_region_and_day(
        intake, mailbox_server, smtp, examples):
    good = make_workbook([(f"Izglītības iestāde: {SCHOOL}",), (*HEADER, "Reģions", "Diena"),
                          *people(3, "Latgale", "5. augusts")])
    without_region = make_workbook([(f"Izglītības iestāde: {SCHOOL}",), HEADER, *people(2)])
    send(mailbox_server, 93, subject="Reģistrācija reģionālajai konferencei", workbook=good,
         style="thunderbird")
    send(mailbox_server, 94, subject="Pieteikums konferencei", workbook=without_region)

    intake("poll", extra_env=examples)

    accepted = text(reply_to(smtp, 93, 2))
    assert "Ilgums: 5 stundas (300 minūtes)." in accepted
    assert "Norise: attālināti, tiešsaistē." in accepted
    refused = reply_to(smtp, 94, 2)
    assert "Sarakstā nav aizpildītas kolonnas «Reģions»." in text(refused)
    assert refused["Subject"] == "Re: Pieteikums konferencei — jālabo 1 kļūda"
    assert intake.rows("select programme, verdict, remarks from applications order by id") == [
        ("conference", "accepted", "Reģions: Latgale\nDiena: 5. augusts"),
        ("conference", "rejected", None)]


def test_switched_off_examples_take_no_mail(intake, mailbox_server, smtp):
    workbook = make_workbook([(f"Izglītības iestāde: {SCHOOL}",), HEADER, *people(2)])
    send(mailbox_server, 95, subject="Pieteikums darbnīcai", workbook=workbook)

    intake("poll")  # the bundled configuration: the examples are off

    assert intake.rows("select state, reason from messages") == [("correspondence", "other-activity")]
    assert intake.rows("select count(*) from applications") == [(0,)]


def test_a_conference_mail_without_a_list_is_told_how_to_register(intake, mailbox_server, smtp,
                                                                   examples):
    mailbox_server.append(make_email(
        style="gmail", sender="Lietvede <lietvede96@ogrestehnikums.example.lv>",
        to="supervizija+konference@ikvd.example.lv", subject="Konference",
        body="Labdien! Kā pieteikties?", number=96))

    intake("poll", extra_env=examples)

    reply = reply_to(smtp, 96, 1)
    assert "reģistrēt kā pieteikumu konferencei" in text(reply)
    assert "supervīzij" not in text(reply)
