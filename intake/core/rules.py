"""Decides a participant list by the programme rules (R1, R3–R5, R9–R12): values in, a Decision out."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from math import ceil

from email_validator import EmailNotValidError, validate_email

from intake.core.addresses import MASKED_CODE, address_finding
from intake.core.latvian import (
    PERSONAL_CODE,
    fold_key,
    foreign_letters,
    group_key,
    plural,
    tidy_name,
    unify_dashes,
)
from intake.core.model import (
    CellText,
    Decision,
    Field,
    Finding,
    Group,
    GroupKind,
    ListRow,
    Participant,
    ParticipantList,
    Role,
    Severity,
)
from intake.core.positions import classify_category, classify_position
from intake.core.programme import Programme, SplitPolicy
from intake.core.registry import InstitutionIndex, name_key

# Letters of any script, spaces, a hyphen, apostrophes as people type them (O'Brien, O’Brien,
# d`Artagnan, d´Artagnan) and the full stop of an initial («J.»); dashes are hyphens by then.
_NAME_SYMBOLS = re.compile(r"[^\w\s\-'’‘`´.]|_")
_LABELS = {
    Field.FIRST_NAME: "Vārds", Field.LAST_NAME: "Uzvārds", Field.FULL_NAME: "Vārds, uzvārds",
    Field.FULL_NAME_REVERSED: "Uzvārds, vārds", Field.POSITION: "Amats", Field.EMAIL: "E-pasts",
    Field.GROUP: "Grupa", Field.CATEGORY: "Amata kategorija",
}


@dataclass(frozen=True, slots=True)
class Circumstances:
    """What the decision depends on besides the list itself."""

    programme: Programme
    today: date
    registered: Mapping[str, str] | None = None  # person key -> application number (R5)
    registry: InstitutionIndex | None = None  # None: a named institution is taken as given (R10)
    institution_hint: str | None = None  # named in the mail (subject, body, signature, forward, domain)
    # The names the mail wavers between at its best rank: asked about, never guessed between.
    institution_conflict: tuple[str, ...] = ()
    require_institution: bool = False  # in mail, an application must name its institution


def person_keys(first_name: str, last_name: str, email: str, institution: str | None) -> tuple[str, ...]:
    """R5: the same person is the same folded name at the same institution, or the same e-mail
    with the same folded name (in either order): two names on one e-mail share a mailbox."""
    name = sorted((fold_key(first_name), fold_key(last_name)))
    keys = [f"email:{email.casefold()}|{name[0]}|{name[1]}"] if email else []
    if institution:
        keys.append(f"name:{fold_key(first_name)}|{fold_key(last_name)}|{name_key(institution)}")
    return tuple(keys)


def decide(plist: ParticipantList, circumstances: Circumstances) -> Decision:
    """The verdict on one list, with every finding and the groups it forms."""
    programme = circumstances.programme
    notes = _Notes(plist)
    notes.findings.extend(_with_code_hint(f, plist) for f in plist.findings)
    if not plist.is_readable:
        return Decision(plist.file, None, programme.name, (), tuple(notes.findings), plist.sheet)
    if not programme.is_open(circumstances.today):
        notes.add(Severity.ERROR, "programme.closed", _closed_message(programme),
                  "Lūdzu, iesniedziet pieteikumu programmas pieteikšanās laikā.")
    institution = _check_institution(plist, circumstances, notes)
    _check_columns(plist, notes)
    participants = [p for row in plist.rows
                    if (p := _participant(row, plist, notes, programme.leaders_apart))]
    if not participants and not notes.has_errors():
        notes.add(Severity.ERROR, "list.empty", "Sarakstā nav neviena dalībnieka.",
                  "Lūdzu, ierakstiet katru dalībnieku savā rindā zem kolonnu nosaukumiem.")
    _check_duplicates(participants, institution, circumstances, notes)
    groups = _form_groups(participants, plist, programme, notes)
    return Decision(plist.file, institution, programme.name, groups, tuple(notes.findings),
                    plist.sheet)


class _Notes:
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


def _closed_message(programme: Programme) -> str:
    start = programme.open_from.strftime("%d.%m.%Y.") if programme.open_from else None
    end = programme.open_until.strftime("%d.%m.%Y.") if programme.open_until else None
    period = " ".join(p for p in (f"no {start}" if start else "", f"līdz {end}" if end else "") if p)
    return (f"Pieteikšanās programmā «{programme.title}» notiek {period} Šobrīd pieteikumi netiek "
            "pieņemti.")


def _check_institution(plist: ParticipantList, circumstances: Circumstances,
                       notes: _Notes) -> str | None:
    named = plist.institution
    text = named.text if named else circumstances.institution_hint
    if not named and len(circumstances.institution_conflict) > 1:
        names = circumstances.institution_conflict
        listed = ", ".join(f"«{n}»" for n in names[:-1]) + f" un «{names[-1]}»"
        notes.add(Severity.ERROR, "institution.ambiguous",
                  f"Vēstulē ir minētas {'divas' if len(names) == 2 else 'vairākas'} izglītības "
                  f"iestādes: {listed}. Nav skaidrs, kuras "
                  "iestādes pedagogus Jūs piesakāt.",
                  "Lūdzu, nosūtiet pieteikumu vēlreiz un ierakstiet vēstulē vai sarakstā virs tabulas "
                  "«Izglītības iestāde: …» ar vienas iestādes nosaukumu.")
        return None
    if not text:
        if circumstances.require_institution:
            notes.add(Severity.ERROR, "institution.missing", "Nav norādīta izglītības iestāde.",
                      "Lūdzu, ierakstiet iestādes nosaukumu sarakstā virs tabulas "
                      "(«Izglītības iestāde: …») vai e-pasta tēmā.")
        return None
    registry = circumstances.registry
    if registry is None:
        return text
    for candidate in (text, circumstances.institution_hint):
        found = registry.match(candidate) if candidate else None
        if found:
            return found.name
    if not registry.imported:
        return text  # the shipped export is not the whole truth: R10 refuses against an imported one
    severity = Severity.ERROR if circumstances.programme.registry_match_required else Severity.WARNING
    notes.add(severity, "institution.unknown",
              f"Izglītības iestāde «{text}» nav atrasta izglītības iestāžu reģistrā.",
              "Lūdzu, norādiet iestādes pilno nosaukumu tāpat kā Valsts izglītības informācijas "
              "sistēmā vai tās 10 ciparu reģistrācijas numuru.", cell=named, value=text)
    return text


def _with_code_hint(finding: Finding, plist: ParticipantList) -> Finding:
    """Personal codes typed into a column the list needs (E-pasts, a name) are removed from its
    cells: the column itself stays (R9, R11)."""
    fields = {c.field for c in plist.columns if c.index == finding.column}
    if finding.code != "personal-code.present" or not fields - {Field.PERSONAL_CODE, Field.NUMBER}:
        return finding
    return replace(finding, hint="Turpmāk personas kodus, lūdzu, nesūtiet: izdzēsiet tos no šīs "
                                 "kolonnas šūnām, bet pašu kolonnu atstājiet.")


def _check_columns(plist: ParticipantList, notes: _Notes) -> None:
    fields = {c.field for c in plist.columns}
    has_full = bool(fields & {Field.FULL_NAME, Field.FULL_NAME_REVERSED})
    missing = [f for f in (Field.FIRST_NAME, Field.LAST_NAME) if f not in fields and not has_full]
    missing += [f for f in (Field.POSITION, Field.EMAIL) if f not in fields]
    for field in missing:
        notes.add(Severity.ERROR, "column.missing",
                  f"Sarakstā nav kolonnas «{_LABELS[field]}».",
                  f"Lūdzu, pievienojiet kolonnu «{_LABELS[field]}» un aizpildiet to katram "
                  "dalībniekam (kā pievienotajā veidlapā).")


def _participant(row: ListRow, plist: ParticipantList, notes: _Notes,
                 leaders_apart: bool) -> Participant | None:
    values = row.values
    first, last = _names(row, plist, notes)
    position = values.get(Field.POSITION)
    email = _email(values.get(Field.EMAIL), notes)
    for field, cell in ((Field.POSITION, position), (Field.EMAIL, values.get(Field.EMAIL))):
        if cell is None and plist.column_for(field):
            notes.add(Severity.ERROR, "field.missing",
                      f"Nav aizpildīta šūna kolonnā «{_LABELS[field]}».",
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


def _names(row: ListRow, plist: ParticipantList, notes: _Notes) -> tuple[str | None, str | None]:
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
                      f"Kolonnā «{_LABELS[field]}» ir tikai viens vārds.",
                      "Lūdzu, ierakstiet gan vārdu, gan uzvārdu, piemēram, «Anna Bērziņa».",
                      cell=cell, field=field)
            return None, None
        if field is Field.FULL_NAME_REVERSED or "," in cell.text:
            return " ".join(words[1:]), words[0]
        return " ".join(words[:-1]), words[-1]
    full = plist.column_for(Field.FULL_NAME) or plist.column_for(Field.FULL_NAME_REVERSED)
    if full and values.get(Field.FIRST_NAME) is None and values.get(Field.LAST_NAME) is None:
        notes.add(Severity.ERROR, "field.missing",
                  f"Nav aizpildīta šūna kolonnā «{_LABELS[full.field]}».",
                  "Lūdzu, ierakstiet šīs personas vārdu un uzvārdu.", field=full.field, row=row.row,
                  sheet=row.sheet)
        return None, None
    names: list[str | None] = []
    for field in (Field.FIRST_NAME, Field.LAST_NAME):
        cell = values.get(field)
        if cell is None:
            if plist.column_for(field):
                notes.add(Severity.ERROR, "field.missing",
                          f"Nav aizpildīta šūna kolonnā «{_LABELS[field]}».", _MISSING_HINTS[field],
                          field=field, row=row.row, sheet=row.sheet)
            names.append(None)
        else:
            names.append(tidy_name(cell.text) if _check_name(cell, notes) else None)
    return names[0], names[1]


def _check_name(cell: CellText, notes: _Notes, text: str | None = None) -> bool:
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


def _email(cell: CellText | None, notes: _Notes) -> str | None:
    if cell is None:
        return None
    text = _MAILTO.sub("", cell.text.strip())
    named = _NAMED_ADDRESS.match(text)
    text = _MAILTO.sub("", named.group(1)) if named else text
    try:
        # SMTPUTF8 local parts are legal but no Latvian school's server takes them: "bērziņa@" is
        # a typo for "berzina@".
        address: str | None = validate_email(text, check_deliverability=False,
                                             allow_smtputf8=False).normalized
    except EmailNotValidError:
        address = None
    problem = address_finding(text, valid=address is not None)
    if problem:
        notes.add(Severity.ERROR, "email.invalid", *problem, cell=cell, field=Field.EMAIL,
                  value=PERSONAL_CODE.sub(MASKED_CODE, cell.text))
        return None
    return address


def _role(position: CellText | None, category: CellText | None, notes: _Notes,
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


def _check_duplicates(participants: Sequence[Participant], institution: str | None,
                      circumstances: Circumstances, notes: _Notes) -> None:
    """R5 on every row, whatever else is wrong in it, so that one corrected list is accepted."""
    seen: dict[str, Participant] = {}
    mailboxes: dict[str, Participant] = {}
    registered = circumstances.registered or {}
    if not circumstances.programme.one_supervision_per_educator:
        registered = {}
    reported: dict[int, str] = {}  # row -> the application it was reported registered in
    for person in participants:
        keys = person_keys(person.first_name, person.last_name, person.email, institution)
        keys += (f"row:{fold_key(person.first_name)}|{fold_key(person.last_name)}",)
        earlier = next((seen[k] for k in keys if k in seen), None)
        name = _full_name(person)
        if earlier:
            where = (f"lapā «{earlier.sheet or notes.plist.sheet}», {earlier.row}. rindā"
                     if earlier.sheet != person.sheet else f"{earlier.row}. rindā")
            notes.add(Severity.ERROR, "duplicate.in-list",
                      f"Persona «{name}» sarakstā norādīta atkārtoti (pirmo reizi – {where}).",
                      "Lūdzu, izdzēsiet lieko rindu; ja tās ir divas dažādas personas, pārbaudiet "
                      "vārdus un e-pasta adreses.", row=person.row, sheet=person.sheet, value=name,
                      field=_name_field(notes.plist))
        application = next((registered[k] for k in keys if k in registered), None)
        # The row repeating one reported already needs deleting, not a second explanation.
        if application and not (earlier and reported.get(earlier.row) == application):
            reported[person.row] = application
            notes.add(Severity.ERROR, "duplicate.registered",
                      f"Persona «{name}» jau ir pieteikta pieteikumā {application}; "
                      "programmā katrs pedagogs var piedalīties tikai vienā supervīzijā.",
                      _duplicate_hint(application), row=person.row, sheet=person.sheet, value=name,
                      field=_name_field(notes.plist))
        _check_mailbox(person, earlier, mailboxes, notes)
        for key in keys:
            seen.setdefault(key, person)


def _check_mailbox(person: Participant, earlier: Participant | None,
                   mailboxes: dict[str, Participant], notes: _Notes) -> None:
    """Two names on one e-mail are two people sharing a mailbox (a pre-school group's, a family's):
    not a duplicate, but staff should see it, and the school may have copied a row's address."""
    if not person.email:
        return
    other = mailboxes.setdefault(person.email.casefold(), person)
    if other is person or other is earlier:
        return
    notes.add(Severity.WARNING, "email.shared",
              f"E-pasta adrese «{person.email}» norādīta divām dažādām personām: "
              f"«{_full_name(other)}» ({other.row}. rindā) un «{_full_name(person)}» "
              f"({person.row}. rindā).",
              "Ja abām personām tiešām ir kopīga e-pasta adrese, nekas nav jālabo; uzaicinājumi "
              "abām tiks nosūtīti uz šo adresi. Ja adrese ierakstīta kļūdaini, lūdzu, ierakstiet "
              "katrai personai savu adresi.", field=Field.EMAIL, row=person.row,
              sheet=person.sheet, value=person.email)


