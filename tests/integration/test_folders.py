"""Folders on real servers: Dovecot with `.` and `/` delimiters, an `INBOX.` namespace prefix and
no MOVE; a local Maildir. Folders are created under the server's own names, a refused folder is
an alert whose mail is not fetched or answered again, and the first poll after the fix moves it."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import Session, select

from intake.config import load_settings
from intake.config.mail import Folders
from intake.errors import ConfigError
from intake.mail.folders import Layout
from intake.mail.imap import ImapSource, connect_imap
from intake.mail.maildir import MaildirSource
from intake.mail.source import FolderError, check_folders
from intake.poll.pipeline import poll
from intake.poll.service import make_context, open_smtp
from intake.store.engine import open_engine
from intake.store.schema import _config, upgrade
from intake.store.status import read_status
from intake.store.tables import MessageRecord
from tests.conftest import HEADER, make_workbook
from tests.support.mail import make_email

OUR_ADDRESS = "supervizija@ikvd.example.lv"
REFUSED = "Intake/Apstrādāti 2026.g."  # a dot: refused by Dovecot's Maildir++ under "/"
FIXED = "Intake/Apstrādāti 2026"


@pytest.fixture
def smtp_ca(dovecot) -> Path:
    """The session's SMTP server has the session Dovecot's certificate."""
    return dovecot.ca_file


@pytest.fixture
def server(layout_server):
    layout, dovecot = layout_server
    dovecot.reset("intake")
    return layout, dovecot


def imap(dovecot) -> ImapSource:
    return connect_imap(dovecot.url("intake"), password=dovecot.users["intake"],
                        ca_file=dovecot.ca_file, timeout=10)


def note(number: int) -> bytes:
    return make_email(style="thunderbird", sender=f"Skola <s{number}@skola.example.lv>",
                      to=OUR_ADDRESS, subject=f"Jautājums {number}", body="Labdien!", number=number)


def application(number: int) -> bytes:
    rows = [(i, "Anna", f"Liepa{chr(97 + number % 20)}{chr(97 + i)}", "skolotāja",
             f"f{number}p{i}@skola.example.lv") for i in (1, 2, 3)]
    content = make_workbook([(f"Izglītības iestāde: Skola {number}",), HEADER, *rows])
    return make_email(style="outlook", sender=f"Sekretāre <sekretare{number}@skola.example.lv>",
                      to=OUR_ADDRESS, subject=f"Pieteikums supervīzijai {number}",
                      body="Pielikumā saraksts.", number=number,
                      attachment=("dalībnieku saraksts.xlsx", content))


def test_the_layout_is_read_from_the_server(server):
    layout, dovecot = server
    source = imap(dovecot)
    try:
        assert source.layout() == Layout(layout.delimiter, layout.prefix)
        hidden = layout.options.get("hide", ())
        for capability in ("MOVE", "UIDPLUS"):  # which way a move goes on this server
            assert source.client.has_capability(capability) is (capability not in hidden)
    finally:
        source.close()


@pytest.mark.parametrize("form", ["paths", "dotted"])
def test_check_creates_every_folder_under_the_servers_names_once(server, form):
    layout, dovecot = server
    folders = asdict(Folders())
    if form == "dotted":  # a configuration written before paths took "/"
        folders = {key: value.replace("/", ".") for key, value in folders.items()}
    source = imap(dovecot)
    try:
        first = check_folders(source, folders)
        second = check_folders(source, folders)
    finally:
        source.close()

    assert [c.problem for c in first] == [None] * 5 and all(c.created for c in first)
    assert first[0].server_name == layout.applications
    assert not any(c.created for c in second)
    counts = dovecot.folder_counts()
    names = {c.server_name for c in first}
    assert names <= set(counts), (names, counts)
    assert layout.applications in counts
    again = imap(dovecot)  # a new connection finds them too (not this one's memory)
    try:
        assert not any(c.created or c.problem for c in check_folders(again, folders))
    finally:
        again.close()


def test_moves_only_the_given_mail_into_a_non_ascii_folder(server):
    layout, dovecot = server
    dovecot.append_many([note(n) for n in (1, 2, 3)])
    source = imap(dovecot)
    try:
        refs = source.list_new()
        source.move(refs[:2], "Pieteikumi/Apstrādāti")
        left = source.list_new()
    finally:
        source.close()

    assert [r.location for r in left] == [refs[2].location]
    expected = f"{layout.prefix}Pieteikumi{layout.delimiter}Apstrādāti"
    counts = dovecot.folder_counts()
    assert counts[expected] == 2 and counts["INBOX"] == 1
    client = dovecot.client("intake")  # on the wire: modified UTF-7, as RFC 3501 has it
    try:
        client.folder_encode = False
        raw_names = [name for _flags, _sep, name in client.list_folders()]
    finally:
        client.logout()
    assert any(b"Apstr&AQE-d&AQE-ti" in bytes(name) for name in raw_names), raw_names


def test_a_name_part_holding_the_servers_delimiter_is_a_configuration_error(server):
    layout, dovecot = server
    folder = f"Intake/Pieteikumi 2{layout.delimiter}0" if layout.delimiter == "." else (
        "Intake.Pieteikumi/x")  # "/" is the path's own separator: only a "." can be tried here
    dovecot.append(note(5))
    source = imap(dovecot)
    try:
        if layout.delimiter == ".":
            with pytest.raises(ConfigError) as raised:
                source.server_folder(folder)
            said = str(raised.value)
            assert "'Pieteikumi 2.0'" in said and "'.'" in said and repr(layout.prefix) in said
            (check,) = check_folders(source, {"application": folder})
            assert check.config and check.problem == said
            refs = source.list_new()
            with pytest.raises(FolderError):  # in a poll: an alert, the mail stays
                source.move(refs, folder)
            assert source.list_new() == refs
        else:
            assert source.server_folder(folder) == f"{layout.prefix}Intake.Pieteikumi/x"
    finally:
        source.close()


@pytest.mark.parametrize("layout_server", ["slash"], indirect=True)
def test_a_folder_the_server_refuses_is_a_folder_error_with_its_words(server):
    _layout, dovecot = server
    dovecot.append(note(4))
    source = imap(dovecot)
    try:
        refs = source.list_new()
        with pytest.raises(FolderError) as raised:
            source.move(refs, REFUSED)
        assert source.list_new() == refs  # the connection is fine, the mail in place
    finally:
        source.close()
    said = str(raised.value)
    assert f"'{REFUSED}'" in said
    assert "CREATE answered: [CANNOT] Character not allowed in mailbox name: '.'" in said
    assert "hierarchy delimiter '/'" in said and "prefix ''" in said
    assert "secs" not in said  # Dovecot's timings are not the operator's business


@pytest.mark.parametrize("layout_server", ["dot"], indirect=True)
def test_the_folder_being_read_is_no_destination(server):
    _layout, dovecot = server
    source = imap(dovecot)
    try:
        for folder in ("INBOX", "inbox"):
            with pytest.raises(ConfigError, match="the folder the intake reads"):
                source.server_folder(folder)
    finally:
        source.close()


# --- a poll whose move is refused, then fixed ---------------------------------------------------

def settings_for(tmp_path: Path, dovecot, smtp, smtp_ca: Path, database_url: str,
                 application_folder: str):
    from intake.config import resource_dir

    config = tmp_path / "intake.toml"
    bundle = tmp_path / "ca.pem"  # this layout's Dovecot and the session's SMTP server
    bundle.write_bytes(dovecot.ca_file.read_bytes() + smtp_ca.read_bytes())
    config.write_text(f'programmes_dir = "{resource_dir("config") / "programmes"}"\n'
                      f'[mail.folders]\napplication = "{application_folder}"\n', encoding="utf-8")
    return load_settings({
        "INTAKE_CONFIG": str(config), "INTAKE_STATE_DIR": str(tmp_path / "state"),
        "INTAKE_DATABASE_URL": database_url, "INTAKE_MAILBOX_URL": dovecot.url("intake"),
        "INTAKE_MAILBOX_PASSWORD": dovecot.users["intake"], "INTAKE_SMTP_URL": smtp.url,
        "INTAKE_TLS_CA_FILE": str(bundle), "INTAKE_FROM": OUR_ADDRESS})


class Recording(ImapSource):
    """The real source, noting which messages a poll downloads."""

    fetched: list[str]

    def fetch(self, refs):
        self.fetched.extend(ref.location for ref in refs)
        yield from super().fetch(refs)


def poll_with(settings, engine, dovecot):
    plain = imap(dovecot)
    source = Recording(plain.client, plain.name, plain.folder)
    source.fetched = []
    transport = open_smtp(settings)
    try:
        return poll(make_context(settings, engine), source, transport), source.fetched
    finally:
        transport.close()
        source.close()


def errors(caplog) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    caplog.clear()
    return lines


@pytest.mark.parametrize("layout_server", ["slash"], indirect=True)
def test_a_refused_move_is_one_alert_the_mail_is_not_answered_again_and_moves_once_fixed(
        server, smtp, smtp_ca, engine, database_url, tmp_path, caplog):
    _layout, dovecot = server
    caplog.set_level(logging.INFO)
    refused = settings_for(tmp_path, dovecot, smtp, smtp_ca, database_url, REFUSED)
    dovecot.append(application(11))

    summary, fetched = poll_with(refused, engine, dovecot)

    assert summary.states == {"application": 1} and summary.not_moved == 1
    assert len(smtp.inbox.wait_for(1)) == 1
    (alert,) = errors(caplog)
    assert "mail not moved: 1 message(s)" in alert and "Character not allowed" in alert
    assert REFUSED in alert and "sekretare" not in alert and "Pieteikums" not in alert
    with Session(engine) as session:
        (record,) = session.exec(select(MessageRecord)).all()
    assert record.state == "application" and record.unmoved_since is not None
    assert "Character not allowed in mailbox name" in (record.move_error or "")
    status = read_status(engine)
    assert status.not_moved == 1
    assert any("not moved to their folders" in p
               for p in status.problems(datetime.now(UTC), 60))

    # Later polls: the decided mail is neither downloaded nor answered again; new mail is.
    again, fetched = poll_with(refused, engine, dovecot)
    assert fetched == [] and again.already_done == 1 and again.not_moved == 1
    assert len(errors(caplog)) == 1
    dovecot.append(note(12))
    newer, fetched = poll_with(refused, engine, dovecot)
    assert newer.states == {"no_list": 1} and len(fetched) == 1 and newer.not_moved == 1
    assert len(errors(caplog)) == 1  # the first mail, still waiting for its folder
    assert len(smtp.inbox.wait_for(2)) == 2
    assert dovecot.folder_counts()["Intake/NoList"] == 1

    # The operator fixes the folder: the next poll moves the mail, without downloading it.
    fixed = settings_for(tmp_path, dovecot, smtp, smtp_ca, database_url, FIXED)
    last, fetched = poll_with(fixed, engine, dovecot)

    assert fetched == [] and last.not_moved == 0 and errors(caplog) == []
    counts = dovecot.folder_counts()
    assert counts["INBOX"] == 0 and counts[FIXED] == 1
    assert read_status(engine).not_moved == 0
    assert engine_rows(engine, "select count(*) from messages where unmoved_since is not null "
                               "or move_error is not null") == [(0,)]
    assert len(smtp.inbox.messages) == 2


@pytest.mark.parametrize("layout_server", ["slash"], indirect=True)
def test_refused_mail_moved_away_by_someone_else_is_no_longer_reported(
        server, smtp, smtp_ca, engine, database_url, tmp_path):
    _layout, dovecot = server
    refused = settings_for(tmp_path, dovecot, smtp, smtp_ca, database_url, REFUSED)
    dovecot.append(application(13))
    poll_with(refused, engine, dovecot)
    assert read_status(engine).not_moved == 1
    client = dovecot.client("intake")  # staff file it by hand
    try:
        client.create_folder("Arhīvs")
        client.select_folder("INBOX")
        client.move(client.search(["ALL"]), "Arhīvs")
    finally:
        client.logout()

    summary, _fetched = poll_with(refused, engine, dovecot)

    assert summary.seen == 0 and read_status(engine).not_moved == 0


def engine_rows(engine, query: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


# --- Maildir --------------------------------------------------------------------------------------

def test_maildir_folders_are_maildir_plus_plus_directories(tmp_path):
    source = MaildirSource(tmp_path / "inbox")
    checks = check_folders(source, {**asdict(Folders()), "extra": "Pieteikumi/Apstrādāti"})
    assert [c.server_name for c in checks] == [
        ".Intake.Applications", ".Intake.Automatic", ".Intake.Correspondence", ".Intake.NoList",
        ".Intake.Quarantine", ".Pieteikumi.Apstr&AQE-d&AQE-ti"]
    assert all(c.created and (tmp_path / "inbox" / c.server_name / "cur").is_dir() for c in checks)
    (bad,) = check_folders(source, {"application": "Intake/v1.2"})
    assert bad.config and "'v1.2'" in (bad.problem or "")


def test_a_maildir_folder_that_cannot_be_made_is_an_alert_until_it_can(tmp_path, engine,
                                                                       database_url, caplog):
    from intake.mail.outbox import open_transport

    inbox = tmp_path / "inbox"
    source = MaildirSource(inbox)
    (inbox / ".Intake.NoList").write_text("not a folder")  # in the way of the folder
    (inbox / "new" / "1.eml").write_bytes(note(21))
    settings = load_settings({
        "INTAKE_STATE_DIR": str(tmp_path / "state"), "INTAKE_DATABASE_URL": database_url,
        "INTAKE_MAILBOX_URL": f"maildir:{inbox}", "INTAKE_SMTP_URL": f"maildir:{tmp_path / 'sent'}",
        "INTAKE_FROM": OUR_ADDRESS})
    transport = open_transport(settings.mail.smtp_url, password=None, ca_file=None, timeout=10)

    first = poll(make_context(settings, engine), source, transport)

    assert first.not_moved == 1 and [p.name for p in (inbox / "new").iterdir()] == ["1.eml"]
    assert any(".Intake.NoList" in r.getMessage() for r in caplog.records
               if r.levelno == logging.ERROR)
    (inbox / ".Intake.NoList").unlink()
    second = poll(make_context(settings, engine), source, transport)
    assert second.not_moved == 0 and list((inbox / "new").iterdir()) == []
    assert len(list((inbox / ".Intake.NoList" / "cur").iterdir())) == 1
    assert len(list((tmp_path / "sent" / "new").iterdir())) == 1  # answered once
    assert read_status(engine).not_moved == 0


# --- the migration ----------------------------------------------------------------------------

def test_the_move_columns_migrate_up_and_down_keeping_the_messages(blank_database_url):
    database_url = blank_database_url  # a database with nothing in it yet
    engine = open_engine(database_url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO messages (mailbox, location, sha256, message_id, sender, subject, "
                "state, reason, attempts, error, received_at) VALUES ('m', '1:1', 'd', '', '', '', "
                "'application', '', 0, '', :now)"), {"now": datetime.now(UTC)})
        upgrade(engine, "0007")
        assert engine_rows(engine, "select location, unmoved_since, move_error from messages") == [
            ("1:1", None, None)]
        config = _config(engine)
        before = ScriptDirectory.from_config(config).get_revision("0007").down_revision
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, str(before))
        assert engine_rows(engine, "select location from messages") == [("1:1",)]
        upgrade(engine)
        assert read_status(engine).not_moved == 0
    finally:
        engine.dispose()
