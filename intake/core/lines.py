"""Tells a participant's row from the other lines schools write into a list: signatures, approval
blocks, stamps, dates, places, totals, notes, titles."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from intake.core.columns import header_score, recognise_columns
from intake.core.latvian import fold, strip_diacritics
from intake.core.model import CellText, Column, Field


class Line(StrEnum):
    """What a non-empty row under the header is."""

    PERSON = "person"  # an e-mail address, or a name where the names go: a participant
    UNSURE = "unsure"  # neither a person's shape nor any other: a participant with faults
    SIGNATURE = "signature"  # a title, initials, a title beside a name: one under the list signs
    CLOSING = "closing"  # a date, a total, a note, a stamp, a title row: never a participant


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a list keeps the columns that tell a participant from a signature."""

    first: int | None = None
    last: int | None = None
    full: int | None = None
    position: int | None = None
    number: int | None = None
    listed: frozenset[int] = frozenset()  # the columns read as the participant's values

    @classmethod
    def of(cls, columns: Sequence[Column]) -> Layout:
        at = {c.field: c.index for c in columns}
        return cls(first=at.get(Field.FIRST_NAME), last=at.get(Field.LAST_NAME),
                   full=at.get(Field.FULL_NAME, at.get(Field.FULL_NAME_REVERSED)),
                   position=at.get(Field.POSITION), number=at.get(Field.NUMBER),
                   listed=frozenset(i for f, i in at.items()
                                    if f not in (Field.NUMBER, Field.PERSONAL_CODE)))


_LETTERS = r"[^\W\d_]"
# One word of a name in any script: `Anna`, `Kalniņa–Liepiņa`, `O'Brien`, `Łukasz`, `Иван`, `Νίκος`.
_NAME_WORD = re.compile(rf"^{_LETTERS}+(?:['’]{_LETTERS}+)?(?:[-‐‑–—]{_LETTERS}+)*$")
# `J. Kalns`, `J.Kalns`, `J. K. Kalns`, `Kalns J.`: how a signature prints a name.
_INITIALS = re.compile(
    rf"^(?:(?:{_LETTERS}\.\s*){{1,2}}{_LETTERS}{{2,}}(?:\s*[-‐‑–—]\s*{_LETTERS}+)?"
    rf"|{_LETTERS}{{2,}}(?:\s*[-‐‑–—]\s*{_LETTERS}+)?\s+(?:{_LETTERS}\.\s*){{1,2}})$")
_EMAIL = re.compile(r"\S@\S")
# Leaders and the office: who signs a list. Teachers do not, so `skolotāja` alone stays a row.
_SIGNER = re.compile(
    r"\b(direktor\w*|dir|vietniek\w*|vietniec\w*|vaditaj\w*|parzin\w*|rektor\w*|dekan\w*"
    r"|metodik\w*|sekretar\w*|lietved\w*|gramatved\w*|koordinator\w*|specialist\w*"
    r"|priekssedetaj\w*|director|principal|headteacher|headmaster|head|deputy|coordinator"
    r"|secretary)\b")
# The first words of a line that is a label, not a person: `Sagatavoja: …`, `Kopā 12 dalībnieki`.
_LABEL = re.compile(
    r"^(sagatavoja|sagatavotajs|sagatavotaja|kontaktpersona|kontaktpersonas|atbildiga persona"
    r"|atbildigais|atbildiga|izpilditajs|izpilditaja|datums|piezime|piezimes|piebilde|paskaidrojums"
    r"|apstiprinu|apstiprinats|apstiprinata|saskanots|saskanota|saskanoju|zimoga vieta|paraksts"
    r"|talrunis|talr|tel|telefons|mob|pavisam|kopskaits|kopejais skaits|dalibnieku skaits|skaits"
    r"|piemers|piemeram|paraugs|prepared by|contact person|approved|signature|signed|date|note"
    r"|notes|total|example|z v|zv|l s)\b")
# `Kopā` is a label; its ASCII spelling `Kopa` only where a colon or a number follows.
_TOTAL = re.compile(r"^kopā\b|^kopa\s*[:\d]", re.IGNORECASE)
# Title rows above a table or between tables: the list's name, its annex number, the institution.
_HEADING = re.compile(
    r"^(dalibnieku saraksts|dalibnieku saraksti|saraksts|pielikums|pieteikums|pieteikuma"
    r"|supervizij\w*|izglitibas iestade|iestade|iestades nosaukums|skola|participant list"
    r"|list of participants|participants|annex|appendix)\b"
    r"|\b(\w*skola|gimnazija|tehnikums|koledza|universitate|pii|licejs|akademija|internatskola)\b"
    r"|izglitibas (iestade|centrs)")