def _full_name(person: Participant) -> str:
    return f"{person.first_name} {person.last_name}"


def _duplicate_hint(application: str) -> str:
    if not application.startswith("SUP-"):  # another list attached to the same mail
        return "Lūdzu, izņemiet šo personu no saraksta."
    return ("Lūdzu, izņemiet šo personu no saraksta. Ja pieteikums "
            f"{application} ir Jūsu iestādes un vēlaties mainīt tā dalībniekus, atbildiet uz šī "
            "pieteikuma apstiprinājuma vēstuli un pievienojiet pilnu dalībnieku sarakstu ar "
            "izmaiņām: tad pieteikums tiks grozīts, nevis iesniegts vēlreiz.")


def _people(count: int) -> str:
    return f"{count} {plural(count, 'dalībnieks', 'dalībnieki')}"


def _name_field(plist: ParticipantList) -> Field | None:
    for field in (Field.FULL_NAME, Field.FULL_NAME_REVERSED, Field.FIRST_NAME):
        if plist.column_for(field):
            return field
    return None


def _form_groups(participants: Sequence[Participant], plist: ParticipantList,
                 programme: Programme, notes: _Notes) -> tuple[Group, ...]:
    if not participants:
        return ()
    if any(p.group_label for p in participants):
        groups = _school_groups(participants, programme, notes)
    else:
        pools: list[list[Participant]] = [list(participants)]
        if programme.leaders_apart:
            pools = [[p for p in participants if p.role is Role.LEADER],
                     [p for p in participants if p.role is not Role.LEADER]]
        groups = tuple(
            Group(_kind(chunk), tuple(chunk))
            for pool in pools if pool
            for chunk in split(pool, programme.max_group_size, programme.split_policy))
    for number, group in enumerate(groups, start=1):
        if len(group.participants) < programme.min_group_size:
            notes.add(Severity.WARNING, "group.too-small",
                      f"{number}. grupā ir {_people(len(group.participants))}, bet programma "
                      f"paredz vismaz {programme.min_group_size} "
                      f"{plural(programme.min_group_size, 'dalībnieku', 'dalībniekus')} grupā.",
                      "Programmas darbinieki sazināsies par grupas apvienošanu.",
                      row=group.participants[0].row,
                      sheet=group.participants[0].sheet)
    return groups


