"""Who may apply to a programme (its kinds of institution, its partners) and groups too small to
be a supervision of their own, which staff merge."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from intake.config import load_programmes
from intake.core.model import GroupKind
from intake.core.programme import Programme
from intake.core.registry import FounderKind, Institution, InstitutionIndex
from intake.errors import ConfigError
from tests.unit.test_rules import codes, educators, judge, make_list, only

KINDS = ("Pirmsskolas izglītības iestāde", "Vispārējās izglītības iestāde",
         "Profesionālās pamata un vidējās izglītības iestāde", "Augstākās izglītības iestāde")
NATIONAL = Programme(name="national", title="Supervīzijas Latvijas pedagogiem", eligible_kinds=KINDS)
REGISTRY = InstitutionIndex([
    Institution("4013900123", "Rīgas 12. vidusskola", "Vispārējās izglītības iestāde",
                FounderKind.MUNICIPAL, "Rīga"),
    Institution("4012900777", "Mācību centrs Zināšanu Avots", "Pieaugušo neformālās izglītības iestāde",
                FounderKind.PRIVATE, "Rīga"),
    Institution("4334002981", "Ogres tehnikums", "Profesionālās pamata un vidējās izglītības iestāde",
                FounderKind.STATE, "Ogres novads"),
])


@pytest.mark.parametrize("institution", ["Rīgas 12. vidusskola", "4334002981", "OGRES TEHNIKUMS"])
def test_a_school_of_an_eligible_kind_is_accepted(institution):
    decision = judge(make_list(educators(3), institution), NATIONAL, registry=REGISTRY)
    assert decision.accepted, decision.findings


def test_an_adult_non_formal_training_company_is_refused_with_a_clear_reply():
    decision = judge(make_list(educators(3), "Mācību centrs Zināšanu Avots"), NATIONAL,
                     registry=REGISTRY)
    assert not decision.accepted
    finding = only(decision, "institution.ineligible")
    assert finding.message == (
        "Programmā «Supervīzijas Latvijas pedagogiem» var pieteikties tikai šādas izglītības "
        "iestādes: pirmsskolas izglītības iestādes, vispārējās izglītības iestādes, profesionālās "
        "pamata un vidējās izglītības iestādes un augstākās izglītības iestādes. Izglītības "
        "iestāžu reģistrā iestāde «Mācību centrs Zināšanu Avots» ir reģistrēta kā «pieaugušo "
        "neformālās izglītības iestāde», tāpēc tās pieteikumu šajā programmā nevaram pieņemt.")
    assert "atbildiet uz šo vēstuli" in finding.hint
    assert (finding.row, finding.column) == (2, 2)  # at the institution's cell


def test_kind_is_not_judged_without_the_registry_or_for_an_institution_not_in_it():
    assert judge(make_list(educators(3), "Mācību centrs Zināšanu Avots"), NATIONAL).accepted
    unknown = InstitutionIndex(REGISTRY._by_number.values(), imported=False)
    assert judge(make_list(educators(3), "Jaunā skola"), NATIONAL, registry=unknown).accepted


PUMPURS = Programme(name="pumpurs", title="Projekts PuMPuRS",
                    partners=("4334002981", "Rīgas 12. vidusskola"))


@pytest.mark.parametrize("institution", ["Ogres tehnikums", "4334002981", "rīgas 12. vidusskola"])
def test_a_partner_institution_applies_to_pumpurs(institution):
    assert judge(make_list(educators(3), institution), PUMPURS, registry=REGISTRY).accepted
    if institution.startswith("rīgas"):  # listed by name: found without the registry too
        assert judge(make_list(educators(3), institution), PUMPURS).accepted


def test_an_institution_not_among_the_partners_is_told_so():
    decision = judge(make_list(educators(3), "Mācību centrs Zināšanu Avots"), PUMPURS,
                     registry=REGISTRY)
    assert codes(decision) == ["institution.not-partner"]
    assert "nav programmas «Projekts PuMPuRS» sadarbības iestāžu sarakstā" in decision.findings[0].message


def test_a_lone_leader_is_a_group_for_staff_to_merge_and_the_list_is_accepted():
    programme = Programme(name="national", title="T", merge_below=3)
    rows = [("Ilze", "Ozola", "direktore", "ilze@skola.lv"), *educators(4, start=1)]
    decision = judge(make_list(rows, "Rīgas 12. vidusskola"), programme)
    assert decision.accepted
    assert [(g.kind, len(g.participants), g.to_merge) for g in decision.groups] == [
        (GroupKind.LEADERS, 1, True), (GroupKind.EDUCATORS, 4, False)]
    finding = only(decision, "group.to-merge")
    assert finding.message == ("1. grupā (iestādes vadītāji) ir 1 dalībnieks, bet supervīzijas "
                               "grupā jābūt vismaz 3 dalībniekiem.")
    assert "apvienos ar citu grupu" in finding.hint


def test_no_group_is_merged_without_the_setting():
    rows = [("Ilze", "Ozola", "direktore", "ilze@skola.lv"), *educators(2, start=1)]
    decision = judge(make_list(rows, "Rīgas 12. vidusskola"), Programme(name="n", title="T"))
    assert not any(g.to_merge for g in decision.groups)
    assert "group.to-merge" not in codes(decision)


def write_programme(folder: Path, *lines: str) -> Path:
    (folder / "p.toml").write_text("\n".join(['name = "p"', 'title = "P"', *lines]) + "\n",
                                   encoding="utf-8")
    return folder


def test_the_partner_file_beside_the_programme_is_read(tmp_path):
    (tmp_path / "partneri.txt").write_text("# partners\n4334002981  # Ogres tehnikums\n\n"
                                           "Rīgas 12. vidusskola\n", encoding="utf-8")
    folder = write_programme(tmp_path, 'partners = ["1234567890"]', 'partners_file = "partneri.txt"')
    assert load_programmes(folder)["p"].partners == ("1234567890", "4334002981",
                                                     "Rīgas 12. vidusskola")


@pytest.mark.parametrize(("lines", "message"), [
    (['partners_file = "nav.txt"'], "partners_file = "),
    (['partners_file = "tukss.txt"'], "lists no institution"),
    (["merge_below = 11"], "merge_below = 11: expected at most max_group_size (10)"),
])
def test_a_wrong_partner_file_or_merge_size_stops_the_start(tmp_path, lines, message):
    (tmp_path / "tukss.txt").write_text("# nobody yet\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_programmes(write_programme(tmp_path, *lines))


def test_the_shipped_programmes_name_their_kinds_partners_and_merge_size(tmp_path):
    from intake.config import resource_dir
    shipped = load_programmes(resource_dir("config") / "programmes")
    assert "Pieaugušo neformālās izglītības iestāde" not in shipped["national"].eligible_kinds
    assert "Vispārējās izglītības iestāde" in shipped["national"].eligible_kinds
    assert shipped["national"].merge_below == 3
    # Any institution until the project's whole partner list is in place; the shipped file, once
    # named, lists the partner the programme's texts name.
    assert shipped["pumpurs"].partners == ()
    folder = tmp_path / "programmes"
    shutil.copytree(resource_dir("config") / "programmes", folder)
    toml = folder / "pumpurs.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("# partners_file", "partners_file"),
                    encoding="utf-8")
    assert load_programmes(folder)["pumpurs"].partners == ("2713901240",)
