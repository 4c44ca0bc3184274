"""Reads a participant list from a school's file: the sheets, the header, the rows, the institution."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time

from intake.core.assembly import NAME_FIELDS, SheetRead, combine
from intake.core.columns import header_score, recognise_columns, settle_name_columns
from intake.core.formats import Limits, sniff
from intake.core.institution import names_written
from intake.core.latvian import PERSONAL_CODE, is_personal_code, normalise
from intake.core.lines import Layout, Shape, classify, is_placeholder, looks_like_person, participant_lines
from intake.core.model import CellText, Column, Field, Finding, ListRow, ParticipantList, Severity
from intake.core.sheets import MissingFormulaValue, Row, Sheet, UnreadableWorkbook, open_sheets

# `Izglītības iestāde: Rīgas 12. vidusskola`, `Iestādes nosaukums`, `Skola:` above the header.
_INSTITUTION_LABEL = re.compile(
    r"^\s*((izglītības |izglitibas )?(iestāde|iestade|iestādes nosaukums|iestades nosaukums)"
    r"|skola|institution|school)\s*[:\-–]?\s*", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
# `Kalniņa–Liepiņa`: word processors turn a typed hyphen into an en dash; in a name it is a hyphen.
_DASH_IN_NAME = re.compile(r"(?<=[^\W\d_])\s*[‐‑‒–—]\s*(?=[^\W\d_])")


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
    reads: list[SheetRead] = []
    for order, sheet in enumerate(sheets):
        head = _take(sheet.rows, limits.header_search_rows)
        header = _best_header(head)
        if header is None:
            listed = any(looks_like_person(list(_row_cells(n, v)[0].values())) for n, v in head)
            reads.append(SheetRead(sheet.name, order, sheet.hidden, listed=listed))
            continue
        position, columns = header
        rest = _chain(iter(head[position + 1:]), sheet.rows)
        read = _read_sheet(sheet, order, columns, _find_institution(head[:position]), rest,
                           file, limits)
        reads.append(replace(read, extras=(*_lines_above(head[:position]),
                                           *_extras(read.extras, head[position][1], columns))))
    if not any(r.score for r in reads):
        return ParticipantList(file, findings=(Finding(
            Severity.ERROR, "list.header-not-found",
            "Failā neatradām dalībnieku sarakstu: nevienā lapā pirmajās "
            f"{limits.header_search_rows} rindās nav virsrakstu rindas ar kolonnām «Vārds», "
            "«Uzvārds», «Amats» un «E-pasts».",
            "Lūdzu, aizpildiet pievienoto veidlapu vai ierakstiet šos kolonnu nosaukumus virs "
            "saraksta.", file=file),))
    return combine(reads, file)


def _best_header(head: list[Row]) -> tuple[int, tuple[Column, ...]] | None:
    best: tuple[int, int, tuple[Column, ...]] | None = None
    for position, (_, values) in enumerate(head):
        columns = recognise_columns(values)
        score = header_score(columns)
        if score and (best is None or score > best[0]):
            best = (score, position, columns)
    return None if best is None else (best[1], best[2])


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    cells: dict[int, CellText]
    uncomputed: dict[int, str]


def _read_sheet(sheet: Sheet, order: int, columns: tuple[Column, ...],
                institution: CellText | None, rows: Iterator[Row], file: str,
                limits: Limits) -> SheetRead:
    findings: list[Finding] = []
    lines: list[_Line] = []
    masked: dict[int, int] = {}
    codes = {c.index for c in columns if c.field is Field.PERSONAL_CODE}
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
        for column, cell in cells.items():
            # R11: a code is never kept, checksum or not, where the header says it is one.
            if column in codes or is_personal_code(cell.text):
                if column not in codes or _DIGIT.search(cell.text):
                    masked[column] = masked.get(column, 0) + 1
                text = PERSONAL_CODE.sub("******-*****", cell.text)
                cells[column] = replace(cell, text=_DIGIT.sub("*", text) if column in codes else text)
        if cells or uncomputed:
            lines.append(_Line(number, cells, uncomputed))
    columns = settle_name_columns(columns, _samples(lines, columns))
    by_index = {c.index: c for c in columns}
    layout = Layout.of(columns)
    span = range(min(by_index), max(by_index) + 1)
    shapes: list[Shape | None] = []
    placed: list[_Line | None] = []  # the lines, and None for each blank run between them
    for line in lines:
        if placed and (previous := placed[-1]) is not None and line.number > previous.number + 1:
            shapes.append(None)
            placed.append(None)
        listed = [i for i in (*line.cells, *line.uncomputed) if i in layout.listed]
        within = {i: c for i, c in line.cells.items() if i in span}
        shapes.append(classify(within, layout, uncomputed=any(
            i in layout.listed for i in line.uncomputed)) if listed else None)
        placed.append(line)
    list_rows = []
    extras: list[tuple[int, str]] = []  # (column, value); column 0: a line that is no participant
    for kept, keep in zip(placed, participant_lines(shapes), strict=True):
        if kept is None:
            continue
        if not keep:
            extras.append((0, " ".join(c.text for _i, c in sorted(kept.cells.items()))))
            continue
        extras.extend((i, c.text) for i, c in kept.cells.items()
                      if i not in layout.listed and i not in codes and i not in by_index)
        findings.extend(_uncomputed(kept, by_index, layout, sheet.name, file))
        found = {by_index[i].field: _tidy(c, by_index[i].field) for i, c in kept.cells.items()
                 if i in layout.listed and not is_placeholder(c.text)}
        if found:
            list_rows.append(ListRow(kept.number, found))
    findings.extend(_personal_codes(masked, by_index, sheet.name, file))
    return SheetRead(sheet.name, order, sheet.hidden, score=header_score(columns), columns=columns,
                     institution=institution, rows=tuple(list_rows), findings=tuple(findings),
                     extras=tuple((str(i), text) for i, text in extras if text))


_MAX_EXTRAS = 200  # extra cells kept per sheet: the details need a few, a hostile sheet has many


def _extras(found: tuple[tuple[str, str], ...], header: Sequence[object],
            columns: tuple[Column, ...]) -> tuple[tuple[str, str], ...]:
    """The sheet's extra cells under their header's title (a line that is no participant: "")."""
    known = {c.index for c in columns}
    kept = []
    for index, text in found[:_MAX_EXTRAS]:
        column = int(index)
        if column == 0:
            kept.append(("", text))
        elif column not in known and column <= len(header):
            title = header[column - 1]
            if isinstance(title, str) and title.strip():
                kept.append((normalise(title), text))
    return tuple(kept)


def _lines_above(above: list[Row]) -> tuple[tuple[str, str], ...]:
    """The lines above the header, each as one text: a contact line or a note may stand there."""
    lines = []
    for number, values in above:
        cells = _row_cells(number, values)[0]
        if cells:
            text = " ".join(c.text for _i, c in sorted(cells.items()))
            lines.append(("", PERSONAL_CODE.sub("******-*****", text)))  # R11
    return tuple(lines)


def _samples(lines: Sequence[_Line], columns: Sequence[Column]) -> dict[int, list[str]]:
    """Each column's values in the rows that carry an e-mail address (all rows, if none does)."""
    email = next((c.index for c in columns if c.field is Field.EMAIL), None)
    chosen = [ln for ln in lines if email in ln.cells and "@" in ln.cells[email].text]
    samples: dict[int, list[str]] = {}
    for line in chosen or lines:
        for index, cell in line.cells.items():
            samples.setdefault(index, []).append(cell.text)
    return samples


