"""Schools send lists again: the same list (re-saved by another program, rows in another order),
a corrected list after our error report, an amendment to a confirmed application — through Dovecot,
the real pipeline and SMTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from intake.config import resource_dir
from tests.conftest import HEADER, make_workbook
from tests.end_to_end.conftest import OUR_ADDRESS
from tests.support.mail import make_email

FILES = Path(__file__).parent.parent / "files"
SCHOOL = "Liepājas Raiņa 6. vidusskola"
SECRETARY = "Sekretāre <sekretare@raina6.example.lv>"
# The people of tests/files/libreoffice-list.xlsx (saved by LibreOffice, one «Vārds, uzvārds»
# column): (first name, last name, position, e-mail).
PEOPLE = [("Ilze", "Kalniņa", "direktore", "dalibnieks1@skola.example.lv"),
          ("Māris", "Ozoliņš", "direktora vietnieks", "dalibnieks2@skola.example.lv"),
          ("Anna", "Bērziņa", "sākumskolas skolotāja", "dalibnieks3@skola.example.lv"),
          ("Jānis", "Kļaviņš", "matemātikas skolotājs", "dalibnieks4@skola.example.lv"),
          ("Līga", "Vīķe - Freiberga", "skolotāja", "dalibnieks5@skola.example.lv"),
          ("Edgars", "Zariņš", "sporta skolotājs", "dalibnieks6@skola.example.lv")]
NEW_PEOPLE = [("Pēteris", "Ozols", "vēstures skolotājs", "dalibnieks7@skola.example.lv"),
              ("Inese", "Lapiņa", "logopēde", "dalibnieks8@skola.example.lv")]


def today() -> date:
    """The staff's day (Europe/Riga), as replies date earlier lists."""
    return datetime.now(ZoneInfo("Europe/Riga")).date()


def school_list(people, institution: str = SCHOOL) -> bytes:
    """The list as openpyxl writes it, with separate name columns."""
    return make_workbook([(f"Izglītības iestāde: {institution}",), HEADER,
                          *[(n, *person) for n, person in enumerate(people, start=1)]])


def mail(number: int, content: bytes, *, sender: str = SECRETARY, subject: str = "",
         answers: str = "", body: str = "Labdien! Pielikumā dalībnieku saraksts.",
         name: str = "saraksts.xlsx") -> bytes:
    headers = f"In-Reply-To: {answers}\r\nReferences: {answers}\r\n" if answers else ""
    return make_email(style="outlook", sender=sender, to=OUR_ADDRESS,
                      subject=subject or f"Pieteikums supervīzijai {number}", body=body,
                      number=number, attachment=(name, content), extra_headers=headers)


def send(intake, mailbox_server, smtp, message: bytes):
    """One mail in, one poll, its one reply out: (Message-ID of the reply, its plain text)."""
    before = len(smtp.inbox.messages)
    mailbox_server.append(message)
    intake("poll")
    replies = smtp.inbox.wait_for(before + 1)
    assert len(replies) == before + 1
    reply = replies[-1].message
    return reply["Message-ID"], reply.get_body(("plain",)).get_content(), reply


def number_in(text: str) -> str:
    return text.split("Pieteikuma numurs: ")[1].split(".")[0]


def people_of(intake, number: str) -> list[tuple[object, ...]]:
    rows = intake.rows("select a.number, p.first_name, p.last_name from participants p join groups "
                       "g on g.id = p.group_id join applications a on a.id = g.application_id")
    return sorted((first, last) for application, first, last in rows if application == number)