def _kind(members: Sequence[Participant]) -> GroupKind:
    return GroupKind.LEADERS if all(p.role is Role.LEADER for p in members) else GroupKind.EDUCATORS


def _school_groups(participants: Sequence[Participant], programme: Programme,
                   notes: _Notes) -> tuple[Group, ...]:
    """R4: the school assigned the groups itself; check them instead of splitting."""
    by_label: dict[str, list[Participant]] = {}
    for person in participants:
        if not person.group_label:
            notes.add(Severity.ERROR, "group.missing",
                      "Šajā rindā nav norādīta grupa, lai gan citiem dalībniekiem tā ir norādīta.",
                      "Lūdzu, ierakstiet grupas numuru katram dalībniekam vai izdzēsiet visus "
                      "grupu numurus, lai grupas izveido programmas darbinieki.", field=Field.GROUP,
                      row=person.row, sheet=person.sheet)
            continue
        by_label.setdefault(group_key(person.group_label), []).append(person)
    groups = []
    for members in by_label.values():
        label = members[0].group_label
        if len(members) > programme.max_group_size:
            notes.add(Severity.ERROR, "group.too-large",
                      f"Grupā «{label}» ir {_people(len(members))}, bet grupā drīkst būt ne "
                      f"vairāk kā {programme.max_group_size}.",
                      "Lūdzu, sadaliet dalībniekus vairākās grupās (katrā ne vairāk kā "
                      f"{programme.max_group_size}) vai izdzēsiet grupu numurus, lai grupas "
                      "izveido programmas darbinieki.", field=Field.GROUP,
                      row=members[programme.max_group_size].row, value=label,
                      sheet=members[programme.max_group_size].sheet)
        leaders = [p for p in members if p.role is Role.LEADER]
        if programme.leaders_apart and leaders and len(leaders) < len(members):
            first_leader = leaders[0]
            notes.add(Severity.ERROR, "group.mixed",
                      f"Grupā «{label}» ir gan iestādes vadītāji, gan pedagogi; supervīzijas ētikas "
                      "dēļ tie nevar būt vienā grupā.",
                      "Lūdzu, ierakstiet vadītājiem (direktoram, vietniekiem, metodiķiem) citu "
                      "grupas numuru nekā pedagogiem.", field=Field.GROUP, row=first_leader.row,
                      sheet=first_leader.sheet, value=label)
        groups.append(Group(_kind(members), tuple(members), label))
    return tuple(groups)




def split(people: Sequence[Participant], limit: int,
          policy: SplitPolicy = SplitPolicy.BALANCED) -> list[list[Participant]]:
    """R4: at most `limit` per group; balanced 23 -> 8, 8, 7, or filled 23 -> 10, 10, 3."""
    if not people:
        return []
    if policy is SplitPolicy.FILL:
        return [list(people[i:i + limit]) for i in range(0, len(people), limit)]
    count = ceil(len(people) / limit)
    base, extra = divmod(len(people), count)
    chunks, start = [], 0
    for index in range(count):
        size = base + (1 if index < extra else 0)
        chunks.append(list(people[start:start + size]))
        start += size
    return chunks
