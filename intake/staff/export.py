"""`intake export`: applications, groups, participants and municipalities as one xlsx for staff.

Streamed (openpyxl's write-only mode), so the whole programme's lists fit in little memory.
Text a school wrote is never taken for a formula: see `neutral`.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from intake.core.details import MODE_LABELS, Mode
from intake.core.states import Verdict
from intake.core.xlsx_parts import LINE_HEIGHT, row_height
from intake.core.xlsx_print import set_print_setup
from intake.staff.periods import Period, between, local_time
from intake.staff.reports import UNKNOWN_MUNICIPALITY, areas, institution_places
from intake.staff.summary import ROUTE_LABELS, finding_label
from intake.store.tables import (
    ApplicationRecord,
    FindingRecord,
    GroupRecord,
    MessageRecord,
    ParticipantRecord,
)

# A cell starting with one of these is a formula to Excel or LibreOffice (or becomes one when the
# sheet is saved as CSV and opened again): OWASP's list, with the control characters.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")

VERDICTS = {Verdict.ACCEPTED: "pieņemts", Verdict.REJECTED: "noraidīts", Verdict.SUPERSEDED: "aizstāts"}
KINDS = {"leaders": "vadītāji", "educators": "pedagogi"}
ROLES = {"leader": "vadītājs", "educator": "pedagogs", "unclear": "neskaidrs"}
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", start_color="1F4E78", end_color="1F4E78")
_DATE_FORMAT = "dd.mm.yyyy"  # the local day, as Latvians write it
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")


def neutral(value: object) -> object:
    """Text that would start a formula gets a leading apostrophe and stays text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    width: int
    wrap: bool = False  # long text: wrapped in its width, so that the sheet prints one page wide


# What the school wrote for the coordinator, after the application's own columns.
DETAIL_COLUMNS = (Column("Kontaktpersona", 24), Column("Kontaktpersonas amats", 24),
                  Column("Tālrunis", 15), Column("Kontaktpersonas e-pasts", 28),
                  Column("Vēlamais laiks", 30), Column("Norise", 14), Column("Jautājumi", 40),
                  Column("Piezīmes", 40))
DETAIL_FIELDS = (col(ApplicationRecord.contact_name), col(ApplicationRecord.contact_position),
                 col(ApplicationRecord.contact_phone), col(ApplicationRecord.contact_email),
                 col(ApplicationRecord.preferred_times), col(ApplicationRecord.mode),
                 col(ApplicationRecord.questions), col(ApplicationRecord.remarks))


def detail_cells(values: Sequence[str | None]) -> list[str | None]:
    """The details' cells: lines joined by «; », the mode in words, the phone without +371."""
    cells = [value.replace("\n", "; ") if value else None for value in values]
    if cells[2]:  # a Latvian number as staff dial it; `+…` would read as a formula (see `neutral`)
        cells[2] = cells[2].removeprefix("+371 ")
    mode = values[5]
    cells[5] = MODE_LABELS.get(Mode(mode), mode) if mode in set(Mode) else mode
    return cells


