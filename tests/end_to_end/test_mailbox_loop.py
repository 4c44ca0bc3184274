"""The daemon's job end to end: mail in Dovecot, `intake poll`, replies at SMTP, rows stored."""

from __future__ import annotations

import io
import re
import shutil

import openpyxl
import pytest

from intake.samples import make_faulty_list, make_good_list
from tests.conftest import HEADER, make_workbook
from tests.end_to_end.conftest import OUR_ADDRESS
from tests.support.mail import make_email

STYLES = ["outlook", "gmail", "thunderbird"]


def application(style: str, number: int, content: bytes, *, sender: str = "", subject: str = "",
                name: str = "dalībnieku saraksts.xlsx", extra_headers: str = "") -> bytes:
    return make_email(style=style, sender=sender or f"Sekretāre <sekretare{number}@skola.example.lv>",
                      to=OUR_ADDRESS, subject=subject or f"Pieteikums supervīzijai {number}",
                      body="Labdien! Pielikumā dalībnieku saraksts.", number=number,
                      attachment=(name, content), extra_headers=extra_headers)


def school_list(number: int, size: int = 3) -> bytes:
    """A list of its own people for each school, so R5 finds no one twice across tests."""
    rows = [(i, "Anna", f"Bērziņa{chr(97 + number % 20)}{chr(97 + i)}", "skolotāja",
             f"s{number}p{i}@skola.example.lv") for i in range(1, size + 1)]
    return make_workbook([(f"Izglītības iestāde: Skola {number}",), HEADER, *rows])


@pytest.mark.databases("sqlite", "postgresql")  # the smoke test on PostgreSQL
def test_answers_outlook_gmail_and_thunderbird_applications_once(intake, mailbox_server, smtp):
    for number, style in enumerate(STYLES, start=1):
        mailbox_server.append(application(style, number, school_list(number)))

    first = intake("poll")

    replies = smtp.inbox.wait_for(3)
    assert "application=3" in first.stdout
    by_recipient = {r.recipients[0]: r.message for r in replies}
    assert set(by_recipient) == {f"sekretare{n}@skola.example.lv" for n in (1, 2, 3)}
    for number, style in enumerate(STYLES, start=1):
        reply = by_recipient[f"sekretare{number}@skola.example.lv"]
        assert re.fullmatch(rf"Re: Pieteikums supervīzijai {number} — pieņemts, SUP-2\d{{3}}-\d{{5}}",
                            reply["Subject"]), reply["Subject"]
        assert reply["From"].addresses[0].display_name == "IKVD supervīziju pieteikumi"
        assert reply["In-Reply-To"] == f"<{style}-{number}@skola.example.lv>"
        assert reply["Auto-Submitted"] == "auto-replied"
        assert reply["Message-ID"].endswith("@ikvd.example.lv>")
        body = reply.get_body(("plain",)).get_content()
        assert "ir pārbaudīts un pieņemts" in body and "Pieteikuma numurs: SUP-" in body
    assert intake.rows("select count(*) from applications where verdict='accepted'") == [(3,)]
    assert intake.rows("select count(*) from participants") == [(9,)]
    counts = mailbox_server.folder_counts()
    assert counts["INBOX"] == 0 and counts["Intake.Applications"] == 3

    second = intake("poll")

    assert "seen=0" in second.stdout
    assert len(smtp.inbox.messages) == 3
    assert intake.status()["applications"] == {"accepted": 3}


def test_rejection_carries_the_annotated_workbook_and_the_blank_list(intake, mailbox_server, smtp):
    mailbox_server.append(application("outlook", 7, make_faulty_list(), name="saraksts.xlsx"))

    intake("poll")

    reply = smtp.inbox.wait_for(1)[0].message
    text = reply.get_body(("plain",)).get_content()
    errors = re.search(r"jāizlabo (\d+) kļūd", text)
    assert errors is not None
    assert reply["Subject"] == f"Re: Pieteikums supervīzijai 7 — jālabo {errors[1]} kļūdas"
    names = [part.get_filename() for part in reply.iter_attachments()]
    assert names == ["saraksts-piezimes.xlsx", "dalibnieku-saraksts.xlsx"]
    assert "Lapā «Saraksts», 6. rindā, kolonnā «E-pasts» (F6)" in text
    assert intake.rows("select verdict, errors from applications") == [("rejected", 4)]
    assert intake.rows("select count(*) from participants") == [(0,)]  # rejected: nobody kept


