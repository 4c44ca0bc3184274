"""The programme rules that hold places and doors, through the real mailbox loop: the cap's
waiting list (the reply, the summary, a withdrawal moving the next one up and telling its
school), eligibility by the registry's kind of institution, and groups staff must merge."""

from __future__ import annotations

import re
import shutil

import pytest

from intake.config import resource_dir
from tests.conftest import HEADER, make_workbook
from tests.end_to_end.conftest import STAFF
from tests.end_to_end.test_mailbox_loop import application, school_list
from tests.end_to_end.test_staff import registry, today


def programmes_with(intake, *lines: str) -> dict[str, str]:
    """The shipped programmes, the national one with extra lines, and a config naming them."""
    folder = intake.cwd / "programmes"
    shutil.copytree(resource_dir("config") / "programmes", folder)
    national = folder / "national.toml"
    national.write_text(national.read_text(encoding="utf-8") + "\n".join(lines) + "\n",
                        encoding="utf-8")
    path = intake.cwd / "intake.toml"
    path.write_text(f'programmes_dir = "{folder}"\n[mail]\n', encoding="utf-8")
    return {"INTAKE_CONFIG": str(path), "INTAKE_STAFF": STAFF}


def body(reply) -> str:
    return reply.message.get_body(("plain",)).get_content()


@pytest.mark.databases("sqlite", "postgresql")  # the smoke test on PostgreSQL
def test_beyond_the_cap_a_list_waits_and_a_withdrawal_moves_it_up(intake, mailbox_server, smtp):
    env = programmes_with(intake, "supervision_cap = 2")
    for number in (71, 72, 73):  # one supervision each: the third is beyond the cap
        mailbox_server.append(application("outlook", number, school_list(number)))
    intake("poll", extra_env=env)
    replies = {r.recipients[0]: r for r in smtp.inbox.wait_for(3)}
    waiting = replies["sekretare73@skola.example.lv"]
    assert waiting.message["Subject"].startswith(
        "Re: Pieteikums supervīzijai 73 — iekļauts gaidīšanas sarakstā, SUP-")
    text = body(waiting)
    assert "iekļauts gaidīšanas sarakstā (vieta sarakstā: 1)" in text
    assert "supervīziju skaits (2) jau ir sasniegts" in text
    assert "gaidīšanas sarakstā" not in body(replies["sekretare71@skola.example.lv"])
    numbers = dict(intake.rows("select institution, number from applications"))
    assert intake.rows("select number from applications where waitlisted_at is not null") == [
        (numbers["Skola 73"],)]

    summary = intake("summary", "--date", today(), extra_env=env).stdout
    assert "GAIDĪŠANAS SARAKSTS" in summary
    assert (f"1. {numbers['Skola 73']}, Skola 73 (sekretare73@skola.example.lv): "
            "1 supervīzija") in summary
    assert re.search(r"Supervīzijas \(grupas\)\s+2\s+2", summary), summary  # the waiting: not yet

    intake("withdraw", numbers["Skola 71"], "--reason", "skola atteicās", extra_env=env)
    intake("poll", extra_env=env)  # sends what is pending

    told = smtp.inbox.wait_for(4)[-1]
    assert told.recipients == ["sekretare73@skola.example.lv"]
    assert told.message["Subject"] == (f"Pieteikums {numbers['Skola 73']} apstiprināts: "
                                       "atbrīvojās vieta supervīzijai – Skola 73")
    assert told.message["In-Reply-To"] == "<outlook-73@skola.example.lv>"
    assert "pieteikums ir apstiprināts" in body(told)
    assert intake.rows("select count(*) from applications where waitlisted_at is not null "
                       "or promoted_at is null and institution = 'Skola 73'") == [(0,)]
    assert "GAIDĪŠANAS SARAKSTS" not in intake("summary", "--date", today(), extra_env=env).stdout


def test_a_training_company_is_refused_for_the_national_programme_and_staff_see_it(
        intake, mailbox_server, smtp):
    path = registry(intake, "Rīgas Mācību Centrs", "Skola 75")
    text = path.read_text(encoding="utf-8").replace(
        "Rīgas Mācību Centrs|9000000001|Pastarpinātās pārvaldes iestāde||Vispārējās izglītības "
        "iestāde", "Rīgas Mācību Centrs|9000000001|Privātā iestāde||Pieaugušo neformālās "
        "izglītības iestāde")
    path.write_text(text, encoding="utf-8")
    intake("institutions", "import", str(path))
    company = make_workbook([("Izglītības iestāde: Rīgas Mācību Centrs",), HEADER,
                             (1, "Anna", "Bērziņa", "pasniedzēja", "anna@centrs.example.lv")])
    mailbox_server.append(application("gmail", 74, company))
    mailbox_server.append(application("outlook", 75, school_list(75)))
    intake("poll")
    replies = {r.recipients[0]: r for r in smtp.inbox.wait_for(2)}

    refused = body(replies["sekretare74@skola.example.lv"])
    assert "reģistrēta kā «pieaugušo neformālās izglītības iestāde»" in refused
    assert "ir pārbaudīts un pieņemts" in body(replies["sekretare75@skola.example.lv"])
    ((number,),) = intake.rows("select number from applications where verdict = 'rejected'")
    summary = intake("summary", "--date", today()).stdout
    assert "NEATBILSTOŠAS IESTĀDES" in summary
    assert (f"– {number}, Rīgas Mācību Centrs (sekretare74@skola.example.lv): iestādes veids "
            "programmā nevar pieteikties") in summary
    assert "NORAIDĪTIE PIETEIKUMI" not in summary  # named once, where it belongs


def test_a_lone_leader_goes_to_staff_to_merge_and_is_no_supervision(intake, mailbox_server, smtp):
    rows = [(1, "Ilze", "Ozola", "direktore", "ilze76@skola.example.lv"),
            *[(n, "Anna", f"Liepa{chr(96 + n)}", "skolotāja", f"a76{n}@skola.example.lv")
              for n in range(2, 6)]]
    mailbox_server.append(application("thunderbird", 76, make_workbook(
        [("Izglītības iestāde: Skola 76",), HEADER, *rows])))
    intake("poll")
    text = body(smtp.inbox.wait_for(1)[0])

    assert "ir pārbaudīts un pieņemts" in text
    assert "Programmas darbinieki šo grupu apvienos ar citu grupu" in text
    assert intake.rows("select kind, to_merge from groups order by position") == [
        ("leaders", True), ("educators", False)]
    ((number,),) = intake.rows("select number from applications")
    summary = intake("summary", "--date", today()).stdout
    assert "APVIENOJAMAS GRUPAS" in summary
    assert (f"– {number}, Skola 76 (sekretare76@skola.example.lv): iestādes vadītāju grupa, "
            "1 dalībnieks") in summary
    assert re.search(r"Supervīzijas \(grupas\)\s+1\s+1", summary), summary
