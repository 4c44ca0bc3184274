"""The findings one decision collects, each with the list's file, sheet and column filled in: the
rules, the row checks and the grouping add to one `Notes` in the order they find things."""

from __future__ import annotations

from collections.abc import Iterable

from intake.core.model import CellText, Field, Finding, ParticipantList, Severity


def in_sheet_order(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings as a reader meets them: those about the whole list first, then by sheet (in the
    order the list's sheets come), row and column; findings of one cell keep their order."""
    found = tuple(findings)
    sheets: dict[str | None, int] = {}
    for finding in found:
        sheets.setdefault(finding.sheet, len(sheets))
    return tuple(sorted(found, key=lambda f: (f.row is not None, sheets[f.sheet], f.row or 0,
                                             f.column or 0)))


def number_in_sheet_order(findings: Iterable[Finding]) -> list[tuple[int, Finding]]:
    """Each finding with its number, in sheet order: the numbers the reply, the annotated copy's
    cell notes and its «Piezīmes» sheet share."""
    return list(enumerate(in_sheet_order(findings), start=1))


class Notes:
    """Collects findings with the list's file and sheet filled in."""

    def __init__(self, plist: ParticipantList) -> None:
        self.plist = plist
        self.findings: list[Finding] = []

    def add(self, severity: Severity, code: str, message: str, hint: str = "", *,
            cell: CellText | None = None, field: Field | None = None, row: int | None = None,
            value: str | None = None, sheet: str | None = None) -> None:
        """`sheet`: the row's own sheet where a list spans several (a cell knows its own)."""
        column = self.plist.column_for(field) if field else None
        sheet = (cell.sheet if cell else sheet) or self.plist.sheet
        self.findings.append(Finding(
            severity, code, message, hint, file=self.plist.file, sheet=sheet,
            row=cell.row if cell else row,
            column=cell.column if cell else (column.index if column else None),
            value=cell.text if cell and value is None else value,
            column_title=column.title if column else None))

    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)
