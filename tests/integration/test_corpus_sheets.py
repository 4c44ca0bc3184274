"""Every real-world sheet in ../shared/corpus/sheets is read or refused with a finding, in bounded time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from intake.core.formats import Limits
from intake.core.workbook import read_participant_list

# Generous for a 2-core machine under a test runner; the benchmark prints the real figures.
TIME_BOUND_SECONDS = 5.0


def corpus_sheets(shared: Path) -> list[Path]:
    return sorted(p for p in (shared / "corpus" / "sheets").rglob("*") if p.is_file())


def test_corpus_is_there(shared_dir):
    assert len(corpus_sheets(shared_dir)) > 100


def test_every_corpus_sheet_is_read_or_refused_with_a_finding(shared_dir):
    limits = Limits()
    outcomes = {}
    for path in corpus_sheets(shared_dir):
        started = time.perf_counter()
        plist = read_participant_list(path.read_bytes(), path.name, limits=limits)
        elapsed = time.perf_counter() - started
        assert elapsed < TIME_BOUND_SECONDS, f"{path} took {elapsed:.1f} s"
        # Read: a sheet was chosen. Refused: at least one finding says why, with a hint.
        assert plist.sheet is not None or plist.findings, path
        for finding in plist.findings:
            assert finding.message and finding.hint, (path, finding.code)
        outcomes[path.relative_to(shared_dir)] = [f.code for f in plist.findings]
    # The hostile ones never get as far as a list.
    hostile = {k: v for k, v in outcomes.items() if k.parts[2] in ("hostile", "encrypted")}
    assert hostile and all(v for v in hostile.values()), hostile


@pytest.mark.parametrize(("relative", "code"), [
    ("encrypted/poi/protected_passtika.xlsx", "file.encrypted"),
    ("hostile/poi/poc-xmlbomb.xlsx", "file.xml-entities"),
    ("hostile/poi/poc-xmlbomb-empty.xlsx", "file.xml-entities"),
    ("other_formats/test_files/minimal_112.numbers", "file.numbers"),
    ("strings/test_files/large_strings.xlsx", "file.too-large-unpacked"),
])
def test_known_hostile_and_foreign_sheets_get_their_precise_finding(shared_dir, relative, code):
    path = shared_dir / "corpus" / "sheets" / relative
    plist = read_participant_list(path.read_bytes(), path.name, limits=Limits())
    assert [f.code for f in plist.findings] == [code]


def test_every_corpus_sheet_attached_to_mail_gets_one_precise_reply(shared_dir, mailbox_server,
                                                                   smtp, tmp_path):
    """The same files as schools would send them: one mail each, through Dovecot, a poll, SMTP."""
    from sqlmodel import Session, select

    from intake.config import load_settings
    from intake.poll.service import poll_once, prepare_engine
    from intake.store.tables import ApplicationRecord, FindingRecord, MessageRecord
    from tests.support.mail import make_email

    paths = corpus_sheets(shared_dir)
    mailbox_server.append_many([
        make_email(style=("outlook", "gmail", "thunderbird")[n % 3],
                   sender=f"Sekretāre <s{n}@skola.example.lv>", to="supervizija@ikvd.example.lv",
                   subject=f"Pieteikums {n}", body="Labdien! Pielikumā saraksts.", number=n,
                   attachment=(path.name, path.read_bytes()))
        for n, path in enumerate(paths)])
    settings = load_settings({
        "INTAKE_STATE_DIR": str(tmp_path), "INTAKE_MAILBOX_URL": mailbox_server.url("intake"),
        "INTAKE_MAILBOX_PASSWORD": mailbox_server.users["intake"], "INTAKE_SMTP_URL": smtp.url,
        "INTAKE_TLS_CA_FILE": str(mailbox_server.ca_file),
        "INTAKE_FROM": "supervizija@ikvd.example.lv",
        "INTAKE_DATABASE_URL": f"sqlite:///{tmp_path / 'sheets.sqlite3'}",
    })
    engine = prepare_engine(settings)

    summary = poll_once(settings, engine)

    assert summary is not None and summary.seen == len(paths)
    replies = smtp.inbox.wait_for(len(paths), timeout=60)
    assert sorted(r.recipients[0] for r in replies) == sorted(
        f"s{n}@skola.example.lv" for n in range(len(paths)))  # one each
    with Session(engine) as session:
        states = {m.state for m in session.exec(select(MessageRecord)).all()}
        applications = session.exec(select(ApplicationRecord)).all()
        coded = {f.application_id for f in session.exec(select(FindingRecord)).all()}
    assert states <= {"application", "no_list"}, states  # never failed, never quarantined
    assert len(applications) >= 0.9 * len(paths)  # the rest were not spreadsheets at all
    # A rejected list always says why: each has findings the reply quotes.
    assert all(a.id in coded for a in applications if a.verdict == "rejected")
    assert mailbox_server.folder_counts()["INBOX"] == 0
