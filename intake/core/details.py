"""What an application says besides its list: the contact person, the days and times that suit the
school, in person or remote, and its questions and remarks, from the mail and the list's extra
columns and lines. Pure and cheap: regular expressions over a few lines of text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from intake.core.latvian import fold, normalise

MAX_TEXT = 300  # one question, remark or time as stored: a sentence, not a letter
MAX_ITEMS = 5  # questions, remarks, times kept per application
_SCAN_LINES = 60  # the lines of a mail read: the sender's own words come first


class Mode(StrEnum):
    """How the school wants the session held."""

    IN_PERSON = "in_person"
    REMOTE = "remote"
    EITHER = "either"


MODE_LABELS = {Mode.IN_PERSON: "klātienē", Mode.REMOTE: "attālināti",
               Mode.EITHER: "klātienē vai attālināti"}


@dataclass(frozen=True, slots=True)
class Details:
    """An application's details for the coordinator; only what arranging the session needs."""

    contact_name: str | None = None
    contact_position: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    times: tuple[str, ...] = ()  # preferred days and times, as the school wrote them
    mode: Mode | None = None
    questions: tuple[str, ...] = ()
    remarks: tuple[str, ...] = ()
    # The list's optional columns a programme names (region, day): title -> the values written.
    columns: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        return self == Details()

    def as_json(self) -> dict[str, object]:
        return {"contact": {"name": self.contact_name, "position": self.contact_position,
                            "phone": self.contact_phone, "email": self.contact_email},
                "times": list(self.times), "mode": self.mode.value if self.mode else None,
                "questions": list(self.questions), "remarks": list(self.remarks),
                "columns": dict(self.columns)}


# --- the words, matched on folded text (lower case, no diacritics, punctuation as spaces) ------

_WEEKDAY = (r"(pirmd|otrd|tresd|ceturtd|piektd|sestd|svetd)\w*"
            r"|(monday|tuesday|wednesday|thursday|friday)s?")
_MONTH = (r"(janvar|februar|mart|april|maij|junij|julij|august|septembr|oktobr|novembr|decembr)\w*")
_TIME_WORDS = re.compile(
    rf"\b({_WEEKDAY}|{_MONTH}|plkst|pulksten\w*|pecpusdien\w*|priekspusdien\w*|rit\w* pus\w*"
    r"|vakar(a|os)|no rita|brivdien\w*|brivlaik\w*|stund(a|u|as) laika|nedel\w*|nedela"
    r"|datum\w*|laiks|laiku|laikā|dien(a|as|u|a)|\d{1,2} \d{2}( \d{2,4})?)\b")
_CLOCK = re.compile(r"\b([01]?\d|2[0-3])[:.][0-5]\d\b|\bplkst\.?\s*\d{1,2}\b", re.IGNORECASE)
_IN_PERSON = re.compile(r"\b(klatien\w*|uz vietas|in person|face to face|musu skola\w*|pie mums"
                        r"|(notikt|notiktu|nakt|atbraukt|ierasties) (uz |pie mums )?skol\w*)\b")
_REMOTE = re.compile(r"\b(attalinat\w*|tiessaist\w*|zoom\w*|teams|online|remote\w*|videozvan\w*)\b")
_EITHER = re.compile(r"\b(der abi|abi varianti|abi veidi|vienalga|jebkur\w*|either)\b")
_NOT = re.compile(r"\b(ne|nevar\w*|nevelam\w*|nevelas|negribam|nav iespej\w*|not)\s+(\w+\s+)?$")

# `Kontaktpersona: Anna Bērziņa`, `Tālr.: 29 123 456`, `Vēlamais laiks: otrdienās`.
_LABEL = re.compile(r"^\s*([^\W\d_][\w .()/]{1,40}?)\s*[:\-–]\s+(.+)$")
_CONTACT_LABEL = re.compile(r"^(kontaktpersona|kontaktpersonas|kontakt\w*|atbildiga persona"
                            r"|atbildigais|sagatavoja|contact person|contact)$")
