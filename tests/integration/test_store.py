"""The store on SQLite and PostgreSQL: migrations, and constraints that forbid double processing."""

from __future__ import annotations

import importlib
import threading
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, func, select

from intake.core.model import Participant, Role
from intake.core.registry import FounderKind, Institution
from intake.core.resubmission import list_fingerprint
from intake.core.rules import person_keys
from intake.core.states import MessageState
from intake.store.engine import open_engine
from intake.store.registry import load_default_registry, load_institution_index, replace_institutions
from intake.store.schema import current_revision, head_revision, upgrade
from intake.store.tables import (
    ApplicationRecord,
    InstitutionRecord,
    MessageRecord,
    OutboxRecord,
    OutboxState,
    RegistrationRecord,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)



def message(**overrides: object) -> MessageRecord:
    values: dict[str, object] = {"mailbox": "imap://x/INBOX", "location": "1:1", "sha256": "a" * 64,
                                 "state": MessageState.APPLICATION, "received_at": NOW}
    values.update(overrides)
    return MessageRecord(**values)


def test_upgrade_from_an_empty_database_reaches_head_and_is_repeatable(blank_database_url):
    database_url = blank_database_url  # a database with nothing in it yet
    engine = open_engine(database_url)
    assert current_revision(engine) is None
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"messages", "applications", "groups", "participants", "registrations", "outbox",
            "institutions", "watermarks", "service", "findings", "summaries"} <= tables
    engine.dispose()


def test_participants_table_has_no_place_for_personal_codes(engine):
    columns = {c["name"] for c in inspect(engine).get_columns("participants")}
    assert not any("code" in c or "kods" in c for c in columns)


@pytest.mark.parametrize("clash", [
    {"location": "1:2"},  # the same bytes again (a copy in another folder, a resend): same SHA-256
    {"sha256": "b" * 64},  # the same place in the same mailbox
])
def test_the_same_message_cannot_be_recorded_twice(engine, clash):
    with Session(engine) as session:
        session.add(message())
        session.commit()
    with Session(engine) as session:
        session.add(message(**clash))
        with pytest.raises(IntegrityError):
            session.commit()


def test_a_message_has_at_most_one_reply_per_revision(engine):
    with Session(engine) as session:
        record = message()
        session.add(record)
        session.commit()
        row = record.id
    for revision, allowed in ((0, True), (0, False), (1, True)):
        with Session(engine) as session:
            session.add(OutboxRecord(message_row=row, revision=revision, recipient="a@b.lv",
                                     subject="Re", raw=b"x", state=OutboxState.PENDING,
                                     next_attempt_at=NOW, created_at=NOW))
            if allowed:
                session.commit()
            else:
                with pytest.raises(IntegrityError):
                    session.commit()


def test_a_person_is_registered_once_per_programme(engine):
    with Session(engine) as session:
        record = message()
        session.add(record)
        session.flush()
        application = ApplicationRecord(number="SUP-2026-00001", message_row=record.id,
                                        attachment="a.xlsx", programme="national",
                                        verdict="accepted", created_at=NOW)
        session.add(application)
        session.flush()
        session.add(RegistrationRecord(programme="national", key="email:a@b.lv",
                                       application_id=application.id))
        session.add(RegistrationRecord(programme="pumpurs", key="email:a@b.lv",
                                       application_id=application.id))
        session.commit()
        session.add(RegistrationRecord(programme="national", key="email:a@b.lv",
                                       application_id=application.id))
        with pytest.raises(IntegrityError):
            session.commit()


def test_upgrade_from_the_first_schema_keeps_the_messages(blank_database_url):
    database_url = blank_database_url  # a database with nothing in it yet
    engine = open_engine(database_url)
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(MessageRecord.__table__.insert().values(  # as the first schema had it
            mailbox="m", location="1:1", sha256="c" * 64, message_id="", sender="", subject="",
            state="auto", reason="", attempts=0, error="", received_at=NOW))
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with Session(engine) as session:
        (record,) = session.exec(select(MessageRecord)).all()
        assert (record.sha256, record.content_key) == ("c" * 64, None)
    engine.dispose()


