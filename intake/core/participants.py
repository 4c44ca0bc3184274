"""One row of a participant list -> its Participant, and the findings its cells earn: the names
(R11), the e-mail address (R12), the position or category that makes a leader or an educator (R3),
and the cells the list's columns need filled (R9)."""

from __future__ import annotations

import re

from intake.core.addresses import MASKED_CODE, address_finding, normalised_address
from intake.core.findings import Notes
from intake.core.latvian import PERSONAL_CODE, foreign_letters, tidy_name, unify_dashes
from intake.core.model import CellText, Field, ListRow, Participant, ParticipantList, Role, Severity
from intake.core.positions import classify_category, classify_position

# Letters of any script, spaces, a hyphen, apostrophes as people type them (O'Brien, O’Brien,
# d`Artagnan, d´Artagnan) and the full stop of an initial («J.»); dashes are hyphens by then.
_NAME_SYMBOLS = re.compile(r"[^\w\s\-'’‘`´.]|_")
LABELS = {
    Field.FIRST_NAME: "Vārds", Field.LAST_NAME: "Uzvārds", Field.FULL_NAME: "Vārds, uzvārds",
    Field.FULL_NAME_REVERSED: "Uzvārds, vārds", Field.POSITION: "Amats", Field.EMAIL: "E-pasts",
    Field.GROUP: "Grupa", Field.CATEGORY: "Amata kategorija",
}


def participant(row: ListRow, plist: ParticipantList, notes: Notes,
                leaders_apart: bool) -> Participant | None:
    """The person a row names, or None where the names cannot be used; each fault a finding."""
    values = row.values
    first, last = _names(row, plist, notes)
    position = values.get(Field.POSITION)
    email = _email(values.get(Field.EMAIL), notes)
    for field, cell in ((Field.POSITION, position), (Field.EMAIL, values.get(Field.EMAIL))):
        if cell is None and plist.column_for(field):
            notes.add(Severity.ERROR, "field.missing",
                      f"Nav aizpildīta šūna kolonnā «{LABELS[field]}».",
                      _MISSING_HINTS[field], field=field, row=row.row, sheet=row.sheet)
    role = _role(position, values.get(Field.CATEGORY), notes, leaders_apart)
    if first is None or last is None:
        return None
    group = values.get(Field.GROUP)
    return Participant(row.row, first, last, position.text if position else "", email or "", role,
                       group.text if group else None, row.sheet)


_MISSING_HINTS = {
    Field.FIRST_NAME: "Lūdzu, ierakstiet šīs personas vārdu.",
    Field.LAST_NAME: "Lūdzu, ierakstiet šīs personas uzvārdu.",
    Field.POSITION: "Lūdzu, ierakstiet šīs personas amatu, piemēram, «sākumskolas skolotāja» vai "
                    "«direktora vietniece izglītības jomā».",
    Field.EMAIL: "Lūdzu, ierakstiet šīs personas e-pasta adresi, uz kuru nosūtīt uzaicinājumu.",
}


def _names(row: ListRow, plist: ParticipantList, notes: Notes) -> tuple[str | None, str | None]:
    values = row.values
    for field in (Field.FULL_NAME, Field.FULL_NAME_REVERSED):
        cell = values.get(field)
        if cell is None:
            continue
        if not _check_name(cell, notes, cell.text.replace(",", " ")):  # "Bērziņa, Anna"
            return None, None
        words = tidy_name(cell.text.replace(",", " ")).split()
        if len(words) < 2:
            notes.add(Severity.ERROR, "name.incomplete",
                      f"Kolonnā «{LABELS[field]}» ir tikai viens vārds.",
                      "Lūdzu, ierakstiet gan vārdu, gan uzvārdu, piemēram, «Anna Bērziņa».",
                      cell=cell, field=field)
            return None, None
        if field is Field.FULL_NAME_REVERSED or "," in cell.text:
            return " ".join(words[1:]), words[0]
        return " ".join(words[:-1]), words[-1]
    full = plist.column_for(Field.FULL_NAME) or plist.column_for(Field.FULL_NAME_REVERSED)
    if full and values.get(Field.FIRST_NAME) is None and values.get(Field.LAST_NAME) is None:
        notes.add(Severity.ERROR, "field.missing",
                  f"Nav aizpildīta šūna kolonnā «{LABELS[full.field]}».",
                  "Lūdzu, ierakstiet šīs personas vārdu un uzvārdu.", field=full.field, row=row.row,
                  sheet=row.sheet)
        return None, None
    names: list[str | None] = []
    for field in (Field.FIRST_NAME, Field.LAST_NAME):
        cell = values.get(field)
        if cell is None:
            if plist.column_for(field):
                notes.add(Severity.ERROR, "field.missing",
                          f"Nav aizpildīta šūna kolonnā «{LABELS[field]}».", _MISSING_HINTS[field],
                          field=field, row=row.row, sheet=row.sheet)
            names.append(None)
        else:
            names.append(tidy_name(cell.text) if _check_name(cell, notes) else None)
    return names[0], names[1]