_PHONE_LABEL = re.compile(r"\b(talr|talrunis|talrunu|telefons|telefona|tel|mob|mobilais|t|phone"
                          r"|m|gsm)\b")
_TIME_LABEL = re.compile(r"^(velam\w* (laiks|dienas|diena|datums|datumi|laiki|termin\w*)|laiks"
                         r"|dienas|diena|datums|datumi|iespejamais laiks|iespejamie laiki"
                         r"|preferred (time|days?|dates?)|time|day)$")
_MODE_LABEL = re.compile(r"^(norise|norises veids|norises forma|forma|veids|format|mode)$")
_QUESTION_LABEL = re.compile(r"^(jautajums|jautajumi|question|questions)$")
_REMARK_LABEL = re.compile(r"^(piezime|piezimes|piebilde|komentars|komentari|papildu informacija"
                           r"|remarks?|comments?|notes?)$")
_POSITION = re.compile(
    r"\b(direktor\w*|vietniek\w*|vietniec\w*|dir|metodik\w*|vaditaj\w*|skolotaj\w*|pedagog\w*"
    r"|sekretar\w*|lietved\w*|psihologs|psihologe|logoped\w*|koordinator\w*|specialist\w*"
    r"|parzin\w*|asistent\w*|principal|deputy|teacher|secretary|coordinator|head)\b")
# Where a signature begins: the closing words, or the `-- ` line of Gmail and Thunderbird.
_CLOSING = re.compile(
    r"^(ar cienu|ar lielu cienu|cienu|ar labiem velejumiem|labus velejumus|ar sveicieniem"
    r"|sveicieni|paldies|jau iepriekš paldies|jau ieprieks paldies|best regards|kind regards"
    r"|regards|sincerely|with regards|thanks|thank you|s pozdravom|s uvazheniem)\b")
_SIGNATURE_RULE = re.compile(r"^\s*(--|__+|—)\s*$")
_GREETING = re.compile(r"^(labdien|labrit|labvakar|sveiki|sveicinati|cienijam\w*|hello|hi|dear"
                       r"|godajam\w*)\b")
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# A Latvian number: eight digits from 2 (mobile) or 6 (fixed), written together or in groups,
# perhaps after +371 or 00371; never a piece of a longer number (a registration number, a code).
_PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)\s?371[\s.-]*)?([26](?:[\s.-]?\d){7})(?![\d])")
_INTERNATIONAL = re.compile(r"(?:\+|00)\s?371")
_NAME_WORD = re.compile(r"^[A-ZĀČĒĢĪĶĻŅŠŪŽ][a-zāčēģīķļņšūž]+(?:-[A-ZĀČĒĢĪĶĻŅŠŪŽ][a-zāčēģīķļņšūž]+)?$")
# A sentence ends at `.`, `!` or `?` before a capital letter or the end: `plkst. 14.00` goes on.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZĀČĒĢĪĶĻŅŠŪŽ«\"„])")
_INSTITUTION = re.compile(r"\b(\w*skola\w*|gimnazij\w*|tehnikum\w*|koledz\w*|universitat\w*|pii"
                          r"|licej\w*|akademij\w*|iestade\w*|centrs|dienests)\b")


def extract_details(*, sender_name: str = "", sender: str = "", body: str = "",
                    extras: Sequence[tuple[str, str]] = (),
                    wanted_columns: Sequence[str] = ()) -> Details:
    """The details in a mail's own text (not what it quotes) and in a list's extra columns
    (`(title, value)`) and lines (`("", text)`); `wanted_columns` are the optional columns a
    programme asks for (by folded title)."""
    found = _Found()
    lines = [normalise(line) for line in body.splitlines()[:_SCAN_LINES]]
    _read_body([line for line in lines if line], found)
    for title, value in extras:
        _read_extra(title, value, found, wanted_columns)
    name = found.name or _person(sender_name)
    email = found.email or (sender or None)
    return Details(
        contact_name=_clip(name) if name else None,
        contact_position=_clip(found.position) if found.position else None,
        contact_phone=found.phone, contact_email=_clip(email) if email else None,
        times=_first(found.times), mode=_mode(found.modes), questions=_first(found.questions),
        remarks=_first(found.remarks),
        columns=tuple(dict.fromkeys(found.columns))[:2 * MAX_ITEMS])