def test_person_already_registered_is_a_duplicate_naming_the_application(intake, mailbox_server,
                                                                          smtp):
    mailbox_server.append(application("gmail", 11, make_good_list()))
    intake("poll")
    first = smtp.inbox.wait_for(1)[0].message.get_body(("plain",)).get_content()
    number = first.split("Pieteikuma numurs: ")[1].split(".")[0]
    # The same people and one more (the very same list would be recognised as already registered).
    mailbox_server.append(application("outlook", 12, _with_one_more(make_good_list()),
                                      sender="Cita <cita@skola.example.lv>"))

    intake("poll")

    second = smtp.inbox.wait_for(2)[1].message.get_body(("plain",)).get_content()
    assert f"jau ir pieteikta pieteikumā {number}" in second
    assert intake.rows("select verdict from applications order by id") == [
        ("accepted",), ("rejected",)]


@pytest.mark.parametrize(("headers", "subject"), [
    ("Auto-Submitted: auto-replied\r\n", "Automātiskā atbilde: Pieteikums"),
    ("", "Prombūtnē: Pieteikums"),
    ("", "Out of Office: Pieteikums"),
    ("", "Автоматический ответ: Pieteikums"),
    ("", "Abwesenheitsnotiz: Pieteikums"),
    ("Precedence: bulk\r\n", "Jaunumi"),
    ("List-Id: <skolotaji.lists.example.lv>\r\n", "Vēstkopa"),
    ("X-Autoreply: yes\r\n", "Re: Pieteikums"),
    ("X-Intake-Loop: supervision-intake\r\n", "Re: Pieteikums"),
])
def test_no_reply_to_automatic_mail(intake, mailbox_server, smtp, headers, subject):
    raw = make_email(style="outlook", sender="Jānis <janis@skola.example.lv>", to=OUR_ADDRESS,
                     subject=subject, body="Esmu prombūtnē līdz 1. decembrim.", number=21,
                     extra_headers=headers)
    mailbox_server.append(raw)

    intake("poll")

    assert intake.rows("select state from messages") == [("auto",)]
    assert intake.rows("select count(*) from outbox") == [(0,)]
    assert mailbox_server.folder_counts()["Intake.Automatic"] == 1
    assert smtp.inbox.messages == []


def test_no_reply_to_a_mailer_daemon_bounce_of_our_own_reply(intake, mailbox_server, smtp):
    raw = make_email(style="gmail", sender="Mail Delivery Subsystem <mailer-daemon@example.lv>",
                     to=OUR_ADDRESS, subject="Delivery Status Notification (Failure)",
                     body="Your message was not delivered.", number=22)
    mailbox_server.append(raw)
    intake("poll")
    assert intake.rows("select state, reason from messages") == [("auto", "sender")]
    assert smtp.inbox.messages == []


def test_a_reply_to_us_without_a_list_is_correspondence_for_staff(intake, mailbox_server, smtp):
    raw = make_email(style="thunderbird", sender="Anna <anna@skola.example.lv>", to=OUR_ADDRESS,
                     subject="Re: Pieteikums supervīzijai", body="Paldies!", number=23,
                     extra_headers="In-Reply-To: <abc@ikvd.example.lv>\r\n")
    mailbox_server.append(raw)
    intake("poll")
    assert intake.rows("select state from messages") == [("correspondence",)]
    assert smtp.inbox.messages == []
    assert mailbox_server.folder_counts()["Intake.Correspondence"] == 1


def test_a_new_mail_without_a_list_gets_one_polite_reply_with_the_blank_list(intake, mailbox_server,
                                                                               smtp):
    raw = make_email(style="gmail", sender="Anna <anna@skola.example.lv>", to=OUR_ADDRESS,
                     subject="Kā pieteikties?", body="Labdien, kā pieteikties?", number=24)
    mailbox_server.append(raw)
    intake("poll")
    reply = smtp.inbox.wait_for(1)[0].message
    assert reply["Subject"] == "Re: Kā pieteikties? — vajadzīgs dalībnieku saraksts"
    assert [p.get_filename() for p in reply.iter_attachments()] == ["dalibnieku-saraksts.xlsx"]
    intake("poll")
    assert len(smtp.inbox.messages) == 1


