"""The daily summary's pure parts: when it is due, Latvian numbers, labels for every finding,
escaping, and the export's formula guard and the funding routes (R8) it reports."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from intake.config import resource_dir
from intake.core.registry import FounderKind, FundingRoute, funding_route
from intake.core.replies import make_environment
from intake.staff.export import neutral
from intake.staff.periods import Period
from intake.staff.reports import Attention, Figures, Progress, Report, was_read
from intake.staff.summary import (
    FINDING_LABELS,
    compact_chart,
    due_day,
    number,
    percent,
    render_summary,
)

RIGA = ZoneInfo("Europe/Riga")
SEVEN = time(7, 0)


@pytest.mark.parametrize(("now", "due"), [
    (datetime(2026, 11, 25, 4, 59, tzinfo=UTC), date(2026, 11, 23)),  # 06:59 in Rīga
    (datetime(2026, 11, 25, 5, 0, tzinfo=UTC), date(2026, 11, 24)),  # 07:00 in Rīga
    (datetime(2026, 3, 29, 4, 0, tzinfo=UTC), date(2026, 3, 28)),  # 07:00 the day clocks go forward
    (datetime(2026, 12, 31, 22, 30, tzinfo=UTC), date(2026, 12, 30)),  # 00:30 on 1 January
])
def test_the_summary_due_is_yesterdays_once_the_local_hour_has_come(now, due):
    assert due_day(now, RIGA, SEVEN) == due


def test_numbers_are_written_the_latvian_way():
    assert number(5500) == "5\u00a0500"
    assert percent(3, 5500) == "0,1\u00a0%"
    assert percent(1, None) == ""


def test_every_finding_the_rules_can_make_has_a_label_for_staff():
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path("intake").rglob("*.py")
                       if p.name != "summary.py")
    codes = set(re.findall(
        r'"((?:file|list|institution|column|field|name|email|position|duplicate|group|cell|'
        r'personal-code|programme)\.[a-z-]+)"', source))
    assert len(codes) > 20
    assert codes - set(FINDING_LABELS) == set()


def report(**overrides: object) -> Report:
    values: dict[str, object] = {
        "day": date(2026, 11, 24), "zone": "Europe/Riga", "today": Figures(messages={}),
        "total": Figures(messages={}), "areas": (), "progress": (), "attention": ()}
    values.update(overrides)
    return Report(**values)  # type: ignore[arg-type]


def test_a_quiet_day_says_so_in_the_subject_and_body():
    rendered = render_summary(report(), make_environment(resource_dir("templates")))
    assert rendered.subject == "Supervīziju pieteikumi 24.11.2026.: nekas nav saņemts"
    assert "nav saņemta neviena vēstule" in rendered.text
    assert "nav saņemta neviena vēstule" in rendered.html


def test_what_needs_a_human_is_listed_and_html_is_escaped():
    busy = report(
        today=Figures(messages={"application": 1}, applications=1, accepted=1, groups=1,
                      participants=3),
        attention=(Attention("review", "SUP-2026-00007", subject="<b>Skola</b>",
                             detail="position.unclear"),
                   Attention("held", "12", "sekretare@skola.lv", "Re: <script>")),
        progress=(Progress("pumpurs", "PuMPuRS", 1, None, 2, (("Skola", 1),)),))
    rendered = render_summary(busy, make_environment(resource_dir("templates")))
    assert rendered.subject == ("Supervīziju pieteikumi 24.11.2026.: 1 saraksts, 1 pieņemts, "
                                "2 jautājumi jāizskata")
    assert ("pieteikums SUP-2026-00007, <b>Skola</b>:\n      pēc amata nevar noteikt, vai persona "
            "ir vadītājs vai pedagogs – pārbaudiet, vai tā iekļauta pareizajā grupā") in rendered.text
    assert "&lt;b&gt;Skola&lt;/b&gt;" in rendered.html and "<script>" not in rendered.html
    assert "Iestādes ar mazāk nekā 2 supervīzijām: 1" in rendered.text  # R6


@pytest.mark.parametrize("value", ["=1+1", "+37120000000", "-2", "@SUM(A1)", "\tx", "\r=1"])
def test_text_that_would_start_a_formula_is_kept_as_text(value):
    assert neutral(value) == "'" + value


@pytest.mark.parametrize("value", ["Anna", "skolotāja", 3, None, "a=b"])
def test_other_values_are_left_alone(value):
    assert neutral(value) == value


@pytest.mark.parametrize(("kind", "founder", "route"), [
    ("Augstākās izglītības iestāde", FounderKind.PRIVATE, FundingRoute.IKVD),
    ("Profesionālās pamata un vidējās izglītības iestāde", FounderKind.STATE, FundingRoute.IKVD),
    ("Profesionālās pamata un vidējās izglītības iestāde", FounderKind.MUNICIPAL,
     FundingRoute.MUNICIPALITY),
    ("Pirmsskolas izglītības iestāde", FounderKind.PRIVATE, FundingRoute.MUNICIPALITY),
    ("Vispārējās izglītības iestāde", FounderKind.MUNICIPAL, FundingRoute.MUNICIPALITY),
])
def test_funding_route_follows_r8(kind, founder, route):
    assert funding_route(kind, founder) is route


MOMENT = datetime(2026, 11, 24, 10, 15)


@pytest.mark.parametrize("part", ["subject", "text", "html"])
def test_a_mailbox_not_read_that_day_is_the_headline(part):
    unread = report(mailbox_read=False, last_good_poll=MOMENT,
                    today=Figures(messages={"application": 1}, applications=1, accepted=1))
    rendered = render_summary(unread, make_environment(resource_dir("templates")))

    body = getattr(rendered, part)
    assert "nav nolasīta kopš 24.11.2026. plkst. 10:15" in body.lower()
    assert "pakalpojums darbojas" not in body
    if part == "subject":
        assert body.startswith("Supervīziju pieteikumi 24.11.2026.: pastkaste nav nolasīta")


def test_a_quiet_day_with_the_mailbox_read_says_when_it_was_last_read():
    rendered = render_summary(report(last_good_poll=MOMENT),
                              make_environment(resource_dir("templates")))

    assert "Pastkaste pārbaudīta bez kļūdām (pēdējoreiz 24.11.2026. plkst. 10:15)" in rendered.text
    assert "nav nolasīta" not in rendered.text.lower()


@pytest.mark.parametrize(("last", "now", "read"), [
    (None, None, False),
    (datetime(2026, 11, 24, 21, 59, tzinfo=UTC), None, True),  # 23:59 in Rīga: to the day's end
    (datetime(2026, 11, 24, 8, 15, tzinfo=UTC), None, False),  # 10:15, and nothing after
    (datetime(2026, 11, 25, 5, 0, tzinfo=UTC), None, True),  # read after the day: nothing waits
    (datetime(2026, 11, 24, 8, 15, tzinfo=UTC), datetime(2026, 11, 24, 8, 16, tzinfo=UTC), True),
])
def test_the_mailbox_was_read_when_a_poll_succeeded_near_the_day_s_end(last, now, read):
    period = Period.local_day(date(2026, 11, 24), RIGA)
    assert was_read(last, period, now, timedelta(minutes=1)) is read


def test_nothing_technical_reaches_staff():
    everything = report(
        today=Figures(messages={"application": 2}, applications=2, accepted=1, rejected=1),
        last_good_poll=MOMENT,
        attention=(*(Attention(kind, "12", "sekretare@skola.lv", "Pieteikums", "SMTPError: 550")
                     for kind in ("correspondence", "quarantined", "held", "failed", "sending")),
                   Attention("review", "SUP-2026-00007", subject="Skola", detail="email.shared")))
    rendered = render_summary(everything, make_environment(resource_dir("templates")))

    for body in (rendered.subject, rendered.text, rendered.html):
        for word in ("Europe/Riga", "laika josla", "intake ", "reprocess", "resend", "SMTPError",
                     "email.shared", "<code>"):
            assert word not in body
    assert "pieteikums SUP-2026-00007, Skola:" in rendered.text
    assert "viena e-pasta adrese vairākām personām – pārbaudiet" in rendered.text


def test_the_chart_starts_at_the_first_day_anything_was_accepted():
    first = date(2026, 11, 11)
    series = [(first + timedelta(days=n), 0) for n in range(12)] + [
        (date(2026, 11, 23), 2), (date(2026, 11, 24), 4)]

    assert compact_chart(series) == [(date(2026, 11, 23), 2, 50), (date(2026, 11, 24), 4, 100)]
    assert compact_chart([(first, 0)]) == []
    rendered = render_summary(report(series=series, today=Figures(messages={"application": 1})),
                              make_environment(resource_dir("templates")))
    assert "11.11." not in rendered.text and "23.11." in rendered.text
