"""Renders what schools and staff see into a folder, to look at before committing a template:
every kind of reply and the staff summary as HTML (and text) and as PNG through headless Chromium,
and the workbooks (the blank list, an annotated copy, the staff export) as PDF and PNG pages
through LibreOffice and pdftoppm.

    python -m tests.render [FOLDER] [--only NAME ...] [--templates DIR] [--list]

FOLDER defaults to `var/render`. The samples are the demo's lists (`intake.samples`), decided by
the real rules and rendered with the configured templates (or DIR) and programme (INTAKE_CONFIG); the
summary's and the export's figures come from the demo's poll into a scratch SQLite database.
Needs `chromium`, `soffice` and `pdftoppm` (Debian: chromium, libreoffice-calc-nogui,
poppler-utils). An error in any step is an error of the whole run (exit status 1).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

from intake.config import Settings, load_settings
from intake.core.annotation import annotate_workbook
from intake.core.blank_list import make_blank_list
from intake.core.model import Decision
from intake.core.programme import Programme
from intake.core.replies import Rendered, ReplyItem, make_environment, render_no_list, render_reply
from intake.core.resubmission import PersonChange, Relation
from intake.core.rules import Circumstances, decide
from intake.core.workbook import read_participant_list
from intake.samples import make_faulty_list, make_good_list
from intake.staff.export import write_export
from intake.staff.reports import Attention, Figures, Report, build_report
from intake.staff.summary import render_summary
from intake.store.engine import open_engine

WIDTH = 820  # pixels: a mail client's reading pane
NUMBER = "SUP-2026-00004"
EARLIER = date(2026, 12, 1)
TIMEOUT = 120


class RenderError(Exception):
    """A step failed: a template, Chromium, LibreOffice or pdftoppm."""


@dataclass(frozen=True, slots=True)
class Page:
    """One HTML page to render: a reply or a summary."""

    folder: str
    name: str
    rendered: Rendered


@dataclass(frozen=True, slots=True)
class Book:
    """One workbook to render."""

    name: str
    content: bytes


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RenderError(f"{name} is not installed (Debian: apt-get install chromium "
                          "libreoffice-calc-nogui poppler-utils)")
    return found


# --- the samples ------------------------------------------------------------------------------

def _decided(content: bytes, file: str, programme: Programme, today: date) -> Decision:
    plist = read_participant_list(content, file, limits=load_settings().limits)
    return decide(plist, Circumstances(programme, today))


def reply_pages(environment: jinja2.Environment, programme: Programme,
                today: date) -> dict[str, Callable[[], Rendered]]:
    """Every kind of reply a school can get, by name."""
    good = _decided(make_good_list(), "dalībnieku saraksts.xlsx", programme, today)
    faulty = _decided(make_faulty_list(), "Ogres tehnikums – saraksts.xlsx", programme, today)
    people = [p for g in good.groups for p in g.participants]
    change = PersonChange(added=tuple(people[-2:]), removed=tuple(people[:1]),
                          unchanged=tuple(people[1:-2]))
    annotated = "Ogres tehnikums – saraksts-piezimes.xlsx"

    def reply(*items: ReplyItem, subject: str = "Pieteikums supervīzijai") -> Callable[[], Rendered]:
        blank = any(not i.decision.accepted for i in items)
        return lambda: render_reply(list(items), environment, programme=programme,
                                    blank_attached=blank, original_subject=subject)

    return {
        "accepted": reply(ReplyItem(good, number=NUMBER)),
        "rejected": reply(ReplyItem(faulty, annotated=annotated)),
        "correction-accepted": reply(ReplyItem(good, number=NUMBER, earlier_on=EARLIER),
                                     subject="Re: Pieteikums supervīzijai — jālabo 4 kļūdas"),
        "correction-rejected": reply(ReplyItem(faulty, annotated=annotated, earlier_on=EARLIER)),
        "repeat": reply(ReplyItem(good, number=NUMBER, relation=Relation.REPEAT,
                                  earlier_on=EARLIER)),
        "repeat-rejected": reply(ReplyItem(faulty, relation=Relation.REPEAT_REJECTED,
                                           earlier_on=EARLIER, annotated=annotated)),
        "amendment": reply(ReplyItem(good, number=NUMBER, relation=Relation.AMENDMENT,
                                     change=change),
                           subject=f"Re: Pieteikums supervīzijai — pieņemts, {NUMBER}"),
        "amendment-refused": reply(ReplyItem(faulty, number=NUMBER,
                                             relation=Relation.AMENDMENT_REFUSED)),
        "two-lists": reply(ReplyItem(good, number=NUMBER), ReplyItem(faulty, annotated=annotated)),
        "no-list": lambda: render_no_list(environment, programme=programme,
                                          blank_name="dalibnieku-saraksts.xlsx",
                                          original_subject="Kā pieteikties supervīzijai?"),
        "too-large": lambda: render_no_list(environment, programme=programme,
                                            blank_name="dalibnieku-saraksts.xlsx",
                                            too_large_bytes=26_214_400,
                                            original_subject="Pieteikums ar pielikumiem"),
    }


@dataclass(frozen=True, slots=True)
class Demo:
    """The demo's poll into a scratch database: real figures for the summary and the export."""

    settings: Settings
    folder: Path

    def engine_url(self) -> str:
        return f"sqlite:///{self.folder / 'var' / 'demo' / 'demo.sqlite3'}"


