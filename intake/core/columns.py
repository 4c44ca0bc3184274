"""Recognises the header row of a participant list and what each column holds."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from intake.core.latvian import fold, normalise
from intake.core.model import Column, Field

# Matched in order on folded header text (no diacritics, lower case, punctuation as spaces), so
# `Vārds, uzvārds`, `VARDS UZVARDS` and ` vārds  un uzvārds ` are one header. A synonym matches the
# whole header or its first words: `E-pasts (darba)` is an e-mail column.
_SYNONYMS: tuple[tuple[Field, str], ...] = (
    (Field.NUMBER, r"nr|n p k|npk|nr p k|nr pk|p k|no|numurs|kartas numurs|#"),
    (Field.PERSONAL_CODE, r"personas kods|pers kods|p kods|personal (identity )?code|person code"
                          r"|personal (identity |identification )?number"),
    (Field.CATEGORY, r"amata kategorija|kategorija|loma|vaditajs vai pedagogs|pedagogs vai vaditajs"
                     r"|vaditajs pedagogs|pedagogs vaditajs|category|role category"),
    (Field.FULL_NAME_REVERSED, r"uzvards vards|uzvards un vards|surname name|surname and name"
                               r"|last name first name|family name given name"),
    (Field.FULL_NAME, r"vards uzvards|vards un uzvards|(dalibnieka|pedagoga) vards uzvards"
                      r"|dalibnieks|dalibnieki|name|names|full name|name surname|name and surname"
                      r"|first name last name|first and last name|given name family name"
                      r"|participant|participant name"),
    (Field.FIRST_NAME, r"vards|vardi|(dalibnieka|pedagoga) vards|first name|firstname|given name"
                       r"|forename"),
    (Field.LAST_NAME, r"uzvards|uzvardi|(dalibnieka|pedagoga) uzvards|surname|last name|lastname"
                      r"|family name"),
    (Field.POSITION, r"amats|amati|ienemamais amats|amata nosaukums|position|job title|job|title"
                     r"|role"),
    (Field.EMAIL, r"e ?pasts|e ?pasta adrese|elektroniskais pasts|elektroniska pasta adrese"
                  r"|e ?mail|e ?mail address|mail"),
    (Field.GROUP, r"grupa|grupas nr|grupas numurs|grupas nosaukums|supervizijas grupa|group"
                  r"|group no"),
)
_PATTERNS = tuple((f, re.compile(rf"^(?:{alternatives})(?: .*)?$")) for f, alternatives in _SYNONYMS)
# `Vārds` must not swallow `Vārds uzvārds` and the like: those are checked first, and a first-word
# match counts only where no synonym of more words matches.
_NAME_FIELDS = {Field.FIRST_NAME, Field.FULL_NAME, Field.FULL_NAME_REVERSED, Field.LAST_NAME}
# A header that says "name" without saying "first" or "whole": `Name`, `Names`, `Dalībnieks`. It is
# the first name beside a surname column and the whole name otherwise.
_BARE_NAME = re.compile(r"^(name|names|dalibnieks|dalibnieki|participant|participant name)$")
# A header that says "first name" without doubt: `First name`, `Given name`, `Forename`.
_SURELY_FIRST = re.compile(r"^(first ?name|given name|forename)")


def recognise_header(title: str) -> Field | None:
    """The field a header cell names, or None."""
    text = fold(title)
    if not text:
        return Field.NUMBER if title.strip() == "#" else None
    for field, pattern in _PATTERNS:
        if pattern.match(text):
            return field
    return None


def recognise_columns(values: Sequence[object]) -> tuple[Column, ...]:
    """The recognised columns of a candidate header row; the first column of each field wins.

    `Name | Surname` is a first name beside a surname: a bare `Name` is taken as the whole name only
    where no surname column stands in the same header.
    """
    found: dict[Field, Column] = {}
    for index, value in enumerate(values, start=1):
        if not isinstance(value, str) or len(value) > 80:
            continue
        field = recognise_header(value)
        if field is Field.FULL_NAME and _BARE_NAME.match(fold(value)) and any(
                recognise_header(v) is Field.LAST_NAME for v in values if isinstance(v, str)):
            field = Field.FIRST_NAME
        if field is not None and field not in found:
            found[field] = Column(field, index, normalise(value))
    return tuple(found.values())


def header_score(columns: Sequence[Column]) -> int:
    """How much a row looks like the list's header: 0 when it names nobody."""
    fields = {c.field for c in columns} - {Field.NUMBER}
    if not fields & _NAME_FIELDS or len(fields) < 2:
        return 0
    return len(fields)


def settle_name_columns(columns: tuple[Column, ...],
                        samples: Mapping[int, Sequence[str]]) -> tuple[Column, ...]:
    """The columns once their values are seen: a lone `Vārds` or `Name` column whose values are all
    two words or more (`Anna Bērziņa`) holds whole names, since no surname column stands beside it.

    `samples` are a column's values in the rows that are surely participants (by column index).
    """
    fields = {c.field for c in columns}
    if fields & {Field.LAST_NAME, Field.FULL_NAME, Field.FULL_NAME_REVERSED}:
        return columns
    first = next((c for c in columns if c.field is Field.FIRST_NAME), None)
    if first is None or _SURELY_FIRST.match(fold(first.title)):
        return columns
    values = [v for v in samples.get(first.index, ()) if v.strip()]
    if values and all(len(v.replace(",", " ").split()) >= 2 for v in values):
        return tuple(replace(c, field=Field.FULL_NAME) if c is first else c for c in columns)
    return columns


def same_layout(one: Sequence[Column], other: Sequence[Column]) -> bool:
    """Whether two sheets keep each field the rules read in the same column (numbers and personal
    codes aside), so that a cell named by field points at the same letter on either sheet."""
    def layout(columns: Sequence[Column]) -> set[tuple[Field, int]]:
        return {(c.field, c.index) for c in columns
                if c.field not in (Field.NUMBER, Field.PERSONAL_CODE)}
    return layout(one) == layout(other)
