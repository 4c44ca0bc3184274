"""The institution registry (R8, R10): reading a VIIS export and recognising an institution's name."""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from intake.latvian import fold


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
    "pii": "pirmsskolas izglitibas iestade", "vsk": "vidusskola", "psk": "pamatskola",
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
        ))
    return institutions


def _unquote(name: str) -> str:
    # Some names are exported wrapped in an extra pair of quotes: `"1 1 1 A neformālās …"`.
    return name[1:-1].strip() if len(name) > 1 and name[0] == name[-1] == '"' else name


def name_key(name: str) -> str:
    """`Rīgas 12.vidusskola`, `"RĪGAS 12. VIDUSSKOLA"` and `Rigas 12 vsk` give one key."""
    words = fold(name).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


class InstitutionIndex:
    """Finds an institution by its registration number or its normalised name."""

    def __init__(self, institutions: Iterable[Institution]) -> None:
        self._by_number: dict[str, Institution] = {}
        self._by_name: dict[str, Institution] = {}
        for institution in institutions:
            self._by_number[institution.number] = institution
            self._by_name.setdefault(name_key(institution.name), institution)

    def __len__(self) -> int:
        return len(self._by_number)

    def match(self, text: str) -> Institution | None:
        for number in _REGISTRATION_NUMBER.findall(text):
            if number in self._by_number:
                return self._by_number[number]
        return self._by_name.get(name_key(_REGISTRATION_NUMBER.sub("", text)))