def test_upgrade_from_the_previous_schema_keeps_mail_and_replies_and_matches_the_models(
        blank_database_url):
    database_url = blank_database_url  # a database with nothing in it yet
    engine = open_engine(database_url)
    upgrade(engine, "0002")
    with engine.begin() as connection:  # rows as the previous release wrote them
        connection.execute(text(
            "INSERT INTO messages (mailbox, location, sha256, content_key, message_id, sender, "
            "subject, state, reason, attempts, error, received_at) VALUES ('m', '1:1', 'd', 'k', "
            "'', '', '', 'application', '', 0, '', :now)"), {"now": NOW})
        connection.execute(text(
            "INSERT INTO outbox (message_row, recipient, subject, raw, state, attempts, "
            "next_attempt_at, last_error, created_at) VALUES (1, 'a@b.lv', 'Re', :raw, 'sent', 0, "
            ":now, '', :now)"), {"now": NOW, "raw": b""})
    upgrade(engine)
    with Session(engine) as session:
        (reply,) = session.exec(select(OutboxRecord)).all()
        assert (reply.message_row, reply.revision, reply.state) == (1, 0, "sent")
        (record,) = session.exec(select(MessageRecord)).all()
        assert (record.content_key, record.purged_at) == ("k", None)
    with engine.connect() as connection:  # the migrations build exactly what the models declare
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
    engine.dispose()


def test_upgrade_to_resubmissions_keeps_applications_and_fingerprints_accepted_lists(blank_database_url):
    database_url = blank_database_url  # a database with nothing in it yet
    engine = open_engine(database_url)  # SQLite with foreign keys on, as the service runs it
    upgrade(engine, "0003")
    raw = (b"From: supervizija@ikvd.example.lv\r\nMessage-ID: <abc123@ikvd.example.lv>\r\n"
           b"Subject: Re\r\n\r\nMessage-ID: <not-this@body>\r\n")
    people = [Participant(7, "Anna", "Bērziņa", "skolotāja", "anna@skola.lv", Role.EDUCATOR),
              Participant(8, "Ilze", "Kalna", "direktore", "ilze@skola.lv", Role.LEADER)]
    with engine.begin() as connection:  # rows as the previous release wrote them
        connection.execute(text(
            "INSERT INTO messages (mailbox, location, sha256, message_id, sender, subject, state, "
            "reason, attempts, error, received_at) VALUES ('m', '1:1', 'd', '', '', '', "
            "'application', '', 0, '', :now)"), {"now": NOW})
        connection.execute(text(
            "INSERT INTO applications (number, message_row, attachment, programme, institution, "
            "verdict, errors, warnings, created_at) VALUES ('SUP-2026-00001', 1, 'a.xlsx', "
            "'national', 'Rīgas 12. vidusskola', 'accepted', 0, 1, :now)"), {"now": NOW})
        connection.execute(text("INSERT INTO findings (application_id, severity, code, count) "
                                "VALUES (1, 'warning', 'position.unclear', 1)"))
        for group, person in enumerate(people, start=1):
            connection.execute(text("INSERT INTO groups (application_id, position, kind) VALUES "
                                    "(1, :group, 'educators')"), {"group": group})
            connection.execute(text(
                "INSERT INTO participants (group_id, row, first_name, last_name, position, email, "
                "role) VALUES (:group, :row, :first, :last, :position, :email, :role)"),
                {"group": group, "row": person.row, "first": person.first_name,
                 "last": person.last_name, "position": person.position, "email": person.email,
                 "role": person.role.value})
        connection.execute(text("INSERT INTO registrations (programme, key, application_id) "
                                "VALUES ('national', 'email:anna@skola.lv', 1)"))
        for raw_mail in (raw, b""):  # not sent yet, and sent (its copy dropped)
            connection.execute(text(
                "INSERT INTO outbox (message_row, revision, recipient, subject, raw, state, "
                "attempts, next_attempt_at, last_error, created_at) VALUES (1, :revision, "
                "'a@b.lv', 'Re', :raw, :state, 0, :now, '', :now)"),
                {"now": NOW, "raw": raw_mail, "revision": len(raw_mail),
                 "state": "pending" if raw_mail else "sent"})
    upgrade(engine)
    with Session(engine) as session:
        (application,) = session.exec(select(ApplicationRecord)).all()
        assert application.fingerprint == list_fingerprint("Rīgas 12. vidusskola", people)
        assert (application.resolves_id, application.amended_at) == (None, None)
        replies = session.exec(select(OutboxRecord).order_by(col(OutboxRecord.revision))).all()
        assert [r.message_id for r in replies] == [None, "<abc123@ikvd.example.lv>"]
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
    engine.dispose()


