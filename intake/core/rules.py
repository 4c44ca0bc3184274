"""Decides a participant list by the programme rules (R1, R3–R5, R9–R12): values in, a Decision out."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache

from intake.core.findings import Notes
from intake.core.groups import form_groups
from intake.core.latvian import fold, fold_key
from intake.core.model import Decision, Field, Finding, Participant, ParticipantList, Severity
from intake.core.participants import LABELS, participant
from intake.core.programme import Programme
from intake.core.registry import InstitutionIndex, name_key


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
    notes = Notes(plist)
    notes.findings.extend(_with_code_hint(f, plist) for f in plist.findings)
    if not plist.is_readable:
        return Decision(plist.file, None, programme.name, (), tuple(notes.findings), plist.sheet)
    if not programme.is_open(circumstances.today):
        notes.add(Severity.ERROR, "programme.closed", _closed_message(programme),
                  "Lūdzu, iesniedziet pieteikumu programmas pieteikšanās laikā.")
    institution = _check_institution(plist, circumstances, notes)
    if institution is not None:
        _check_eligibility(institution, plist, circumstances, notes)
    _check_columns(plist, notes)
    _check_own_columns(plist, programme, notes)
    participants = [p for row in plist.rows
                    if (p := participant(row, plist, notes, programme.leaders_apart))]
    if not participants and not notes.has_errors():
        notes.add(Severity.ERROR, "list.empty", "Sarakstā nav neviena dalībnieka.",
                  "Lūdzu, ierakstiet katru dalībnieku savā rindā zem kolonnu nosaukumiem.")
    _check_duplicates(participants, institution, circumstances, notes)
    groups = form_groups(participants, plist, programme, notes)
    return Decision(plist.file, institution, programme.name, groups, tuple(notes.findings),
                    plist.sheet)


def _closed_message(programme: Programme) -> str:
    start = programme.open_from.strftime("%d.%m.%Y.") if programme.open_from else None
    end = programme.open_until.strftime("%d.%m.%Y.") if programme.open_until else None
    period = " ".join(p for p in (f"no {start}" if start else "", f"līdz {end}" if end else "") if p)
    return (f"Pieteikšanās programmā «{programme.title}» notiek {period} Šobrīd pieteikumi netiek "
            "pieņemti.")


def _check_institution(plist: ParticipantList, circumstances: Circumstances,
                       notes: Notes) -> str | None:
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


def _check_eligibility(institution: str, plist: ParticipantList, circumstances: Circumstances,
                       notes: Notes) -> None:
    """Who may apply: the programme's kinds of institution (by the registry) and its partners."""
    programme = circumstances.programme
    if not programme.eligible_kinds and not programme.partners:
        return
    registry = circumstances.registry
    found = registry.match(institution) if registry is not None else None
    if programme.eligible_kinds and found is not None and found.kind and (
            fold(found.kind) not in _folded(programme.eligible_kinds)):
        plural = [re.sub(r"iestāde$", "iestādes", k[0].lower() + k[1:]) for k in programme.eligible_kinds]
        kinds = plural[0] if len(plural) == 1 else f"{', '.join(plural[:-1])} un {plural[-1]}"
        notes.add(Severity.ERROR, "institution.ineligible",
                  f"Programmā «{programme.title}» var pieteikties tikai šādas izglītības iestādes: "
                  f"{kinds}. Izglītības iestāžu reģistrā iestāde «{found.name}» ir reģistrēta kā "
                  f"«{found.kind.lower()}», tāpēc tās pieteikumu šajā programmā nevaram pieņemt.",
                  "Ja iestāde reģistrā norādīta kļūdaini vai tā īsteno arī kādu no minētajām "
                  "izglītības programmām, lūdzu, atbildiet uz šo vēstuli – programmas darbinieki "
                  "to izvērtēs.", cell=plist.institution, value=institution)
    if programme.partners and not (
            (found is not None and found.number in programme.partners)
            or name_key(institution) in _partner_names(programme.partners)
            or (found is not None and name_key(found.name) in _partner_names(programme.partners))):
        notes.add(Severity.ERROR, "institution.not-partner",
                  f"Iestāde «{institution}» nav programmas «{programme.title}» sadarbības "
                  "iestāžu sarakstā. Šīs programmas supervīzijas paredzētas tikai sadarbības "
                  "iestāžu pedagogiem.",
                  "Ja iestāde ir programmas sadarbības partnere, lūdzu, atbildiet uz šo vēstuli – "
                  "programmas darbinieki to pārbaudīs un sazināsies ar Jums.",
                  cell=plist.institution, value=institution)


@lru_cache(maxsize=16)
def _folded(kinds: tuple[str, ...]) -> frozenset[str]:
    return frozenset(fold(k) for k in kinds)


@lru_cache(maxsize=16)
def _partner_names(partners: tuple[str, ...]) -> frozenset[str]:
    """The partners given by name, as names are matched (R10): any case form, any spacing."""
    return frozenset(name_key(p) for p in partners if not p.isdigit())


def _with_code_hint(finding: Finding, plist: ParticipantList) -> Finding:
    """Personal codes typed into a column the list needs (E-pasts, a name) are removed from its
    cells: the column itself stays (R9, R11)."""
    fields = {c.field for c in plist.columns if c.index == finding.column}
    if finding.code != "personal-code.present" or not fields - {Field.PERSONAL_CODE, Field.NUMBER}:
        return finding
    return replace(finding, hint="Turpmāk personas kodus, lūdzu, nesūtiet: izdzēsiet tos no šīs "
                                 "kolonnas šūnām, bet pašu kolonnu atstājiet.")


def _check_columns(plist: ParticipantList, notes: Notes) -> None:
    fields = {c.field for c in plist.columns}
    has_full = bool(fields & {Field.FULL_NAME, Field.FULL_NAME_REVERSED})
    missing = [f for f in (Field.FIRST_NAME, Field.LAST_NAME) if f not in fields and not has_full]
    missing += [f for f in (Field.POSITION, Field.EMAIL) if f not in fields]
    for field in missing:
        notes.add(Severity.ERROR, "column.missing",
                  f"Sarakstā nav kolonnas «{LABELS[field]}».",
                  f"Lūdzu, pievienojiet kolonnu «{LABELS[field]}» un aizpildiet to katram "
                  "dalībniekam (kā pievienotajā veidlapā).")


def _check_own_columns(plist: ParticipantList, programme: Programme, notes: Notes) -> None:
    """The programme's own required columns (`Reģions`, `Diena`), filled in for someone."""
    written = {fold(title) for title, _value in plist.extras if title}
    for title in programme.required_columns:
        if fold(title) not in written:
            notes.add(Severity.ERROR, "column.missing",
                      f"Sarakstā nav aizpildītas kolonnas «{title}».",
                      f"Lūdzu, pievienojiet kolonnu «{title}» un aizpildiet to (kā pievienotajā "
                      "veidlapā).")


def _check_duplicates(participants: Sequence[Participant], institution: str | None,
                      circumstances: Circumstances, notes: Notes) -> None:
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
                   mailboxes: dict[str, Participant], notes: Notes) -> None:
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


def _name_field(plist: ParticipantList) -> Field | None:
    for field in (Field.FULL_NAME, Field.FULL_NAME_REVERSED, Field.FIRST_NAME):
        if plist.column_for(field):
            return field
    return None
