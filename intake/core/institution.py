"""Where a mail names its institution (R10): candidates from every part of it, ranked, and the choice."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

from intake.core.latvian import fold
from intake.core.messages import QUOTE_HEADER
from intake.core.registry import InstitutionIndex, stem, stems


class Rank(IntEnum):
    """Where a name was written, most trustworthy first (the sheet's own label outranks them all)."""

    EXPLICIT = 1  # an «Iestāde: …» / «Izglītības iestāde: …» / «Skola: …» line
    OWN = 2  # the subject and the sender's own sentences
    SIGNATURE = 3  # the sender's signature block
    QUOTED = 4  # a quoted or forwarded mail: maybe another school's words
    DOMAIN = 5  # a guess from the sender's address


@dataclass(frozen=True, slots=True)
class Candidate:
    name: str
    rank: Rank
    number: str | None = None  # the registry's, when it knows the institution


@dataclass(frozen=True, slots=True)
class InstitutionChoice:
    """The institution a mail names, or the names it wavers between (then `name` is None)."""

    name: str | None = None
    rank: Rank | None = None
    conflict: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MailText:
    """The parts of a mail that may name an institution."""

    subject: str
    body: str
    forwarded: str = ""  # mails attached as message/rfc822
    sender: str = ""  # the From address


_EXPLICIT_LINE = re.compile(
    r"^\s*(?:izglītības\s+iestādes?(?:\s+nosaukums)?|izglitibas\s+iestades?|iestādes?(?:\s+nosaukums)?"
    r"|iestades?|skola)\s*[:\-–]\s*(\S.*)$", re.IGNORECASE)
# A signature begins with a closing phrase or the `-- ` separator.
_CLOSING = re.compile(
    r"^\s*(?:--\s*$|(?:ar\s+cieņu|ar\s+cienu|ar\s+labākajiem\s+vēlējumiem|ar\s+labiem\s+vēlējumiem"
    r"|ar\s+sveicieniem|ar\s+vislabākajiem|cieņā|paldies|jauku\s+dienu|с\s+уважением"
    r"|best\s+regards|kind\s+regards|regards|sincerely)\b)", re.IGNORECASE)
_CONTACT_LINE = re.compile(r"(tālr|talr|tel\b|mob\b|phone|\+371|\b[26]\d{7}\b|@|www\.)", re.IGNORECASE)
_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|vs|atb|pārs|pars|ats|antw)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)

# Tokens of a line: a quoted name, an ordinal (`12.`), a word (with an abbreviation's dot), a stop.
_TOKEN = re.compile(r"«[^»]{1,80}»|\"[^\"]{1,80}\"|„[^“”\"]{1,80}[“”\"]|“[^”]{1,80}”|\d+\.?"
                    r"|[^\W\d_]+(?:-[^\W\d_]+)*\.?|[^\w\s]")
_QUOTES = "«\"„“"
# A file name («Ogres_1_vidusskola.xlsx») names a file, not the sender's institution.
_FILE_NAME = re.compile(r"\S+\.(?:xlsx|xlsm|xls|ods|csv|docx|doc|pdf|odt|zip|eml)\b", re.IGNORECASE)

# Head words of institution names, by stem, with their nominative ending.
_HEADS = {"gimnazij": "a", "koledz": "a", "akademij": "a", "tehnikum": "s", "licej": "s",
          "bernudarz": "s", "universitat": "e", "augstskol": "a", "iestad": "e", "centr": "s"}
# Heads that name an institution only after these words: «izglītības iestāde», «mācību centrs»
# (a «centrs» alone is as often a shop or a clinic; the registry knows the real ones).
_NEEDS_BEFORE = {"iestad": frozenset({"izglitib"}), "centr": frozenset({"izglitib", "macib"})}
_ABBREVIATED_HEADS = {"vsk": "vidusskola", "psk": "pamatskola", "vidussk": "vidusskola",
                      "pamatsk": "pamatskola", "pii": "PII"}
