"""Reading a VIIS export and recognising an institution (R8, R10)."""

from __future__ import annotations

import pytest

from intake.core.registry import (
    FounderKind,
    Institution,
    InstitutionIndex,
    default_institutions,
    founder_kind,
    mail_domains,
    municipality_of,
    name_key,
    stems,
)
from intake.core.registry import parse_viis_export as parse

HEADER = ("Nosaukums|Reģistrācijas numurs|Juridiskais status|Vadītājs|Filiāļu skaits|"
          "Strukturvienību skaits|Veids|Tips|Faktiskais dibinātājs|Deklarētais dibinātājs|Likvidēta|"
          "Adrese|Tālrunis|E-pasts")
# Invented institutions, written the way VIIS writes its export: a BOM, pipes, quotes doubled inside
# quoted fields, some names wrapped in an extra pair of quotes.
EXPORT = "\ufeff" + "\n".join([
    HEADER,
    '"Saulkalnes 12. vidusskola"|4013900123|Pastarpinātās pārvaldes iestāde||0|0|'
    'Vispārējās izglītības iestāde|Vidusskola|Rīgas Dome|Rīgas Dome|Nē|'
    '"KASTAŅU IELA 5, LATGALES PRIEKŠPILSĒTA, RĪGA, LV-1050"|67000000|skola@example.lv',
    '"""Pūcīte"" privātā pirmsskola"|4010800456|Komercsabiedrība||0|0|'
    'Pirmsskolas izglītības iestāde|Pirmsskola|"Sabiedrība ar ierobežotu atbildību ""Pūcīte"""|'
    '"Sabiedrība ar ierobežotu atbildību ""Pūcīte"""|Nē|'
    '"MEŽA IELA 3, CARNIKAVA, CARNIKAVAS NOVADS, LV-2163"|29000000|pucite@example.lv',
    '"""Zvaigžņu tehnikums"""|4311900789|Valsts tiešās pārvaldes iestāde||1|0|'
    'Profesionālās izglītības iestāde|Tehnikums|Izglītības un zinātnes ministrija|'
    'Izglītības un zinātnes ministrija|Nē|"SKOLAS IELA 1, VARAKĻĀNI, VARAKĻĀNU NOVADS, LV-4838"||',
    '"Bez numura mācību centrs"|12345|Biedrība||0|0|Neformālās izglītības iestāde||'
    '(fiziska persona)|(fiziska persona)|Nē|"RĪGA, LV-1010"||',
]) + "\n"


def test_reads_every_institution_with_a_registration_number() -> None:
    institutions = parse(EXPORT)

    assert institutions == [
        Institution("4013900123", "Saulkalnes 12. vidusskola", "Vispārējās izglītības iestāde",
                    FounderKind.MUNICIPAL, "Rīga", ("example.lv",)),
        Institution("4010800456", '"Pūcīte" privātā pirmsskola', "Pirmsskolas izglītības iestāde",
                    FounderKind.PRIVATE, "Ādažu novads", ("example.lv",)),
        Institution("4311900789", "Zvaigžņu tehnikums", "Profesionālās izglītības iestāde",
                    FounderKind.STATE, "Madonas novads"),
    ]


def test_reads_an_export_without_a_bom() -> None:
    assert [i.number for i in parse(EXPORT.lstrip("\ufeff"))] == ["4013900123", "4010800456", "4311900789"]


@pytest.mark.parametrize("text", ["", "Nosaukums;Reģistrācijas numurs;Adrese\nA;4013900123;RĪGA\n",
                                  "Nosaukums|Adrese\nA|RĪGA\n"])
def test_refuses_a_file_that_is_not_a_viis_export(text: str) -> None:
    with pytest.raises(ValueError, match="not a VIIS export"):
        parse(text)