def _uncomputed(line: _Line, by_index: dict[int, Column], layout: Layout, sheet: str,
                file: str) -> Iterator[Finding]:
    for index, formula in line.uncomputed.items():
        if index in layout.listed:
            yield Finding(
                Severity.ERROR, "cell.formula-without-value",
                "Šūnā ir formula, kurai failā nav saglabāta aprēķinātā vērtība.",
                "Lūdzu, ierakstiet vērtību formulas vietā vai atveriet failu Excel vai "
                "LibreOffice un saglabājiet to vēlreiz.",
                file=file, sheet=sheet, row=line.number, column=index, value=formula,
                column_title=by_index[index].title)


def _personal_codes(masked: dict[int, int], by_index: dict[int, Column], sheet: str,
                    file: str) -> Iterator[Finding]:
    for column, count in sorted(masked.items()):
        title = by_index[column].title if column in by_index else None
        yield Finding(
            Severity.WARNING, "personal-code.present",
            f"Kolonnā ir personas kodi ({count}). Supervīzijai tie nav vajadzīgi, tāpēc tos "
            "neizmantojam un dalībnieku datos neglabājam.",
            "Turpmāk personas kodus, lūdzu, nesūtiet; izdzēsiet šo kolonnu no saraksta.",
            file=file, sheet=sheet, column=column, column_title=title)


def _tidy(cell: CellText, field: Field) -> CellText:
    if field in NAME_FIELDS and _DASH_IN_NAME.search(cell.text):
        return replace(cell, text=_DASH_IN_NAME.sub("-", cell.text))
    return cell


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
    # No label: a title row above the header may still be the institution's name, alone or in a
    # title («Cēsu Valsts ģimnāzijas pedagogu saraksts supervīzijai»).
    for number, values in above:
        for cell in _row_cells(number, values)[0].values():
            names = names_written(cell.text)
            if len(names) == 1:
                return CellText(names[0], number, cell.column)
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
