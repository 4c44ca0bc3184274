"""Shared fixtures: builders for workbooks made in code, and the path to ../shared."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from intake.core.formats import Limits
from intake.core.programme import Programme
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
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


# --- real servers -----------------------------------------------------------------------------

def _service_missing(message: str) -> None:
    """A missing service fails in CI and skips, saying why, on a developer's machine."""
    if os.environ.get("CI"):
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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Every store test runs on both databases; PostgreSQL gets a fresh schema per test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'intake.sqlite3'}"
    url = request.getfixturevalue("postgres_database")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url):
    """A migrated database of either kind, disposed of after the test."""
    from intake.store.schema import upgrade
    from intake.store.tables import open_engine

    engine = open_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