# Lower-case words that belong to a name before its head («Cēsu Valsts ģimnāzija», «mūzikas skola»).
_NAME_WORDS = frozenset(stem(fold(w)) for w in (
    "valsts", "privātā", "speciālā", "speciālās", "profesionālā", "tālmācības", "mūzikas", "mākslas",
    "sporta", "vakara", "neklātienes", "maiņu", "kristīgā", "katoļu", "brīvā",
    "pirmsskolas", "izglītības", "interešu", "mācību", "tehniskā", "humanitārā", "ekonomikas",
    "tehnoloģiju", "dizaina", "amatniecības", "internātpamatskola", "sākumskola", "un", "pamatskola",
    "vidusskola", "tehnoloģijas", "medicīnas", "jauniešu", "bērnu", "pirmsskola", "skola",
    "universitātes", "angļu", "franču", "vācu", "klasiskā", "evaņģēliski", "luteriskā",
    "pareizticīgā", "ebreju", "poļu", "krievu", "ukraiņu", "lietuviešu", "baltkrievu", "montesori",
    "valdorfa", "teoloģijas", "pedagoģijas", "biznesa", "vadības", "lauksaimniecības"))
# Capitalised words that open a sentence but never a name.
_NOT_NAME_WORDS = frozenset(stem(fold(w)) for w in (
    "labdien", "labrīt", "labvakar", "sveiki", "sveiks", "sveicināti", "cienījamie", "cienījamā",
    "cienījamais", "godātie", "godātā", "pielikumā", "piesakām", "piesaka", "piesakās", "sūtām",
    "sūtu", "nosūtām", "nosūtu", "pārsūtu", "pārsūtām", "lūdzu", "lūdzam", "paldies",
    "mēs", "es", "mūsu", "šeit", "te", "no", "uz", "par", "ar", "un", "kā", "ka", "tā", "šī", "šīs",
    "pieteikums", "pieteikšanās", "pieteikumu", "saraksts", "sarakstu", "dalībnieku", "supervīzija",
    "supervīzijai", "supervīzijas", "supervīzijām", "tēma", "subject", "from", "re", "fw", "fwd",
    "direktore", "direktors", "direktora", "vietniece", "vietnieks", "skolotāja", "skolotājs",
    "sekretāre", "lietvede", "vadītāja", "vadītājs", "pedagogi", "pedagogu", "iesniedzam",
    "iesniedzu", "atsūtu", "atsūtām", "sakarā", "attiecībā", "pievienoju", "pievienojam", "jā",
    "nē", "programma", "programmā", "projekts", "projektā", "grupa", "grupā", "vēlamies", "vēlos",
    "pumpurs", "informēju", "informējam", "apstiprinām", "pēc", "pirms", "līdz", "kopā", "visi",
    "lūgums", "iesniegums", "application", "dear", "hello", "hi"))
_SUBJECT_LIMIT = 1_000  # a subject longer than this is no school's: the rest is not read
_BOUNDARY = frozenset(",:;!?()[]–—/|<>=*•-")


def find_candidates(mail: MailText, registry: InstitutionIndex | None) -> list[Candidate]:
    """Every institution name the mail writes, with where it was written."""
    own, signature, quoted = split_body(mail.body)
    found: list[Candidate] = []
    subject = _SUBJECT_PREFIX.sub("", mail.subject[:_SUBJECT_LIMIT])
    found.extend(_names_in(subject, Rank.OWN, registry))
    for rank, lines in ((Rank.OWN, own), (Rank.SIGNATURE, signature), (Rank.QUOTED, quoted),
                        (Rank.QUOTED, mail.forwarded.splitlines())):
        for line in lines:
            explicit = _EXPLICIT_LINE.match(line)
            if explicit:
                # The sender's own «Iestāde: …» (in a sentence or a signature) outranks all they wrote.
                found.extend(_names_in(explicit.group(1), Rank.EXPLICIT if rank < Rank.QUOTED else rank,
                                       registry, whole=True))
            else:
                found.extend(_names_in(line, rank, registry))
    if registry is not None and "@" in mail.sender:
        guessed = registry.by_domain(mail.sender.rpartition("@")[2])
        if guessed is not None:
            found.append(Candidate(guessed.name, Rank.DOMAIN, guessed.number))
    return found