def write_export(engine: Engine, zone: ZoneInfo, *, first: date | None = None,
                 last: date | None = None, progress: Callable[[int], object] = lambda _n: None,
                 titles: Mapping[str, str] | None = None) -> bytes:
    """The workbook for applications received from `first` to `last` (local days, inclusive);
    `titles`: each programme's title by its name."""
    titles = titles or {}
    end = last or datetime.now(zone).date()
    period = Period.local_days(first, end, zone)
    book = Workbook(write_only=True)
    with Session(engine) as session:
        places = institution_places(session)
        rows = _applications(session, period)
        applications = {row[0]: row for row in rows}
        # Accepted lists' groups; a withdrawn list keeps its sizes, but not its people's rows.
        groups = _groups(session, [row[0] for row in rows if row[4] == Verdict.ACCEPTED])
        sizes: dict[int, list[int]] = {}
        for _group_id, application_id, _position, _kind, _label, count in groups:
            size = sizes.setdefault(application_id, [0, 0])
            size[0] += 1
            size[1] += count
        groups = [group for group in groups if applications[group[1]][7] is None]

        def place(number: str | None) -> tuple[str, str]:
            route, municipality = places.get(number or "", ("", UNKNOWN_MUNICIPALITY))
            return ROUTE_LABELS[route], municipality

        reasons = _reasons(session, [row[0] for row in rows if row[4] == Verdict.REJECTED])
        _sheet(book, "Pieteikumi", [
            Column("Pieteikuma numurs", 15), Column("Saņemts", 11),
            Column("Programma", 14, wrap=True), Column("Izglītības iestāde", 25, wrap=True),
            Column("Reģistrācijas numurs", 12), Column("Pašvaldība", 13, wrap=True),
            Column("Finansējums", 12, wrap=True), Column("Faila nosaukums", 15, wrap=True),
            Column("Lēmums", 10), Column("Grupas", 8), Column("Dalībnieki", 10),
            Column("Noraidīšanas iemesli (kļūdu skaits)", 28, wrap=True),
            Column("Brīdinājumi", 11), Column("Sūtītāja e-pasts", 18, wrap=True),
            Column("Atsaukts", 10), Column("Atsaukšanas iemesls", 15, wrap=True),
            Column("Grozīts", 10), Column("Labo noraidīto pieteikumu", 13, wrap=True), *DETAIL_COLUMNS],
            ([number, local_time(created, zone), titles.get(programme, programme), institution,
              registration, place(registration)[1], place(registration)[0], attachment,
              "atsaukts" if withdrawn else "gaidīšanas sarakstā" if waitlisted
              else VERDICTS.get(verdict, verdict),
              sizes.get(application_id, [0, 0])[0], sizes.get(application_id, [0, 0])[1],
              reasons.get(application_id, f"{errors} kļūdas" if errors else None), warnings,
              sender, local_time(withdrawn, zone) if withdrawn else None, reason,
              local_time(amended, zone) if amended else None, resolves, *detail_cells(details)]
             for (application_id, number, created, programme, verdict, institution, registration,
                  withdrawn, attachment, errors, warnings, sender, reason, amended, resolves,
                  waitlisted, *details)
             in rows))
        progress(len(rows))
        _sheet(book, "Grupas", [
            Column("Pieteikuma numurs", 17), Column("Grupa", 7), Column("Veids", 11),
            Column("Nosaukums sarakstā", 20, wrap=True), Column("Dalībnieki", 11),
            Column("Izglītības iestāde", 40, wrap=True)],
            ([applications[application_id][1], position, KINDS.get(kind, kind), label, count,
              applications[application_id][5]]
             for _group_id, application_id, position, kind, label, count in groups))
        group_of = {group[0]: group for group in groups}
        _sheet(book, "Dalībnieki", [
            Column("Pieteikuma numurs", 17), Column("Grupa", 7), Column("Vārds", 16),
            Column("Uzvārds", 18), Column("Amats", 28, wrap=True), Column("E-pasts", 28),
            Column("Loma", 10), Column("Izglītības iestāde", 32, wrap=True)],
            ([applications[group_of[group_id][1]][1], group_of[group_id][2], first_name,
              last_name, position, email, ROLES.get(role, role),
              applications[group_of[group_id][1]][5]]
             for group_id, first_name, last_name, position, email, role
             in _participants(session, list(group_of))))
        _sheet(book, "Pašvaldības", [
            Column("Finansējuma ceļš", 20), Column("Pašvaldība", 26), Column("Pieteikumi", 11),
            Column("Grupas", 8), Column("Dalībnieki", 11)],
            ([ROUTE_LABELS[area.route], area.municipality, area.applications, area.groups,
              area.participants] for area in areas(session, period)))
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def _applications(session: Session, period: Period) -> list[tuple[Any, ...]]:
    resolved = aliased(ApplicationRecord)  # the rejected application a correction fixes
    return [tuple(row) for row in session.execute(
        sa_select(col(ApplicationRecord.id), col(ApplicationRecord.number),
                  col(ApplicationRecord.created_at), col(ApplicationRecord.programme),
                  col(ApplicationRecord.verdict), col(ApplicationRecord.institution),
                  col(ApplicationRecord.institution_number), col(ApplicationRecord.withdrawn_at),
                  col(ApplicationRecord.attachment), col(ApplicationRecord.errors),
                  col(ApplicationRecord.warnings), col(MessageRecord.sender),
                  col(ApplicationRecord.withdrawn_reason), col(ApplicationRecord.amended_at),
                  col(resolved.number), col(ApplicationRecord.waitlisted_at), *DETAIL_FIELDS)
        .join(MessageRecord, col(MessageRecord.id) == col(ApplicationRecord.message_row))
        .outerjoin(resolved, col(resolved.id) == col(ApplicationRecord.resolves_id))
        .where(*between(ApplicationRecord.created_at, period))
        .order_by(col(ApplicationRecord.id))).all()]


