"""The staff's daily summary: a report rendered in Latvian (text and HTML), and when one is due."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jinja2

from intake.core.replies import Rendered
from intake.staff.reports import Figures, Report

# What each finding's code means, in a few words for staff (the school's reply says it in full).
FINDING_LABELS = {
    "programme.closed": "pieteikšanās nav atvērta",
    "list.empty": "sarakstā nav dalībnieku",
    "list.header-not-found": "nav atrasta tabulas galvene",
    "list.too-many-rows": "sarakstā pārāk daudz rindu",
    "list.sheets-not-read": "dažas lapas ar dalībniekiem nav nolasītas",
    "institution.missing": "nav norādīta iestāde",
    "institution.unknown": "iestāde nav atrasta reģistrā",
    "institution.ambiguous": "vēstulē minētas vairākas iestādes",
    "column.missing": "trūkst obligātas kolonnas",
    "field.missing": "nav aizpildīts obligāts lauks",
    "name.incomplete": "nepilns vārds vai uzvārds",
    "name.digits": "vārdā vai uzvārdā ir cipari",
    "name.symbols": "vārdā vai uzvārdā ir zīmes, kas nav burti",
    "name.foreign-letters": "vārdā ir burti ārpus latviešu alfabēta",
    "email.invalid": "nederīga e-pasta adrese",
    "email.shared": "viena e-pasta adrese vairākām personām",
    "position.unclear": "neskaidrs amats (vadītājs vai pedagogs)",
    "duplicate.in-list": "persona sarakstā norādīta divreiz",
    "duplicate.registered": "persona jau pieteikta citā pieteikumā",
    "group.missing": "personai nav norādīta grupa",
    "group.too-large": "grupā vairāk dalībnieku nekā atļauts",
    "group.too-small": "grupā mazāk dalībnieku nekā ieteicams",
    "group.mixed": "vadītāji un pedagogi vienā grupā",
    "group.to-merge": "grupa jāapvieno ar citu (par maz dalībnieku)",
    "institution.ineligible": "iestādes veids programmā nevar pieteikties",
    "institution.not-partner": "iestāde nav programmas sadarbības iestāde",
    "cell.formula-without-value": "formula bez saglabātas vērtības",
    "personal-code.present": "sarakstā norādīti personas kodi",
    "file.empty": "tukšs fails",
    "file.too-large": "pārāk liels fails",
    "file.too-large-unpacked": "pārāk liels fails pēc atpakošanas",
    "file.word": "Word dokuments, nevis izklājlapa",
    "file.pdf": "PDF dokuments, nevis izklājlapa",
    "file.image": "attēls, nevis izklājlapa",
    "file.numbers": "Apple Numbers fails",
    "file.encrypted": "fails aizsargāts ar paroli",
    "file.corrupt": "bojāts fails",
    "file.xml-entities": "fails ar aizliegtām XML konstrukcijām",
    "file.unknown-format": "nezināms faila formāts",
}

# What waits for staff, in words for staff: what it is and what to do (how to do it is in the
# staff manual, docs/staff.md, not in the mail).
ATTENTION_LABELS = {
    "correspondence": "Vēstules, uz kurām jāatbild darbiniekam",
    "quarantined": "Vēstules, kuras pakalpojuma kļūdas dēļ neizdevās apstrādāt – lūdzu, "
                   "informējiet sistēmas uzturētāju",
    "held": "Aizturētās atbildes – adresāts šajā diennaktī jau saņēmis daudz automātisku "
            "atbilžu; pirms nosūtīšanas pārbaudiet, vai tā nav vēstuļu apmaiņa ar automātu",
    "failed": "Atbildes, kuras neizdevās nosūtīt – lūdzu, informējiet sistēmas uzturētāju",
    "sending": "Atbildes, kuru nosūtīšana pārtrūka – pārbaudiet, vai adresāts tās saņēmis",
    "review": "Pieņemtie saraksti, kuros jāpārbauda dažas ziņas",
}
# For an accepted list with warnings: what staff should check.
REVIEW_ADVICE = {
    "position.unclear": "pēc amata nevar noteikt, vai persona ir vadītājs vai pedagogs – "
                        "pārbaudiet, vai tā iekļauta pareizajā grupā",
    "email.shared": "viena e-pasta adrese vairākām personām – pārbaudiet, vai tās nav viena "
                    "un tā pati persona",
    "name.foreign-letters": "vārdā ir burti ārpus latviešu alfabēta – pārbaudiet, vai vārds "
                            "uzrakstīts pareizi",
    "group.too-small": "grupā mazāk dalībnieku nekā ieteicams – apsveriet grupu apvienošanu",
    "personal-code.present": "sarakstā bija personas kodi (tie nav saglabāti) – ja vajag, "
                             "atgādiniet iestādei tos nesūtīt",
    "list.sheets-not-read": "dažas lapas nav nolasītas – pārbaudiet, vai tajās nav dalībnieku",
}
# The summary's table of figures: a label, and how to read the figure off a day's or all Figures.
FIGURE_ROWS: tuple[tuple[str, Callable[[Figures], int]], ...] = (
    ("Saņemtās vēstules", lambda f: f.received),
    ("Pieteikumi (dalībnieku saraksti)", lambda f: f.applications),
    ("– pieņemti", lambda f: f.accepted),
    ("– noraidīti", lambda f: f.rejected),
    ("– atsaukti", lambda f: f.withdrawn),
    ("Supervīzijas (grupas)", lambda f: f.groups),
    ("Dalībnieki", lambda f: f.participants),
    ("Atkārtoti pieteikti dalībnieki", lambda f: f.duplicates),
    ("Nemainīti saraksti, iesūtīti atkārtoti", lambda f: f.repeats),
    ("Grozīti pieteikumi", lambda f: f.amendments),
    ("Pieņemti saraksti pēc kļūdu labošanas", lambda f: f.corrections),
    ("Automātiskās vēstules (bez atbildes)", lambda f: f.messages.get("auto", 0)),
    ("Vēstules bez saraksta (nosūtīta veidlapa)", lambda f: f.messages.get("no_list", 0)),
    ("Sarakste darbiniekiem", lambda f: f.messages.get("correspondence", 0)),
)
ROUTE_LABELS = {"municipality": "pašvaldība", "ikvd": "IKVD", "": "iestāde nav reģistrā"}


def finding_label(code: str) -> str:
    return FINDING_LABELS.get(code, code)


def review_advice(code: str) -> str:
    """What to check in an accepted list with this warning."""
    return REVIEW_ADVICE.get(code, finding_label(code))


def number(value: int) -> str:
    """`5 500`: Latvian digit grouping (a no-break space)."""
    return f"{value:,}".replace(",", "\u00a0")


def percent(part: int, whole: int | None) -> str:
    """`2,7 %`."""
    if not whole:
        return ""
    return f"{100 * part / whole:.1f}".replace(".", ",") + "\u00a0%"


def latvian_date(day: date) -> str:
    return f"{day:%d.%m.%Y}."


def latvian_time(moment: datetime) -> str:
    """`04.12.2026. plkst. 10:15`."""
    return f"{moment:%d.%m.%Y}. plkst. {moment:%H:%M}"


def compact_chart(series: Sequence[tuple[date, int]]) -> list[tuple[date, int, int]]:
    """The chart's bars (day, count, width 0–100): from the first day anything was accepted, so
    that a new programme's chart is not two weeks of zeros."""
    first = next((n for n, (_day, count) in enumerate(series) if count), len(series))
    shown = series[first:]
    top = max((count for _day, count in shown), default=0)
    return [(day, count, round(100 * count / top) if top else 0) for day, count in shown]