def test_the_same_mail_delivered_twice_is_processed_once(intake, mailbox_server, smtp):
    raw = application("outlook", 31, school_list(31))
    mailbox_server.append(raw)
    mailbox_server.append(raw)

    summary = intake("poll").stdout

    assert "application=1" in summary and "already-done=1" in summary
    assert len(smtp.inbox.wait_for(1)) == 1
    assert intake.rows("select count(*) from applications") == [(1,)]
    assert mailbox_server.folder_counts()["INBOX"] == 0


def test_the_same_mail_delivered_again_with_other_transport_headers_is_processed_once(
        intake, mailbox_server, smtp):
    raw = application("thunderbird", 32, school_list(32))
    mailbox_server.append(raw)
    intake("poll")
    mailbox_server.append(b"Received: from relay.example.lv by mx.ikvd.example.lv; "
                          b"Wed, 25 Nov 2026 10:00:00 +0200\r\n" + raw)

    summary = intake("poll").stdout

    assert "already-done=1" in summary
    assert len(smtp.inbox.wait_for(1)) == 1
    assert intake.rows("select count(*) from messages") == [(1,)]


@pytest.mark.parametrize("lists", [False, True], ids=["questions", "lists"])
@pytest.mark.parametrize("parallel_from", [100, 2], ids=["here", "workers"])
def test_replies_beyond_the_daily_limit_are_held_for_staff(intake, mailbox_server, smtp, lists,
                                                           parallel_from):
    """In one batch: the worker processes compose the replies, queued at the batch's end."""
    for number in range(41, 44):
        if lists:
            raw = application("gmail", number, school_list(number),
                              sender="Anna <anna@skola.example.lv>")
        else:
            raw = make_email(style="gmail", sender="Anna <anna@skola.example.lv>", to=OUR_ADDRESS,
                             subject=f"Jautājums {number}", body="?", number=number)
        mailbox_server.append(raw)

    result = intake("poll", extra_env={"INTAKE_CONFIG": str(_config(
        intake, f"replies_per_recipient_per_day = 2\nparallel_from = {parallel_from}"))})
    assert ("deciding them in" in result.stderr) == (parallel_from == 2)  # the path asked for

    assert len(smtp.inbox.wait_for(2)) == 2
    assert intake.status()["outbox"] == {"sent": 2, "held": 1}


def test_our_own_error_is_retried_then_quarantined_without_blocking_others(intake, mailbox_server,
                                                                          smtp, tmp_path):
    broken = tmp_path / "broken-templates"
    broken.mkdir()  # no templates at all: rendering any reply fails, which is our error
    config = _config(intake, "max_attempts = 2", templates=str(broken))
    mailbox_server.append(application("outlook", 51, school_list(51)))
    mailbox_server.append(make_email(style="gmail", sender="a@skola.example.lv", to=OUR_ADDRESS,
                                     subject="Out of Office", body="x", number=52))

    intake("poll", extra_env={"INTAKE_CONFIG": str(config)})
    assert sorted(intake.rows("select state, attempts from messages")) == [
        ("auto", 0), ("failed", 1)]
    assert mailbox_server.folder_counts()["INBOX"] == 1  # left for the next poll

    intake("poll", extra_env={"INTAKE_CONFIG": str(config)})

    state, attempts, error, raw = intake.rows(
        "select state, attempts, error, raw is not null from messages where state != 'auto'")[0]
    assert (state, attempts, raw) == ("quarantined", 2, 1)
    assert "TemplateNotFound" in error
    assert mailbox_server.folder_counts()["Intake.Quarantine"] == 1
    assert intake.status()["quarantined"] == 1
    assert intake("status", check=False).returncode == 1  # a monitor sees it
    assert smtp.inbox.messages == []