def test_the_same_list_resaved_by_another_program_is_already_registered(intake, mailbox_server,
                                                                        smtp):
    upper = [(first.upper(), last.upper(), position, email.upper())
             for first, last, position, email in reversed(PEOPLE)]
    _id, first, _reply = send(intake, mailbox_server, smtp, mail(1, school_list(upper)))
    number = number_in(first)
    lo_file = (FILES / "libreoffice-list.xlsx").read_bytes()

    _id, second, reply = send(intake, mailbox_server, smtp,
                              mail(2, lo_file, name="saraksts (labots).xlsx"))

    assert f"jau ir reģistrēts: tas ir tāds pats kā {today():%d.%m.%Y.} pieņemtais " \
           f"saraksts ar pieteikuma numuru {number}" in second
    assert "jau ir pieteikta" not in second  # no duplicate findings (R5) for the school's own list
    assert "1. grupa – iestādes vadītāji, 2 dalībnieki" in second  # the groups as confirmed
    assert reply["Subject"] == f"Re: Pieteikums supervīzijai 2 — jau reģistrēts, {number}"
    assert "Dalībnieku saraksts (fails «saraksts (labots).xlsx»)" in second
    status = intake.status()
    assert status["applications"] == {"accepted": 1}
    assert status["resubmissions"] == {"repeat": 1}
    summary = intake("summary", "--print", "--date", today().isoformat()).stdout
    assert re.search(r"Nemainīti saraksti, iesūtīti atkārtoti +1 +1\n", summary)
    assert status["registered_participants"] == 6
    assert intake.rows("select count(*) from registrations")[0][0] == 12  # e-mail and name keys


def test_an_unchanged_rejected_list_gets_its_findings_again_marked_as_reported(
        intake, mailbox_server, smtp):
    faulty = [*PEOPLE[:3], ("Jānis", "Kļaviņš", "matemātikas skolotājs", "janis@@skola.lv")]
    _id, first, _reply = send(intake, mailbox_server, smtp, mail(1, school_list(faulty)))
    assert "pagaidām nevar pieņemt, jo tajā jāizlabo 1 kļūda" in first
    resaved = school_list(list(reversed(faulty)))  # other bytes, other order, same people

    _id, second, _reply = send(intake, mailbox_server, smtp, mail(2, resaved))

    assert (f"ir tāds pats kā {today():%d.%m.%Y.} iesūtītais, par kuru jau atbildējām: tajā "
            "joprojām jāizlabo 1 kļūda – tā pati, par kuru rakstījām iepriekš") in second
    assert "janis@@skola.lv" in second  # the finding itself again, with its cell
    status = intake.status()
    assert status["applications"] == {"rejected": 1}
    assert status["resubmissions"] == {"repeat-rejected": 1}


@pytest.mark.databases("sqlite", "postgresql")  # the smoke test on PostgreSQL
@pytest.mark.parametrize("reference", ["in-reply-to", "none"])
def test_a_corrected_list_after_our_error_report_resolves_the_rejection(intake, mailbox_server,
                                                                        smtp, reference):
    faulty = [*PEOPLE[:3], ("Jānis", "Kļaviņš", "", "janis@@skola.lv")]
    reply_id, first, _reply = send(intake, mailbox_server, smtp, mail(1, school_list(faulty)))
    assert "jāizlabo 2 kļūdas" in first
    answers = reply_id if reference == "in-reply-to" else ""

    _id, second, _reply = send(intake, mailbox_server, smtp, mail(
        2, school_list(PEOPLE[:4]), answers=answers,
        subject="RE: Pieteikums supervīzijai 1" if answers else "Labotais saraksts"))

    assert (f"Kļūdas, par kurām Jums rakstījām {today():%d.%m.%Y.}, ir novērstas.") in second
    assert second.count("Paldies") == 1
    number = number_in(second)
    assert intake.rows("select a.verdict, r.verdict from applications a join applications r "
                       "on r.id = a.resolves_id") == [("accepted", "rejected")]
    status = intake.status()
    assert status["applications"] == {"accepted": 1, "rejected": 1}
    assert status["corrections"] == 1 and status["median_hours_to_fix"] == 0.0
    summary = intake("summary", "--print", "--date", today().isoformat()).stdout
    assert re.search(r"Pieņemti saraksti pēc kļūdu labošanas +1 +1\n", summary)
    assert [row[0] for row in intake.rows("select number from applications order by id")][1] == number


def test_a_list_from_another_sender_of_another_school_resolves_nothing(intake, mailbox_server,
                                                                       smtp):
    faulty = [("Anna", "Bērziņa", "skolotāja", "anna@@skola.lv")]
    send(intake, mailbox_server, smtp, mail(1, school_list(faulty)))

    _id, second, _reply = send(intake, mailbox_server, smtp, mail(
        2, school_list(PEOPLE[:2], institution="Ogres tehnikums"), sender="cits@ogre.example.lv"))

    assert "Kļūdas, par kurām Jums rakstījām" not in second
    assert intake.rows("select count(*) from applications where resolves_id is not null") == [(0,)]


