"""Many `intake` processes on one database at once: the schema is migrated exactly once, writers
wait their turn, and `validate` never writes."""

from __future__ import annotations

import json
import mailbox
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from intake.samples import make_good_list, make_sample_emails
from intake.store.engine import open_engine
from intake.store.schema import head_revision, upgrade
from tests.support.together import Command, Finished, run_together

TABLES = {"messages", "applications", "groups", "participants", "registrations", "outbox",
          "institutions", "watermarks", "service", "findings", "summaries", "resubmissions"}
# Without the migration lock nearly every round fails, on either database: three rounds catch the
# race with room to spare, and each round is seven process starts.
ROUNDS = 3
OUR_ADDRESS = "supervizija@ikvd.example.lv"


def _daemon_has_polled(line: str) -> bool:
    """Its first poll is done (or skipped: `intake poll` held the lock), or it failed."""
    return any(said in line for said in ("poll: seen=", "this poll is skipped", "ERROR"))


def fresh_sqlite(tmp_path: Path) -> Iterator[str]:
    for number in range(ROUNDS):
        yield f"sqlite:///{tmp_path / f'round-{number}' / 'intake.sqlite3'}"


def fresh_postgres() -> Iterator[str]:
    from tests.support import postgres

    for _number in range(ROUNDS):
        name = postgres.create_database()
        try:
            yield postgres.url(name)
        finally:
            postgres.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_databases(request, tmp_path) -> Iterator[str]:
    """One new, empty database per round (PostgreSQL: a database of its own, dropped after)."""
    if request.param == "sqlite":
        return fresh_sqlite(tmp_path)
    request.getfixturevalue("postgres_database")  # the server is reachable (or CI fails)
    return fresh_postgres()


def environment(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update({"INTAKE_STATE_DIR": str(tmp_path / "state"), "INTAKE_DATABASE_URL": database_url,
                "INTAKE_MAILBOX_URL": f"maildir:{tmp_path / 'inbox'}",
                "INTAKE_SMTP_URL": f"maildir:{tmp_path / 'sent'}", "INTAKE_FROM": OUR_ADDRESS})
    return env


def schema_of(database_url: str) -> tuple[list[tuple[object, ...]], set[str]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            versions = [tuple(row) for row in connection.execute(
                text("SELECT version_num FROM alembic_version"))]
        return versions, set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.slow
def test_commands_started_together_on_a_new_database_migrate_it_exactly_once(
        fresh_databases, tmp_path):
    listed = tmp_path / "saraksts.xlsx"
    listed.write_bytes(make_good_list())
    commands = [
        Command(("validate", str(listed))),
        Command(("validate", "--json", str(listed))),
        Command(("db", "upgrade")),
        Command(("status", "--json")),
        Command(("summary",)),
        Command(("poll",)),
        Command(("run",), until=_daemon_has_polled),
    ]
    for database_url in fresh_databases:
        results = run_together(commands, env=environment(tmp_path, database_url), cwd=tmp_path)
        check_statuses(results)
        versions, tables = schema_of(database_url)
        assert versions == [(head_revision(),)]
        assert tables >= TABLES
        migrated = [r.args for r in results if "database schema upgraded" in r.stderr]
        assert len(migrated) == 1, [r.describe() for r in results]


def check_statuses(results: list[Finished]) -> None:
    described = "\n".join(r.describe() for r in results)
    for result in results:
        assert "Traceback" not in result.stderr, described
        assert "already exists" not in result.stderr, described
        assert "database is locked" not in result.stderr, described
    by_command = {r.args[0] if r.args[0] != "validate" else " ".join(r.args[:2]): r for r in results}
    for name in ("validate --json", "db", "summary", "poll", "run"):
        assert by_command[name].returncode == 0, described
    assert [r.returncode for r in results if r.args[0] == "validate"] == [0, 0], described
    # A poll may already have succeeded (0) or not yet (1, with that problem alone).
    status = by_command["status"]
    assert status.returncode in (0, 1), described
    problems = json.loads(status.stdout)["problems"]
    assert problems in ([], ["no poll has succeeded yet"]), described
    assert (status.returncode == 1) == bool(problems)
    assert json.loads(by_command["validate --json"].stdout)["verdict"] == "accepted"


REPOSITORY = Path(__file__).resolve().parents[2]


def migrated_sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'db' / 'intake.sqlite3'}"
    engine = open_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def test_writers_that_read_before_they_write_wait_their_turn(tmp_path):
    """Three processes, each 150 transactions that read and then write: in WAL a transaction that
    began with a read cannot wait for a writer that committed meanwhile, so each must hold the
    write lock from its BEGIN; then they queue and none fails with "database is locked"."""
    url = migrated_sqlite(tmp_path)
    writers = [Command((url, f"writer-{n}", "150"), entry="tests.support.contend:main")
               for n in range(3)]
    results = run_together(writers, env=dict(os.environ), cwd=REPOSITORY)
    for result in results:
        assert result.returncode == 0, result.describe()
    engine = create_engine(url)
    with engine.connect() as connection:
        counts = dict(connection.execute(text(
            "SELECT value, count(*) FROM service GROUP BY value")).all())
    engine.dispose()
    assert counts == {"writer-0": 150, "writer-1": 150, "writer-2": 150}


def test_imports_and_a_poll_started_together_all_commit(tmp_path, shared_dir):
    """Real commands writing at once: two registry imports (2,713 rows each, then linking stored
    applications) and a poll storing the sample applications, with a status reading meanwhile."""
    url = migrated_sqlite(tmp_path)
    inbox = mailbox.Maildir(tmp_path / "inbox", create=True)
    for _name, raw in make_sample_emails(OUR_ADDRESS):
        inbox.add(raw)
    export = str(shared_dir / "data" / "institutions-viis-2020.csv")
    commands = [Command(("institutions", "import", export)), Command(("poll",)),
                Command(("institutions", "import", export)), Command(("status", "--json"))]
    results = run_together(commands, env=environment(tmp_path, url), cwd=tmp_path)
    described = "\n".join(r.describe() for r in results)
    assert [r.returncode for r in results[:3]] == [0, 0, 0], described
    assert results[3].returncode in (0, 1), described
    assert not any("locked" in r.stderr for r in results), described
    assert "application=2 auto=1 no_list=1" in results[1].stdout, described
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM institutions")).scalar() == 2713
        assert connection.execute(text("SELECT count(*) FROM messages")).scalar() == 4
    engine.dispose()