_SECTION = re.compile(
    r"^(pedagogi|skolotaji|vaditaji|vadiba|administracija|atbalsta personals|leaders|educators"
    r"|teachers|\d+ grupa|grupa \d+|group \d+)$")
_PLACEHOLDER = re.compile(
    r"_{3,}|\.{6,}|…{2,}|[(/]\s*(personiskais |personigais )?(paraksts|paraksta atsifrejums|vards,? uzvards"
    r"|vards un uzvards|amats|datums|signature|name|date)\s*[)/]")
_ONLY_PLACEHOLDER = re.compile(r"^[_.…\s]*(_{2,}|\.{3,}|…)[_.…\s]*$")
_STAMP = re.compile(r"^(z v|zv|z v vieta|zimoga vieta|l s)$")
_MONTH = (r"(janvar|februar|mart|april|maij|junij|julij|august|septembr|oktobr|novembr|decembr"
          r"|january|february|march|june|july|september|october|november|december)\w*")
# On folded text, where `.`, `/` and `-` are spaces: `03 12 2026`, `2026 12 03`, `3 12 2026 g`.
_NUMERIC_DATE = re.compile(
    r"^(\d{1,2} \d{1,2} (\d{4}|\d{2})|\d{4} \d{1,2} \d{1,2})( g| gada)?( \d{1,2} \d{2}( \d{2})?)?$")
_WORDY_DATE = re.compile(rf"^((\d{{4}}|\d{{1,2}}|gada|g|gads|{_MONTH}) ?)+$")
# `Valmierā`, `Cēsīs`, `Limbažos`: a place is named in the locative above or beside a date.
_LOCATIVE = re.compile(r"^[A-ZĀČĒĢĪĶĻŅŠŪŽ]\w*(ā|ē|ī|ū|os|ās|ēs|īs)$")


@dataclass(frozen=True, slots=True)
class Shape:
    """A non-empty row under the header, as far as telling participants from the rest needs."""

    line: Line
    email: bool = False  # an e-mail address in the list's columns
    signs: bool = False  # its position is one of those that sign a list (a director, a clerk)


def classify(cells: Mapping[int, CellText], layout: Layout, *, uncomputed: bool = False) -> Shape:
    """What a row under the header is, from its non-empty cells (all columns, by index);
    `uncomputed`: a formula saved without its value stands in one of the list's columns."""
    texts = [c.text for i, c in sorted(cells.items())
             if not (i == layout.number and re.fullmatch(r"\d{1,4}\.?", c.text))]
    listed = [cells[i].text for i in sorted(cells) if i in layout.listed]
    position = cells.get(layout.position) if layout.position else None
    signs = position is not None and _is_signer(position.text)
    if not texts:
        return Shape(Line.UNSURE if uncomputed else Line.CLOSING)
    if _is_label(texts[0]):
        return Shape(Line.CLOSING)
    if len(texts) == 1 and _HEADING.search(fold(texts[0])) and not _is_signer(texts[0]):
        return Shape(Line.CLOSING)
    if any(_EMAIL.search(t) for t in listed):
        return Shape(Line.PERSON, email=True, signs=signs)
    if _is_dated(texts):
        return Shape(Line.CLOSING)
    if len(listed) == 1 and _SECTION.match(fold(listed[0])):
        return Shape(Line.CLOSING)  # a subheading across the table: `Pedagogi`, `2. grupa`
    if header_score(recognise_columns(texts)) or all(t.isdigit() for t in texts):
        return Shape(Line.CLOSING)  # the header again, or the columns' numbers under it
    if _has_name(cells, layout):
        return Shape(Line.PERSON, signs=signs)
    if any(_PLACEHOLDER.search(_plain(t)) for t in texts):
        return Shape(Line.CLOSING)  # a signature line: `Direktors ____ J. Kalns`, `(paraksts)`
    if not uncomputed and all(_is_signature_part(t) for t in texts) and any(
            _is_signer(t) or _INITIALS.match(t) or _LOCATIVE.match(t) for t in texts):
        return Shape(Line.SIGNATURE, signs=signs)
    return Shape(Line.UNSURE, signs=signs)


def looks_like_person(cells: Sequence[CellText]) -> bool:
    """Whether a row with no header above it names someone: an e-mail address beside a name."""
    texts = [c.text for c in cells]
    return any(_EMAIL.search(t) for t in texts) and any(
        _is_name(t) and not _is_label(t) for t in texts)


def is_placeholder(text: str) -> bool:
    """A cell left for filling in by hand (`______`): as good as empty in a participant's row."""
    return bool(_ONLY_PLACEHOLDER.match(text))


def _is_label(text: str) -> bool:
    return bool(_TOTAL.match(text) or _LABEL.match(fold(text)))


def _is_stamp(text: str) -> bool:
    return bool(_STAMP.match(fold(text))) or is_placeholder(text)


