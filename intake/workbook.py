"""Reads a participant list from a school's file: the sheet, the header, the rows, the institution."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time

from intake.columns import header_score, recognise_columns
from intake.formats import Limits, sniff
from intake.latvian import PERSONAL_CODE, fold, is_personal_code, normalise
from intake.model import CellText, Column, Field, Finding, ListRow, ParticipantList, Severity
from intake.sheets import MissingFormulaValue, Row, Sheet, UnreadableWorkbook, open_sheets

# `Izglītības iestāde: Rīgas 12. vidusskola`, `Iestādes nosaukums`, `Skola:` above the header.
_INSTITUTION_LABEL = re.compile(
    r"^\s*((izglītības |izglitibas )?(iestāde|iestade|iestādes nosaukums|iestades nosaukums)"
    r"|skola|institution|school)\s*[:\-–]?\s*", re.IGNORECASE)
# Lines under the list: `Direktore ____ I. Kalniņa`, `Sagatavoja: …`, `Datums: 12.03.2026`, `Z.v.`.
_FOOTER = re.compile(
    r"^(sagatavoja|sagatavotajs|paraksts|datums|direktor|vaditaj|apstiprin|z v|zv|iestades "
    r"vaditaj|kontaktpersona|talrunis|prepared by|signature|date)\b")
_SECTION = re.compile(
    r"^(pedagogi|skolotaji|vaditaji|vadiba|administracija|atbalsta personals|\d+ grupa|grupa \d+)$")
_DATE_ONLY = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\.?( g\.?)?$")
_NUMBERING = re.compile(r"^\d{1,4}\.?$")


def read_participant_list(content: bytes, file: str, *, limits: Limits) -> ParticipantList:
    """The list in `content`, or the findings that say precisely why it cannot be read."""
    sniffed = sniff(content, file, limits)
    if sniffed.format is None:
        return ParticipantList(file, findings=(sniffed.refusal,) if sniffed.refusal else ())
    try:
        sheets = open_sheets(content, sniffed.format, has_formulas=sniffed.has_formulas,
                             limits=limits, far_cells=sniffed.far_cells)
        return _read_sheets(sheets, file, limits)
    except UnreadableWorkbook as exc:
        return ParticipantList(file, findings=(_unreadable(exc, file),))


def _unreadable(exc: UnreadableWorkbook, file: str) -> Finding:
    if exc.encrypted:
        return Finding(
            Severity.ERROR, "file.encrypted",
            "Fails ir aizsargāts ar paroli (šifrēts), tāpēc to nevar atvērt.",
            "Lūdzu, noņemiet paroli, saglabājiet failu kā .xlsx un nosūtiet to vēlreiz.", file=file)
    return Finding(
        Severity.ERROR, "file.corrupt",
        "Failu nevar nolasīt: tas ir bojāts, aizsargāts ar paroli vai nav saglabāts kā izklājlapa.",
        "Lūdzu, atveriet failu savā datorā, noņemiet paroli, ja tāda ir, saglabājiet to kā jaunu "
        ".xlsx failu un nosūtiet vēlreiz.", file=file)


def _read_sheets(sheets: list[Sheet], file: str, limits: Limits) -> ParticipantList:
    # Visible sheets first: a hidden sheet is the list only when no visible one is.
    best: tuple[int, Sheet, list[Row], int, tuple[Column, ...]] | None = None
    for sheet in sorted(sheets, key=lambda s: s.hidden):
        if best is not None and sheet.hidden:
            break
        head = _take(sheet.rows, limits.header_search_rows)
        for position, (_, values) in enumerate(head):
            columns = recognise_columns(values)
            score = header_score(columns)
            if score and (best is None or score > best[0]):
                best = (score, sheet, head, position, columns)
    if best is None:
        return ParticipantList(file, findings=(Finding(
            Severity.ERROR, "list.header-not-found",
            "Failā neatradām dalībnieku sarakstu: nevienā lapā pirmajās "
            f"{limits.header_search_rows} rindās nav virsrakstu rindas ar kolonnām «Vārds», "
            "«Uzvārds», «Amats» un «E-pasts».",
            "Lūdzu, aizpildiet pievienoto veidlapu vai ierakstiet šos kolonnu nosaukumus virs "
            "saraksta.", file=file),))
    _, sheet, head, position, columns = best
    institution = _find_institution(head[:position])
    rest: Iterator[Row] = iter(head[position + 1:])
    return _read_rows(sheet, columns, institution, _chain(rest, sheet.rows), file, limits)


def _read_rows(sheet: Sheet, columns: tuple[Column, ...], institution: CellText | None,
               rows: Iterator[Row], file: str, limits: Limits) -> ParticipantList:
    findings: list[Finding] = []
    list_rows: list[ListRow] = []
    code_columns: dict[int, int] = {}
    by_index = {c.index: c for c in columns}
    for number, values in rows:
        if number > limits.max_rows:
            findings.append(Finding(
                Severity.ERROR, "list.too-many-rows",
                f"Lapā «{sheet.name}» ir vairāk nekā {limits.max_rows} rindu; dalībnieku saraksts "
                "parasti ir daudz īsāks, tāpēc lapu nepārbaudījām.",
                "Lūdzu, nosūtiet tikai dalībnieku sarakstu (katrā rindā viens dalībnieks).",
                file=file, sheet=sheet.name))
            break
        cells, uncomputed = _row_cells(number, values)
        if not cells and not uncomputed:
            continue
        for column, cell in cells.items():
            if is_personal_code(cell.text):
                code_columns[column] = code_columns.get(column, 0) + 1
                cells[column] = CellText(PERSONAL_CODE.sub("******-*****", cell.text), number, column)
        if _is_footer(cells):
            break
        listed = {i: by_index[i] for i in (*cells, *uncomputed) if i in by_index
                  and by_index[i].field not in (Field.NUMBER, Field.PERSONAL_CODE)}
        if not listed:
            continue  # numbering only, or notes beside the list
        for index, formula in uncomputed.items():
            if index in listed:
                findings.append(Finding(
                    Severity.ERROR, "cell.formula-without-value",
                    "Šūnā ir formula, kurai failā nav saglabāta aprēķinātā vērtība.",
                    "Lūdzu, ierakstiet vērtību formulas vietā vai atveriet failu Excel vai "
                    "LibreOffice un saglabājiet to vēlreiz.",
                    file=file, sheet=sheet.name, row=number, column=index, value=formula,
                    column_title=listed[index].title))
        values_found = {listed[i].field: c for i, c in cells.items() if i in listed}
        if len(values_found) == 1 and _SECTION.match(fold(next(iter(values_found.values())).text)):
            continue  # a subheading such as "Pedagogi" or "2. grupa" across the table
        if values_found:
            list_rows.append(ListRow(number, values_found))
    for column, count in sorted(code_columns.items()):
        title = by_index[column].title if column in by_index else None
        findings.append(Finding(
            Severity.WARNING, "personal-code.present",
            f"Kolonnā ir personas kodi ({count}). Supervīzijai tie nav vajadzīgi, tāpēc tos "
            "neizmantojam un dalībnieku datos neglabājam.",
            "Turpmāk personas kodus, lūdzu, nesūtiet; izdzēsiet šo kolonnu no saraksta.",
            file=file, sheet=sheet.name, column=column, column_title=title))
    return ParticipantList(file, sheet.name, institution, columns, tuple(list_rows),
                           tuple(findings))


def _row_cells(number: int, values: Sequence[object]) -> tuple[dict[int, CellText], dict[int, str]]:
    """The row's non-empty cells, and the formulas saved without a value, by column."""
    cells, uncomputed = {}, {}
    for index, value in enumerate(values, start=1):
        if isinstance(value, MissingFormulaValue):
            uncomputed[index] = value.formula
            continue
        text = _as_text(value)
        if text:
            cells[index] = CellText(text, number, index)
    return cells, uncomputed


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y") if value.time() == time(0) else value.strftime(
            "%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return normalise(str(value))


def _is_footer(cells: dict[int, CellText]) -> bool:
    """A signature, a date or `Sagatavoja: …` under the list: neither a participant nor an error."""
    texts = [c.text for c in cells.values() if not _NUMBERING.match(c.text)]
    if not texts or any("@" in t for t in texts):
        return False
    if len(texts) == 1 and _DATE_ONLY.match(texts[0]):
        return True
    signed = any("___" in t for t in texts)
    return signed or (len(texts) <= 3 and bool(_FOOTER.search(fold(texts[0]))))


def _find_institution(above: list[Row]) -> CellText | None:
    for number, values in above:
        cells = list(_row_cells(number, values)[0].values())
        for position, cell in enumerate(cells):
            match = _INSTITUTION_LABEL.match(cell.text)
            if not match:
                continue
            rest = cell.text[match.end():].strip()
            if rest:
                return CellText(rest, number, cell.column)
            if position + 1 < len(cells):
                return cells[position + 1]
    return None


def _take(rows: Iterator[Row], count: int) -> list[Row]:
    taken = []
    for row in rows:
        taken.append(row)
        if len(taken) >= count:
            break
    return taken


def _chain(first: Iterator[Row], then: Iterator[Row]) -> Iterator[Row]:
    yield from first
    yield from then