@pytest.mark.parametrize("parallel_from", [100, 2], ids=["here", "workers"])
def test_one_failing_message_in_a_batch_costs_the_others_nothing(intake, mailbox_server, smtp,
                                                                 tmp_path, parallel_from):
    """The batch is written straight through first; the failure sends it round again, each message
    in a savepoint: the others are stored and answered once, the failing one is recorded."""
    from intake.config import resource_dir

    templates = tmp_path / "templates"
    shutil.copytree(resource_dir("templates"), templates)
    reply = templates / "reply.txt"  # fails (an undefined call) for one school's list only
    reply.write_text('{% if items[0].decision.institution == "Skola 73" %}{{ nothing() }}'
                     "{% endif %}" + reply.read_text(encoding="utf-8"), encoding="utf-8")
    numbers = [71, 72, 73, 74, 75]
    mailbox_server.append_many([application("outlook", n, school_list(n)) for n in numbers])

    config = _config(intake, f"parallel_from = {parallel_from}", str(templates))
    result = intake("poll", extra_env={"INTAKE_CONFIG": str(config)})

    assert ("deciding them in" in result.stderr) == (parallel_from == 2)  # the path asked for
    assert "message by message" in result.stderr
    assert sorted(intake.rows("select state, attempts from messages")) == [
        ("application", 0)] * 4 + [("failed", 1)]
    assert intake.rows("select count(*) from applications") == [(4,)]
    replies = smtp.inbox.wait_for(4)
    assert sorted(r.recipients[0] for r in replies) == [
        f"sekretare{n}@skola.example.lv" for n in (71, 72, 74, 75)]
    assert intake.status()["outbox"] == {"sent": 4}
    assert mailbox_server.folder_counts()["INBOX"] == 1  # the failed one, for the next poll


def test_an_smtp_outage_delays_the_reply_and_sends_it_once(intake, mailbox_server, smtp):
    config = str(_config(intake, "send_retry_seconds = 0"))
    smtp.inbox.refuse = True
    mailbox_server.append(application("outlook", 61, school_list(61)))
    intake("poll", extra_env={"INTAKE_CONFIG": config})
    assert intake.status()["outbox"] == {"pending": 1}
    assert intake.rows("select attempts from outbox") == [(1,)]
    assert mailbox_server.folder_counts()["Intake.Applications"] == 1  # decided and stored

    smtp.inbox.refuse = False
    intake("poll", extra_env={"INTAKE_CONFIG": config})
    intake("poll", extra_env={"INTAKE_CONFIG": config})

    assert intake.status()["outbox"] == {"sent": 1}
    assert len(smtp.inbox.wait_for(1)) == 1


@pytest.mark.slow
def test_worker_processes_decide_a_backlog_exactly_as_this_process_does(intake, mailbox_server,
                                                                         smtp):
    config = str(_config(intake, "parallel_from = 2\nbatch_size = 6"))
    for number in range(301, 305):
        mailbox_server.append(application("outlook", number, school_list(number)))
    # The same people and one more, from another address, in the same batch: R5 must see the
    # earlier message's registrations although a worker decided both without the database; and
    # the very same list again must be recognised as already registered.
    mailbox_server.append(application("gmail", 305, school_list(301, size=4),
                                      sender="Cita <cita@skola.example.lv>"))
    mailbox_server.append(make_email(style="thunderbird", sender="a@skola.example.lv",
                                     to=OUR_ADDRESS, subject="Out of Office", body="x", number=306))
    mailbox_server.append(application("thunderbird", 307, school_list(302),
                                      sender="Vēl <vel@skola.example.lv>"))

    result = intake("poll", extra_env={"INTAKE_CONFIG": config})

    assert "7 messages: deciding them in" in result.stderr
    assert sorted(intake.rows("select state from messages")) == [("application",)] * 6 + [("auto",)]
    assert sorted(intake.rows("select verdict from applications")) == [("accepted",)] * 4 + [
        ("rejected",)]
    replies = {r.recipients[0]: r.message for r in smtp.inbox.wait_for(6)}
    duplicate = replies["cita@skola.example.lv"].get_body(("plain",)).get_content()
    assert "jau ir pieteikta pieteikumā SUP-" in duplicate
    repeat = replies["vel@skola.example.lv"].get_body(("plain",)).get_content()
    assert "jau ir reģistrēts: tas ir tāds pats kā" in repeat


def test_a_mail_over_the_size_limit_is_answered_from_its_header_alone(intake, mailbox_server,
                                                                     smtp):
    config = str(_config(intake, "max_message_bytes = 20000"))
    big = application("outlook", 81, school_list(81) + b"\0" * 40_000, name="liels.xlsx")
    mailbox_server.append(big)

    intake("poll", extra_env={"INTAKE_CONFIG": config})

    reply = smtp.inbox.wait_for(1)[0].message
    text = reply.get_body(("plain",)).get_content()
    assert "Diemžēl tā ir lielāka par 19 kB, tāpēc to neatvērām" in text
    assert intake.rows("select state, reason, length(raw) < 20000 from messages") == [
        ("application", "too-large", 1)]
    assert intake.rows("select count(*) from applications") == [(0,)]


