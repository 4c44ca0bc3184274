"""The `intake` command: loads configuration once, runs a command, maps errors to exit codes."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from intake.annotation import annotate_workbook
from intake.blank_list import make_blank_list
from intake.config import Settings, load_settings
from intake.errors import ConfigError, IntakeError
from intake.model import Decision
from intake.registry import InstitutionIndex, parse_viis_export
from intake.replies import ReplyItem, make_environment, render_reply
from intake.rules import Circumstances, decide
from intake.samples import make_faulty_list, make_good_list
from intake.schema import upgrade
from intake.store import load_institution_index, open_engine, replace_institutions
from intake.workbook import read_participant_list

log = logging.getLogger("intake")

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        result: int = args.run(args, settings)
        return result
    except ConfigError as exc:
        log.error("configuration: %s", exc)
        return EXIT_USAGE
    except IntakeError as exc:
        log.error("%s: %s", type(exc).__name__, exc)
        return EXIT_FAILURE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="intake", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check participant lists as a school's would be")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.add_argument("--programme", help="programme name (default: the configured default)")
    validate.add_argument("--json", action="store_true", help="one JSON object per file")
    validate.add_argument("--annotate", type=Path, metavar="DIR",
                          help="write an annotated copy of each file with findings into DIR")
    validate.set_defaults(run=_validate)

    template = commands.add_parser("template", help="write the blank participant list (.xlsx)")
    template.add_argument("path", nargs="?", type=Path, default=Path("dalibnieku-saraksts.xlsx"))
    template.add_argument("--programme")
    template.set_defaults(run=_template)

    institutions = commands.add_parser("institutions", help="the institution registry")
    registry = institutions.add_subparsers(required=True, metavar="ACTION")
    load = registry.add_parser("import", help="replace the registry with a VIIS export (CSV)")
    load.add_argument("file", type=Path)
    load.set_defaults(run=_import_institutions)

    demo = commands.add_parser("demo", help="check the bundled sample lists (no server needed)")
    demo.set_defaults(run=_demo)
    return parser


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    programme = settings.programme(args.programme)
    registry = _registry(settings)
    environment = make_environment(settings.templates_dir)
    any_rejected = False
    for path in args.files:
        try:
            content = path.read_bytes()
        except OSError as exc:
            log.error("cannot read %s: %s", path, exc.strerror)
            return EXIT_USAGE
        plist = read_participant_list(content, path.name, limits=settings.limits)
        decision = decide(plist, Circumstances(programme, date.today(), registry=registry))
        any_rejected |= not decision.accepted
        annotated = None
        if args.annotate and decision.findings:
            annotated = annotate_workbook(content, decision, limits=settings.limits)
            if annotated is not None:
                args.annotate.mkdir(parents=True, exist_ok=True)
                (args.annotate / f"{path.stem}-piezimes.xlsx").write_bytes(annotated)
        if args.json:
            print(json.dumps(decision_as_json(decision), ensure_ascii=False))
        else:
            annotated_name = f"{path.stem}-piezimes.xlsx" if annotated is not None else None
            reply = render_reply([ReplyItem(decision, annotated=annotated_name)], environment,
                                 programme=programme)
            print(f"== {path} — {'pieņemts' if decision.accepted else 'noraidīts'} ==")
            print(f"Temats: {reply.subject}\n")
            print(reply.text)
    return EXIT_REJECTED if any_rejected else EXIT_OK


def decision_as_json(decision: Decision) -> dict[str, object]:
    return {
        "file": decision.file,
        "verdict": "accepted" if decision.accepted else "rejected",
        "institution": decision.institution,
        "programme": decision.programme,
        "groups": [
            {"kind": group.kind.value, "label": group.label, "participants": [
                {"row": p.row, "first_name": p.first_name, "last_name": p.last_name,
                 "position": p.position, "email": p.email, "role": p.role.value}
                for p in group.participants]}
            for group in decision.groups
        ],
        "findings": [
            {"severity": f.severity.value, "code": f.code, "sheet": f.sheet, "row": f.row,
             "column": f.column_letter, "column_title": f.column_title, "cell": f.cell,
             "value": f.value, "message": f.message, "hint": f.hint}
            for f in decision.findings
        ],
    }


def _registry(settings: Settings) -> InstitutionIndex | None:
    engine = open_engine(settings.database_url)
    upgrade(engine)
    return load_institution_index(engine)


def _template(args: argparse.Namespace, settings: Settings) -> int:
    args.path.write_bytes(make_blank_list(settings.programme(args.programme)))
    print(args.path)
    return EXIT_OK


def _import_institutions(args: argparse.Namespace, settings: Settings) -> int:
    try:
        text = args.file.read_text(encoding="utf-8-sig")
        institutions = parse_viis_export(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        log.error("cannot import %s: %s", args.file, exc)
        return EXIT_USAGE
    engine = open_engine(settings.database_url)
    upgrade(engine)
    count = replace_institutions(engine, institutions)
    without = sum(1 for i in institutions if i.municipality is None)
    log.info("imported %d institutions (%d without a recognised municipality)", count, without)
    return EXIT_OK


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    folder = settings.state_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, content in (("rigas-12-vidusskola.xlsx", make_good_list()),
                          ("ogres-tehnikums.xlsx", make_faulty_list())):
        (folder / name).write_bytes(content)
        files.append(str(folder / name))
    status = _validate(build_parser().parse_args(["validate", *files, "--annotate", str(folder)]),
                       settings)
    print(f"Sample lists and annotated copies are in {folder}")
    return EXIT_OK if status in (EXIT_OK, EXIT_REJECTED) else status
