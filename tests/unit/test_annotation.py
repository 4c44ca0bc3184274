"""The annotated copy marks each finding on its own sheet and carries no personal code."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import openpyxl
import pytest

from intake.core.annotation import SUMMARY_SHEET, annotate_workbook
from intake.core.formats import Limits
from intake.core.model import Decision
from intake.core.programme import Programme
from intake.core.rules import Circumstances, decide
from intake.core.workbook import read_participant_list
from tests.conftest import personal_code
from tests.support.lists import (
    LATVIAN_WITH_CODE,
    SIGNATURE_AND_DATE,
    libreoffice_convert,
    list_sheet,
    members,
    write,
)

PROGRAMME = Programme(name="national", title="Supervīzijas Latvijas pedagogiem")


def decided(content: bytes, file: str) -> Decision:
    plist = read_participant_list(content, file, limits=Limits())
    return decide(plist, Circumstances(PROGRAMME, date(2026, 12, 4)))


def annotated(content: bytes, file: str = "saraksts.xlsx") -> tuple[Decision, openpyxl.Workbook]:
    decision = decided(content, file)
    copy = annotate_workbook(content, decision, limits=Limits())
    assert copy is not None
    return decision, openpyxl.load_workbook(io.BytesIO(copy))


def commented(book: openpyxl.Workbook) -> dict[str, list[str]]:
    return {sheet.title: [c.coordinate for row in sheet.iter_rows() for c in row if c.comment]
            for sheet in book.worksheets if sheet.title != SUMMARY_SHEET}


def two_groups_with_faults() -> bytes:
    first = members(4)
    first[1] = replace(first[1], email=None)
    second = members(4, start=20)
    second[2] = replace(second[2], email="nav adreses")
    return write([list_sheet(first, name="1. grupa", below=SIGNATURE_AND_DATE),
                  list_sheet(second, name="2. grupa", below=SIGNATURE_AND_DATE)])


def test_each_finding_is_marked_on_its_own_sheet():
    decision, book = annotated(two_groups_with_faults())
    assert [(f.sheet, f.cell) for f in decision.errors] == [("1. grupa", "E6"), ("2. grupa", "E7")]
    assert commented(book) == {"1. grupa": ["E6"], "2. grupa": ["E7"]}
    summary = book[SUMMARY_SHEET]
    assert [summary.cell(r, 3).value for r in (4, 5)] == ["1. grupa", "2. grupa"]


@pytest.mark.parametrize("to", ["ods", "xls"])
def test_a_list_over_sheets_saved_by_libreoffice_is_copied_with_every_sheet_marked(to):
    content = libreoffice_convert(two_groups_with_faults(), to=to)
    decision, book = annotated(content, f"saraksts.{to}")
    assert [(f.sheet, f.cell) for f in decision.errors] == [("1. grupa", "E6"), ("2. grupa", "E7")]
    assert commented(book) == {"1. grupa": ["E6"], "2. grupa": ["E7"]}


@pytest.mark.parametrize("code", [personal_code(date(1985, 4, 12)), "120485-12345", "12048512345"])
def test_no_personal_code_under_its_header_reaches_the_copy(code):
    people = [replace(m, personal_code=code) for m in members(3)]
    people[0] = replace(people[0], email=None)
    content = write([list_sheet(people, header=LATVIAN_WITH_CODE)])
    _, book = annotated(content)
    texts = [str(c.value) for s in book.worksheets for row in s.iter_rows() for c in row if c.value]
    assert not any(code in t or code.replace("-", "") in t for t in texts)
    assert book["Saraksts"]["D5"].value == "******-*****"
