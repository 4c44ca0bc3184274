"""What staff do with the intake, as they would run it: the daily summary read back from SMTP, the
export opened as a workbook, withdrawal, reprocessing, releasing held replies, retention."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from intake.config import resource_dir
from intake.samples import make_faulty_list
from tests.conftest import HEADER, make_workbook
from tests.end_to_end.conftest import OUR_ADDRESS, STAFF
from tests.end_to_end.test_mailbox_loop import application, school_list
from tests.support.mail import make_email

RIGA = ZoneInfo("Europe/Riga")


def today() -> str:
    return datetime.now(RIGA).date().isoformat()


def config(intake, *lines: str, mail: str = "") -> dict[str, str]:
    """Environment for a config file like the bundled one, with extra top-level and [mail] lines."""
    path = intake.cwd / "staff.toml"
    path.write_text("\n".join([f'programmes_dir = "{resource_dir("config") / "programmes"}"',
                               *lines, "[mail]", mail]) + "\n", encoding="utf-8")
    return {"INTAKE_CONFIG": str(path), "INTAKE_STAFF": STAFF}


def registry(intake, *names: str) -> Path:
    """A VIIS export naming these schools (municipal, in Rīga)."""
    path = intake.cwd / "viis.csv"
    rows = [f"{name}|{9000000000 + n}|Pastarpinātās pārvaldes iestāde||Vispārējās izglītības "
            f"iestāde|Vidusskola|Rīgas valstspilsētas pašvaldība|IELA {n}, RĪGA, LV-1000"
            for n, name in enumerate(names, start=1)]
    path.write_text("Nosaukums|Reģistrācijas numurs|Juridiskais status|Vadītājs|Veids|Tips|"
                    "Faktiskais dibinātājs|Adrese\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.databases("sqlite", "postgresql")  # the smoke test on PostgreSQL
def test_the_daily_summary_reaches_staff_with_figures_chart_and_export(intake, mailbox_server,
                                                                       smtp):
    env = {"INTAKE_STAFF": STAFF}
    intake("institutions", "import", str(registry(intake, "Skola 1", "Skola 2", "Skola 3")),
           extra_env=env)
    for number in (1, 2):
        mailbox_server.append(application("outlook", number, school_list(number, size=4)))
    mailbox_server.append(application("gmail", 3, make_faulty_list(), subject="Pieteikums 3"))
    mailbox_server.append(make_email(style="gmail", sender="a@skola.example.lv", to=OUR_ADDRESS,
                                     subject="Automatic reply: prombūtnē", body="x", number=4,
                                     extra_headers="Auto-Submitted: auto-replied\r\n"))
    intake("poll", extra_env=env)
    smtp.inbox.wait_for(3)
    smtp.inbox.clear()

    result = intake("summary", "--send", "--date", today(), extra_env=env)

    assert "1 mail(s) queued, 1 sent" in result.stdout
    (received,) = smtp.inbox.wait_for(1)
    mail = received.message
    assert received.recipients == [STAFF]
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["From"].addresses[0].display_name == "IKVD supervīziju pieteikumi"
    assert mail["Subject"].startswith("Supervīziju pieteikumi ")
    assert "3 saraksti, 2 pieņemti" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert "Saņemtās vēstules" in text and "Automātiskās vēstules (bez atbildes)" in text
    assert "Biežākie noraidīšanas iemesli dienā" in text
    assert "iestāde nav atrasta reģistrā: 1" in text  # the faulty list's school is not registered
    assert "pašvaldība: Rīga" in text  # R8: by funding route and municipality
    assert "5\u00a0500" in text  # R7: progress against the national target
    html = mail.get_body(("html",)).get_content()
    assert 'bgcolor="#1f4e78"' in html  # the chart's bars: table cells, as Outlook draws them
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == f"pieteikumi-{today()}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    assert book.sheetnames == ["Pieteikumi", "Grupas", "Dalībnieki", "Pašvaldības"]
    assert book["Pieteikumi"].max_row == 1 + 3
    rows = [dict(zip([c.value for c in book["Pieteikumi"][1]], r, strict=True))
            for r in book["Pieteikumi"].iter_rows(min_row=2, values_only=True)]
    (rejected,) = [r for r in rows if r["Lēmums"] == "noraidīts"]
    assert "nederīga e-pasta adrese (1)" in rejected["Noraidīšanas iemesli (kļūdu skaits)"]
    assert "iestāde nav atrasta reģistrā (1)" in rejected["Noraidīšanas iemesli (kļūdu skaits)"]
    assert book["Dalībnieki"].max_row == 1 + 8
    assert [row[:2] for row in book["Pašvaldības"].iter_rows(min_row=2, values_only=True)] == [
        ("pašvaldība", "Rīga")]


def test_an_empty_day_still_sends_a_short_mail_so_silence_means_trouble(intake, mailbox_server,
                                                                        smtp):
    intake("poll")  # the mailbox read, and empty

    intake("summary", "--send", "--date", "2026-01-05", extra_env={"INTAKE_STAFF": STAFF})

    (received,) = smtp.inbox.wait_for(1)
    assert "05.01.2026.: nekas nav saņemts" in received.message["Subject"]
    text = received.message.get_body(("plain",)).get_content()
    assert "nav saņemta neviena vēstule" in text
    assert "Pastkaste pārbaudīta bez kļūdām (pēdējoreiz " in text
    assert "NAV NOLASĪTA" not in text
    assert list(received.message.iter_attachments()) == []


def test_a_mailbox_never_read_is_the_summary_s_headline_not_a_quiet_day(intake, smtp):
    intake("summary", "--send", "--date", "2026-01-05", extra_env={"INTAKE_STAFF": STAFF})

    (received,) = smtp.inbox.wait_for(1)
    assert received.message["Subject"] == ("Supervīziju pieteikumi 05.01.2026.: pastkaste nav "
                                           "nolasīta – lūdzu, informējiet sistēmas uzturētāju")
    text = received.message.get_body(("plain",)).get_content()
    assert text.startswith("Labdien!\n\nPASTKASTE NAV NOLASĪTA.")
    assert "nav saņemta neviena vēstule" not in text
    html = received.message.get_body(("html",)).get_content()
    assert html.index("Pastkaste nav nolasīta") < html.index("Labdien!")


def test_the_daemon_mails_the_due_summary_once_at_start_and_not_again(intake, smtp):
    env = config(intake, 'summary_time = "00:00"', mail="poll_interval_seconds = 3600")
    yesterday = (datetime.now(RIGA).date() - timedelta(days=1)).strftime("%d.%m.%Y.")
    intake("db", "upgrade")  # as ExecStartPre does
    first = intake.start("run", extra_env=env)
    try:
        first.wait_for_log("running: polling", "daily summary for ")
        intake.wait_until(lambda: intake.status()["outbox"] == {"sent": 1})
    finally:
        assert first.stop() == 0
    again = intake.start("run", extra_env=env)  # a restart must not send the same day again
    try:
        again.wait_for_log("running: polling", "was queued before; nothing to send")
    finally:
        assert again.stop() == 0
    assert "queued for" not in again.log()
    assert intake.rows("select count(*) from summaries") == [(1,)]
    assert intake.status()["outbox"] == {"sent": 1}

    (received,) = smtp.inbox.wait_for(1)
    assert received.recipients == [STAFF]
    assert yesterday in received.message["Subject"]


def test_export_is_a_workbook_staff_can_filter_and_never_a_formula(intake, mailbox_server, smtp):
    hostile = make_workbook([("Izglītības iestāde: =HYPERLINK(\"http://x\";\"Skola\")",), HEADER,
                             (1, "Anna", "Bērziņa", "@skolotāja", "anna@skola.example.lv"),
                             (2, "Jānis", "Kalns", "-skolotājs", "janis@skola.example.lv")])
    mailbox_server.append(application("outlook", 21, hostile, name="+saraksts.xlsx"))
    intake("poll")
    smtp.inbox.wait_for(1)
    path = intake.cwd / "eksports.xlsx"

    intake("export", str(path), "--from", today(), "--to", today())

    book = openpyxl.load_workbook(path)
    sheet = book["Pieteikumi"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:Z2"
    assert sheet.column_dimensions["D"].width >= 25
    row = {title.value: cell for title, cell in zip(sheet[1], sheet[2], strict=True)}
    assert row["Izglītības iestāde"].value == "'=HYPERLINK(\"http://x\";\"Skola\")"
    assert row["Izglītības iestāde"].data_type == "s"
    assert row["Faila nosaukums"].value == "'+saraksts.xlsx"
    assert row["Lēmums"].value == "pieņemts"
    assert row["Programma"].value == "Supervīzijas Latvijas pedagogiem"  # its title, not its key
    assert row["Saņemts"].number_format == "dd.mm.yyyy"
    assert row["Saņemts"].value.date() == datetime.now(RIGA).date()  # the local day
    for printed in book:
        assert printed.page_setup.orientation == "landscape"
        assert printed.sheet_properties.pageSetUpPr.fitToPage
        assert (printed.page_setup.fitToWidth, printed.page_setup.fitToHeight) == (1, 0)
        assert printed.print_title_rows == "$1:$1"
    positions = [r[4] for r in book["Dalībnieki"].iter_rows(min_row=2, values_only=True)]
    assert sorted(positions) == ["'-skolotājs", "'@skolotāja"]
    assert not any(cell.data_type == "f" for s in book for r in s.iter_rows() for cell in r)

    intake("export", str(path), "--to", "2020-01-01", "--force")  # replaces the first
    assert openpyxl.load_workbook(path)["Pieteikumi"].max_row == 1  # a range without applications


def test_withdrawal_frees_the_people_for_a_new_application(intake, mailbox_server, smtp):
    people = school_list(31, size=3)
    mailbox_server.append(application("outlook", 31, people))
    intake("poll")
    ((number,),) = intake.rows("select number from applications")
    mailbox_server.append(application("gmail", 32, school_list(31, size=4), subject="Vēlreiz"))
    intake("poll")
    assert intake.rows("select verdict from applications order by id") == [
        ("accepted",), ("rejected",)]  # R5: the same people again, and one more

    result = intake("withdraw", number.lower(), "--reason", "skola atsauca", "--by", "Ilze")

    assert f"{number}: withdrawn by Ilze; 3 participant(s) free to apply again" in result.stdout
    assert intake.rows("select withdrawn_by, withdrawn_reason, withdrawn_at is not null "
                       "from applications where number = '" + number + "'") == [
        ("Ilze", "skola atsauca", True)]
    again = intake("withdraw", number, "--reason", "x", check=False)
    assert again.returncode == 2 and "withdrawn already" in again.stderr  # asked wrongly
    mailbox_server.append(application("thunderbird", 33, people, subject="Trešo reizi"))
    intake("poll")
    # Accepted anew: a withdrawn application's list is neither a duplicate nor already registered.
    assert intake.rows("select verdict from applications order by id")[-1] == ("accepted",)
    assert "ir pārbaudīts un pieņemts" in smtp.inbox.wait_for(3)[-1].message.get_body(
        ("plain",)).get_content()


def test_reprocess_replies_only_when_the_outcome_changed_and_staff_ask(intake, mailbox_server,
                                                                       smtp):
    intake("institutions", "import", str(registry(intake, "Cita skola")))
    mailbox_server.append(application("outlook", 41, school_list(41)))
    intake("poll")
    (first,) = smtp.inbox.wait_for(1)
    assert "nevar pieņemt" in first.message.get_body(("plain",)).get_content()
    ((row,),) = intake.rows("select id from messages")

    same = intake("reprocess", str(row), "--reply")  # the same rules and registry
    assert "unchanged (application: rejected[institution.unknown])" in same.stdout

    intake("institutions", "import", str(registry(intake, "Cita skola", "Skola 41")))
    changed = intake("reprocess", "<outlook-41@skola.example.lv>", "--reply")
    assert ("application: rejected[institution.unknown] -> application: accepted[]; reply queued"
            in changed.stdout)
    (_first, second) = smtp.inbox.wait_for(2)
    assert "ir pārbaudīts un pieņemts" in second.message.get_body(("plain",)).get_content()
    assert second.message["In-Reply-To"] == "<outlook-41@skola.example.lv>"
    assert intake.rows("select verdict, institution_number from applications order by id") == [
        ("superseded", "9000000002"), ("accepted", "9000000002")]  # the old number stays taken
    assert intake.rows("select revision, state from outbox order by revision") == [
        (0, "sent"), (1, "sent")]
    assert "unchanged" in intake("reprocess", str(row), "--reply").stdout

    intake("institutions", "import", str(registry(intake, "Cita skola")))
    quiet = intake("reprocess", str(row))  # changed, but without --reply: no mail
    assert "-> application: rejected[institution.unknown]" in quiet.stdout
    assert "reply queued" not in quiet.stdout
    assert intake.rows("select count(*) from registrations") == [(0,)]  # freed with the rows
    assert len(smtp.inbox.messages) == 2


def test_reprocess_quarantined_mail_after_the_fault_is_fixed(intake, mailbox_server, smtp,
                                                             tmp_path):
    broken = tmp_path / "broken-templates"
    broken.mkdir()
    failing = config(intake, f'templates_dir = "{broken}"', mail="max_attempts = 1")
    mailbox_server.append(application("outlook", 51, school_list(51)))
    intake("poll", extra_env=failing)
    assert intake.status()["quarantined"] == 1

    result = intake("reprocess", "--quarantined", "--reply")

    assert "quarantined -> application: accepted[]; reply queued" in result.stdout
    assert "reprocessed 1, changed 1" in result.stdout
    (reply,) = smtp.inbox.wait_for(1)
    assert "ir pārbaudīts un pieņemts" in reply.message.get_body(("plain",)).get_content()
    assert intake.status()["quarantined"] == 0
    assert intake.rows("select state, attempts, error from messages") == [("application", 0, "")]


def test_a_held_reply_goes_out_when_staff_release_it(intake, mailbox_server, smtp):
    env = config(intake, mail="replies_per_recipient_per_day = 0")
    mailbox_server.append(application("outlook", 61, school_list(61)))
    intake("poll", extra_env=env)
    assert intake.status()["outbox"] == {"held": 1}
    ((outbox_id,),) = intake.rows("select id from outbox")

    result = intake("resend", str(outbox_id), extra_env=env)

    assert "1 repl(ies) released, 1 sent" in result.stdout
    assert len(smtp.inbox.wait_for(1)) == 1
    again = intake("resend", str(outbox_id), check=False, extra_env=env)
    assert again.returncode == 2 and "1 of 1 outbox number(s) not released" in again.stderr  # sent already


def test_retention_purges_raw_mail_and_keeps_the_decisions(intake, mailbox_server, smtp):
    for number in (71, 72):
        mailbox_server.append(application("outlook", number, school_list(number)))
    intake("poll")
    smtp.inbox.wait_for(2)
    old = datetime.now(UTC) - timedelta(days=100)
    intake.execute("update messages set processed_at = :old where message_id like '%-71@%'",
                   old=old)

    result = intake("purge")

    assert "purged raw mail of 1 message(s)" in result.stdout
    assert intake.rows("select message_id, raw is null, purged_at is not null from messages "
                       "order by id") == [("<outlook-71@skola.example.lv>", True, True),
                                          ("<outlook-72@skola.example.lv>", False, False)]
    assert intake.rows("select count(*) from applications") == [(2,)]
    assert intake.rows("select count(*) from participants") == [(6,)]
    ((row,),) = intake.rows("select id from messages where raw is null")
    assert "purged after the retention period" in intake("reprocess", str(row)).stdout
    assert "purged raw mail of 0 message(s)" in intake("purge").stdout


def test_reprocess_sees_a_list_with_a_repeated_error_as_unchanged(intake, mailbox_server, smtp):
    rows = [(1, "Anna", "Ozola", "skolotāja", "nav-adrese"), (2, "Ilze", "Liepa", "skolotāja", "x@")]
    mailbox_server.append(application("outlook", 91, make_workbook(
        [("Izglītības iestāde: Skola 91",), HEADER, *rows])))
    intake("poll")
    smtp.inbox.wait_for(1)
    ((row,),) = intake.rows("select id from messages")

    result = intake("reprocess", str(row), "--reply")

    assert "unchanged (application: rejected[email.invalid])" in result.stdout
    assert intake.rows("select count(*) from outbox") == [(1,)]


def test_a_withdrawn_application_is_not_reprocessed_and_counts_on_the_day_of_withdrawal(
        intake, mailbox_server, smtp):
    mailbox_server.append(application("outlook", 92, school_list(92)))
    intake("poll")
    smtp.inbox.wait_for(1)
    ((row, number),) = intake.rows("select message_row, number from applications")
    intake("withdraw", number, "--reason", "pārcelts")
    intake.execute("update applications set created_at = :then", then=datetime.now(UTC) - timedelta(days=3))

    result = intake("reprocess", str(row), "--reply")

    assert f"not reprocessed: {number} was withdrawn" in result.stdout
    assert intake.rows("select verdict, withdrawn_at is not null from applications") == [
        ("accepted", True)]
    text = intake("summary", "--date", today()).stdout
    assert re.search(r"– atsaukti\s+1\s+1", text), text  # withdrawn today, received earlier


def test_a_registry_import_links_lists_accepted_before_it(intake, mailbox_server, smtp):
    mailbox_server.append(application("outlook", 93, school_list(93)))
    intake("poll")
    smtp.inbox.wait_for(1)
    assert intake.rows("select institution_number from applications") == [(None,)]

    intake("institutions", "import", str(registry(intake, "Skola 93")))

    assert intake.rows("select institution_number from applications") == [("9000000001",)]


def test_retention_keeps_quarantined_mail_for_reprocessing(intake, mailbox_server, smtp, tmp_path):
    broken = tmp_path / "broken-templates"
    broken.mkdir()
    mailbox_server.append(application("outlook", 94, school_list(94)))
    intake("poll", extra_env=config(intake, f'templates_dir = "{broken}"', mail="max_attempts = 1"))
    intake.execute("update messages set processed_at = :old",
                   old=datetime.now(UTC) - timedelta(days=365))

    assert "purged raw mail of 0 message(s)" in intake("purge").stdout
    assert intake.rows("select state, raw is not null from messages") == [("quarantined", True)]
