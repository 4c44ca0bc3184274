"""Recognises the header row of a participant list and what each column holds."""

from __future__ import annotations

import re
from collections.abc import Sequence

from intake.latvian import fold, normalise
from intake.model import Column, Field

# Matched in order on folded header text (no diacritics, lower case, punctuation as spaces), so
# `Vārds, uzvārds`, `VARDS UZVARDS` and ` vārds  un uzvārds ` are one header. A synonym matches the
# whole header or its first words: `E-pasts (darba)` is an e-mail column.
_SYNONYMS: tuple[tuple[Field, str], ...] = (
    (Field.NUMBER, r"nr|n p k|npk|nr p k|nr pk|p k|no|numurs|kartas numurs|#"),
    (Field.PERSONAL_CODE, r"personas kods|pers kods|p kods|personal (identity )?code|person code"),
    (Field.CATEGORY, r"amata kategorija|kategorija|loma|vaditajs vai pedagogs|pedagogs vai vaditajs"
                     r"|vaditajs pedagogs|pedagogs vaditajs|category|role category"),
    (Field.FULL_NAME_REVERSED, r"uzvards vards|uzvards un vards|surname name|last name first name"),
    (Field.FULL_NAME, r"vards uzvards|vards un uzvards|(dalibnieka|pedagoga) vards uzvards"
                      r"|dalibnieks|dalibnieki|name|full name|name surname|first name last name"
                      r"|participant|participant name"),
    (Field.FIRST_NAME, r"vards|vardi|(dalibnieka|pedagoga) vards|first name|firstname|given name"
                       r"|forename"),
    (Field.LAST_NAME, r"uzvards|(dalibnieka|pedagoga) uzvards|surname|last name|lastname"
                      r"|family name"),
    (Field.POSITION, r"amats|amati|ienemamais amats|amata nosaukums|position|job title|job|title"),
    (Field.EMAIL, r"e ?pasts|e ?pasta adrese|elektroniskais pasts|elektroniska pasta adrese"
                  r"|e ?mail|e ?mail address|mail"),
    (Field.GROUP, r"grupa|grupas nr|grupas numurs|grupas nosaukums|supervizijas grupa|group"
                  r"|group no"),
)
_PATTERNS = tuple((f, re.compile(rf"^(?:{alternatives})(?: .*)?$")) for f, alternatives in _SYNONYMS)
# `Vārds` must not swallow `Vārds uzvārds` and the like: those are checked first, and a first-word
# match counts only where no longer synonym applies.
_NAME_FIELDS = {Field.FIRST_NAME, Field.FULL_NAME, Field.FULL_NAME_REVERSED, Field.LAST_NAME}


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
    """The recognised columns of a candidate header row; the first column of each field wins."""
    found: dict[Field, Column] = {}
    for index, value in enumerate(values, start=1):
        if not isinstance(value, str) or len(value) > 80:
            continue
        field = recognise_header(value)
        if field is not None and field not in found:
            found[field] = Column(field, index, normalise(value))
    return tuple(found.values())


def header_score(columns: Sequence[Column]) -> int:
    """How much a row looks like the list's header: 0 when it names nobody."""
    fields = {c.field for c in columns} - {Field.NUMBER}
    if not fields & _NAME_FIELDS or len(fields) < 2:
        return 0
    return len(fields)