PERSON_KEYS = importlib.import_module("intake.store.migrations.versions.0006_person_keys")
# As the release before stored them: Anna's keys stay byte for byte; the e-mail key gains the name;
# both Cyrillic names were folded to nothing, so only the first of them could be registered.
PEOPLE_BEFORE = [
    (1, Participant(5, "Anna", "Bērziņa", "skolotāja", "Anna@Skola.lv", Role.EDUCATOR),
     ["email:anna@skola.lv", "name:anna|berzina|rigas 12 vidusskola"]),
    (1, Participant(6, "Иван", "Петров", "skolotājs", "ivan@skola.lv", Role.EDUCATOR),
     ["email:ivan@skola.lv", "name:||rigas 12 vidusskola"]),
    (2, Participant(5, "Ilze", "Kalniņa", "pirmsskolas skolotāja", "grupa@pii.lv", Role.EDUCATOR),
     ["email:grupa@pii.lv", "name:ilze|kalnina|pirmsskolas izglitibas iestade zilite"]),
    (2, Participant(6, "Łukasz", "Nowak", "skolotājs", "lukasz@pii.lv", Role.EDUCATOR),
     ["email:lukasz@pii.lv", "name:ukasz|nowak|pirmsskolas izglitibas iestade zilite"]),
]
INSTITUTIONS = {1: "Rīgas 12. vidusskola", 2: "PII Zīlīte"}


def store_as_before(engine: Engine) -> None:
    """Two accepted applications, their people and keys as revision 0004 left them."""
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO messages (mailbox, location, sha256, message_id, sender, subject, state, "
            "reason, attempts, error, received_at) VALUES ('m', '1:1', 'd', '', '', '', "
            "'application', '', 0, '', :now)"), {"now": NOW})
        for number, institution in INSTITUTIONS.items():
            members = [p for a, p, _ in PEOPLE_BEFORE if a == number]
            connection.execute(text(
                "INSERT INTO applications (number, message_row, attachment, programme, institution, "
                "verdict, errors, warnings, created_at, fingerprint) VALUES (:number, 1, 'a.xlsx', "
                "'national', :institution, 'accepted', 0, 0, :now, :fingerprint)"),
                {"now": NOW, "number": f"SUP-2026-0000{number}", "institution": institution,
                 "fingerprint": PERSON_KEYS._fingerprint_before(institution, members)})
            connection.execute(text("INSERT INTO groups (application_id, position, kind) VALUES "
                                    "(:number, 1, 'educators')"), {"number": number})
        for number, person, keys in PEOPLE_BEFORE:
            connection.execute(text(
                "INSERT INTO participants (group_id, row, first_name, last_name, position, email, "
                "role) VALUES (:group, :row, :first, :last, :position, :email, :role)"),
                {"group": number, "row": person.row, "first": person.first_name,
                 "last": person.last_name, "position": person.position, "email": person.email,
                 "role": person.role.value})
            for key in keys:
                if key != "name:||rigas 12 vidusskola" or person.first_name == "Иван":
                    connection.execute(text(
                        "INSERT INTO registrations (programme, key, application_id) VALUES "
                        "('national', :key, :number)"), {"key": key, "number": number})


def registrations(engine: Engine) -> dict[int, set[str]]:
    with Session(engine) as session:
        found: dict[int, set[str]] = {}
        for record in session.exec(select(RegistrationRecord)).all():
            found.setdefault(record.application_id, set()).add(record.key)
        return found


