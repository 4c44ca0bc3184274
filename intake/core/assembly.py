"""Assembles one participant list from the sheets of a workbook, and says which sheets it left."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from intake.core.columns import same_layout
from intake.core.latvian import fold, strip_diacritics
from intake.core.model import CellText, Column, Field, Finding, ListRow, ParticipantList, Severity

# Sheets that are not the school's list though they look like one: `Paraugs`, `Piemērs`,
# `Kopija`, `Vecais`. Excel's name for a copied sheet, `Saraksts (2)`, is not among them: a school
# that copies the template's sheet for a second group fills it with other people (a sheet that
# repeats the same people is left all the same).
_NOT_THE_LIST = re.compile(
    r"\b(piemer\w*|paraug\w*|kopij\w*|veidn\w*|sagatav\w*|melnrakst\w*|vecais|veca|arhiv\w*"
    r"|noradijum\w*|instrukcij\w*|example|sample|template|copy|old|draft|archive|instructions)\b")
# One sheet per group: `1. grupa`, `Grupa 3`, `2.gr.`, `Group 1`, `Supervīzijas grupa II`.
_GROUP_WORD = re.compile(r"\b(grupa|grupas|gr|group)\b")
_GROUP_MARK = re.compile(r"\b(\d{1,2}|[ivx]{1,4}|[a-e])\b")
NAME_FIELDS = (Field.FIRST_NAME, Field.LAST_NAME, Field.FULL_NAME, Field.FULL_NAME_REVERSED)


@dataclass(frozen=True, slots=True)
class SheetRead:
    """One sheet as the reader found it: a header and its rows, or whether rows look like people."""

    name: str
    order: int
    hidden: bool
    score: int = 0  # how much its header looks like a list's: 0 without one
    columns: tuple[Column, ...] = ()
    institution: CellText | None = None
    rows: tuple[ListRow, ...] = ()
    findings: tuple[Finding, ...] = ()
    listed: bool = False  # no header, but a name beside an e-mail address in its first rows
    extras: tuple[tuple[str, str], ...] = ()  # ParticipantList.extras of this sheet

    @property
    def has_people(self) -> bool:
        return bool(self.rows) or self.listed

    def people(self) -> set[str]:
        """Who its rows name, in any script and spelling: for telling a sheet that copies another."""
        return {"|".join("".join(strip_diacritics(row.values[f].text.casefold()).split())
                         for f in (*NAME_FIELDS, Field.EMAIL) if f in row.values)
                for row in self.rows}


class _Left(Enum):
    """Why a sheet with people on it was not read, as the warning says it."""

    NO_HEADER = ("tajā nav virsrakstu rindas ar kolonnām «Vārds», «Uzvārds», «Amats» un "
                 "«E-pasts»")
    HIDDEN = "tā ir paslēpta"
    COPY_NAME = "pēc nosaukuma tā ir paraugs vai kopija"
    COLUMNS = "tās kolonnas atšķiras no lapas «{sheet}» kolonnām"
    SAME_PEOPLE = "tajā ir tie paši dalībnieki, kas lapā «{sheet}»"


def combine(reads: Sequence[SheetRead], file: str) -> ParticipantList:
    """The list over every sheet that certainly belongs to it; at least one read has a header.

    The best header among the visible sheets not named as a copy or an example leads; a sheet
    joins it when it keeps every column in the same place and does not repeat its people.
    """
    headed = [r for r in reads if r.score]
    rank = min(_rank(r) for r in headed)
    lead = max((r for r in headed if _rank(r) == rank), key=lambda r: r.score)
    chosen = [lead]
    left: list[tuple[SheetRead, str]] = []
    for read in sorted(reads, key=lambda r: r.order):
        if read is lead:
            continue
        reason = _why_left(read, lead, chosen)
        if reason is None:
            chosen.append(read)
        elif read.has_people:
            left.append((read, reason))
    chosen.sort(key=lambda r: r.order)
    first = chosen[0]
    grouped = (len(chosen) > 1 and not any(c.field is Field.GROUP for c in first.columns)
               and any(is_group_name(r.name) for r in chosen))
    rows = tuple(_own_rows(r, first.name, grouped) for r in chosen)
    findings = [f for r in chosen for f in r.findings]
    if left:
        findings.append(_sheets_not_read(chosen, left, file))
    institution = next((r.institution if r is first else replace(r.institution, sheet=r.name)
                        for r in chosen if r.institution is not None), None)
    return ParticipantList(file, first.name, institution, first.columns,
                           tuple(row for sheet_rows in rows for row in sheet_rows),
                           tuple(findings), sheets=tuple(r.name for r in chosen),
                           extras=tuple(e for r in chosen for e in r.extras))


def is_group_name(name: str) -> bool:
    """Whether a sheet's name is a group's: `1. grupa`, `Grupa 3`, `Group 1`."""
    folded = fold(name)
    return bool(_GROUP_WORD.search(folded) and _GROUP_MARK.search(folded))


def _rank(read: SheetRead) -> tuple[bool, bool]:
    """Visible before hidden, and a sheet named as the list before one named as a copy."""
    return read.hidden, bool(_NOT_THE_LIST.search(fold(read.name)))


def _why_left(read: SheetRead, lead: SheetRead, chosen: Sequence[SheetRead]) -> str | None:
    if not read.score:
        return _Left.NO_HEADER.value
    if read.hidden and not lead.hidden:
        return _Left.HIDDEN.value
    if _rank(read) != _rank(lead):
        return _Left.COPY_NAME.value
    if not same_layout(read.columns, lead.columns):
        return _Left.COLUMNS.value.format(sheet=lead.name)
    people = read.people()
    for other in chosen:
        if people and len(people & other.people()) * 2 >= len(people):
            return _Left.SAME_PEOPLE.value.format(sheet=other.name)
    return None


def _own_rows(read: SheetRead, list_sheet: str, grouped: bool) -> tuple[ListRow, ...]:
    """The sheet's rows, each naming its sheet where that is not the list's; in a workbook of one
    sheet per group, the sheet's name is each row's group (R4: the school's own grouping)."""
    own = None if read.name == list_sheet else read.name
    rows = []
    for row in read.rows:
        values = {f: replace(c, sheet=own) for f, c in row.values.items()} if own else dict(row.values)
        if grouped:
            column = min(c.column for c in values.values())
            values[Field.GROUP] = CellText(read.name, row.row, column, own)
        rows.append(ListRow(row.row, values, own))
    return tuple(rows)


def _joined(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} un {parts[-1]}"


def _quoted(names: Sequence[str]) -> str:
    return _joined([f"«{n}»" for n in names])


def _sheets_not_read(chosen: Sequence[SheetRead], left: Sequence[tuple[SheetRead, str]],
                     file: str) -> Finding:
    read = [r.name for r in chosen]
    source = (f"no lapas {_quoted(read)}" if len(read) == 1 else f"no lapām {_quoted(read)}")
    if len(left) == 1:
        sheet, reason = left[0]
        unread = f"Lapu «{sheet.name}» nenolasījām: {reason}."
        where, needless = "šajā lapā", "Ja lapa pieteikumam nav vajadzīga"
    else:
        unread = f"Lapas {_joined([f'«{s.name}» ({r})' for s, r in left])} nenolasījām."
        where, needless = "šajās lapās", "Ja šīs lapas pieteikumam nav vajadzīgas"
    return Finding(
        Severity.WARNING, "list.sheets-not-read",
        f"Dalībnieku sarakstu nolasījām {source}. {unread}",
        f"Ja arī {where} ir pieteikuma dalībnieki, lūdzu, pārceliet tos uz lapu «{read[0]}» "
        f"(tajās pašās kolonnās) un nosūtiet sarakstu vēlreiz. {needless}, nekas nav jādara.",
        file=file, sheet=left[0][0].name if len(left) == 1 else None)
