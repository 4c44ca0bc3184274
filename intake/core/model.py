"""The value types shared by the core: findings, participant lists, groups, decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


def column_letters(number: int) -> str:
    """A column's letters as spreadsheets show them: 1 is A, 27 is AA."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters or "A"


class Severity(StrEnum):
    ERROR = "error"  # rejects the list
    WARNING = "warning"  # accompanies an acceptance


class Role(StrEnum):
    LEADER = "leader"
    EDUCATOR = "educator"
    UNCLEAR = "unclear"


class Field(StrEnum):
    """The columns a participant list may have."""

    NUMBER = "number"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    FULL_NAME = "full_name"
    FULL_NAME_REVERSED = "full_name_reversed"  # `Uzvārds, vārds`
    POSITION = "position"
    CATEGORY = "category"
    EMAIL = "email"
    GROUP = "group"
    PERSONAL_CODE = "personal_code"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in a file, precise enough to fix without a phone call."""

    severity: Severity
    code: str
    message: str
    hint: str = ""
    file: str = ""
    sheet: str | None = None
    row: int | None = None
    column: int | None = None
    value: str | None = None
    column_title: str | None = None

    @property
    def cell(self) -> str | None:
        if self.row is None or self.column is None:
            return None
        return f"{column_letters(self.column)}{self.row}"

    @property
    def column_letter(self) -> str | None:
        return None if self.column is None else column_letters(self.column)


@dataclass(frozen=True, slots=True)
class CellText:
    """A non-empty, trimmed, NFC-normalised value with the cell it came from."""

    text: str
    row: int
    column: int
    sheet: str | None = None  # set when a list spans several sheets; None: the list's own sheet


@dataclass(frozen=True, slots=True)
class Column:
    """A recognised column of the list: what it holds and its header as the school wrote it."""

    field: Field
    index: int  # 1-based, as in the sheet
    title: str


@dataclass(frozen=True, slots=True)
class ListRow:
    """One line of the list that may be a participant."""

    row: int
    values: dict[Field, CellText]
    sheet: str | None = None  # set when a list spans several sheets; None: the list's own sheet


@dataclass(frozen=True, slots=True)
class ParticipantList:
    """What the reader found in one file: the list's rows, or the findings that stopped it."""

    file: str
    sheet: str | None = None
    institution: CellText | None = None
    columns: tuple[Column, ...] = ()
    rows: tuple[ListRow, ...] = ()
    findings: tuple[Finding, ...] = ()
    # Every sheet read, in the workbook's order; `sheet` is the first. Rows of the others name theirs.
    sheets: tuple[str, ...] = ()
    # What else the school wrote: (header, value) of the columns the rules do not read, and
    # ("", text) of the lines that are no participant (above the header, notes under the list).
    extras: tuple[tuple[str, str], ...] = ()

    @property
    def is_readable(self) -> bool:
        return self.sheet is not None and not any(
            f.severity is Severity.ERROR for f in self.findings
        )

    def column_for(self, wanted: Field) -> Column | None:
        return next((c for c in self.columns if c.field is wanted), None)


@dataclass(frozen=True, slots=True)
class Participant:
    row: int
    first_name: str
    last_name: str
    position: str
    email: str
    role: Role
    group_label: str | None = None
    sheet: str | None = None  # the row's sheet when the list spans several; None: the list's own


class GroupKind(StrEnum):
    LEADERS = "leaders"
    EDUCATORS = "educators"


@dataclass(frozen=True, slots=True)
class Group:
    kind: GroupKind
    participants: tuple[Participant, ...]
    label: str | None = None  # as the school named it in a group column
    to_merge: bool = False  # below the programme's `merge_below`: staff merge it with another


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one list: the groups it forms and every finding."""

    file: str
    institution: str | None
    programme: str
    groups: tuple[Group, ...] = ()
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    sheet: str | None = None

    @property
    def accepted(self) -> bool:
        return not self.errors and bool(self.groups)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def participant_count(self) -> int:
        return sum(len(g.participants) for g in self.groups)
