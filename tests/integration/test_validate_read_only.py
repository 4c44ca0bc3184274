"""`intake validate` reads the database read-only, and without one checks the list alone: it never
creates, migrates or changes a database. `intake status` needs only read rights on a current one."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from intake.samples import make_faulty_list, make_good_list
from tests.conftest import HEADER, make_workbook, person

KEYS = {"file", "verdict", "institution", "programme", "groups", "findings", "details"}
SAID_ONCE = "against the shipped institution registry"
REGISTRY = (
    "\ufeffNosaukums|Reģistrācijas numurs|Juridiskais status|Vadītājs|Veids|Tips|"
    "Faktiskais dibinātājs|Adrese\n"
    "Rīgas 12. vidusskola|1234567890|Pastarpinātās pārvaldes iestāde||Vispārējās izglītības "
    "iestāde|Vispārizglītojošā vidusskola|Rīgas Dome|IELA 1, RĪGA, LV-1000\n")


def intake(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update({"INTAKE_STATE_DIR": str(tmp_path / "state"), "INTAKE_DATABASE_URL": database_url})
    return subprocess.run([sys.executable, "-m", "intake", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)


def files_under(folder: Path) -> set[Path]:
    return {path.relative_to(folder) for path in folder.rglob("*")}


def lists(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "lists"
    folder.mkdir()
    good, bad = folder / "labs.xlsx", folder / "kludains.xlsx"
    good.write_bytes(make_good_list())
    bad.write_bytes(make_faulty_list())
    return good, bad


def tables_of(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_validate_without_a_database_checks_the_lists_and_creates_nothing(tmp_path, blank_database_url):
    """SQLite: no file (nor its folder); PostgreSQL: a database without our schema."""
    database_url = blank_database_url  # a database with nothing in it yet
    good, bad = lists(tmp_path)
    before = files_under(tmp_path)

    as_json = intake(tmp_path, database_url, "validate", "--json", str(good), str(bad))
    as_text = intake(tmp_path, database_url, "validate", str(good))

    assert as_json.returncode == 1, as_json.stderr  # the faulty list is rejected
    first, second = (json.loads(line) for line in as_json.stdout.splitlines())
    assert set(first) == set(second) == KEYS
    assert (first["verdict"], second["verdict"]) == ("accepted", "rejected")
    assert second["findings"]
    assert as_text.returncode == 0, as_text.stderr
    assert "pieņemts" in as_text.stdout
    for result in (as_json, as_text):
        assert result.stderr.count(SAID_ONCE) == 1, result.stderr
        assert "upgraded" not in result.stderr
    assert files_under(tmp_path) == before  # no database, no folder for it, no lock file
    if database_url.startswith("postgresql"):
        assert tables_of(database_url) == set()


def test_validate_leaves_an_empty_database_file_empty(tmp_path):
    good, _bad = lists(tmp_path)
    path = tmp_path / "intake.sqlite3"
    path.touch()

    result = intake(tmp_path, f"sqlite:///{path}", "validate", str(good))

    assert result.returncode == 0, result.stderr
    assert "no schema yet" in result.stderr and result.stderr.count(SAID_ONCE) == 1
    assert path.stat().st_size == 0


def fingerprint(path: Path) -> tuple[int, int, str]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def read_only_database(tmp_path, database_url):
    """A database with the registry imported, then made read-only: SQLite's file mode 0444, and
    PostgreSQL's transactions read-only by default."""
    export = tmp_path / "viis.csv"
    export.write_text(REGISTRY, encoding="utf-8")
    imported = intake(tmp_path, database_url, "institutions", "import", str(export))
    assert imported.returncode == 0, imported.stderr
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        yield database_url
        return
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    name = engine.url.database
    with engine.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    try:
        yield database_url
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        engine.dispose()


def test_validate_reads_the_registry_from_a_read_only_database_and_changes_nothing(
        tmp_path, read_only_database):
    known = tmp_path / "zinama.xlsx"
    known.write_bytes(make_workbook([("Izglītības iestāde: RĪGAS 12.VIDUSSKOLA",), HEADER,
                                     person(1)]))
    unknown = tmp_path / "nezinama.xlsx"
    unknown.write_bytes(make_workbook([("Izglītības iestāde: Neesošā skola",), HEADER, person(1)]))
    path = Path(read_only_database.removeprefix("sqlite:///"))
    sqlite = read_only_database.startswith("sqlite")
    before = fingerprint(path) if sqlite else None

    result = intake(tmp_path, read_only_database, "validate", "--json", str(known), str(unknown))

    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert (first["verdict"], first["institution"]) == ("accepted", "Rīgas 12. vidusskola")
    assert [f["code"] for f in second["findings"]] == ["institution.unknown"]
    assert SAID_ONCE not in result.stderr
    if sqlite:
        assert fingerprint(path) == before
        # A reader of a WAL database may create SQLite's -wal and -shm beside it; nothing in them.
        wal = path.with_name(path.name + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0


def test_status_reads_a_current_read_only_database(tmp_path, read_only_database):
    """A monitor may have read rights only: on a current schema `status` needs no more."""
    path = Path(read_only_database.removeprefix("sqlite:///"))
    sqlite = read_only_database.startswith("sqlite")
    before = fingerprint(path) if sqlite else None

    result = intake(tmp_path, read_only_database, "status", "--json")

    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["problems"] == ["no poll has succeeded yet"]
    if sqlite:
        assert fingerprint(path) == before