def _check_name(cell: CellText, notes: Notes, text: str | None = None) -> bool:
    """Whether a name can be used; digits and symbols are errors, foreign letters a warning."""
    field = _field_of(cell, notes.plist)
    text = unify_dashes(cell.text if text is None else text)
    if any(ch.isdigit() for ch in text):
        notes.add(Severity.ERROR, "name.digits", "Vārdā vai uzvārdā ir cipari.",
                  "Lūdzu, ierakstiet tikai vārdu un uzvārdu (burtus); numuru, datumu vai kodu "
                  "ierakstiet citā kolonnā vai izdzēsiet.", cell=cell, field=field)
        return False
    if _NAME_SYMBOLS.search(text):
        notes.add(Severity.ERROR, "name.symbols", "Vārdā vai uzvārdā ir zīmes, kas nav burti.",
                  "Vārdā un uzvārdā drīkst būt tikai burti, defise (dubultuzvārdam, piemēram, "
                  "«Vīķe-Freiberga») un atstarpe.", cell=cell, field=field)
        return False
    foreign = foreign_letters(text)
    if foreign:
        notes.add(Severity.WARNING, "name.foreign-letters",
                  f"Vārdā vai uzvārdā ir burti, kas nav latviešu alfabētā: {', '.join(foreign)}.",
                  "Ja tā ir pareizā rakstība (piemēram, ārzemju vārds), nekas nav jālabo; ja tā ir "
                  "pārrakstīšanās kļūda, lūdzu, izlabojiet to.", cell=cell, field=field)
    return True


def _field_of(cell: CellText, plist: ParticipantList) -> Field | None:
    return next((c.field for c in plist.columns if c.index == cell.column), None)


# What mail programs paste along with an address: `mailto:a@b.lv`, `Anna Ozola <a@b.lv>`.
_MAILTO = re.compile(r"^mailto:\s*", re.IGNORECASE)
_NAMED_ADDRESS = re.compile(r"^[^<>@]*<\s*([^<>\s]+@[^<>\s]+)\s*>$")


def _email(cell: CellText | None, notes: Notes) -> str | None:
    if cell is None:
        return None
    text = _MAILTO.sub("", cell.text.strip())
    named = _NAMED_ADDRESS.match(text)
    text = _MAILTO.sub("", named.group(1)) if named else text
    address = normalised_address(text)
    problem = address_finding(text, valid=address is not None)
    if problem:
        notes.add(Severity.ERROR, "email.invalid", *problem, cell=cell, field=Field.EMAIL,
                  value=PERSONAL_CODE.sub(MASKED_CODE, cell.text))
        return None
    return address


def _role(position: CellText | None, category: CellText | None, notes: Notes,
          leaders_apart: bool) -> Role:
    if category is not None:
        role = classify_category(category.text)
        if role is not Role.UNCLEAR:
            return role
    if position is None:
        return Role.UNCLEAR
    role = classify_position(position.text)
    # Where leaders and educators may share a group (R3 off), the difference decides nothing.
    if role is Role.UNCLEAR and leaders_apart:
        notes.add(Severity.WARNING, "position.unclear",
                  f"Pēc amata «{position.text}» nevar viennozīmīgi noteikt, vai šī persona ir "
                  "iestādes vadītājs vai pedagogs; tā iekļauta pedagogu grupā, un programmas "
                  "darbinieki to pārbaudīs.",
                  "Ja šī persona ir direktors, direktora vietnieks vai metodiķis, norādiet to kolonnā "
                  "«Amata kategorija» (vadītājs), jo vadītāji un pedagogi supervīzijā nav vienā grupā.",
                  cell=position, field=Field.POSITION)
    return role
