"""Checks one table of a configuration file against its schema; a mistake becomes one line."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from datetime import date, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from intake.errors import ConfigError

if TYPE_CHECKING:  # pydantic's own types, brought by pydantic
    from pydantic_core import ErrorDetails

T = TypeVar("T")
Table = tuple[str, ...]  # ("mail", "folders") is [mail.folders]; () the file's top level

# What an operator should write instead, by pydantic's error type.
_EXPECTED = {
    "int_type": "a whole number, without quotes",
    "int_from_float": "a whole number, without quotes",
    "float_type": "a number, without quotes",
    "bool_type": "true or false, without quotes",
    "string_type": "text in quotes",
    "string_too_short": "text that is not empty",
    "date_type": "a date such as 2026-09-01, without quotes",
    "time_type": "a time such as \"07:00\"",
    "tuple_type": "a list in brackets, such as [\"sekretare@skola.lv\"] (one address is a list of one)",
    "list_type": "a list in brackets",
    "dict_type": "a table",
    "dataclass_type": "a table",
    "model_type": "a table",
    "path_type": "a file name in quotes",
    "missing": "a value: the key is required",
}


def check_table(adapter: TypeAdapter[T], values: Mapping[str, Any], *, path: Path, table: Table,
                tables: Mapping[Table, Sequence[str]]) -> T:
    """`values` as the schema's type, or a ConfigError naming the file, the key, what was given and
    what is expected. `tables` lists the keys of every table of the file, for "did you mean"."""
    try:
        return adapter.validate_python(dict(values))
    except ValidationError as exc:
        errors = exc.errors()
        lines = [explain(error, path=path, table=table, tables=tables) for error in errors[:5]]
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise ConfigError("; ".join(lines) + more) from None


def explain(error: ErrorDetails, *, path: Path, table: Table, tables: Mapping[Table, Sequence[str]]) -> str:
    """One error as `FILE: [table] key = given: expected …`."""
    loc = (*table, *error["loc"])
    names = [str(part) for part in loc if isinstance(part, str)]
    at = len(names) - 1
    while at > 0 and tuple(names[:at]) not in tables:
        at -= 1
    where, key = tuple(names[:at]), ".".join(names[at:])
    key += "".join(f"[{part}]" for part in loc if isinstance(part, int))
    prefix = f"{path}: " + (f"[{'.'.join(where)}] " if where else "")
    if error["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        return prefix + f"unknown key {key!r}" + _suggestion(names[-1], where, tables)
    if error["type"] == "missing":
        return prefix + f"{key} is missing: it is required"
    return prefix + f"{key} = {_shown(error['input'])}: expected {_expected(error)}"


def _suggestion(key: str, where: Table, tables: Mapping[Table, Sequence[str]]) -> str:
    elsewhere = [other for other, keys in tables.items() if other != where and key in keys]
    if elsewhere:
        name = ".".join(elsewhere[0])
        return f"; it belongs {'at the top, before any [table]' if not name else f'under [{name}]'}"
    close = difflib.get_close_matches(key, tables.get(where, ()), n=1, cutoff=0.7)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; known keys: {', '.join(sorted(tables.get(where, ())))}"


def _expected(error: ErrorDetails) -> str:
    context = error.get("ctx") or {}
    if error["type"] == "greater_than_equal":
        return f"a number of at least {context['ge']}"
    if error["type"] == "less_than_equal":
        return f"a number of at most {context['le']}"
    if error["type"] == "greater_than":
        return f"a number above {context['gt']}"
    if error["type"] in _EXPECTED:
        return _EXPECTED[error["type"]]
    message = error["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
    return message


def _shown(value: object) -> str:
    """The value as it was written in TOML, cut short."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str | int | float | list | dict):
        text = json.dumps(value, ensure_ascii=False, default=str)
    elif isinstance(value, date | time):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
