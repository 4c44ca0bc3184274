"""Shared fixtures: builders for workbooks made in code, and the path to ../shared."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from intake.core.formats import Limits
from intake.core.programme import Programme
from tests.support import in_ci
from tests.support.dovecot import LAYOUTS

FILES = Path(__file__).parent / "files"


def make_workbook(rows: Sequence[Sequence[object]], *, title: str = "Saraksts",
                  extra_sheets: Sequence[tuple[str, Sequence[Sequence[object]], str]] = ()) -> bytes:
    """An .xlsx written by openpyxl: `rows` on the first sheet, then (title, rows, state) sheets."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for name, sheet_rows, state in extra_sheets:
        extra = book.create_sheet(name)
        extra.sheet_state = state
        for row in sheet_rows:
            extra.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HEADER = ("Nr.", "Vārds", "Uzvārds", "Amats", "E-pasts")


def person(number: int, role: str = "skolotāja") -> tuple[object, ...]:
    return (number, "Anna", f"Bērziņa{_letters(number)}", role,
            f"dalibnieks{number}@skola.example.lv")


def _letters(number: int) -> str:
    # Distinct surnames that stay within the Latvian alphabet: 1 -> "a", 27 -> "ba" ...
    alphabet = "abcdefghijklmnoprstuvz"
    text = ""
    while True:
        number, rest = divmod(number, len(alphabet))
        text = alphabet[rest] + text
        if number == 0:
            return text


def personal_code(born: date, serial: str = "1000") -> str:
    """A valid old-format personal code (DDMMYY-CNNNZ) computed here, not copied from anyone."""
    century = {18: "0", 19: "1", 20: "2"}[born.year // 100]
    digits = born.strftime("%d%m%y") + century + serial[:3]
    weights = (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = (1101 - sum(int(d) * w for d, w in zip(digits, weights, strict=True))) % 11 % 10
    return f"{digits[:6]}-{digits[6:]}{check}"


@pytest.fixture
def limits() -> Limits:
    return Limits()


@pytest.fixture
def programme() -> Programme:
    return Programme(name="national", title="Supervīzijas Latvijas pedagogiem",
                     one_supervision_per_educator=True)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared, as `.ci/run` sets INTAKE_SHARED_DIR; in CI its absence is an error, not a skip."""
    value = os.environ.get("INTAKE_SHARED_DIR")
    if value and Path(value).is_dir():
        return Path(value)
    message = "INTAKE_SHARED_DIR is not set to the shared/ folder (corpus, registry export)"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


# --- real servers -----------------------------------------------------------------------------

def _service_missing(message: str) -> None:
    """A missing service fails in CI and skips, saying why, on a developer's machine."""
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def dovecot():
    from tests.support.dovecot import start_dovecot

    try:
        server = start_dovecot()
    except (RuntimeError, OSError) as exc:
        _service_missing(f"Dovecot cannot start here: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def layout_server(request):
    """(Layout, Dovecot): one Dovecot per folder layout for each module that asks; a test may
    pick layouts with `indirect=True`."""
    from tests.support.dovecot import start_dovecot

    layout = LAYOUTS[request.param]
    try:
        server = start_dovecot(**layout.options)
    except (RuntimeError, OSError) as exc:
        _service_missing(f"Dovecot cannot start here: {exc}")
    yield layout, server
    server.stop()


@pytest.fixture
def mailbox_server(dovecot):
    """Dovecot with the intake's and the school's mailboxes emptied."""
    dovecot.reset("intake")
    dovecot.reset("school")
    return dovecot


@pytest.fixture(scope="session")
def smtp_server(dovecot):
    from tests.support.smtp import start_smtp

    server = start_smtp(dovecot.ca_file, dovecot.root / "key.pem")
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server):
    smtp_server.inbox.clear()
    smtp_server.inbox.refuse = False
    return smtp_server


@pytest.fixture(scope="session")
def postgres_database():
    from tests.support import postgres

    try:
        name = postgres.create_database()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means "missing"
        _service_missing(f"PostgreSQL on 127.0.0.1:5432 is not reachable: {exc}")
    yield postgres.url(name)
    postgres.drop_database(name)


DIALECTS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Which databases a test that uses one runs on: both, where the dialect can matter (the
    store, migrations, locks, outages, crashes); an end-to-end test only on SQLite unless it is
    marked `databases(...)` (each end-to-end file has at least one such smoke test)."""
    if "database_url" not in metafunc.fixturenames and "blank_database_url" not in metafunc.fixturenames:
        return
    if any("database_url" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize")):
        return  # the test names its databases itself
    marker = metafunc.definition.get_closest_marker("databases")
    if marker and not set(marker.args) <= set(DIALECTS):
        raise pytest.UsageError(f"databases{marker.args}: each must be one of {DIALECTS}")
    end_to_end = metafunc.definition.path.parent.name == "end_to_end"
    dialects = marker.args if marker else ("sqlite",) if end_to_end else DIALECTS
    name = "database_url" if "database_url" in metafunc.fixturenames else "blank_database_url"
    metafunc.parametrize(name, dialects, indirect=True)


@pytest.fixture(scope="session")
def database_template(request, tmp_path_factory):
    """Per dialect, a database migrated to the newest schema with the shipped registry loaded,
    made once per session (and per xdist worker); each test gets its own copy."""
    from intake.store.engine import open_engine
    from intake.store.registry import load_default_registry
    from intake.store.schema import upgrade

    made: dict[str, str] = {}

    def template(dialect: str) -> str:
        if dialect not in made:
            if dialect == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'intake.sqlite3'}"
            else:
                from tests.support import postgres

                url = postgres.url(request.getfixturevalue("postgres_database").rpartition("/")[2])
            engine = open_engine(url)
            try:
                upgrade(engine)
                load_default_registry(engine)
            finally:
                engine.dispose()
            made[dialect] = url
        return made[dialect]

    return template


@pytest.fixture
def database_url(request, tmp_path, database_template):
    """A database of the test's dialect at the newest schema with the shipped registry, its own."""
    template = database_template(request.param)
    if request.param == "sqlite":
        target = tmp_path / "intake.sqlite3"
        shutil.copyfile(template.removeprefix("sqlite:///"), target)
        yield f"sqlite:///{target}"
        return
    from tests.support import postgres

    name = postgres.create_database(template=template.rpartition("/")[2])
    yield postgres.url(name)
    postgres.drop_database(name)


@pytest.fixture
def blank_database_url(request, tmp_path):
    """A database of the test's dialect with nothing in it: for migrations and first starts."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'intake.sqlite3'}"
        return
    request.getfixturevalue("postgres_database")  # the server is reachable (or CI fails)
    from tests.support import postgres

    name = postgres.create_database()
    yield postgres.url(name)
    postgres.drop_database(name)


def _migrated(url: str):
    from intake.store.engine import open_engine
    from intake.store.schema import upgrade

    engine = open_engine(url)
    upgrade(engine)
    return engine


@pytest.fixture
def engine(database_url):
    """A migrated database of either kind, disposed of after the test."""
    engine = _migrated(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def new_engine(blank_database_url):
    """A database migrated just now, before any command has used it (no registry stored yet)."""
    engine = _migrated(blank_database_url)
    yield engine
    engine.dispose()
