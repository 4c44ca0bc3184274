"""The institution registry (R8, R10): reading a VIIS export and recognising an institution's name."""

from __future__ import annotations

import csv
import gzip
import io
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from importlib import resources

from intake.core.latvian import fold


class FounderKind(StrEnum):
    MUNICIPAL = "municipal"
    PRIVATE = "private"
    STATE = "state"


class FundingRoute(StrEnum):
    """R8: who a supervision's funding goes through."""

    MUNICIPALITY = "municipality"
    IKVD = "ikvd"


@dataclass(frozen=True, slots=True)
class Institution:
    number: str  # 10-digit registration number
    name: str
    kind: str  # VIIS "Veids", e.g. Vispārējās izglītības iestāde
    founder: FounderKind
    municipality: str | None  # after the 2021 reform; None where the address names none
    domains: tuple[str, ...] = ()  # of the export's "E-pasts" addresses, lower case


def funding_route(kind: str, founder: FounderKind) -> FundingRoute:
    """R8: higher-education and state institutions go through IKVD; municipal and private
    pre-school, general and vocational ones through their municipality. (A state general school,
    which DOMAIN does not name, has no municipality to finance it: IKVD.)"""
    if founder is FounderKind.STATE or fold(kind).startswith("augstakas izglitibas"):
        return FundingRoute.IKVD
    return FundingRoute.MUNICIPALITY


_REGISTRATION_NUMBER = re.compile(r"(?<!\d)(\d{10})(?!\d)")
# Abbreviations schools write for the words in the registry's names.
_ABBREVIATIONS = {
    "pii": "pirmsskolas izglitibas iestade", "vg": "valsts gimnazija", "vsk": "vidusskola",
    "psk": "pamatskola",
    "vidussk": "vidusskola", "pamatsk": "pamatskola", "pirmsk": "pirmsskola",
}


@cache
def _municipality_table() -> dict[str, Mapping[str, object]]:
    text = resources.files("intake").joinpath("data/municipalities.toml").read_text("utf-8")
    return tomllib.loads(text)


def municipality_of(address: str) -> str | None:
    """The municipality (since 2021, with the 2025 change) of a VIIS address, from its last parts."""
    table = _municipality_table()
    parts = [p.strip().upper() for p in address.split(",") if p.strip()]
    places = table["places"]
    for part in parts:
        if part in places:
            return str(places[part])
    novadi, cities = table["novadi"], table["state_city_names"]
    for part in reversed(parts):
        if part in novadi:
            return str(novadi[part])
        if part in cities:
            return str(cities[part])
    return None


_PRIVATE = re.compile(r"komercsabiedrib|biedrib|nodibinajum|fizisk|religisk|privato tiesibu"
                      r"|^(sia|as)\b|\b(sia|as)$")
_STATE = re.compile(r"ministrij|\bvalsts\b|atvasinata publiska persona|universitat")
_MUNICIPAL = re.compile(r"\bdome\b|pasvaldib")


def founder_kind(legal_status: str, founder: str) -> FounderKind:
    """Who founded the institution, from VIIS's legal status and its founder's name."""
    status, who = fold(legal_status), fold(founder)
    if _PRIVATE.search(status) or _PRIVATE.search(who):
        return FounderKind.PRIVATE
    if _STATE.search(status) or _STATE.search(who):
        return FounderKind.STATE
    if _MUNICIPAL.search(status) or _MUNICIPAL.search(who):
        return FounderKind.MUNICIPAL
    return FounderKind.PRIVATE


def parse_viis_export(text: str) -> list[Institution]:
    """A VIIS export: pipe-separated, quoted, with a header row (a BOM is tolerated)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter="|")
    required = {"Nosaukums", "Reģistrācijas numurs", "Veids", "Adrese"}
    if not reader.fieldnames or not required <= set(reader.fieldnames):
        raise ValueError(f"not a VIIS export: expected columns {sorted(required)}")
    institutions = []
    for row in reader:
        number = (row.get("Reģistrācijas numurs") or "").strip()
        if not _REGISTRATION_NUMBER.fullmatch(number):
            continue
        institutions.append(Institution(
            number=number,
            name=_unquote((row.get("Nosaukums") or "").strip()),
            kind=(row.get("Veids") or "").strip(),
            founder=founder_kind(row.get("Juridiskais status") or "",
                                 row.get("Faktiskais dibinātājs") or ""),
            municipality=municipality_of(row.get("Adrese") or ""),
            domains=mail_domains(row.get("E-pasts") or ""),
        ))
    return institutions


# The VIIS open-data export of 2020 (data.gov.lv, "Izglītības iestāžu reģistrs"), shipped so that a
# new installation knows every institution before anyone imports a newer one.
DEFAULT_EXPORT = "data/institutions-viis.csv.gz"


def default_institutions() -> list[Institution]:
    """The registry that ships with the package."""
    data = resources.files("intake").joinpath(DEFAULT_EXPORT).read_bytes()
    return parse_viis_export(gzip.decompress(data).decode("utf-8"))


_ADDRESS_DOMAIN = re.compile(r"@([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\.[a-z]{2,})", re.IGNORECASE)


def mail_domains(addresses: str) -> tuple[str, ...]:
    """The domains of the addresses in an export's "E-pasts" cell (it may hold several)."""
    return tuple(dict.fromkeys(d.lower() for d in _ADDRESS_DOMAIN.findall(addresses)))


def _unquote(name: str) -> str:
    # Some names are exported wrapped in an extra pair of quotes: `"1 1 1 A neformālās …"`.
    return name[1:-1].strip() if len(name) > 1 and name[0] == name[-1] == '"' else name