def test_the_uid_watermark_follows_what_was_handled(intake, mailbox_server, smtp):
    for number in (91, 92):
        mailbox_server.append(application("gmail", number, school_list(number)))
    intake("poll")
    (uidvalidity, last_uid), = intake.rows("select uidvalidity, last_uid from watermarks")
    locations = intake.rows("select location from messages")
    assert sorted(int(loc.split(":")[1]) for (loc,) in locations)[-1] == last_uid
    assert all(loc.startswith(f"{uidvalidity}:") for (loc,) in locations)


def test_an_unreachable_smtp_server_costs_no_attempt_and_the_reply_waits(intake, mailbox_server,
                                                                         smtp):
    from tests.support.dovecot import free_port

    closed = {"INTAKE_SMTP_URL": f"smtp+starttls://localhost:{free_port()}"}
    for number in (401, 402):
        mailbox_server.append(application("outlook", number, school_list(number)))
    intake("poll", extra_env=closed)
    assert intake.rows("select state, attempts from outbox") == [("pending", 0), ("pending", 0)]

    intake("poll")

    assert intake.status()["outbox"] == {"sent": 2}
    assert len(smtp.inbox.wait_for(2)) == 2


def _config(intake, mail_lines: str, templates: str | None = None):
    """A config file like the bundled one, with extra [mail] lines."""
    from intake.config import resource_dir

    bundled = resource_dir("config")
    path = intake.cwd / "intake.toml"
    lines = [f'programmes_dir = "{bundled / "programmes"}"']
    if templates:
        lines.append(f'templates_dir = "{templates}"')
    lines += ["[mail]", mail_lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _with_one_more(content: bytes) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(content))
    book.active.append([15, "Zane", "Kalna", "skolotāja", "pedagogs", "zane.kalna@skola.example.lv"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _preschool_list(institution: str, *people: tuple[str, str, str]) -> bytes:
    rows = [(i, first, last, "pirmsskolas skolotāja", email)
            for i, (first, last, email) in enumerate(people, start=1)]
    return make_workbook([(f"Izglītības iestāde: {institution}",), HEADER, *rows])


def test_a_shared_mailbox_and_names_in_other_scripts_are_not_taken_for_registered_people(
        intake, mailbox_server, smtp):
    mailbox_server.append(application("outlook", 21, _preschool_list(
        "PII «Zīlīte»", ("Ilze", "Kalniņa", "grupa.zilite@pii.example.lv"),
        ("Иван", "Петров", "ivan.petrov@pii.example.lv"),
        ("Łukasz", "Nowak", "lukasz@pii.example.lv"))))
    intake("poll")
    first = smtp.inbox.wait_for(1)[0].message.get_body(("plain",)).get_content()
    number = first.split("Pieteikuma numurs: ")[1].split(".")[0]
    # Another teacher of the same group on its mailbox, another Russian-speaking teacher.
    mailbox_server.append(application("gmail", 22, _preschool_list(
        "PII «Zīlīte»", ("Dace", "Liepa", "grupa.zilite@pii.example.lv"),
        ("Пётр", "Сидоров", "petr@pii.example.lv")), sender="Vadītāja <vaditaja@pii.example.lv>"))
    intake("poll")
    second = smtp.inbox.wait_for(2)[1].message.get_body(("plain",)).get_content()
    # The same people again, spelt otherwise: registered in the first application.
    mailbox_server.append(application("thunderbird", 23, _preschool_list(
        "PII «Zīlīte»", ("ИВАН", "ПЕТРОВ", "i.petrovs@pii.example.lv"),
        ("Lukasz", "NOWAK", "nowak@pii.example.lv")), sender="Cita <cita@pii.example.lv>"))
    intake("poll")
    third = smtp.inbox.wait_for(3)[2].message.get_body(("plain",)).get_content()

    assert "ir pārbaudīts un pieņemts" in first and "ir pārbaudīts un pieņemts" in second
    assert "jau ir pieteikta" not in second
    assert f"«Иван Петров» jau ir pieteikta pieteikumā {number}" in third
    assert f"«Lukasz Nowak» jau ir pieteikta pieteikumā {number}" in third
    assert intake.rows("select verdict from applications order by id") == [
        ("accepted",), ("accepted",), ("rejected",)]