def is_date(text: str) -> bool:
    """A date as Latvians write it: `2026. gada 3. decembrī`, `03.12.2026.`, `2026-12-03`."""
    folded = fold(text)
    if _NUMERIC_DATE.match(folded):
        return True
    return bool(_WORDY_DATE.match(folded) and re.search(r"\d", folded)
                and (re.search(_MONTH, folded) or re.search(r"\d{4} (gada|g|gads)\b", folded)))


def _plain(text: str) -> str:
    """Lower case without diacritics, punctuation kept: for the shapes that are punctuation."""
    return strip_diacritics(text.casefold())


def _is_dated(texts: Sequence[str]) -> bool:
    """A row of dates and stamps, perhaps with the place: `Valmierā | 2026. gada 3. decembrī`."""
    return all(_is_date_or_place(t) or _is_stamp(t) or _LOCATIVE.match(t) for t in texts) and any(
        _is_date_or_place(t) or _is_stamp(t) for t in texts)


def _is_date_or_place(text: str) -> bool:
    """A date, alone or after its place: `03.12.2026.`, `Valmierā, 2026. gada 3. decembrī`."""
    if is_date(text):
        return True
    # `Valmierā, 2026. gada 3. decembrī`, `Rīga, 03.12.2026`
    place, comma, rest = text.partition(",")
    if not comma:
        place, _, rest = text.partition(" ")
        return bool(_LOCATIVE.match(place)) and is_date(rest)
    return len(place.split()) <= 2 and all(_NAME_WORD.match(w) for w in place.split()) and is_date(rest)


def _is_signer(text: str) -> bool:
    folded = fold(text)
    return bool(_SIGNER.search(folded)) and len(folded.split()) <= 8 and "@" not in text


def _is_signature_part(text: str) -> bool:
    """A piece of a signature: a title, initials, a printed name, a date, a place, a stamp."""
    return bool(_is_signer(text) or _INITIALS.match(text) or _is_full_name(text, capitalised=True)
                or _is_date_or_place(text) or _is_stamp(text) or _LOCATIVE.match(text))


def _is_full_name(text: str, *, capitalised: bool = False) -> bool:
    words = text.replace(",", " ").split()
    return 2 <= len(words) <= 5 and all(
        _NAME_WORD.match(w) and (not capitalised or w[0].isupper()) for w in words)


def _is_name(text: str) -> bool:
    words = text.split()
    return 1 <= len(words) <= 3 and all(_NAME_WORD.match(w) for w in words) and not _is_signer(text)


def _has_name(cells: Mapping[int, CellText], layout: Layout) -> bool:
    """A person's name where the list keeps names: a first name and a surname, or a whole name."""
    def text(index: int | None) -> str | None:
        cell = cells.get(index) if index is not None else None
        return cell.text if cell is not None else None

    full = text(layout.full)
    if full is not None:
        return _is_full_name(full) and not _is_signer(full)
    first, last = text(layout.first), text(layout.last)
    if first is None or not _is_name(first):
        return False
    return layout.last is None or (last is not None and _is_name(last))


def participant_lines(shapes: Sequence[Shape | None]) -> list[bool]:
    """Which rows under the header are participants (None: a blank row, which parts blocks).

    A list is a block of rows ending at its last e-mail address. Under that, a signature's shapes
    (a title, initials) are not participants, but a row of no other shape is one, with faults, so
    that a participant without an e-mail address is still reported at its cell. A block standing
    apart after a blank row, with no e-mail address but a date, a total or a signature in it, is
    the list's closing: of it only a named row with a teacher's position is a participant. Where
    the list has no e-mail address at all, named rows take the e-mail addresses' place.
    """
    by_email = any(s is not None and s.email for s in shapes)
    blocks: list[list[int]] = [[]]
    for index, shape in enumerate(shapes):
        if shape is None:
            if blocks[-1]:
                blocks.append([])
        else:
            blocks[-1].append(index)
    keep = [False] * len(shapes)
    for number, block in enumerate(blocks):
        members = [(i, s) for i in block if (s := shapes[i]) is not None]
        anchors = [i for i, s in members if (s.email if by_email else s.line is Line.PERSON)]
        closing = any(s.line in (Line.CLOSING, Line.SIGNATURE) for _, s in members)
        apart = number > 0 and not anchors and closing
        last_anchor = anchors[-1] if anchors else -1
        for index, shape in members:
            if shape.line is Line.CLOSING:
                # Under the last e-mail address a total, a date or a signature closes the list.
                apart = apart or index > last_anchor
                continue
            if apart:
                keep[index] = shape.line is Line.PERSON and not shape.signs
            else:
                keep[index] = shape.line is not Line.SIGNATURE or index < last_anchor
    return keep
