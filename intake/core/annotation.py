"""The annotated copy: the school's own workbook with each faulty cell marked and explained."""

from __future__ import annotations

import io
import re
import warnings
import zipfile

import openpyxl
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.cell import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from intake.core.columns import recognise_header
from intake.core.findings import number_in_sheet_order
from intake.core.formats import Format, Limits, Sniffed, sniff
from intake.core.latvian import PERSONAL_CODE, after_colon, is_personal_code
from intake.core.model import Decision, Field, Finding, Severity
from intake.core.sheets import open_sheets
from intake.core.xlsx_edit import Mark, edit_package
from intake.core.xlsx_parts import COLUMN_WIDTHS, HEADER_ROW, Summary, row_height
from intake.core.xlsx_print import set_print_setup

_FILLS = {
    Severity.ERROR: PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE"),
    Severity.WARNING: PatternFill("solid", start_color="FFEB9C", end_color="FFEB9C"),
}
_SEVERITY_WORDS = {Severity.ERROR: "Kļūda", Severity.WARNING: "Brīdinājums"}
_AUTHOR = "IKVD supervīziju pieteikumi"
SUMMARY_SHEET = "Piezīmes"
# openpyxl loads a whole workbook at about 50 µs and 0.7 kB a cell (a 100,000-row sheet: 25 s,
# 350 MB). Past this much worksheet XML the copy is the list's sheet alone, values only.
WHOLE_WORKBOOK_XML = 4 * 1024 * 1024
_DIGIT = re.compile(r"\d")


def annotate_workbook(content: bytes, decision: Decision, *, limits: Limits) -> bytes | None:
    """An .xlsx copy with findings marked, each on its own sheet, or None when the file could not
    be read at all."""
    sniffed = sniff(content, decision.file, limits)
    if sniffed.format is None or decision.sheet is None:
        return None
    wanted = {decision.sheet, *(f.sheet for f in decision.findings if f.sheet)}
    whole = sniffed.format is Format.XLSX and not sniffed.far_cells and _small(content)
    if whole:  # the common case: the package edited in place, no load and save
        edited = edit_package(content, _marks(decision), _summary(decision),
                              {s: str(f.fgColor.rgb) for s, f in _FILLS.items()}, _AUTHOR)
        if edited is not None:
            return edited
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if whole:
            book = openpyxl.load_workbook(io.BytesIO(content), keep_vba=False, keep_links=False,
                                          rich_text=False)
            titles = {name: name for name in book.sheetnames}
        else:
            book, titles = _copy_of_sheets(content, sniffed, wanted, limits)
    for sheet in book.worksheets:
        _mask_personal_codes(sheet, limits)
    for number, finding in number_in_sheet_order(decision.findings):
        title = titles.get(finding.sheet or decision.sheet)
        if title is not None:
            _mark(book[title], number, finding)
    _add_summary(book, decision)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _note(number: int, finding: Finding) -> str:
    """A cell's comment: the finding's number (as in the mail and on «Piezīmes»), what is wrong,
    what to do."""
    note = f"{number}. {_SEVERITY_WORDS[finding.severity]}: {after_colon(finding.message)}"
    return f"{note}\n\n{finding.hint}" if finding.hint else note


def _marks(decision: Decision) -> dict[str, dict[tuple[int, int], Mark]]:
    """The cells the findings mark on each sheet, as `_mark` leaves them: an error's fill wins and
    the notes of one cell follow each other."""
    marks: dict[str, dict[tuple[int, int], Mark]] = {}
    for number, finding in number_in_sheet_order(decision.findings):
        if finding.row is None:
            continue
        cells = marks.setdefault(finding.sheet or decision.sheet or "", {})
        at = (finding.row, finding.column or 1)
        earlier = cells.get(at)
        if earlier is None:
            cells[at] = Mark(finding.severity, _note(number, finding))
        else:
            severity = Severity.ERROR if earlier.severity is Severity.ERROR else finding.severity
            cells[at] = Mark(severity, f"{earlier.note}\n\n{_note(number, finding)}")
    return marks


def _verdict(decision: Decision) -> str:
    return "Saraksts pieņemts." if decision.accepted else (
        "Saraksts nav pieņemts: lūdzu, izlabojiet sarkanā krāsā iezīmētās šūnas un nosūtiet "
        "failu vēlreiz. Piezīmju numuri ir tādi paši kā vēstulē.")


_HEADERS = ("Nr.", "Veids", "Lapa", "Šūna", "Atrastā vērtība", "Kas nav kārtībā", "Kā labot")


def _summary_rows(decision: Decision) -> list[tuple[Severity, tuple[object, ...]]]:
    rows: list[tuple[Severity, tuple[object, ...]]] = []
    for number, finding in number_in_sheet_order(decision.findings):
        where = finding.cell or (f"{finding.row}. rinda" if finding.row else (
            f"kolonna {finding.column_letter}" if finding.column else "viss saraksts"))
        rows.append((finding.severity, (number, _SEVERITY_WORDS[finding.severity],
                                        finding.sheet or "", where, finding.value or "",
                                        finding.message, finding.hint)))
    return rows