def render_summary(report: Report, environment: jinja2.Environment) -> Rendered:
    figures = [(label, read(report.today), read(report.total)) for label, read in FIGURE_ROWS]
    context = {
        "report": report, "chart": compact_chart(report.series), "figures": figures,
        "attention_labels": ATTENTION_LABELS, "route_labels": ROUTE_LABELS,
        "finding_label": finding_label, "review_advice": review_advice, "number": number,
        "percent": percent, "latvian_date": latvian_date, "latvian_time": latvian_time,
        "groups_of_attention": _grouped(report),
    }
    subject = environment.get_template("summary.subject.txt").render(context)
    return Rendered(subject=" ".join(subject.split()),
                    text=environment.get_template("summary.txt").render(context),
                    html=environment.get_template("summary.html").render(context))


def _grouped(report: Report) -> list[tuple[str, list[object]]]:
    groups: dict[str, list[object]] = {}
    for item in report.attention:
        groups.setdefault(item.kind, []).append(item)
    return [(kind, groups[kind]) for kind in ATTENTION_LABELS if kind in groups]


def due_day(now: datetime, zone: ZoneInfo, at: time) -> date:
    """The latest day whose summary is due at `now`: yesterday once today's `at` has passed."""
    local = now.astimezone(zone)
    days_back = 1 if local.time() >= at else 2
    return local.date() - timedelta(days=days_back)


def export_name(day: date) -> str:
    return f"pieteikumi-{day.isoformat()}.xlsx"
