"""Participant lists made in code in the shapes schools' programs write: builders for tests.

A list is `SheetSpec`s (a name, rows of cell values, hidden or not, merged ranges) written by
openpyxl (`openpyxl_book`), by XlsxWriter as Excel writes (`xlsxwriter_book`), or converted by
LibreOffice (`libreoffice_convert`). `list_sheet` lays out one sheet: title rows above, the header,
one row per `Member`, a gap and closing rows (a signature, a date, a total) below. Rows are
1-based as a school sees them: `first_member_row(above)` says where the first participant stands.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
import xlsxwriter.utility

from intake.core.formats import Limits
from intake.core.model import Decision, ParticipantList
from intake.core.programme import Programme
from intake.core.rules import Circumstances, decide
from intake.core.workbook import read_participant_list
from tests.support import in_ci

Rows = Sequence[Sequence[object]]


@dataclass(frozen=True, slots=True)
class Member:
    """A participant as a school writes one; `email=None` leaves the cell blank."""

    first_name: str
    last_name: str
    position: str = "skolotāja"
    email: str | None = None
    group: str | None = None
    personal_code: str | None = None
    category: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


_FIRST_NAMES = ("Anna", "Jānis", "Līga", "Pēteris", "Ilze", "Mārtiņš", "Inese", "Andris", "Dace",
                "Edgars", "Kristīne", "Raimonds", "Zane", "Gatis", "Sandra", "Valdis")
_SURNAMES = ("Bērziņa", "Ozols", "Kalniņa", "Liepa", "Vītola", "Krūmiņš", "Zariņa", "Ābele",
             "Siliņa", "Ķēniņš", "Jansone", "Eglītis", "Šmite", "Lapiņš", "Ūdre", "Grīnbergs")
LEADER_POSITIONS = ("direktore", "direktora vietniece izglītības jomā", "metodiķe")
# Names in other scripts and an en-dashed double surname, as schools type them.
FOREIGN_MEMBERS = (
    Member("Иван", "Петров", "skolotājs", "ivan.petrov@skola.example.lv"),
    Member("Łukasz", "Wójcik", "sporta skolotājs", "lukasz.wojcik@skola.example.lv"),
    Member("Νίκος", "Παπαδόπουλος", "mūzikas skolotājs", "nikos.papadopoulos@skola.example.lv"),
    Member("Inga", "Kalniņa–Liepiņa", "logopēde", "inga.kalnina@skola.example.lv"),
)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def members(count: int, *, start: int = 1, position: str = "skolotāja",
            domain: str = "skola.example.lv", group: str | None = None) -> list[Member]:
    """`count` distinct participants with Latvian names, numbered from `start`."""
    people = []
    for number in range(start, start + count):
        first = _FIRST_NAMES[number % len(_FIRST_NAMES)]
        last = _SURNAMES[(number // len(_FIRST_NAMES) + number) % len(_SURNAMES)]
        email = f"{_ascii(first)}.{_ascii(last)}{number}@{domain}"
        people.append(Member(first, last, position, email, group))
    return people


def leaders(count: int, *, start: int = 500) -> list[Member]:
    """Leaders (R3): a director, deputies, methodologists."""
    return [replace(m, position=LEADER_POSITIONS[i % len(LEADER_POSITIONS)])
            for i, m in enumerate(members(count, start=start))]


@dataclass(frozen=True, slots=True)
class Header:
    """A header row: each title and what its column holds (nr, first, last, full, reversed,
    position, email, group, category, code)."""

    titles: tuple[str, ...]
    kinds: tuple[str, ...]


def _header(*pairs: tuple[str, str]) -> Header:
    return Header(tuple(t for t, _ in pairs), tuple(k for _, k in pairs))


LATVIAN = _header(("Nr.", "nr"), ("Vārds", "first"), ("Uzvārds", "last"), ("Amats", "position"),
                  ("E-pasts", "email"))
LATVIAN_CAPS = _header(("NR.", "nr"), ("VĀRDS", "first"), ("UZVĀRDS", "last"),
                       ("IEŅEMAMAIS AMATS", "position"), ("E-PASTS", "email"))
LATVIAN_ASCII = _header(("Nr", "nr"), ("Vards", "first"), ("Uzvards", "last"), ("Amats", "position"),
                        ("e-pasta adrese", "email"))
LATVIAN_FULL = _header(("Nr.p.k.", "nr"), ("Vārds, uzvārds", "full"), ("Ieņemamais amats", "position"),
                       ("E-pasts", "email"))
LATVIAN_REVERSED = _header(("Nr.", "nr"), ("Uzvārds, vārds", "reversed"), ("Amats", "position"),
                           ("E-pasts", "email"))
# `Vārds` over whole names, no surname column: a combined column by its values.
LATVIAN_VARDS_COMBINED = _header(("Nr.", "nr"), ("Vārds", "full"), ("Amats", "position"),
                                 ("E-pasts", "email"))
LATVIAN_GROUPED = _header(("Nr.", "nr"), ("Vārds", "first"), ("Uzvārds", "last"), ("Amats", "position"),
                          ("E-pasts", "email"), ("Grupa", "group"))
LATVIAN_WITH_CODE = _header(("Nr.", "nr"), ("Vārds", "first"), ("Uzvārds", "last"),
                            ("Personas kods", "code"), ("Amats", "position"), ("E-pasts", "email"))
ENGLISH = _header(("No.", "nr"), ("Name", "first"), ("Surname", "last"), ("Position", "position"),
                  ("Email", "email"))
ENGLISH_FIRST_LAST = _header(("Nr", "nr"), ("First name", "first"), ("Last name", "last"),
                             ("Job title", "position"), ("E-mail", "email"))
ENGLISH_GIVEN_FAMILY = _header(("No.", "nr"), ("Given name", "first"), ("Family name", "last"),
                               ("Role", "position"), ("Email address", "email"))
ENGLISH_SURNAME_FIRST = _header(("No.", "nr"), ("Surname", "last"), ("Name", "first"),
                                ("Position", "position"), ("Email", "email"))
ENGLISH_FULL = _header(("No.", "nr"), ("Full name", "full"), ("Position", "position"),
                       ("Email", "email"))
ENGLISH_NAME_ONLY = _header(("No.", "nr"), ("Name", "full"), ("Position", "position"),
                            ("Email", "email"))


def table(people: Sequence[Member], *, header: Header = LATVIAN, start_number: int = 1) -> list[list[object]]:
    """The header row and one row per member."""
    rows: list[list[object]] = [list(header.titles)]
    for number, member in enumerate(people, start=start_number):
        rows.append([_value(member, kind, number) for kind in header.kinds])
    return rows


def _value(member: Member, kind: str, number: int) -> object:
    return {
        "nr": number, "first": member.first_name, "last": member.last_name,
        "full": member.full_name, "reversed": f"{member.last_name} {member.first_name}",
        "position": member.position, "email": member.email, "group": member.group,
        "category": member.category, "code": member.personal_code,
    }[kind]


# Rows above a header, as schools' lists begin.
TITLE_ROWS: Rows = (("Dalībnieku saraksts supervīzijai",),
                    ("Izglītības iestāde: Rīgas 12. vidusskola",), ())
ANNEX_TITLE_ROWS: Rows = ((None, None, None, "Pielikums Nr. 1"), ("Dalībnieku saraksts",),
                          ("Izglītības iestāde:", "Valmieras Viestura vidusskola"), ())

# What schools write under (or over) a list, aligned with LATVIAN: A Nr., B Vārds, C Uzvārds,
# D Amats, E E-pasts. None of these rows is a participant.
CLOSINGS: dict[str, Rows] = {
    "signature-placeholder": ((None, "Direktors", "____", "J. Kalns"),),
    "signature-one-cell": ((None, "Direktore ____________ I. Kalniņa"),),
    "signature-title-initials": ((None, "Direktore I. Kalniņa"),),
    "signature-under-position": ((None, None, None, "Direktore"), (None, None, None, "I. Kalniņa")),
    "signature-title-full-name": ((None, "Direktore", "Ilze Kalniņa"),),
    "signature-in-number-column": (("Direktors", None, None, "J. Kalns"),),
    "signature-dots": ((None, "Direktors ……………… J. Kalns"),),
    "signature-periods": ((None, "Direktore", "..................", "I. Kalniņa"),),
    "signature-paraksts": ((None, "Direktore", "(paraksts)", "I. Kalniņa"),),
    "signature-underscores-row": ((None, "_______", None, "_______"),
                                  (None, "(paraksts)", None, "(vārds, uzvārds)")),
    "signature-with-date": ((None, "Direktors", None, "J. Kalns"), (None, "2026. gada 3. decembrī")),
    "prepared-by": ((None, "Sagatavoja: L. Ozola"),),
    "prepared-by-cells": ((None, "Sagatavoja:", "Līga Ozola", "lietvede"),),
    "contact": ((None, "Kontaktpersona: Līga Ozola, tālr. 29123456, liga.ozola@skola.example.lv"),),
    "contact-cells": ((None, "Kontaktpersona:", "Līga Ozola", "tālr. 29123456",
                       "liga.ozola@skola.example.lv"),),
    "approval": ((None, "APSTIPRINU"), (None, "Rīgas 12. vidusskolas direktors"),
                 (None, "____________ J. Kalns"), (None, "2026. gada 3. decembrī")),
    "approval-titled": ((None, None, None, "Apstiprinu"), (None, None, None, "Direktore"),
                        (None, None, None, "I. Kalniņa"), (None, None, None, "03.12.2026.")),
    "agreed": ((None, "SASKAŅOTS"), (None, "Izglītības pārvaldes vadītāja"), (None, "L. Ozola"),
               (None, date(2026, 12, 3))),
    "stamp": ((None, "Z.v."),),
    "stamp-lower": ((None, None, None, "z.v."),),
    "stamp-spaced": ((None, "Z. v."),),
    "stamp-letters": ((None, "ZV"),),
    "date-long": ((None, "2026. gada 3. decembrī"),),
    "date-short": ((None, None, "2026. g. 3. decembris"),),
    "date-dotted": ((None, "03.12.2026."),),
    "date-plain": ((None, None, None, "3.12.2026"),),
    "date-iso": ((None, "2026-12-03"),),
    "date-cell": ((None, date(2026, 12, 3)),),
    "datetime-cell": ((None, None, None, datetime(2026, 12, 3, 9, 30)),),
    "date-label": ((None, "Datums: 03.12.2026."),),
    "date-label-cells": ((None, "Datums:", date(2026, 12, 3)),),
    "place-date": ((None, "Valmierā, 2026. gada 3. decembrī"),),
    "place-then-date": ((None, "Rīgā"), (None, "2026. gada 3. decembrī")),
    "place-beside-date": ((None, "Cēsīs", None, "03.12.2026"),),
    "total": ((None, "Kopā:", None, None, 12),),
    "total-words": ((None, "Kopā 12 dalībnieki"),),
    "total-colon": (("Kopā: 12",),),
    "total-pavisam": ((None, "Pavisam", 12),),
    "note": ((None, "Piezīme: divi dalībnieki piedalīsies attālināti."),),
    "title": ((None, "Dalībnieku saraksts supervīzijai"),),
    "annex": ((None, None, None, "Pielikums Nr. 1"),),
}
SIGNATURE_AND_DATE: Rows = (*CLOSINGS["signature-placeholder"], (), *CLOSINGS["date-long"])


def first_member_row(above: Rows = TITLE_ROWS) -> int:
    """The sheet row of the first participant under `above` and the header."""
    return len(above) + 2


@dataclass(frozen=True, slots=True)
class SheetSpec:
    """One sheet: its name, rows from A1, visibility, merged ranges (`A1:E1`)."""

    name: str
    rows: Rows
    hidden: bool = False
    merged: tuple[str, ...] = ()


def list_sheet(people: Sequence[Member], *, name: str = "Saraksts", header: Header = LATVIAN,
               above: Rows = TITLE_ROWS, below: Rows = (), gap: int = 1, hidden: bool = False,
               merge_title: bool = True) -> SheetSpec:
    """A list's sheet: `above`, the header, the members, `gap` blank rows, then `below`."""
    rows: list[Sequence[object]] = [*above, *table(people, header=header)]
    if below:
        rows += [()] * gap + list(below)
    width = len(header.titles)
    merged = (f"A1:{chr(ord('A') + width - 1)}1",) if merge_title and above and len(above[0]) == 1 else ()
    return SheetSpec(name, rows, hidden, merged)


