"""The `intake` command as a staff member runs it: validate, template, institutions import, demo."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from intake.core.blank_list import INSTITUTION_CELL
from intake.samples import make_faulty_list, make_good_list
from tests.conftest import HEADER, make_workbook, person, personal_code
from tests.end_to_end.conftest import run_in_process


@pytest.fixture
def run(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env["INTAKE_STATE_DIR"] = str(tmp_path / "state")

    def run(*args: str, extra_env: dict[str, str] | None = None,
            process: bool = False) -> subprocess.CompletedProcess[str]:
        """In this process; in its own where the exit status of `python -m intake` is the point."""
        if not process:
            return run_in_process(list(args), {**env, **(extra_env or {})}, tmp_path)
        return subprocess.run([sys.executable, "-m", "intake", *args], capture_output=True,
                              text=True, env={**env, **(extra_env or {})}, cwd=tmp_path, timeout=120)
    return run


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_validate_accepts_a_good_list_with_exit_0(run, tmp_path):
    result = run("validate", str(write(tmp_path, "labs.xlsx", make_good_list())), process=True)
    assert result.returncode == 0, result.stderr
    assert "Pieteikums supervīzijai: Rīgas 12. vidusskola — pieņemts" in result.stdout
    assert "180 minūtes" in result.stdout


def test_validate_rejects_with_exit_1_and_names_every_cell(run, tmp_path):
    result = run("validate", str(write(tmp_path, "kludains.xlsx", make_faulty_list())), process=True)
    assert result.returncode == 1
    assert ("Lapā «Saraksts», 6. rindā, kolonnā «E-pasts» (F6)\n   «anna@@skola.example.lv» nav "
            "derīga e-pasta adrese") in result.stdout


def test_validate_json_has_the_documented_shape(run, tmp_path):
    good = write(tmp_path, "labs.xlsx", make_good_list())
    bad = write(tmp_path, "kludains.xlsx", make_faulty_list())
    result = run("validate", "--json", str(good), str(bad))
    assert result.returncode == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["verdict"] == "accepted" and second["verdict"] == "rejected"
    assert [g["kind"] for g in first["groups"]] == ["leaders", "educators", "educators"]
    assert set(first["groups"][0]["participants"][0]) >= {
        "row", "first_name", "last_name", "position", "email"}
    finding = next(f for f in second["findings"] if f["code"] == "email.invalid")
    assert {k: finding[k] for k in ("severity", "sheet", "row", "column", "cell", "value")} == {
        "severity": "error", "sheet": "Saraksts", "row": 6, "column": "F", "cell": "F6",
        "value": "anna@@skola.example.lv"}
    assert finding["message"] and finding["hint"]


def test_validate_annotates_the_schools_own_workbook(run, tmp_path):
    bad = write(tmp_path, "kludains.xlsx", make_faulty_list())
    result = run("validate", "--annotate", str(tmp_path / "out"), str(bad))
    assert result.returncode == 1
    book = openpyxl.load_workbook(tmp_path / "out" / "kludains-piezimes.xlsx")
    assert book.sheetnames[0] == "Piezīmes"
    sheet = book["Saraksts"]
    assert sheet["F6"].value == "anna@@skola.example.lv"  # their data, untouched
    assert sheet["F6"].fill.fgColor.rgb.endswith("FFC7CE")  # red: an error
    assert "nav derīga e-pasta adrese" in sheet["F6"].comment.text
    assert sheet["D9"].fill.fgColor.rgb.endswith("FFEB9C")  # yellow: the unclear position
    summary = [row for row in book["Piezīmes"].iter_rows(min_row=4, values_only=True) if row[0]]
    assert len(summary) == 5


def test_annotated_copy_keeps_formula_looking_text_as_text(run, tmp_path):
    content = make_workbook([HEADER, (1, "Anna", "Bērziņa", "skolotāja", "=HYPERLINK(\"x\")")])
    bad = write(tmp_path, "formula.xlsx", content)
    run("validate", "--annotate", str(tmp_path / "out"), str(bad))
    summary = openpyxl.load_workbook(tmp_path / "out" / "formula-piezimes.xlsx")["Piezīmes"]
    cells = [c for row in summary.iter_rows(min_row=4) for c in row if c.value]
    formula_like = [c for c in cells if isinstance(c.value, str) and c.value.startswith("=")]
    assert formula_like, "the finding's value should be listed"
    assert all(c.data_type == "s" for c in formula_like)


def test_annotated_copy_of_a_merged_layout_masks_personal_codes(run, tmp_path):
    code = personal_code(date(1985, 4, 12))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Saraksts"
    sheet.append([*HEADER, "Personas kods"])
    sheet.append([None, "Pedagogi"])
    sheet.merge_cells("B2:F2")
    sheet.append([1, "Anna", "Bērziņa", "skolotāja", "anna@@skola.example.lv", code])
    sheet["D4"] = "skolotāja"
    sheet.merge_cells("D4:E4")  # E4, where "no e-mail" points, is merged away

    sheet.append([2, "Jānis", "Ozols", "skolotājs", "janis@skola.example.lv"])
    buffer = io.BytesIO()
    book.save(buffer)
    path = write(tmp_path, "apvienots.xlsx", buffer.getvalue())

    result = run("validate", "--annotate", str(tmp_path / "out"), str(path))

    assert result.returncode == 1 and "Traceback" not in result.stderr
    copy = openpyxl.load_workbook(tmp_path / "out" / "apvienots-piezimes.xlsx")["Saraksts"]
    assert copy["F3"].value == "******-*****"
    assert copy["E3"].comment is not None
    assert "E-pasts" in copy["D4"].comment.text


def test_blank_template_has_dropdowns_instructions_and_passes_when_filled(run, tmp_path):
    path = tmp_path / "veidlapa.xlsx"
    assert run("template", str(path)).returncode == 0
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Saraksts", "Norādījumi"]
    sheet = book["Saraksts"]
    formulas = sorted(v.formula1 for v in sheet.data_validations.dataValidation)
    assert any("vadītājs" in f for f in formulas) and any('"1,2,3' in f for f in formulas)
    sheet[INSTITUTION_CELL] = "Rīgas 12. vidusskola"
    sheet["B5"], sheet["C5"], sheet["D5"], sheet["E5"], sheet["F5"] = (
        "Ilze", "Kalniņa", "direktore", "vadītājs", "ilze@skola.example.lv")
    sheet["B6"], sheet["C6"], sheet["D6"], sheet["E6"], sheet["F6"] = (
        "Anna", "Bērziņa", "skolotāja", "pedagogs", "anna@skola.example.lv")
    buffer = io.BytesIO()
    book.save(buffer)
    filled = write(tmp_path, "aizpildita.xlsx", buffer.getvalue())
    result = run("validate", "--json", str(filled))
    assert result.returncode == 0, result.stdout
    decision = json.loads(result.stdout)
    assert decision["institution"] == "Rīgas 12. vidusskola"
    assert [g["kind"] for g in decision["groups"]] == ["leaders", "educators"]


def test_imported_registry_recognises_and_refuses_institutions(run, tmp_path):
    export = tmp_path / "viis.csv"
    export.write_text(
        "\ufeffNosaukums|Reģistrācijas numurs|Juridiskais status|Vadītājs|Veids|Tips|"
        "Faktiskais dibinātājs|Adrese\n"
        "Rīgas 12. vidusskola|1234567890|Pastarpinātās pārvaldes iestāde||Vispārējās izglītības "
        "iestāde|Vispārizglītojošā vidusskola|Rīgas Dome|IELA 1, RĪGA, LV-1000\n", encoding="utf-8")
    assert run("institutions", "import", str(export)).returncode == 0
    known = write(tmp_path, "zinama.xlsx", make_workbook(
        [("Izglītības iestāde: RĪGAS 12.VIDUSSKOLA",), HEADER, person(1)]))
    unknown = write(tmp_path, "nezinama.xlsx", make_workbook(
        [("Izglītības iestāde: Neesošā skola",), HEADER, person(1)]))
    result = run("validate", "--json", str(known), str(unknown))
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert (first["verdict"], first["institution"]) == ("accepted", "Rīgas 12. vidusskola")
    assert [f["code"] for f in second["findings"]] == ["institution.unknown"]


def test_imports_the_real_viis_export(run, shared_dir):
    result = run("institutions", "import", str(shared_dir / "data" / "institutions-viis-2020.csv"))
    assert result.returncode == 0, result.stderr
    assert "imported 2713 institutions" in result.stderr


@pytest.mark.parametrize("args", [
    ("validate",), ("validate", "--programme", "nonexistent", "x.xlsx"), ("validate", "missing.xlsx"),
    ("no-such-command",),
])
def test_usage_errors_exit_2(run, args):
    assert run(*args, process=True).returncode == 2


def test_configuration_error_names_the_problem(run, tmp_path):
    config = tmp_path / "intake.toml"
    config.write_text('default_programme = "nope"\n', encoding="utf-8")
    (tmp_path / "programmes").mkdir()
    (tmp_path / "programmes" / "a.toml").write_text('name = "a"\ntitle = "A"\n', encoding="utf-8")
    result = run("validate", "x.xlsx", extra_env={"INTAKE_CONFIG": str(config)})
    assert result.returncode == 78
    assert "unknown programme 'nope'" in result.stderr


def test_demo_runs_the_pipeline_without_any_server(run, tmp_path):
    result = run("demo")
    assert result.returncode == 0, result.stderr
    assert "application=2 auto=1 no_list=1" in result.stdout
    assert "replies sent=3" in result.stdout
    sent = list((tmp_path / "state" / "demo" / "sent" / "new").iterdir())
    assert len(sent) == 3
    assert "Ogres tehnikums – saraksts-piezimes.xlsx" in result.stdout
    again = run("demo")
    assert "application=2 auto=1 no_list=1" in again.stdout  # each demo starts afresh