@dataclass
class _Found:
    name: str | None = None
    position: str | None = None
    phone: str | None = None
    email: str | None = None
    times: list[str] = field(default_factory=list)
    modes: list[Mode] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    columns: list[tuple[str, str]] = field(default_factory=list)


def _read_body(lines: list[str], found: _Found) -> None:
    signature_from = next((i for i, line in enumerate(lines) if _SIGNATURE_RULE.match(line)
                           or (len(line) <= 60 and _CLOSING.match(fold(line)))), None)
    text_lines = lines if signature_from is None else lines[:signature_from]
    signature = [] if signature_from is None else lines[signature_from:signature_from + 8]
    for line in text_lines:
        if _labelled(line, found):
            continue
        if _GREETING.match(fold(line)) and len(line) < 40:
            continue
        _read_sentences(line, found)
    _read_signature(signature, found)


def _labelled(line: str, found: _Found) -> bool:
    """A `Label: value` line of the kinds above; True when it was one."""
    match = _LABEL.match(line)
    if not match:
        return False
    label, value = fold(match.group(1)), match.group(2).strip()
    if _CONTACT_LABEL.match(label):
        _read_contact(value, found)
    elif _PHONE_LABEL.fullmatch(label):
        found.phone = found.phone or phone_number(value)
    elif label in ("e pasts", "epasts", "e pasta adrese", "e mail", "email"):
        address = _EMAIL.search(value)
        found.email = found.email or (address.group(0) if address else None)
    elif label in ("amats", "position"):
        found.position = found.position or value
    elif _TIME_LABEL.match(label):
        found.times.append(_clip(value))
        _add_mode(value, found)
    elif _MODE_LABEL.match(label):
        _add_mode(value, found, stated=True)
    elif _QUESTION_LABEL.match(label):
        found.questions.append(_clip(value))
    elif _REMARK_LABEL.match(label):
        _read_remark(value, found)
    else:
        return False
    return True


def _read_contact(value: str, found: _Found) -> None:
    """`Anna Bērziņa, direktora vietniece, tālr. 29123456, anna@skola.lv`."""
    found.phone = found.phone or phone_number(value)
    address = _EMAIL.search(value)
    if address:
        found.email = found.email or address.group(0)
    for part in re.split(r"[,;(]", _EMAIL.sub("", value)):
        part = part.strip(" )")
        if not part or phone_number(part) or _PHONE_LABEL.match(fold(part)):
            continue
        if found.name is None and _person(part):
            found.name = _person(part)
        elif found.position is None and _POSITION.search(fold(part)):
            found.position = part


def _read_sentences(line: str, found: _Found) -> None:
    for sentence in (s.strip() for s in _SENTENCE_END.split(line)):
        if not sentence:
            continue
        if _labelled(sentence, found):
            continue
        folded = fold(sentence)
        if sentence.endswith("?"):
            found.questions.append(_clip(sentence))
        elif _TIME_WORDS.search(folded) and (_CLOCK.search(sentence) or re.search(
                rf"\b({_WEEKDAY}|{_MONTH})\b", folded) or re.search(r"\d", sentence)):
            found.times.append(_clip(sentence))
        _add_mode(sentence, found)
        found.phone = found.phone or _labelled_phone(sentence)


