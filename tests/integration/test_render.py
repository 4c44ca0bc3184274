"""`python -m tests.render`: what schools and staff see, rendered to pictures before a commit.
It runs on a few samples and fails on an error (a template, Chromium, LibreOffice), not on taste."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from intake.config import resource_dir
from tests import render
from tests.support import in_ci

SAMPLES = ("rejected", "summary-mailbox-not-read", "annotated-copy", "export")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def tools() -> None:
    missing = [name for name in ("chromium", "soffice", "pdftoppm") if shutil.which(name) is None]
    if missing:
        message = (f"{', '.join(missing)} not installed: apt-get install -y chromium "
                   "libreoffice-calc-nogui poppler-utils")
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


def test_renders_replies_the_summary_and_workbooks_to_pictures(tools, tmp_path, capsys):
    assert render.main([str(tmp_path), "--only", *SAMPLES]) == 0

    printed = [Path(line) for line in capsys.readouterr().out.split()]
    assert {p.parent.name for p in printed} == {"replies", "summary", "workbooks"}
    for picture in printed:
        assert picture.read_bytes().startswith(PNG)
    assert (tmp_path / "replies" / "rejected.html").read_text(encoding="utf-8").count(
        "Temats:") == 1
    assert "jāizlabo" in (tmp_path / "replies" / "rejected.txt").read_text(encoding="utf-8")
    # One page wide: the export's four sheets of a few rows print on four pages, not thirteen.
    assert sorted(p.name for p in printed if p.name.startswith("export")) == [
        f"export-{n}.png" for n in range(1, 5)]
    assert any(p.name == "annotated-copy-1.png" for p in printed)


def test_a_broken_template_fails_the_run(tmp_path, capsys):
    templates = tmp_path / "templates"
    shutil.copytree(resource_dir("templates"), templates)
    (templates / "_findings.txt").write_text("{{ finding|where }", encoding="utf-8")

    assert render.main([str(tmp_path / "out"), "--only", "rejected",
                        "--templates", str(templates)]) == 1

    assert capsys.readouterr().err.startswith("render: ")


def test_an_unknown_sample_fails_the_run(tmp_path, capsys):
    assert render.main([str(tmp_path), "--only", "no-such-reply"]) == 1
    assert "no sample named no-such-reply" in capsys.readouterr().err


def test_every_kind_of_reply_and_summary_has_a_sample(capsys):
    assert render.main(["--list"]) == 0
    names = capsys.readouterr().out.split()
    for name in ("accepted", "rejected", "correction-accepted", "repeat", "repeat-rejected",
                 "amendment", "amendment-refused", "two-lists", "no-list", "too-large",
                 "summary", "summary-attention", "summary-quiet", "summary-mailbox-not-read", "blank-list",
                 "annotated-copy", "export"):
        assert name in names