@pytest.mark.parametrize(
    ("address", "municipality"),
    [
        ("RIŅĶU IELA 6, SIGUĻI, CARNIKAVAS NOVADS, LV-2163", "Ādažu novads"),
        ("KASTAŅU IELA 5, LATGALES PRIEKŠPILSĒTA, RĪGA, LV-1050", "Rīga"),
        ("SKOLAS IELA 1, VARAKĻĀNI, VARAKĻĀNU NOVADS, LV-4838", "Madonas novads"),
        ("SKOLAS IELA 2, VANGAŽI, INČUKALNA NOVADS, LV-2136", "Ropažu novads"),  # split novads
        ("SKOLAS IELA 3, INČUKALNS, INČUKALNA NOVADS, LV-2141", "Siguldas novads"),
        ("RĪGAS IELA 10, DAUGAVPILS, LV-5401", "Daugavpils"),
        ("SKOLAS IELA 4, NAUJENES PAG., DAUGAVPILS NOVADS, LV-5462", "Augšdaugavas novads"),
        ("RĪGAS IELA 7, VALMIERA, LV-4201", "Valmieras novads"),
        ("BRĪVĪBAS IELA 1, JĒKABPILS, LV-5201", "Jēkabpils novads"),
        ("LIEPĀJAS IELA 3, SALDUS, SALDUS NOVADS, LV-3801", "Saldus novads"),
        ("Jūras iela 5, Jūrmala, LV-2015", "Jūrmala"),  # case does not matter
        ("21, GULBENES RAJONS, LV-4401", None),
        ("3, LV-2166", None),
        ("", None),
    ],
)
def test_municipality_of_gives_the_municipality_since_the_reform(
        address: str, municipality: str | None) -> None:
    assert municipality_of(address) == municipality


@pytest.mark.parametrize(
    ("legal_status", "founder", "kind"),
    [
        ("Pastarpinātās pārvaldes iestāde", "Rīgas Dome", FounderKind.MUNICIPAL),
        ("Pastarpinātās pārvaldes iestāde", "Madonas novada pašvaldība", FounderKind.MUNICIPAL),
        ("Pastarpinātās pārvaldes iestāde", "Daugavpils pilsētas pašvaldība", FounderKind.MUNICIPAL),
        ("Valsts tiešās pārvaldes iestāde", "Izglītības un zinātnes ministrija", FounderKind.STATE),
        ("Valsts iestāde", "Kultūras ministrija", FounderKind.STATE),
        ("Pastarpinātās pārvaldes iestāde", "Latvijas Universitāte", FounderKind.STATE),
        ("Komercsabiedrība", "(fiziska persona)", FounderKind.PRIVATE),
        ("Biedrība", "(fiziska persona)", FounderKind.PRIVATE),
        ("Komercsabiedrība", 'Sabiedrība ar ierobežotu atbildību "Pūcīte"', FounderKind.PRIVATE),
        ("", "", FounderKind.PRIVATE),
    ],
)
def test_founder_kind_tells_state_municipal_and_private_apart(
        legal_status: str, founder: str, kind: FounderKind) -> None:
    assert founder_kind(legal_status, founder) is kind


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Rīgas 12. vidusskola", "RĪGAS 12.VIDUSSKOLA"),
        ("Rīgas 12. vidusskola", '"Rīgas 12. vidusskola"'),
        ("Rīgas 12. vidusskola", "Rigas 12 vsk"),
        ("Ogres 1. pamatskola", "Ogres 1. psk."),
        ("Pirmsskolas izglītības iestāde «Pūcīte»", "PII Pūcīte"),
    ],
)
def test_name_key_is_one_for_spellings_of_one_name(one: str, other: str) -> None:
    assert name_key(one) == name_key(other)


INDEX = InstitutionIndex(parse(EXPORT))


def test_index_counts_its_institutions() -> None:
    assert len(INDEX) == 3


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("4013900123", "4013900123"),
        ("Reģ. Nr. 4013900123", "4013900123"),
        ("Saulkalnes 12. vidusskola (4013900123)", "4013900123"),
        ("Saulkalnes 12. vidusskola", "4013900123"),
        ("SAULKALNES 12. VIDUSSKOLA", "4013900123"),
        ("Saulkalnes 12.vidusskola", "4013900123"),
        ('"Saulkalnes 12. vidusskola"', "4013900123"),
        ("«Saulkalnes 12. vidusskola»", "4013900123"),
        ("saulkalnes 12 vsk", "4013900123"),
        ("  Saulkalnes   12. vidusskola ", "4013900123"),
        ('"Pūcīte" privātā pirmsskola', "4010800456"),
        ("PŪCĪTE PRIVĀTĀ PIRMSSKOLA", "4010800456"),
        ("Pucite privata pirmsskola", "4010800456"),
        ("Zvaigžņu tehnikums", "4311900789"),
        ('"""Zvaigžņu tehnikums"""', "4311900789"),
    ],
)
def test_index_matches_by_number_or_by_name_in_any_spelling(text: str, number: str) -> None:
    found = INDEX.match(text)

    assert found is not None
    assert found.number == number