@pytest.mark.parametrize("reference", ["in-reply-to", "number-in-subject", "number-in-body"])
def test_an_amendment_replaces_the_list_keeps_the_number_and_frees_the_removed(
        intake, mailbox_server, smtp, reference):
    reply_id, first, _reply = send(intake, mailbox_server, smtp, mail(1, school_list(PEOPLE[:5])))
    number = number_in(first)
    changed = [PEOPLE[4], *NEW_PEOPLE, PEOPLE[1], PEOPLE[0], PEOPLE[2]]  # Jānis Kļaviņš removed
    kwargs = {"in-reply-to": {"answers": reply_id, "subject": "RE: Pieteikums supervīzijai 1"},
              "number-in-subject": {"subject": f"Grozījumi pieteikumā {number}"},
              "number-in-body": {"subject": "Papildinājums",
                                 "body": f"Labdien! Lūdzu, grozīt pieteikumu {number}."}}[reference]

    _id, second, reply = send(intake, mailbox_server, smtp, mail(2, school_list(changed), **kwargs))

    assert f"Pieteikums {number} (iestāde «{SCHOOL}») ir grozīts" in second
    assert "- pievienotas 2 personas: Pēteris Ozols, Inese Lapiņa;" in second
    assert "- izņemta 1 persona: Jānis Kļaviņš (vairs nav pieteikta supervīzijai);" in second
    assert "- bez izmaiņām: 4 dalībnieki." in second
    assert "(kopā 6 dalībnieki)" in second
    assert reply["In-Reply-To"] == "<outlook-2@skola.example.lv>"
    assert [n for (n,) in intake.rows("select number from applications")] == [number]
    assert ("Jānis", "Kļaviņš") not in people_of(intake, number)
    assert ("Pēteris", "Ozols") in people_of(intake, number)
    status = intake.status()
    assert status["applications"] == {"accepted": 1} and status["amended"] == 1
    assert status["resubmissions"] == {"amendment": 1}
    assert status["registered_participants"] == 6
    summary = intake("summary", "--print", "--date", today().isoformat()).stdout
    assert re.search(r"Grozīti pieteikumi +1 +1\n", summary)

    # The removed teacher is free again (R5); an added one is now registered under the number.
    _id, third, _reply = send(intake, mailbox_server, smtp, mail(
        3, school_list([PEOPLE[3]]), sender="cita@raina6.example.lv",
        subject="Vēl viens skolotājs"))
    assert "ir pārbaudīts un pieņemts" in third
    _id, fifth, _reply = send(intake, mailbox_server, smtp, mail(
        5, school_list([NEW_PEOPLE[1], ("Zane", "Kalna", "skolotāja", "zane@skola.example.lv")]),
        sender="cita@raina6.example.lv", subject="Vēl divi"))
    assert f"«Inese Lapiņa» jau ir pieteikta pieteikumā {number}" in fifth


def test_an_amendment_with_errors_is_refused_and_the_confirmed_list_stays(intake, mailbox_server,
                                                                          smtp):
    reply_id, first, _reply = send(intake, mailbox_server, smtp, mail(1, school_list(PEOPLE[:3])))
    number = number_in(first)
    broken = [*PEOPLE[:3], ("Pēteris", "Ozols", "", "dalibnieks7@skola.example.lv")]

    refusal_id, second, _reply = send(intake, mailbox_server, smtp,
                                      mail(2, school_list(broken), answers=reply_id))

    assert (f"Pieteikuma {number} grozījumus (fails «saraksts.xlsx») pagaidām nevar pieņemt, jo "
            "jaunajā sarakstā jāizlabo 1 kļūda. Līdz tam spēkā paliek iepriekš apstiprinātais "
            "saraksts.") in second
    assert len(people_of(intake, number)) == 3
    assert intake.status()["resubmissions"] == {"amendment-refused": 1}

    # The school fixes it and answers our refusal: the amendment is applied then.
    fixed = [*PEOPLE[:3], ("Pēteris", "Ozols", "vēstures skolotājs", "dalibnieks7@skola.example.lv")]
    _id, third, _reply = send(intake, mailbox_server, smtp,
                              mail(3, school_list(fixed), answers=refusal_id))
    assert f"Pieteikums {number} (iestāde «{SCHOOL}») ir grozīts" in third
    assert "- pievienota 1 persona: Pēteris Ozols;" in third
    assert len(people_of(intake, number)) == 4