def _reasons(session: Session, application_ids: Sequence[int]) -> dict[int, str]:
    """Each rejected application's reasons, for staff: `nederīga e-pasta adrese (2); …`."""
    found: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(application_ids), 500):
        for application_id, code, count in session.exec(
                select(FindingRecord.application_id, FindingRecord.code, FindingRecord.count)
                .where(col(FindingRecord.application_id).in_(application_ids[start:start + 500]))
                .where(FindingRecord.severity == "error")
                .order_by(col(FindingRecord.application_id), col(FindingRecord.id))).all():
            found[application_id].append(f"{finding_label(code)} ({count})")
    return {application_id: "; ".join(labels) for application_id, labels in found.items()}


def _groups(session: Session, application_ids: Sequence[int]
            ) -> list[tuple[int, int, int, str, str | None, int]]:
    """(group id, application id, position, kind, label, participants), in application order."""
    found = []
    for start in range(0, len(application_ids), 500):
        chunk = list(application_ids[start:start + 500])
        counts = dict(session.exec(
            select(ParticipantRecord.group_id, func.count())
            .join(GroupRecord, col(GroupRecord.id) == col(ParticipantRecord.group_id))
            .where(col(GroupRecord.application_id).in_(chunk))
            .group_by(col(ParticipantRecord.group_id))).all())
        for group in session.exec(select(GroupRecord)
                                  .where(col(GroupRecord.application_id).in_(chunk))
                                  .order_by(col(GroupRecord.application_id),
                                            col(GroupRecord.position))).all():
            assert group.id is not None
            found.append((group.id, group.application_id, group.position, group.kind, group.label,
                          counts.get(group.id, 0)))
    return found


def _participants(session: Session, group_ids: list[int]
                  ) -> Iterator[tuple[Any, ...]]:
    for start in range(0, len(group_ids), 500):
        yield from (tuple(row) for row in session.execute(
            sa_select(col(ParticipantRecord.group_id), col(ParticipantRecord.first_name),
                   col(ParticipantRecord.last_name), col(ParticipantRecord.position),
                   col(ParticipantRecord.email), col(ParticipantRecord.role))
            .where(col(ParticipantRecord.group_id).in_(group_ids[start:start + 500]))
            .order_by(col(ParticipantRecord.group_id), col(ParticipantRecord.row))).all())


def _sheet(book: Workbook, title: str, columns: Sequence[Column],
           rows: Iterable[Sequence[object]]) -> None:
    """A sheet with a styled, frozen, filtered header row and fixed widths that prints one page
    wide in landscape, the header row on each page."""
    sheet: WriteOnlyWorksheet = book.create_sheet(title)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    set_print_setup(sheet, title_rows="1:1", grid=True)
    widths = [column.width for column in columns]
    # LibreOffice does not grow a row for wrapped text: each row gets the height its text needs.
    sheet.row_dimensions[1].height = row_height([c.title for c in columns],
                                                [0.85 * width for width in widths])  # bold
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, column.title)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        tall = row_height([v if c.wrap else None for v, c in zip(row, columns, strict=True)],
                          widths)
        if tall > LINE_HEIGHT + 3:
            sheet.row_dimensions[count + 2].height = tall
        cells: list[object] = []
        for value, column in zip(row, columns, strict=True):
            if isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value)
                cell.number_format = _DATE_FORMAT
                cell.alignment = _TOP
                cells.append(cell)
            elif column.wrap and isinstance(value, str):
                cell = WriteOnlyCell(sheet, neutral(value))
                cell.alignment = _WRAP
                cells.append(cell)
            elif tall > LINE_HEIGHT + 3 and value is not None:  # a tall row: all of it at the top
                cell = WriteOnlyCell(sheet, neutral(value))
                cell.alignment = _TOP
                cells.append(cell)
            else:
                cells.append(neutral(value))
        sheet.append(cells)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
