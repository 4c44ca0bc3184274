"""Benchmark: `intake poll` over a backlog as it really comes, against the floor in the same run.

Each application is from another school of the shipped registry (its real name; the sender on the
school's own mail domain where the registry has one), in the Outlook, Gmail or Thunderbird shape;
its list has 10 participants with real Latvian positions under an `Izglītības iestāde: <name>`
line. A share of the lists (`--rejected`, 0.2 by default; 0 and 1 for the other mixes) has one
e-mail cell left empty, and is rejected: its reply carries the annotated copy and the blank list.
The floor (batched FETCH + MIME parse + openpyxl read-only, one process) is measured on the same
mailbox just before the poll (`tests.benchmarks.mailbox`). Run:
    .venv/bin/python -m tests.benchmarks.backlog [--rejected SHARE] [--rounds R] [--no-stages] [N ...]
Prints, per N, the median round's throughput against the floor, the time of each stage (in the
poll process and summed over its worker processes: exclusive of the stages nested in it; left out
with --no-stages, as the timers cost the poll a few per cent), the CPU and peak RSS of each
process. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import unicodedata
from typing import Any

from intake.core.registry import Institution, default_institutions
from tests.benchmarks.mailbox import OUR_ADDRESS, append_all, measure, report
from tests.benchmarks.stages import STAGES
from tests.support.lists import Member, participant_list
from tests.support.mail import make_email

POSITIONS = ("direktore", "direktora vietniece izglītības jomā", "skolotāja",
             "sākumskolas skolotāja", "pirmsskolas izglītības skolotāja", "logopēde",
             "speciālais pedagogs", "matemātikas skolotājs", "sociālā pedagoģe",
             "izglītības psiholoģe", "latviešu valodas un literatūras skolotāja",
             "interešu izglītības skolotāja")
FIRST_NAMES = ("Anna", "Jānis", "Līga", "Pēteris", "Ilze", "Mārtiņš", "Inese", "Andris", "Dace",
               "Edgars", "Kristīne", "Raimonds", "Zane", "Gatis", "Sandra", "Valdis", "Agnese",
               "Rūta", "Aivars", "Solvita", "Gunta", "Kārlis", "Evija", "Dzintars")
SURNAMES = (("Bērziņš", "Bērziņa"), ("Ozoliņš", "Ozoliņa"), ("Kalniņš", "Kalniņa"),
            ("Liepiņš", "Liepiņa"), ("Krūmiņš", "Krūmiņa"), ("Zariņš", "Zariņa"),
            ("Eglītis", "Eglīte"), ("Jansons", "Jansone"), ("Ozols", "Ozola"), ("Vītols", "Vītola"),
            ("Grīnbergs", "Grīnberga"), ("Kļaviņš", "Kļaviņa"), ("Sproģis", "Sproģe"),
            ("Upītis", "Upīte"), ("Šmits", "Šmite"), ("Ābele", "Ābele"))
FREE_MAIL = {"gmail.com", "inbox.lv", "apollo.lv", "outlook.com", "hotmail.com", "yahoo.com",
             "one.lv", "tvnet.lv", "mail.ru", "e-apollo.lv", "navigator.lv", "lattelecom.lv"}
SCHOOL_KINDS = ("Vispārējās izglītības iestāde", "Pirmsskolas izglītības iestāde",
                "Profesionālās ievirzes izglītības iestāde")


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", ".", folded).strip(".")


def schools() -> list[Institution]:
    """The registry's schools (general, pre-school, vocational), in the export's order."""
    return [i for i in default_institutions() if i.kind in SCHOOL_KINDS]


def sender_of(school: Institution, number: int) -> str:
    """The secretary's address: on the school's own domain where the registry has one."""
    own = next((d for d in school.domains if d not in FREE_MAIL), None)
    if own:
        return f"Sekretāre <lietvede{number}@{own}>"
    return f"Sekretāre <{_ascii(school.name)[:40]}.{number}@gmail.com>"


def people(number: int, domain: str, *, rejected: bool) -> list[Member]:
    """Ten participants: a director first; a rejected list has one e-mail cell left empty."""
    members = []
    for place in range(10):
        seed = number * 10 + place
        first = FIRST_NAMES[seed % len(FIRST_NAMES)]
        female = first.endswith(("a", "e"))
        last = SURNAMES[(seed // len(FIRST_NAMES) + seed) % len(SURNAMES)][female]
        position = POSITIONS[0] if place == 0 else POSITIONS[1 + seed % (len(POSITIONS) - 1)]
        email = None if rejected and place == 6 else f"{_ascii(first)}.{_ascii(last)}{seed}@{domain}"
        members.append(Member(first, last, position, email))
    return members


def is_rejected(number: int, share: float) -> bool:
    """Spread evenly: with 0.2, every fifth application."""
    return int((number + 1) * share) > int(number * share)


def filler(share: float) -> Any:
    registry = schools()

    def application(number: int) -> bytes:
        school = registry[number % len(registry)]
        sender = sender_of(school, number)
        domain = sender.rsplit("@", 1)[1].rstrip(">")
        above = (("Dalībnieku saraksts supervīzijai",), (f"Izglītības iestāde: {school.name}",), ())
        content = participant_list(people(number, domain, rejected=is_rejected(number, share)),
                                   above=above)
        return make_email(
            style=("outlook", "gmail", "thunderbird")[number % 3], sender=sender,
            to=OUR_ADDRESS, subject=f"Pieteikums supervīzijai - {school.name}",
            body=f"Labdien!\n\nPielikumā {school.name} pedagogu saraksts supervīzijai.\n\n"
                 f"Ar cieņu\nlietvede\n{school.name}", number=number,
            attachment=("dalībnieku saraksts.xlsx", content))

    def fill(server: Any, count: int) -> None:
        append_all(server, (application(number) for number in range(count)))

    return fill


def _stage_lines(figures: dict[str, Any]) -> list[str]:
    own, workers = figures["stages"], figures.get("worker_stages", {})
    lines = [f"    {'stage':<18}{'poll wall s':>12}{'poll CPU s':>12}{'workers CPU s':>15}"
             f"{'calls':>8}"]
    for stage in STAGES:
        mine, theirs = own.get(stage, [0.0, 0.0, 0]), workers.get(stage, [0.0, 0.0, 0])
        if mine[2] or theirs[2]:
            lines.append(f"    {stage:<18}{mine[0]:>12.2f}{mine[1]:>12.2f}{theirs[1]:>15.2f}"
                         f"{int(mine[2] + theirs[2]):>8}")
    # A large poll sends from a thread of its own: its wall time overlaps the rest.
    rest = figures["seconds"] - sum(v[0] for stage, v in own.items() if stage != "send")
    lines.append(f"    {'(the rest)':<18}{rest:>12.2f}")
    lines.append("    (send runs in a thread of its own beside the others: its wall time overlaps "
                 "theirs)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", nargs="*", type=int, default=[1000])
    parser.add_argument("--rejected", type=float, default=0.2, help="share of lists rejected")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-stages", action="store_true",
                        help="leave the per-stage timers out (they cost the poll a few per cent)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; Dovecot on loopback; SQLite; SMTP with STARTTLS; distinct "
          f"schools of the registry, 10-row lists, {args.rejected:.0%} rejected; "
          f"{args.rounds} round(s) per N")
    report(args.counts, args.rounds,
           lambda count: measure(count, filler=filler(args.rejected),
                                 timed_stages=not args.no_stages),
           lambda median: [] if args.no_stages else [
               "  stages (median round; exclusive time; the workers' wall time overlaps the "
               "poll's):", *_stage_lines(median)])


if __name__ == "__main__":
    main()
