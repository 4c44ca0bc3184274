"""The commands staff run on stored applications: the daily `summary` on demand, the xlsx `export`,
`reprocess`, `withdraw`, `resend` and the retention `purge`."""

from __future__ import annotations

import argparse
import getpass
import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from intake.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, database, writable, write
from intake.config import Settings
from intake.errors import UsageError

log = logging.getLogger("intake")


def add_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    summary = commands.add_parser("summary", help="the staff's daily summary, on demand")
    summary.add_argument("--date", type=_date, metavar="YYYY-MM-DD",
                         help="the day (default: yesterday, in the configured time zone)")
    output = summary.add_mutually_exclusive_group()
    output.add_argument("--send", action="store_true", help="mail it to the staff now")
    output.add_argument("--print", action="store_true", help="print the text (the default)")
    output.add_argument("--html", type=Path, metavar="FILE", help="write the HTML to FILE")
    summary.add_argument("--force", action="store_true", help="replace an existing FILE")
    summary.set_defaults(run=_summary)

    export = commands.add_parser("export", help="applications, groups and participants as xlsx")
    export.add_argument("path", nargs="?", type=Path, metavar="PATH",
                        help="default: pieteikumi-YYYY-MM-DD.xlsx in the working directory")
    export.add_argument("--from", dest="first", type=_date, metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="last", type=_date, metavar="YYYY-MM-DD")
    export.add_argument("--force", action="store_true", help="replace an existing file")
    export.set_defaults(run=_export)

    reprocess = commands.add_parser(
        "reprocess", help="decide stored mail again with the current rules and registry")
    which = reprocess.add_mutually_exclusive_group(required=True)
    which.add_argument("message", nargs="?", metavar="MESSAGE",
                       help="a message's number (as in the summary) or its Message-ID")
    which.add_argument("--quarantined", action="store_true",
                       help="every quarantined (and failed) message")
    reprocess.add_argument("--reply", action="store_true",
                           help="reply to the school where the outcome changed")
    reprocess.set_defaults(run=_reprocess)

    withdraw = commands.add_parser("withdraw", help="withdraw an accepted application (frees R5)")
    withdraw.add_argument("application", metavar="APPLICATION", help="e.g. SUP-2026-00042")
    withdraw.add_argument("--reason", required=True, help="why (kept with the application)")
    withdraw.add_argument("--by", default=None,
                          help="who decided (default: the user running the command)")
    withdraw.set_defaults(run=_withdraw)

    resend = commands.add_parser("resend", help="send held, failed or interrupted replies again")
    resend.add_argument("ids", nargs="+", type=int, metavar="OUTBOX_ID")
    resend.set_defaults(run=_resend)

    purge = commands.add_parser("purge", help="remove raw mail older than retention_days")
    purge.set_defaults(run=_purge)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _summary(args: argparse.Namespace, settings: Settings) -> int:
    from intake.staff import commands as staff

    if args.html:
        writable(args.html, force=args.force)
    engine = database(args, settings)
    now = datetime.now(UTC)
    day = args.date or (now.astimezone(ZoneInfo(settings.timezone)).date() - timedelta(days=1))
    if args.send:
        queued = staff.queue_summary(settings, engine, day, now, once=False)
        delivery = staff.send_outbox(settings, engine, now)
        print(f"summary for {day}: {queued} mail(s) queued, {delivery.sent} sent")
        return EXIT_OK if delivery.sent >= queued else EXIT_FAILURE
    mail = staff.make_summary(settings, engine, day, now)
    if args.html:
        write(args.html, mail.html.encode("utf-8"), force=args.force)
        print(args.html)
    else:
        print(f"Temats: {mail.subject}\n")
        print(mail.text)
    return EXIT_OK


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from intake.staff.export import write_export

    zone = ZoneInfo(settings.timezone)
    today = datetime.now(zone).date()
    if args.first and args.first > (args.last or today):
        raise UsageError(f"--from {args.first} is after "
                         + (f"--to {args.last}" if args.last else f"today ({today})")
                         + ": the period would be empty")
    path = writable(args.path or Path(f"pieteikumi-{today.isoformat()}.xlsx"), force=args.force)
    engine = database(args, settings)
    with tqdm(desc="export", unit=" applications", disable=None) as bar:
        content = write_export(engine, zone, first=args.first, last=args.last, progress=bar.update,
                               titles={n: p.title for n, p in settings.programmes.items()})
    write(path, content, force=args.force)
    print(path)
    return EXIT_OK


def _reprocess(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from intake.staff import commands as staff

    engine = database(args, settings)
    rows = staff.find_messages(engine, args.message, quarantined=args.quarantined)
    with tqdm(total=len(rows), desc="reprocess", unit=" messages", disable=None) as bar:
        results = staff.reprocess(settings, engine, rows, reply=args.reply,
                                  now=lambda: datetime.now(UTC), progress=bar.update)
    for result in results:
        change = f"{result.before} -> {result.after}" if result.changed else f"unchanged ({result.after})"
        extra = "; reply queued" if result.replied else ""
        print(f"message {result.message_row}: {change}{extra}{'; ' + result.note if result.note else ''}")
    if any(r.replied for r in results):
        delivery = staff.send_outbox(settings, engine, datetime.now(UTC))
        print(f"replies sent: {delivery.sent}")
    print(f"reprocessed {len(results)}, changed {sum(r.changed for r in results)}")
    return EXIT_OK


def _withdraw(args: argparse.Namespace, settings: Settings) -> int:
    from intake.staff import commands as staff

    engine = database(args, settings)
    by = args.by or getpass.getuser()
    released = staff.withdraw(engine, args.application, by=by, reason=args.reason,
                              now=datetime.now(UTC), settings=settings)
    print(f"{args.application.strip().upper()}: withdrawn by {by}; {released} participant(s) "
          "free to apply again")
    return EXIT_OK


def _resend(args: argparse.Namespace, settings: Settings) -> int:
    from intake.staff import commands as staff

    engine = database(args, settings)
    count = staff.resend(engine, args.ids, datetime.now(UTC))
    if count:
        delivery = staff.send_outbox(settings, engine, datetime.now(UTC))
        print(f"{count} repl(ies) released, {delivery.sent} sent")
    asked = len(set(args.ids))
    if count < asked:
        log.error("%d of %d outbox number(s) not released: each must be a reply's number "
                  "(«atbilde Nr.» in the summary) that is held, failed or interrupted",
                  asked - count, asked)
        return EXIT_USAGE
    return EXIT_OK


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    from intake.staff import commands as staff

    engine = database(args, settings)
    purged = staff.purge(engine, datetime.now(UTC), settings.retention_days)
    print(f"purged raw mail of {purged.messages} message(s) and {purged.replies} unsent "
          f"reply(ies) older than {settings.retention_days} days")
    return EXIT_OK