def _summary(decision: Decision) -> Summary:
    return Summary(SUMMARY_SHEET, _verdict(decision), _HEADERS, _summary_rows(decision))


def _small(content: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:  # sniff has checked its directory
        return sum(m.file_size for m in archive.infolist()
                   if m.filename.startswith("xl/worksheets/")) <= WHOLE_WORKBOOK_XML


def _copy_of_sheets(content: bytes, sniffed: Sniffed, names: set[str],
                    limits: Limits) -> tuple[openpyxl.Workbook, dict[str, str]]:
    """Formats openpyxl cannot write back (.xls, .ods, .csv) and workbooks too large to load whole
    become an .xlsx of the sheets the findings name, in the workbook's order; with the title each
    sheet took there (Excel allows 31 characters)."""
    assert sniffed.format is not None
    book = openpyxl.Workbook()
    book.remove(book.active)
    titles: dict[str, str] = {}
    for source in open_sheets(content, sniffed.format, has_formulas=False, limits=limits,
                              far_cells=sniffed.far_cells):
        if source.name not in names:
            continue
        target = book.create_sheet(_unique_title(book, source.name[:31]))
        titles[source.name] = target.title
        for number, values in source.rows:
            for column, value in enumerate(values, start=1):
                if value not in (None, ""):
                    _set_text(target.cell(number, column), value)
    if not book.worksheets:
        book.create_sheet(_unique_title(book, "Saraksts"))
    return book, titles


def _mark(sheet: Worksheet, number: int, finding: Finding) -> None:
    if finding.row is None:
        return
    cell = sheet.cell(finding.row, finding.column or 1)
    if isinstance(cell, MergedCell):  # a merged cell takes no comment: its range's first cell does
        for merged in sheet.merged_cells.ranges:
            if cell.coordinate in merged:
                cell = sheet.cell(merged.min_row, merged.min_col)
                break
    note = _note(number, finding)
    if cell.comment is not None and cell.comment.author == _AUTHOR:
        note = f"{cell.comment.text}\n\n{note}"
    if cell.fill != _FILLS[Severity.ERROR]:
        cell.fill = _FILLS[finding.severity]
    cell.comment = Comment(note, _AUTHOR, width=360, height=160)


def _mask_personal_codes(sheet: Worksheet, limits: Limits) -> None:
    """R11: the copy we send back (and keep until it is sent) carries no personal codes: none that
    pass the checksum anywhere, and nothing under a personal-code header, checksum or not."""
    under_header: set[int] = set()
    # Only the cells the sheet has: iter_rows creates every cell of the range it is given.
    for row in sheet.iter_rows(max_row=min(sheet.max_row, limits.max_rows),
                               max_col=min(sheet.max_column, limits.max_columns)):
        for cell in row:
            value = cell.value
            if value is None or isinstance(cell, MergedCell):
                continue
            text = str(value)
            if isinstance(value, str) and cell.row <= limits.header_search_rows and \
                    recognise_header(value) is Field.PERSONAL_CODE:
                under_header.add(cell.column)
            elif cell.column in under_header and _DIGIT.search(text):
                _set_text(cell, _DIGIT.sub("*", PERSONAL_CODE.sub("******-*****", text)))
            elif isinstance(value, str) and is_personal_code(value):
                cell.value = PERSONAL_CODE.sub("******-*****", value)
            elif isinstance(value, int) and is_personal_code(text):
                cell.value = "******-*****"


def _add_summary(book: openpyxl.Workbook, decision: Decision) -> None:
    summary = book.create_sheet(_unique_title(book, SUMMARY_SHEET), 0)
    _set_text(summary.cell(1, 1), _verdict(decision))
    summary.cell(1, 1).font = Font(bold=True, size=13)
    for column, title in enumerate(_HEADERS, start=1):
        cell = summary.cell(HEADER_ROW, column)
        _set_text(cell, title)
        cell.font = Font(bold=True)
    for row, (severity, values) in enumerate(_summary_rows(decision), start=HEADER_ROW + 1):
        for column, value in enumerate(values, start=1):
            cell = summary.cell(row, column)
            _set_text(cell, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        summary.cell(row, 2).fill = _FILLS[severity]
        summary.row_dimensions[row].height = row_height(values)
    for column, width in enumerate(COLUMN_WIDTHS, start=1):
        summary.column_dimensions[get_column_letter(column)].width = width
    summary.freeze_panes = f"A{HEADER_ROW + 1}"
    set_print_setup(summary, title_rows=f"{HEADER_ROW}:{HEADER_ROW}", grid=True)
    book.active = 0



def _set_text(cell: object, value: object) -> None:
    """Write a value as data: text that looks like a formula stays text (no formula injection)."""
    cell.value = value  # type: ignore[attr-defined]
    if isinstance(value, str):
        cell.data_type = "s"  # type: ignore[attr-defined]


def _unique_title(book: openpyxl.Workbook, title: str) -> str:
    candidate, number = title, 2
    while candidate in book.sheetnames:
        candidate, number = f"{title} {number}", number + 1
    return candidate