def test_an_amendment_after_the_cutoff_is_correspondence_for_staff(intake, mailbox_server, smtp):
    programmes = intake.cwd / "programmes"
    programmes.mkdir()
    for source in (resource_dir("config") / "programmes").glob("*.toml"):
        (programmes / source.name).write_text(
            source.read_text(encoding="utf-8")
            + f"\namendments_until = {today() - timedelta(days=1)}\n", encoding="utf-8")
    for source in (resource_dir("config") / "programmes").glob("*.txt"):  # the partner list
        (programmes / source.name).write_bytes(source.read_bytes())
    config = intake.cwd / "cutoff.toml"
    config.write_text(f'programmes_dir = "{programmes}"\n', encoding="utf-8")
    env = {"INTAKE_CONFIG": str(config)}
    mailbox_server.append(mail(1, school_list(PEOPLE[:3])))
    intake("poll", extra_env=env)
    (confirmation,) = smtp.inbox.wait_for(1)
    mailbox_server.append(mail(2, school_list(PEOPLE[:4]),
                               answers=confirmation.message["Message-ID"]))

    intake("poll", extra_env=env)

    assert intake.rows("select state, reason from messages order by id")[1] == (
        "correspondence", "late-amendment")
    assert intake.status(extra_env=env)["outbox"] == {"sent": 1}  # no reply: staff answer it
    assert len(smtp.inbox.messages) == 1
    assert intake.rows("select count(*) from participants") == [(3,)]


def test_a_partial_overlap_without_reference_names_the_application_and_how_to_amend(
        intake, mailbox_server, smtp):
    _id, first, _reply = send(intake, mailbox_server, smtp, mail(1, school_list(PEOPLE[:3])))
    number = number_in(first)

    _id, second, _reply = send(intake, mailbox_server, smtp, mail(
        2, school_list([PEOPLE[2], *NEW_PEOPLE]), sender="cita@raina6.example.lv",
        subject="Pieteikums"))

    assert f"«Anna Bērziņa» jau ir pieteikta pieteikumā {number}" in second
    assert (f"Ja pieteikums {number} ir Jūsu iestādes un vēlaties mainīt tā dalībniekus, "
            "atbildiet uz šī pieteikuma apstiprinājuma vēstuli") in second
    assert intake.status()["applications"] == {"accepted": 1, "rejected": 1}


def test_a_reply_to_our_confirmation_with_wholly_other_people_is_a_further_application(
        intake, mailbox_server, smtp):
    reply_id, first, _reply = send(intake, mailbox_server, smtp, mail(1, school_list(PEOPLE[:3])))

    _id, second, _reply = send(intake, mailbox_server, smtp,
                               mail(2, school_list(NEW_PEOPLE), answers=reply_id))

    assert "ir pārbaudīts un pieņemts" in second and number_in(second) != number_in(first)
    assert intake.status()["applications"] == {"accepted": 2}