def run_demo(folder: Path) -> Demo:
    environ = {**os.environ, "INTAKE_STATE_DIR": str(folder / "var")}
    result = subprocess.run([sys.executable, "-m", "intake", "demo"], cwd=folder, env=environ,
                            capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if result.returncode != 0:
        raise RenderError(f"intake demo failed: {result.stderr.strip()[-2000:]}")
    return Demo(load_settings(environ), folder)


def summary_pages(environment: jinja2.Environment, demo: Demo | None,
                  settings: Settings) -> dict[str, Callable[[], Rendered]]:
    zone = ZoneInfo(settings.timezone)
    today = datetime.now(zone).date()

    def busy() -> Rendered:
        if demo is None:
            raise RenderError("the busy summary needs the demo's database")
        engine = open_engine(demo.engine_url())
        try:
            report = build_report(engine, today, zone, settings.programmes,
                                  now=datetime.now(UTC))
        finally:
            engine.dispose()
        return render_summary(report, environment)

    def plain(**fields: object) -> Callable[[], Rendered]:
        empty = Figures(messages={})
        values: dict[str, object] = {"day": today - timedelta(days=1), "zone": zone.key,
                                     "today": empty, "total": empty, "areas": (),
                                     "progress": (), "attention": ()}
        values.update(fields)
        return lambda: render_summary(Report(**values), environment)  # type: ignore[arg-type]

    busy_day = Figures(messages={"application": 3, "correspondence": 1}, applications=3,
                       accepted=2, rejected=1, groups=3, participants=21)
    yesterday = datetime.combine(today - timedelta(days=1), datetime.min.time())
    return {
        "summary": busy,
        "summary-attention": plain(
            today=busy_day, total=busy_day,
            last_good_poll=yesterday.replace(hour=23, minute=59),
            attention=(
                Attention("correspondence", "41", "sekretare@skola.example.lv",
                          "Re: Pieteikums — pieņemts, SUP-2026-00003"),
                Attention("held", "17", "autoatbilde@skola.example.lv", "Re: Prombūtnē"),
                Attention("review", "SUP-2026-00004", subject="Rīgas 12. vidusskola",
                          detail="email.shared, position.unclear"))),
        "summary-quiet": plain(last_good_poll=yesterday.replace(hour=23, minute=59)),
        "summary-mailbox-not-read": plain(mailbox_read=False,
                                          last_good_poll=yesterday.replace(hour=10, minute=15)),
        "summary-mailbox-never-read": plain(mailbox_read=False),
    }


def workbooks(settings: Settings, demo: Demo | None,
              today: date) -> dict[str, Callable[[], bytes]]:
    programme = settings.programme(None)

    def annotated() -> bytes:
        content = make_faulty_list()
        decision = _decided(content, "saraksts.xlsx", programme, today)
        copy = annotate_workbook(content, decision, limits=settings.limits)
        if copy is None:
            raise RenderError("the annotated copy could not be made")
        return copy

    def export() -> bytes:
        if demo is None:
            raise RenderError("the export needs the demo's database")
        zone = ZoneInfo(settings.timezone)
        engine = open_engine(demo.engine_url())
        try:
            return write_export(engine, zone, titles={
                n: p.title for n, p in settings.programmes.items()})
        finally:
            engine.dispose()

    return {"blank-list": lambda: make_blank_list(programme), "annotated-copy": annotated,
            "export": export}


# --- to pictures ------------------------------------------------------------------------------

def _chromium(arguments: Sequence[str], profile: Path) -> str:
    command = [tool("chromium"), "--headless", "--no-sandbox", "--disable-gpu",
               "--hide-scrollbars", "--no-first-run", "--disable-extensions",
               "--force-device-scale-factor=1", f"--user-data-dir={profile}", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                            check=False)
    if result.returncode != 0:
        raise RenderError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


def heights(paths: Sequence[Path], work: Path) -> list[int]:
    """Each page's height at the reading pane's width, measured in one Chromium run."""
    frames = "".join(
        f'<iframe style="width: {WIDTH}px; height: 100px; border: 0;" '
        f'srcdoc="{html.escape(p.read_text(encoding="utf-8"), quote=True)}"></iframe>'
        for p in paths)
    probe = work / "measure.html"
    probe.write_text(
        f"<!DOCTYPE html><html><body>{frames}<pre id=\"heights\"></pre><script>"
        "window.addEventListener('load', function () {"
        "  var found = Array.prototype.map.call(document.querySelectorAll('iframe'),"
        "    function (f) { return f.contentDocument.documentElement.scrollHeight; });"
        "  document.getElementById('heights').textContent = JSON.stringify(found);"
        "});</script></body></html>", encoding="utf-8")
    dom = _chromium(["--virtual-time-budget=5000", "--dump-dom", probe.as_uri()], work / "profile")
    found = re.search(r'<pre id="heights">(\[[^<]*\])</pre>', dom)
    if found is None:
        raise RenderError("chromium did not measure the pages")
    measured = [int(h) for h in json.loads(found.group(1))]
    if len(measured) != len(paths) or not all(measured):
        raise RenderError(f"chromium measured {measured} for {len(paths)} page(s)")
    return measured


def screenshots(paths: Sequence[Path], work: Path) -> list[Path]:
    pictures = []
    for path, height in zip(paths, heights(paths, work), strict=True):
        picture = path.with_suffix(".png")
        _chromium([f"--window-size={WIDTH},{height + 16}", f"--screenshot={picture}",
                   path.as_uri()], work / "profile")
        _check_png(picture)
        pictures.append(picture)
    return pictures


def workbook_pictures(paths: Sequence[Path], work: Path) -> list[Path]:
    """Each workbook as LibreOffice prints it: a PDF, and a PNG of each page."""
    if not paths:
        return []
    folder = paths[0].parent
    result = subprocess.run(
        [tool("soffice"), f"-env:UserInstallation={(work / 'lo-profile').as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(folder), *map(str, paths)],
        capture_output=True, text=True, timeout=TIMEOUT, check=False)
    pictures = []
    for path in paths:
        pdf = path.with_suffix(".pdf")
        if result.returncode != 0 or not pdf.exists():
            raise RenderError(f"LibreOffice did not convert {path.name}: {result.stderr[-2000:]}")
        for old in folder.glob(f"{path.stem}-*.png"):
            old.unlink()
        pages = subprocess.run([tool("pdftoppm"), "-r", "60", "-png", str(pdf),
                                str(folder / path.stem)],
                               capture_output=True, text=True, timeout=TIMEOUT, check=False)
        if pages.returncode != 0:
            raise RenderError(f"pdftoppm failed on {pdf.name}: {pages.stderr[-2000:]}")
        made = sorted(folder.glob(f"{path.stem}-*.png"))
        if not made:
            raise RenderError(f"pdftoppm made no page of {pdf.name}")
        for picture in made:
            _check_png(picture)
        pictures.extend(made)
    return pictures


def _check_png(path: Path) -> None:
    if not path.exists() or not path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n":
        raise RenderError(f"no picture was made: {path}")


# --- the run ----------------------------------------------------------------------------------

def render(folder: Path, only: Iterable[str] = (), templates: Path | None = None) -> list[Path]:
    """Renders the samples named in `only` (all when empty) into `folder`; returns the PNGs."""
    settings = load_settings()
    environment = make_environment(templates or settings.templates_dir)
    programme = settings.programme(None)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    wanted = set(only)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="render-") as scratch:
        work = Path(scratch)
        replies = reply_pages(environment, programme, today)
        needs_demo = not wanted or bool(wanted & {"summary", "export"})
        demo = run_demo(work) if needs_demo else None
        summaries = summary_pages(environment, demo, settings)
        books = workbooks(settings, demo, today)
        unknown = wanted - set(replies) - set(summaries) - set(books)
        if unknown:
            raise RenderError(f"no sample named {', '.join(sorted(unknown))}; "
                              f"see --list")
        pages = [Page("replies", name, make()) for name, make in replies.items()
                 if not wanted or name in wanted]
        pages += [Page("summary", name, make()) for name, make in summaries.items()
                  if not wanted or name in wanted]
        written = []
        for page in pages:
            target = folder / page.folder
            target.mkdir(exist_ok=True)
            (target / f"{page.name}.txt").write_text(
                f"Temats: {page.rendered.subject}\n\n{page.rendered.text}", encoding="utf-8")
            path = target / f"{page.name}.html"
            path.write_text(_with_subject(page.rendered), encoding="utf-8")
            written.append(path)
        pictures = screenshots(written, work) if written else []
        book_paths = []
        for name, make in books.items():
            if wanted and name not in wanted:
                continue
            (folder / "workbooks").mkdir(exist_ok=True)
            path = folder / "workbooks" / f"{name}.xlsx"
            path.write_bytes(make())
            book_paths.append(path)
        pictures += workbook_pictures(book_paths, work)
    return pictures


def _with_subject(rendered: Rendered) -> str:
    """The HTML part with the subject above it, as a mail client shows the two together."""
    bar = ('<div style="font-family: Arial, Helvetica, sans-serif; font-size: 13px; '
           'padding: 8px 16px; background: #f3f3f3; border-bottom: 1px solid #dddddd;">'
           f"<strong>Temats:</strong> {html.escape(rendered.subject)}</div>")
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + bar, rendered.html, count=1)


def sample_names() -> list[str]:
    settings = load_settings()
    environment = make_environment(settings.templates_dir)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    return [*reply_pages(environment, settings.programme(None), today),
            *summary_pages(environment, None, settings), *workbooks(settings, None, today)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.render", description=__doc__.split(
        "\n\n", 1)[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=Path("var/render"))
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME",
                        help="render only these samples (see --list)")
    parser.add_argument("--templates", type=Path, metavar="DIR",
                        help="render with these templates instead of the configured ones")
    parser.add_argument("--list", action="store_true", help="name the samples and stop")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(sample_names()))
        return 0
    try:
        pictures = render(args.folder, args.only, args.templates)
    except (RenderError, jinja2.TemplateError, subprocess.TimeoutExpired) as exc:
        print(f"render: {exc}", file=sys.stderr)
        return 1
    for picture in pictures:
        print(picture)
    return 0


if __name__ == "__main__":
    sys.exit(main())