def choose_institution(candidates: Sequence[Candidate]) -> InstitutionChoice:
    """The name at the best rank that has any; two different names there are not guessed between."""
    if not candidates:
        return InstitutionChoice()
    best = min(c.rank for c in candidates)
    # The sender's sentences and their signature are one voice: a sentence may name another
    # institution (a venue, a seminar) while the signature says who writes, so when they disagree
    # the school is asked rather than either taken.
    tier = {Rank.OWN, Rank.SIGNATURE} if best is Rank.OWN else {best}
    names: dict[str, str] = {}
    for candidate in candidates:
        if candidate.rank in tier:
            names.setdefault(candidate.number or " ".join(stems(candidate.name)), candidate.name)
    if len(names) == 1:
        return InstitutionChoice(next(iter(names.values())), best)
    return InstitutionChoice(None, best, tuple(dict.fromkeys(names.values())))


def find_institution(mail: MailText, registry: InstitutionIndex | None) -> InstitutionChoice:
    """The institution the mail names (or the names it wavers between)."""
    return choose_institution(find_candidates(mail, registry))


def names_written(text: str) -> list[str]:
    """The institution names a line reads as (a sheet's title row: «Cēsu Valsts ģimnāzijas
    pedagogu saraksts» gives «Cēsu Valsts ģimnāzija»); the registry recognises them later."""
    return [c.name for c in _names_in(text, Rank.EXPLICIT, None)]


def split_body(body: str) -> tuple[list[str], list[str], list[str]]:
    """(the sender's own lines, their signature, quoted and forwarded lines)."""
    own: list[str] = []
    quoted: list[str] = []
    lines = body.splitlines()
    for index, line in enumerate(lines):
        if QUOTE_HEADER.match(line):
            quoted.extend(lines[index:])
            break
        (quoted if line.lstrip().startswith(">") else own).append(line)
    for index, line in enumerate(own):
        if _CLOSING.match(line):
            return own[:index], own[index:], quoted
    # No closing phrase: a last paragraph of short lines with a phone or an address is a signature.
    while own and not own[-1].strip():
        own.pop()
    start = len(own)
    while start > 0 and own[start - 1].strip():
        start -= 1
    block = own[start:]
    if (block and len(block) <= 8 and all(len(line) < 80 for line in block)
            and any(_CONTACT_LINE.search(line) for line in block)):
        return own[:start], block, quoted
    return own, [], quoted


def _names_in(text: str, rank: Rank, registry: InstitutionIndex | None, *,
              whole: bool = False) -> Iterator[Candidate]:
    """The names in one line: the registry's first; then what reads as a name outside them."""
    text = _FILE_NAME.sub(" , ", text)
    tokens = [m.group() for m in _TOKEN.finditer(text)]
    if not tokens:
        return
    taken: set[int] = set()
    if registry is not None:
        for institution in registry.numbered(text):
            yield Candidate(institution.name, rank, institution.number)
        whole_name = registry.match(text) if whole else None
        if whole_name is not None:
            yield Candidate(whole_name.name, rank, whole_name.number)
            return
        words, owners = _stemmed(tokens)
        for start, end, institution in registry.scan(words):
            taken.update(owners[start:end])
            yield Candidate(institution.name, rank, institution.number)
    for name in _written_names(tokens, taken):
        known = registry.match(name) if registry is not None else None
        yield Candidate(known.name, rank, known.number) if known else Candidate(name, rank)


def _stemmed(tokens: list[str]) -> tuple[list[str], list[int]]:
    """The stems of the tokens' words, and for each stem the token it came from."""
    words: list[str] = []
    owners: list[int] = []
    for index, token in enumerate(tokens):
        if token[0] in _QUOTES:
            token = token[1:-1]
        for word in stems(token):
            words.append(word)
            owners.append(index)
    return words, owners


@lru_cache(maxsize=65_536)
def _head(token: str) -> str | None:
    """The nominative ending of an institution's head word («vidusskolas» -> "a"), or None."""
    folded = fold(token.rstrip("."))
    if folded in _ABBREVIATED_HEADS:
        return ""
    if " " in folded or not folded:
        return None
    word = stem(folded)
    if word.endswith("skol"):
        return "a"
    return _HEADS.get(word)