def _read_signature(lines: list[str], found: _Found) -> None:
    """The lines under `Ar cieņu`: a name, a position, the institution, a phone, an address."""
    if lines:  # `Ar cieņu, Anna Bērziņa`: the name on the closing's own line
        rest = _CLOSING.sub("", fold(lines[0]))
        if rest.strip():
            lines = [lines[0], *(part.strip() for part in lines[0].split(",")[1:])]
    for line in lines[1:]:
        if _labelled(line, found):
            continue
        folded = fold(line)
        number = phone_number(line)
        address = _EMAIL.search(line)
        if number:
            found.phone = found.phone or number
        if address:
            found.email = found.email or address.group(0)
        if number or address:
            continue
        if found.name is None and _person(line):
            found.name = _person(line)
        elif (found.position is None and _POSITION.search(folded) and len(line) <= 80
              and not _INSTITUTION.search(folded)):
            found.position = line.strip(" ,")
        elif found.position is None and "," in line:  # `Anna Bērziņa, direktore`
            name, _, position = line.partition(",")
            if _person(name) and _POSITION.search(fold(position)):
                found.name = found.name or _person(name)
                found.position = position.strip()


def _read_extra(title: str, value: str, found: _Found, wanted: Sequence[str]) -> None:
    folded_title = fold(title)
    if not folded_title:  # a line under or above the list
        if not _labelled(value, found):
            _read_sentences(value, found)
        return
    if folded_title in wanted:
        found.columns.append((title, _clip(value)))
    if _TIME_LABEL.match(folded_title) or re.search(r"\b(laiks|diena|dienas|datums)\b", folded_title):
        found.times.append(_clip(value))
        _add_mode(value, found)
    elif _MODE_LABEL.match(folded_title):
        _add_mode(value, found, stated=True)
    elif _QUESTION_LABEL.match(folded_title):
        found.questions.append(_clip(value))
    elif _REMARK_LABEL.match(folded_title) or re.search(r"\b(piezim|komentar)", folded_title):
        _read_remark(value, found)
    elif _CONTACT_LABEL.match(folded_title):
        _read_contact(value, found)
    elif _PHONE_LABEL.fullmatch(folded_title):
        found.phone = found.phone or phone_number(value)


def _read_remark(value: str, found: _Found) -> None:
    for sentence in (s.strip() for s in _SENTENCE_END.split(value)):
        if sentence.endswith("?"):
            found.questions.append(_clip(sentence))
        elif sentence:
            found.remarks.append(_clip(sentence))
        _add_mode(sentence, found)


def _add_mode(text: str, found: _Found, *, stated: bool = False) -> None:
    folded = fold(text)
    if _EITHER.search(folded) or (stated and _IN_PERSON.search(folded) and _REMOTE.search(folded)):
        found.modes.append(Mode.EITHER)
        return
    for pattern, mode in ((_IN_PERSON, Mode.IN_PERSON), (_REMOTE, Mode.REMOTE)):
        match = pattern.search(folded)
        if match and not _NOT.search(folded[:match.start()]):
            found.modes.append(mode)


def _mode(modes: list[Mode]) -> Mode | None:
    if not modes:
        return None
    if Mode.EITHER in modes or len(set(modes)) > 1:
        return Mode.EITHER
    return modes[0]


def phone_number(text: str) -> str | None:
    """A Latvian phone number in `text` as `+371 XXXXXXXX`, or None."""
    match = _PHONE.search(text)
    if not match:
        return None
    digits = re.sub(r"\D", "", match.group(1))
    return f"+371 {digits}"


def _labelled_phone(sentence: str) -> str | None:
    """A number in running text counts only with a label or the country code before it."""
    match = _PHONE.search(sentence)
    if not match:
        return None
    before = fold(sentence[:match.start()])
    if _INTERNATIONAL.match(match.group(0)) or _PHONE_LABEL.search(" ".join(before.split()[-3:])):
        return phone_number(sentence[match.start():])
    return None


def _person(text: str) -> str | None:
    """A person's name (two or three capitalised words), without titles: else None."""
    words = text.replace("\"", " ").strip(" ,.").split()
    if 2 <= len(words) <= 3 and all(_NAME_WORD.match(w) for w in words) and not (
            _POSITION.search(fold(text)) or _INSTITUTION.search(fold(text))):
        return " ".join(words)
    return None


def _clip(text: str) -> str:
    text = normalise(text)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1].rstrip() + "…"


def _first(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))[:MAX_ITEMS]