def two_lists(number: int, first: bytes, second: bytes, *, answers: str = "") -> bytes:
    """One mail with two participant lists, as a school sends its groups in separate files."""
    message = EmailMessage()
    message["From"], message["To"] = SECRETARY, OUR_ADDRESS
    message["Subject"] = f"Pieteikums supervīzijai {number}"
    message["Message-ID"] = f"<two-{number}@skola.example.lv>"
    if answers:
        message["In-Reply-To"] = message["References"] = answers
    message.set_content("Labdien! Pielikumā divi saraksti.")
    for name, content in (("1-grupa.xlsx", first), ("2-grupa.xlsx", second)):
        message.add_attachment(content, maintype="application", filename=name,
                               subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return message.as_bytes()


def test_a_new_list_beside_a_repeat_in_one_mail_still_meets_r5(intake, mailbox_server, smtp):
    _id, first, _reply = send(intake, mailbox_server, smtp, mail(1, school_list(PEOPLE[:3])))
    number = number_in(first)

    _id, second, _reply = send(intake, mailbox_server, smtp, two_lists(
        2, school_list([PEOPLE[0], *NEW_PEOPLE]), school_list(PEOPLE[:3])))

    assert f"«Ilze Kalniņa» jau ir pieteikta pieteikumā {number}" in second  # the new list
    assert f"ar pieteikuma numuru {number}" in second  # the repeat
    assert intake.rows("select state from messages order by id") == [("application",)] * 2
    assert intake.status()["registered_participants"] == 3


def test_two_files_amending_one_application_go_to_staff(intake, mailbox_server, smtp):
    reply_id, _first, _reply = send(intake, mailbox_server, smtp, mail(1, school_list(PEOPLE[:4])))
    mailbox_server.append(two_lists(2, school_list(PEOPLE[:2]),
                                    school_list([*PEOPLE[2:4], NEW_PEOPLE[0]]), answers=reply_id))

    intake("poll")

    assert intake.rows("select state, reason from messages order by id")[1] == (
        "correspondence", "several-amendments")
    assert intake.status()["registered_participants"] == 4  # nothing changed without a human


def test_a_correction_answering_our_rejection_never_amends_the_application_it_quotes(
        intake, mailbox_server, smtp):
    _id, first, _reply = send(intake, mailbox_server, smtp, mail(1, school_list(PEOPLE[:3])))
    number = number_in(first)
    rejection_id, second, _reply = send(intake, mailbox_server, smtp, mail(
        2, school_list([PEOPLE[2], *NEW_PEOPLE]), subject="Otrā grupa"))
    assert f"Ja pieteikums {number} ir Jūsu iestādes" in second  # our hint names SUP-1

    _id, third, _reply = send(intake, mailbox_server, smtp, mail(
        3, school_list([*NEW_PEOPLE, PEOPLE[3]]), answers=rejection_id, subject="RE: Otrā grupa",
        body=f"Izlabots.\n\n> Ja pieteikums {number} ir Jūsu iestādes ..."))

    assert "Kļūdas, par kurām Jums rakstījām" in third
    assert len(people_of(intake, number)) == 3  # the first application untouched
    assert intake.status()["corrections"] == 1


def test_moving_people_between_groups_in_reply_to_the_confirmation_is_an_amendment(
        intake, mailbox_server, smtp):
    def grouped(labels):
        return make_workbook([(f"Izglītības iestāde: {SCHOOL}",), (*HEADER, "Grupa"),
                              *[(n, *person, label) for n, (person, label)
                                in enumerate(zip(PEOPLE[2:6], labels, strict=True), start=1)]])

    reply_id, first, _reply = send(intake, mailbox_server, smtp, mail(1, grouped("1122")))
    number = number_in(first)

    _id, second, _reply = send(intake, mailbox_server, smtp,
                               mail(2, grouped("1212"), answers=reply_id))

    assert f"Pieteikums {number} (iestāde «{SCHOOL}») ir grozīts" in second
    assert "Dalībnieku sastāvs nav mainījies (4 dalībnieki)" in second
    assert intake.status()["resubmissions"] == {"amendment": 1}


def test_a_number_named_from_another_domain_amends_nothing(intake, mailbox_server, smtp):
    _id, first, _reply = send(intake, mailbox_server, smtp, mail(1, school_list(PEOPLE[:3])))
    number = number_in(first)

    _id, second, _reply = send(intake, mailbox_server, smtp, mail(
        2, school_list([*PEOPLE[:2], NEW_PEOPLE[0]]), sender="kads@cits.example.lv",
        subject=f"Grozījumi {number}"))

    assert "ir grozīts" not in second and f"jau ir pieteikta pieteikumā {number}" in second
    assert sorted(people_of(intake, number)) == sorted((p[0], p[1]) for p in PEOPLE[:3])