def test_upgrade_recomputes_person_keys_from_the_stored_people(blank_database_url):
    database_url = blank_database_url  # a database with nothing in it yet
    engine = open_engine(database_url)
    upgrade(engine, "0004")
    store_as_before(engine)

    upgrade(engine)

    expected = {number: {key for a, p, _ in PEOPLE_BEFORE if a == number
                         for key in person_keys(p.first_name, p.last_name, p.email, institution)}
                for number, institution in INSTITUTIONS.items()}
    assert registrations(engine) == expected
    assert "name:anna|berzina|rigas 12 vidusskola" in expected[1]  # as stored: byte for byte
    assert "email:anna@skola.lv|anna|berzina" in expected[1]
    assert "name:иван|петров|rigas 12 vidusskola" in expected[1]
    assert "name:lukasz|nowak|pirmsskolas izglitibas iestade zilite" in expected[2]
    with Session(engine) as session:
        fingerprints = {a.id: a.fingerprint for a in session.exec(select(ApplicationRecord))}
    for number, institution in INSTITUTIONS.items():
        members = [p for a, p, _ in PEOPLE_BEFORE if a == number]
        assert fingerprints[number] == list_fingerprint(institution, members)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
    engine.dispose()


def test_upgrade_leaves_a_fingerprint_it_did_not_make_and_downgrade_restores_the_keys(blank_database_url):
    database_url = blank_database_url  # a database with nothing in it yet
    engine = open_engine(database_url)
    upgrade(engine, "0004")
    store_as_before(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE applications SET fingerprint = 'own' WHERE id = 2"))
    before = registrations(engine)

    upgrade(engine)
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", "intake.store:migrations")
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")

    assert registrations(engine) == before
    with engine.connect() as connection:  # the table as revision 0004 has it
        assert connection.execute(text(
            "SELECT fingerprint FROM applications WHERE id = 2")).scalar_one() == "own"
    engine.dispose()


# --- the institution registry -----------------------------------------------------------------

def institution_count(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(InstitutionRecord)).one()


def test_a_new_database_knows_the_shipped_registry_with_its_domains(new_engine):
    engine = new_engine
    index = load_institution_index(engine)
    assert index is not None
    assert len(index) == institution_count(engine) == 2713
    assert not index.imported  # the shipped export: a name it lacks is not refused (R10)
    found = index.match("Ogres 1. vidusskolas")
    assert found is not None
    assert (found.number, found.municipality, found.domains) == (
        "4313900189", "Ogres novads", ("ogresnovads.lv",))
    assert index.by_domain("ovt.lv").name == "Ogres tehnikums"


def test_loading_the_shipped_registry_again_changes_nothing(new_engine):
    engine = new_engine
    assert load_default_registry(engine) == 2713
    assert load_default_registry(engine) == 0
    assert institution_count(engine) == 2713


def test_loaders_starting_together_store_the_registry_once(blank_database_url):
    database_url = blank_database_url  # a database with nothing in it yet
    engines = [open_engine(database_url) for _ in range(3)]
    upgrade(engines[0])
    start = threading.Barrier(len(engines))
    loaded: list[int] = []
    failures: list[BaseException] = []

    def load(engine) -> None:
        start.wait()
        try:
            loaded.append(load_default_registry(engine))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=load, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(loaded) == [0, 0, 2713]
    assert institution_count(engines[0]) == 2713
    for engine in engines:
        engine.dispose()


def test_an_import_replaces_the_shipped_registry(engine):
    load_institution_index(engine)
    newer = [Institution("9000000001", "Jaunā vidusskola", "Vispārējās izglītības iestāde",
                         FounderKind.MUNICIPAL, "Rīga", ("jauna.example.lv",))]
    assert replace_institutions(engine, newer) == 1
    index = load_institution_index(engine)
    assert index is not None
    assert len(index) == 1
    assert index.imported
    assert index.match("Ogres 1. vidusskola") is None
    assert index.by_domain("jauna.example.lv").number == "9000000001"


def test_upgrade_to_institution_domains_keeps_an_imported_registry(blank_database_url):
    database_url = blank_database_url  # a database with nothing in it yet
    engine = open_engine(database_url)
    upgrade(engine, "0004")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO institutions (number, name, kind, founder, municipality) VALUES "
            "('9000000001', 'Jaunā vidusskola', 'Vispārējās izglītības iestāde', 'municipal', 'Rīga')"))
    upgrade(engine)
    index = load_institution_index(engine)
    assert index is not None
    assert len(index) == 1  # an imported registry is kept: the shipped one fills only an empty table
    assert index.imported
    with Session(engine) as session:
        (record,) = session.exec(select(InstitutionRecord)).all()
    assert (record.name, record.domains) == ("Jaunā vidusskola", None)
    engine.dispose()
