"""The commands about participant lists themselves: `validate` checks files as a school's would be
checked (no database written), `template` writes the blank list, `institutions import` replaces
the institution registry."""

from __future__ import annotations

import argparse
import csv
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from intake.cli.common import EXIT_OK, EXIT_REJECTED, EXIT_USAGE, database, writable, write
from intake.config import Settings
from intake.core.details import extract_details
from intake.core.model import Decision
from intake.core.outcome import own_columns
from intake.core.registry import InstitutionIndex, parse_viis_export
from intake.core.replies import ReplyItem, make_environment, render_reply
from intake.core.rules import Circumstances, decide
from intake.core.states import Verdict
from intake.core.workbook import read_participant_list
from intake.errors import StoreError, UsageError
from intake.store.engine import open_engine, sqlite_file
from intake.store.registry import load_institution_index, replace_institutions, shipped_index
from intake.store.schema import current_revision

log = logging.getLogger("intake")


def add_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    validate = commands.add_parser("validate", help="check participant lists as a school's would be")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.add_argument("--programme", help="programme name (default: the configured default)")
    validate.add_argument("--json", action="store_true", help="one JSON object per file")
    validate.add_argument("--annotate", type=Path, metavar="DIR",
                          help="write an annotated copy of each file with findings into DIR")
    validate.add_argument("--force", action="store_true", help="replace annotated copies in DIR")
    validate.set_defaults(run=_validate)

    template = commands.add_parser("template", help="write the blank participant list (.xlsx)")
    template.add_argument("path", nargs="?", type=Path, default=Path("dalibnieku-saraksts.xlsx"))
    template.add_argument("--programme")
    template.add_argument("--force", action="store_true", help="replace an existing file")
    template.set_defaults(run=_template)

    institutions = commands.add_parser("institutions", help="the institution registry")
    registry = institutions.add_subparsers(required=True, metavar="ACTION")
    load = registry.add_parser("import", help="replace the registry with a VIIS export (CSV)")
    load.add_argument("file", type=Path)
    load.set_defaults(run=_import_institutions)


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    from intake.core.annotation import annotate_workbook

    programme = settings.programme(args.programme)
    if args.annotate:
        if args.annotate.exists() and not args.annotate.is_dir():
            raise UsageError(f"--annotate {args.annotate}: not a folder")
        if not args.annotate.parent.is_dir():  # DIR itself is made; a mistyped path above it is not
            raise UsageError(f"--annotate {args.annotate}: folder {args.annotate.parent} does not exist")
        for path in args.files if args.annotate.is_dir() else ():
            writable(args.annotate / f"{path.stem}-piezimes.xlsx", force=args.force)
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
        decision = decide(plist, Circumstances(programme, datetime.now(UTC).date(), registry=registry))
        any_rejected |= not decision.accepted
        annotated = None
        if args.annotate and decision.findings:
            annotated = annotate_workbook(content, decision, limits=settings.limits)
            if annotated is not None:
                try:
                    args.annotate.mkdir(exist_ok=True)
                except OSError as exc:
                    raise UsageError(f"cannot create {args.annotate}: {exc.strerror or exc}") from None
                write(args.annotate / f"{path.stem}-piezimes.xlsx", annotated, force=args.force)
        if args.json:
            found = decision_as_json(decision)
            found["details"] = extract_details(extras=plist.extras,
                                               wanted_columns=own_columns(programme)).as_json()
            print(json.dumps(found, ensure_ascii=False))
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
        "verdict": Verdict.of(decision.accepted),
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
    """The registry, read through a read-only connection. Validating never creates, migrates or
    writes a database: without one (or without its schema) the lists are checked against the
    registry that ships with the package and without earlier applications, and stderr says so."""
    path = sqlite_file(settings.database_url)
    missing = "no database file" if path is not None and not path.is_file() else None
    index = None
    if missing is None:
        engine = open_engine(settings.database_url, read_only=True)
        try:
            if current_revision(engine) is None:
                missing = "the database has no schema yet"
            else:
                index = load_institution_index(engine, read_only=True)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the database: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:300]}") from exc
        finally:
            engine.dispose()
    if missing is not None:
        log.warning("%s: lists are checked against the shipped institution registry and without "
                    "earlier applications (R5)", missing)
        index = shipped_index()
    return index


def _template(args: argparse.Namespace, settings: Settings) -> int:
    from intake.core.blank_list import make_blank_list

    writable(args.path, force=args.force)
    write(args.path, make_blank_list(settings.programme(args.programme)), force=args.force)
    print(args.path)
    return EXIT_OK


def _import_institutions(args: argparse.Namespace, settings: Settings) -> int:
    from intake.staff import commands as staff

    try:
        text = args.file.read_text(encoding="utf-8-sig")
        institutions = parse_viis_export(text)
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        log.error("cannot import %s: %s", args.file, exc)
        return EXIT_USAGE
    engine = database(args, settings)
    count = replace_institutions(engine, institutions)
    without = sum(1 for i in institutions if i.municipality is None)
    log.info("imported %d institutions (%d without a recognised municipality)", count, without)
    linked = staff.link_institutions(engine)
    if linked:
        log.info("%d application(s) now linked to the registry anew (R8)", linked)
    return EXIT_OK