def _written_names(tokens: list[str], taken: set[int]) -> Iterator[str]:
    """Names that read as an institution's: a head word («vidusskola», «tehnikums», «PII», in any case
    form) with the words of its name before it (places, numbers, «Valsts», …) and a quoted name
    after it; the rest of the sentence cut away and the head put in the nominative."""
    index = 0
    while index < len(tokens):
        ending = _head(tokens[index])
        if ending is None or index in taken or _continues(tokens, index) or not _after_needed(tokens, index):
            index += 1
            continue
        first, head_start, last = _extent(tokens, index)
        # A number or an initial alone names nothing («12. vidusskola», «2 X 4 psk» in a log line).
        named = any(t[0] in _QUOTES or (t[0].isupper() and len(t.rstrip(".")) >= 3)
                    for t in (*tokens[first:head_start], *tokens[index + 1:last + 1]))
        if named and not taken & set(range(first, last + 1)):
            yield _nominative(tokens[first:last + 1], index - first, ending)
        index = last + 1


def _after_needed(tokens: list[str], index: int) -> bool:
    needed = _NEEDS_BEFORE.get(stem(fold(tokens[index].rstrip("."))))
    return needed is None or (index > 0 and stem(fold(tokens[index - 1])) in needed)


def _continues(tokens: list[str], index: int) -> bool:
    """«pirmsskolas» in «pirmsskolas izglītības iestāde» is not the head: «iestāde» is."""
    follows = [fold(t) for t in tokens[index + 1:index + 3]]
    return len(follows) == 2 and stem(follows[0]) == "izglitib" and stem(follows[1]) == "iestad"


def _extent(tokens: list[str], head: int) -> tuple[int, int, int]:
    """The first token of the name whose head is at `head`, of its head phrase, and its last."""
    folded = fold(tokens[head])
    head_start = head
    if stem(folded) == "iestad" and head >= 1 and stem(fold(tokens[head - 1])) == "izglitib":
        head_start = head - 1
        if head >= 2 and stem(fold(tokens[head - 2])) == "pirmsskol":
            head_start = head - 2
    first = head_start
    while first > 0:
        token = tokens[first - 1]
        # A word with a full stop ends the sentence before (an abbreviation is shorter).
        ends_sentence = token.endswith(".") and not token[0].isdigit() and len(token) > 4
        if token in _BOUNDARY or ends_sentence:
            break
        if token[0].isdigit() or token[0] in _QUOTES:
            first -= 1
            continue
        word = stem(fold(token.rstrip(".")))
        if word in _NOT_NAME_WORDS:
            break
        if token[0].isupper() or word in _NAME_WORDS:
            first -= 1
            continue
        break
    last = head
    if last + 1 < len(tokens) and tokens[last + 1][0] in _QUOTES:
        last += 1
    # A name does not begin with the lower-case words that only describe it («un», «mūzikas»).
    while first < head_start and not (tokens[first][0].isupper() or tokens[first][0].isdigit()
                                      or tokens[first][0] in _QUOTES):
        first += 1
    return first, head_start, last


def _nominative(tokens: list[str], head: int, ending: str) -> str:
    """«Ogres 1. vidusskolas» -> «Ogres 1. vidusskola»; «Rīgas Tehniskās koledžas» -> «… Tehniskā
    koledža»; «vsk» -> «vidusskola»."""
    words = list(tokens)
    word = words[head].rstrip(".")
    folded = fold(word)
    if folded in _ABBREVIATED_HEADS:
        words[head] = _ABBREVIATED_HEADS[folded]
    else:
        base = word[:len(stem(folded))]
        nominative = base + (ending.upper() if word.isupper() else ending)
        if nominative != word and ending == "a":
            # A feminine head in another case takes its adjectives with it: «brīvās» -> «brīvā».
            words[:head] = [w[:-1] if w.endswith("ās") else w for w in words[:head]]
        words[head] = nominative
    text = " ".join(words)
    return text.strip(" .")