@pytest.mark.parametrize(
    "text",
    [
        "Saulkalnes 13. vidusskola",
        "Saulkalnes vidusskola",
        "9999999999",  # a 10-digit number the registry does not hold
        "40139001234",  # 11 digits: not a registration number
        "",
    ],
)
def test_index_does_not_guess(text: str) -> None:
    assert INDEX.match(text) is None


# --- e-mail domains, case forms, the shipped registry -----------------------------------------

@pytest.mark.parametrize(("cell", "domains"), [
    ("skola@example.lv", ("example.lv",)),
    ("Skola@Example.LV, lietvede@example.lv; direktors@cits.example.lv",
     ("example.lv", "cits.example.lv")),
    ("12vsk@daugavpils.apollo.lv", ("daugavpils.apollo.lv",)),
    ("", ()),
    ("nav", ()),
])
def test_mail_domains_are_read_from_the_e_mail_cell(cell: str, domains: tuple[str, ...]) -> None:
    assert mail_domains(cell) == domains


def index_with_domains() -> InstitutionIndex:
    def school(number: str, name: str, *domains: str) -> Institution:
        return Institution(number, name, "Vispārējās izglītības iestāde", FounderKind.MUNICIPAL, None,
                           domains)
    return InstitutionIndex([
        school("4013900123", "Saulkalnes 12. vidusskola", "saulkalne12.lv"),
        school("4013900124", "Saulkalnes 13. vidusskola", "saulkalne.lv"),
        school("4013900125", "Saulkalnes sākumskola", "saulkalne.lv"),
        school("4013900126", "Privātā skola", "gmail.com"),
    ])


@pytest.mark.parametrize(("domain", "number"), [
    ("saulkalne12.lv", "4013900123"),
    ("SAULKALNE12.LV", "4013900123"),
    ("saulkalne.lv", None),  # shared by two institutions: a municipality's
    ("gmail.com", None),  # public mail, though one institution gives it
    ("cits.lv", None),
])
def test_a_domain_names_only_the_one_institution_that_uses_it(domain: str, number: str | None) -> None:
    found = index_with_domains().by_domain(domain)
    assert (found.number if found else None) == number


@pytest.mark.parametrize(("text", "name"), [
    ("Saulkalnes 12. vidusskolas pedagogi", "Saulkalnes 12. vidusskola"),
    ("pieteikums Saulkalnes 12. vidusskolai", "Saulkalnes 12. vidusskola"),
    ("mēs, saulkalnes 12 vsk, piesakām", "Saulkalnes 12. vidusskola"),
    ("«Pūcītes» privātās pirmsskolas saraksts", '"Pūcīte" privātā pirmsskola'),
    ("Zvaigžņu tehnikumā strādājošie", "Zvaigžņu tehnikums"),
])
def test_scan_finds_a_name_in_any_case_form_inside_a_sentence(text: str, name: str) -> None:
    (found,) = [institution.name for _start, _end, institution in INDEX.scan(stems(text))]
    assert found == name


def test_scan_takes_the_longest_name_where_two_overlap() -> None:
    index = InstitutionIndex([
        Institution("1", "Jelgavas tehnikums", "", FounderKind.STATE, None),
        Institution("2", "Jelgavas Valsts tehnikums", "", FounderKind.STATE, None),
    ])
    text = stems("Jelgavas Valsts tehnikuma pedagogi")
    assert [(start, end, i.number) for start, end, i in index.scan(text)] == [(0, 3, "2")]


def test_a_one_word_name_is_not_found_inside_sentences() -> None:
    index = InstitutionIndex([Institution("1", "Pamatskola", "", FounderKind.PRIVATE, None)])
    assert list(index.scan(stems("Mūsu pamatskola piesaka"))) == []
    assert index.match("Pamatskola") is not None


def test_the_shipped_registry_knows_every_institution_of_the_export(shared_dir) -> None:
    shipped = default_institutions()
    export = parse((shared_dir / "data" / "institutions-viis-2020.csv").read_text(encoding="utf-8"))
    assert shipped == export
    assert len(shipped) == 2713
    index = InstitutionIndex(shipped)
    found = index.match("Daugavpils 12. vidusskolas")
    assert found is not None
    assert found.domains == ("daugavpils.apollo.lv",)
    assert index.by_domain("daugavpils.apollo.lv") is None  # the city's schools share it
    assert index.by_domain("riga.lv") is None
    tehnikums = index.by_domain("ovt.lv")
    assert tehnikums is not None
    assert tehnikums.name == "Ogres tehnikums"