def name_key(name: str) -> str:
    """`Rīgas 12.vidusskola`, `"RĪGAS 12. VIDUSSKOLA"` and `Rigas 12 vsk` give one key."""
    words = fold(name).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


# Free mail and the big providers: an address there says nothing about the school behind it.
PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "inbox.lv", "apollo.lv", "one.lv", "outlook.com", "hotmail.com",
    "live.com", "msn.com", "yahoo.com", "icloud.com", "me.com", "mail.ru", "yandex.ru", "yandex.com",
    "tvnet.lv", "latnet.lv", "e-apollo.lv", "navigator.lv", "gmx.com", "gmx.net", "protonmail.com",
    "proton.me", "aol.com", "bk.ru",
})
_WORD = re.compile(r"\d+|[a-z]+")
# Latvian case endings, longest first: `vidusskolas`, `vidusskolai`, `vidusskolā` share a stem, so a
# name is recognised in any case form its sentence puts it in.
_ENDINGS = ("ajiem", "ajam", "ajai", "ajas", "iem", "aja", "am", "as", "ai", "ei", "es", "em", "is",
            "os", "us", "im", "a", "e", "i", "o", "u", "s")
_STEM_ABBREVIATIONS = {"vsk": "vidusskol", "psk": "pamatskol", "vidussk": "vidusskol",
                       "pamatsk": "pamatskol", "pirmsk": "pirmsskol", "sakumsk": "sakumskol"}
# Names schools shorten to letters: «PII», «Cēsu VĢ».
_SHORT_FORMS = {("pirmsskol", "izglitib", "iestad"): "pii", ("valst", "gimnazij"): "vg"}


@lru_cache(maxsize=65_536)  # the words of mail repeat: each is stemmed once per process
def stem(folded_word: str) -> str:
    """A folded word without its case ending (numbers as they are)."""
    if folded_word in _STEM_ABBREVIATIONS:
        return _STEM_ABBREVIATIONS[folded_word]
    if folded_word.isdigit():
        return folded_word
    for ending in _ENDINGS:
        if folded_word.endswith(ending) and len(folded_word) - len(ending) >= 3:
            return folded_word[:-len(ending)]
    return folded_word


def stems(text: str) -> tuple[str, ...]:
    """The stems of a text's words, in order: what names are compared by."""
    return tuple(stem(word) for word in _WORD.findall(fold(text)))


def _spellings(words: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """A name's stems, and with «pirmsskolas izglītības iestāde» written as «PII», «Valsts
    ģimnāzija» as «VĢ», as schools do."""
    yield words
    for long, short in _SHORT_FORMS.items():
        for i in range(len(words) - len(long) + 1):
            if words[i:i + len(long)] == long:
                yield (*words[:i], short, *words[i + len(long):])
                break


class InstitutionIndex:
    """Finds an institution by its registration number, its name (in any case form) or its e-mail
    domain; built once and handed to worker processes, so matching a mail costs a dictionary
    look-up per word."""

    def __init__(self, institutions: Iterable[Institution], *, imported: bool = True) -> None:
        # False for the shipped export: it misses what opened or was renamed since, so a name it
        # does not know is taken as given rather than refused (R10 refuses against an imported one).
        self.imported = imported
        self._by_number: dict[str, Institution] = {}
        self._by_name: dict[str, Institution] = {}
        self._by_stems: dict[tuple[str, ...], Institution] = {}
        # first stem -> the names starting with it, longest first
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        self._by_domain: dict[str, Institution | None] = {}  # None: several institutions share it
        for institution in institutions:
            self._by_number[institution.number] = institution
            self._by_name.setdefault(name_key(institution.name), institution)
            for words in _spellings(stems(institution.name)):
                # A one-word name (`Pamatskola`) would be found in every sentence that says the word.
                if len(words) >= 2 and words not in self._by_stems:
                    self._by_stems[words] = institution
                    self._by_first.setdefault(words[0], []).append(words)
            for domain in institution.domains:
                known = self._by_domain.get(domain, institution)
                self._by_domain[domain] = (
                    institution if known is not None and known.number == institution.number else None)
        for names in self._by_first.values():
            names.sort(key=len, reverse=True)

    def __len__(self) -> int:
        return len(self._by_number)

    def match(self, text: str) -> Institution | None:
        """The institution a text names as a whole: its number, or its name in any case form."""
        for number in _REGISTRATION_NUMBER.findall(text):
            if number in self._by_number:
                return self._by_number[number]
        text = _REGISTRATION_NUMBER.sub("", text)
        return self._by_name.get(name_key(text)) or self._by_stems.get(stems(text))

    def numbered(self, text: str) -> Iterator[Institution]:
        """The institutions whose registration numbers a text quotes."""
        for number in _REGISTRATION_NUMBER.findall(text):
            if number in self._by_number:
                yield self._by_number[number]

    def scan(self, words: Sequence[str]) -> Iterator[tuple[int, int, Institution]]:
        """(start, end, institution) of every registry name in a sequence of stems, longest first
        where names overlap."""
        position = 0
        while position < len(words):
            for name in self._by_first.get(words[position], ()):
                end = position + len(name)
                if tuple(words[position:end]) == name:
                    yield position, end, self._by_stems[name]
                    position = end
                    break
            else:
                position += 1

    def by_domain(self, domain: str) -> Institution | None:
        """The one institution that uses this e-mail domain; None for public mail or a shared one."""
        domain = domain.lower()
        if domain in PUBLIC_MAIL_DOMAINS:
            return None
        return self._by_domain.get(domain)
