"""docs/configuration.md names every key of intake.toml and of a programme file, its default and range."""

from __future__ import annotations

import typing
from dataclasses import MISSING, fields
from datetime import time
from enum import Enum
from pathlib import Path

import annotated_types
import pytest
from pydantic.fields import FieldInfo

from intake.config import FILE_TABLES, PROGRAMME_TABLES, _IntakeFile
from intake.config.mail import Folders, MailSettings
from intake.core.formats import Limits
from intake.core.programme import Programme

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
SECTIONS = {
    (): "## Top level of `intake.toml`", ("limits",): "## `[limits]`", ("mail",): "## `[mail]`",
    ("mail", "folders"): "## `[mail.folders]`", ("programme",): "## Programme files",
}
CLASSES: dict[tuple[str, ...], type] = {("limits",): Limits, ("mail",): MailSettings,
                                        ("mail", "folders"): Folders, ("programme",): Programme}
TABLES = {**FILE_TABLES, ("programme",): PROGRAMME_TABLES[()]}


def documented(table: tuple[str, ...]) -> dict[str, list[str]]:
    """The rows of a section's table: key -> [type, range, default, meaning]."""
    section = DOCS.split(SECTIONS[table], 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def shown(value: object) -> str:
    """A default as the documentation writes it."""
    if value is MISSING:
        return "required"
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Enum):
        return f'`"{value.value}"`'
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if isinstance(value, time):
        return f'`"{value:%H:%M}"`'
    if isinstance(value, tuple | list) and not value:
        return "`[]`"
    if isinstance(value, dict | Folders):
        return "see below"
    return f"`{value}`"


def defaults(table: tuple[str, ...]) -> dict[str, object]:
    if table == ():
        return {name: (info.default if isinstance(info.default, str | int | time | type(None)) else {})
                for name, info in _IntakeFile.model_fields.items()}
    return {f.name: f.default if f.default is not MISSING else (
        f.default_factory() if f.default_factory is not MISSING else MISSING) for f in fields(CLASSES[table])}


def bounds(table: tuple[str, ...], key: str) -> list[float]:
    """The numbers a key's range is drawn from (ge, le, gt), wherever pydantic keeps them."""
    if table == ():
        metadata: list[object] = list(_IntakeFile.model_fields[key].metadata)
    else:
        metadata = []
        pending = [typing.get_type_hints(CLASSES[table], include_extras=True)[key]]
        while pending:
            hint = pending.pop()
            if hasattr(hint, "__metadata__"):  # Annotated[T, ...]: its metadata, then T
                metadata.extend(hint.__metadata__)
                pending.append(hint.__origin__)
            else:  # T | None, tuple[T, ...]
                pending.extend(typing.get_args(hint))
        metadata.extend(m for info in list(metadata) if isinstance(info, FieldInfo) for m in info.metadata)
    found = []
    for item in metadata:
        for kind, attribute in ((annotated_types.Ge, "ge"), (annotated_types.Le, "le"),
                                (annotated_types.Gt, "gt")):
            if isinstance(item, kind):
                found.append(getattr(item, attribute))
    return found


KEYS = [(table, key) for table, keys in TABLES.items() for key in keys]


@pytest.mark.parametrize(("table", "key"), KEYS, ids=[".".join((*t, k)) for t, k in KEYS])
def test_every_key_is_documented_with_its_default_and_range(table, key):
    rows = documented(table)
    assert key in rows, f"{key} is missing from {SECTIONS[table]} in docs/configuration.md"
    _type, accepted, default, meaning = rows[key]
    assert meaning
    assert default == shown(defaults(table)[key])
    for bound in bounds(table, key):
        assert f"{bound:g}" in accepted.replace("–", " ").replace(",", " ") or str(bound) in accepted, (
            f"{key}: the range {accepted!r} does not show {bound}")


@pytest.mark.parametrize("table", list(SECTIONS), ids=[".".join(t) or "top" for t in SECTIONS])
def test_no_documented_key_is_unknown_to_the_code(table):
    assert set(documented(table)) <= set(TABLES[table])


def test_the_bounds_are_found_so_the_range_check_can_fail():
    assert bounds(("mail",), "batch_size") == [1, 10_000]
    assert bounds(("programme",), "supervision_cap") == [1, 1_000_000]
    assert bounds((), "retention_days") == [0, 36_500]