def openpyxl_book(sheets: Sequence[SheetSpec]) -> bytes:
    """An .xlsx as openpyxl writes it (shared strings, dates as numbers with a date style)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for spec in sheets:
        sheet = book.create_sheet(spec.name)
        for number, row in enumerate(spec.rows, start=1):
            for column, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(number, column, value)
        for cells in spec.merged:
            sheet.merge_cells(cells)
        if spec.hidden:
            sheet.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsxwriter_book(sheets: Sequence[SheetSpec], *, constant_memory: bool = False) -> bytes:
    """An .xlsx as XlsxWriter writes it (Excel's own layout; inline strings with constant_memory)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": constant_memory})
    dated = book.add_format({"num_format": "dd.mm.yyyy"})
    for spec in sheets:
        sheet = book.add_worksheet(spec.name)
        merged = {cells.split(":")[0]: cells for cells in spec.merged}
        for number, row in enumerate(spec.rows):
            for column, value in enumerate(row):
                at = xlsxwriter.utility.xl_rowcol_to_cell(number, column)
                if value is None:
                    continue
                if at in merged:
                    sheet.merge_range(merged[at], value)
                elif isinstance(value, date):
                    value = value if isinstance(value, datetime) else datetime(*value.timetuple()[:3])
                    sheet.write_datetime(number, column, value, dated)
                else:
                    sheet.write(number, column, value)
        if spec.hidden:
            sheet.hide()
    book.close()
    return buffer.getvalue()


def write(sheets: Sequence[SheetSpec], *, writer: str = "openpyxl") -> bytes:
    """The sheets as `writer` (openpyxl, xlsxwriter, xlsxwriter-constant) saves them."""
    if writer == "openpyxl":
        return openpyxl_book(sheets)
    if writer == "xlsxwriter":
        return xlsxwriter_book(sheets)
    if writer == "xlsxwriter-constant":
        return xlsxwriter_book(sheets, constant_memory=True)
    raise ValueError(writer)


WRITERS = ("openpyxl", "xlsxwriter")


def participant_list(people: Sequence[Member], *, writer: str = "openpyxl", header: Header = LATVIAN,
                     above: Rows = TITLE_ROWS, below: Rows = (), gap: int = 1,
                     name: str = "Saraksts", extra_sheets: Sequence[SheetSpec] = ()) -> bytes:
    """A one-list workbook (plus `extra_sheets`) as `writer` saves it."""
    sheet = list_sheet(people, name=name, header=header, above=above, below=below, gap=gap)
    return write([sheet, *extra_sheets], writer=writer)


def soffice() -> str:
    """LibreOffice's command; missing, the test fails in CI and skips on a developer's machine."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    message = "LibreOffice (soffice) is not installed: apt-get install -y libreoffice-calc-nogui"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def libreoffice_convert(content: bytes, *, to: str, source_suffix: str = "xlsx") -> bytes:
    """`content` opened and saved again by LibreOffice Calc as `to` (xlsx, ods, xls)."""
    command = soffice()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        source = work / f"saraksts.{source_suffix}"
        source.write_bytes(content)
        out = work / "out"
        # A profile of its own: a second LibreOffice on the machine must not share the user's lock.
        subprocess.run([command, f"-env:UserInstallation=file://{work / 'profile'}", "--headless",
                        "--convert-to", to, "--outdir", str(out), str(source)],
                       check=True, capture_output=True, timeout=120)
        return (out / f"saraksts.{to}").read_bytes()


PROGRAMME = Programme(name="national", title="Supervīzijas Latvijas pedagogiem",
                      one_supervision_per_educator=True)
TODAY = date(2026, 12, 4)


def read_and_decide(content: bytes, *, file: str = "saraksts.xlsx", programme: Programme = PROGRAMME,
                    today: date = TODAY) -> tuple[ParticipantList, Decision]:
    """The list as the reader finds it and the rules' verdict on it (no registry, no earlier
    applications)."""
    plist = read_participant_list(content, file, limits=Limits())
    return plist, decide(plist, Circumstances(programme, today))
