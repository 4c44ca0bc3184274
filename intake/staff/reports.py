"""What staff read: the figures of a day and of the whole programme, gathered from the store.

Queries only; the summary mail (`intake.staff.summary`) and the workbook (`intake.staff.export`) turn these
plain values into Latvian for people.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from intake.core.programme import Programme
from intake.core.registry import FounderKind, FundingRoute, funding_route, name_key
from intake.core.states import MessageState, Verdict
from intake.staff.actions import Action, staff_actions
from intake.staff.periods import Period, between, local_moment, local_time
from intake.store.tables import (
    ApplicationRecord,
    FindingRecord,
    GroupRecord,
    InstitutionRecord,
    MessageRecord,
    OutboxRecord,
    OutboxState,
    ParticipantRecord,
    ResubmissionRecord,
    ServiceRecord,
    standing,
)

SERIES_DAYS = 14  # the chart: accepted supervisions per day over the last two weeks
UNKNOWN_MUNICIPALITY = "—"


@dataclass(frozen=True, slots=True)
class Figures:
    """Counts over a period."""

    messages: Mapping[str, int]  # by state
    applications: int = 0  # lists received
    accepted: int = 0
    rejected: int = 0
    withdrawn: int = 0
    groups: int = 0  # supervisions: accepted, not withdrawn
    participants: int = 0
    reasons: Sequence[tuple[str, int]] = ()  # error codes, by how many lists had them
    warnings: Sequence[tuple[str, int]] = ()
    duplicates: int = 0  # people found registered already or twice in a list (R5)
    repeats: int = 0  # lists sent again unchanged (already registered, or the same errors)
    amendments: int = 0  # accepted applications whose list an amendment replaced
    corrections: int = 0  # accepted lists that corrected an earlier rejection

    @property
    def received(self) -> int:
        return sum(self.messages.values())


@dataclass(frozen=True, slots=True)
class AreaFigures:
    """R8: accepted supervisions by funding route and municipality."""

    route: str  # FundingRoute value, or "" where the institution is not in the registry
    municipality: str
    applications: int = 0
    groups: int = 0
    participants: int = 0


@dataclass(frozen=True, slots=True)
class Progress:
    """R6 and R7 for one programme."""

    programme: str
    title: str
    groups: int
    target: int | None  # R7
    minimum_per_institution: int | None  # R6
    below_minimum: Sequence[tuple[str, int]] = ()  # institutions that applied, with their groups


@dataclass(frozen=True, slots=True)
class Attention:
    """One thing a person must look at: what, which record, who wrote, and a short detail."""

    kind: str  # correspondence, quarantined, held, failed, sending, review
    reference: str  # a message row id or an application number
    sender: str = ""
    subject: str = ""
    detail: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Report:
    day: date
    zone: str
    today: Figures
    total: Figures
    areas: Sequence[AreaFigures]
    progress: Sequence[Progress]
    attention: Sequence[Attention]
    series: Sequence[tuple[date, int]] = field(default_factory=tuple)
    actions: Sequence[Action] = field(default_factory=tuple)
    # The mailbox: whether polls read it through the day (to its end, or to now for today), and
    # the last time one did (local wall time), None if none ever has.
    mailbox_read: bool = True
    last_good_poll: datetime | None = None

    @property
    def quiet(self) -> bool:
        """Nothing arrived that day and nothing waits for a human."""
        return self.today.received == 0 and not self.attention and not self.actions

    def actions_of(self, kind: str) -> list[Action]:
        return [a for a in self.actions if a.kind == kind]


def build_report(engine: Engine, day: date, zone: ZoneInfo,
                 programmes: Mapping[str, Programme], *, now: datetime | None = None,
                 poll_interval: timedelta = timedelta(minutes=1)) -> Report:
    """The day `day` (local to `zone`) and everything up to its end; `now` and the poll interval
    tell whether the mailbox was read that day."""
    period = Period.local_day(day, zone)
    to_date = Period(None, period.end)
    with Session(engine) as session:
        today = _figures(session, period)
        total = _figures(session, to_date)
        by_area = areas(session, to_date)
        progress = _progress(session, to_date, programmes)
        attention = _attention(session, period)
        series = _series(session, day, zone)
        actions = staff_actions(session, period)
        recorded = session.get(ServiceRecord, "last_good_poll")
    last = _moment(recorded.value) if recorded else None
    return Report(day, zone.key, today, total, by_area, progress, attention, series, actions,
                  mailbox_read=was_read(last, period, now, poll_interval),
                  last_good_poll=local_time(last, zone) if last else None)


def was_read(last_good_poll: datetime | None, period: Period, now: datetime | None,
             poll_interval: timedelta) -> bool:
    """A poll succeeded near the end of the period (or now, for a day not over): missed polls of
    more than three intervals (as `intake status` alerts on) mean mail waits unread."""
    if last_good_poll is None:
        return False
    until = min(period.end, now) if now is not None else period.end
    return last_good_poll >= until - 3 * poll_interval


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _figures(session: Session, period: Period) -> Figures:
    """Counts by GROUP BY: lists by the day they arrived, withdrawals by the day they were made."""
    received = between(ApplicationRecord.created_at, period)
    counted = col(ApplicationRecord.verdict) != Verdict.SUPERSEDED
    messages = dict(session.exec(
        select(MessageRecord.state, func.count())
        .where(*between(MessageRecord.received_at, period))
        .group_by(col(MessageRecord.state))).all())
    verdicts = dict(session.exec(
        select(ApplicationRecord.verdict, func.count()).where(*received, counted)
        .group_by(col(ApplicationRecord.verdict))).all())
    withdrawn = session.exec(select(func.count()).select_from(ApplicationRecord).where(
        *between(ApplicationRecord.withdrawn_at, period))).one()
    live = [*received, *standing()]
    groups = session.exec(
        select(func.count(col(GroupRecord.id)))
        .join(ApplicationRecord, col(ApplicationRecord.id) == col(GroupRecord.application_id))
        .where(*live, col(GroupRecord.to_merge).is_(False))).one()
    participants = session.exec(
        select(func.count(col(ParticipantRecord.id)))
        .join(GroupRecord, col(GroupRecord.id) == col(ParticipantRecord.group_id))
        .join(ApplicationRecord, col(ApplicationRecord.id) == col(GroupRecord.application_id))
        .where(*live)).one()
    again = dict(session.exec(
        select(ResubmissionRecord.kind, func.count())
        .where(*between(ResubmissionRecord.created_at, period))
        .group_by(col(ResubmissionRecord.kind))).all())
    corrections = session.exec(select(func.count()).select_from(ApplicationRecord).where(
        *received, col(ApplicationRecord.verdict) == Verdict.ACCEPTED,
        col(ApplicationRecord.resolves_id).is_not(None))).one()
    reasons: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    duplicates = 0
    for severity, code, lists, occurrences in session.exec(
            select(FindingRecord.severity, FindingRecord.code,
                   func.count(col(FindingRecord.application_id)), func.sum(FindingRecord.count))
            .join(ApplicationRecord, col(ApplicationRecord.id) == col(FindingRecord.application_id))
            .where(*received, counted)
            .group_by(col(FindingRecord.severity), col(FindingRecord.code))).all():
        (reasons if severity == "error" else warnings)[code] += lists
        if code.startswith("duplicate."):
            duplicates += int(occurrences or 0)
    return Figures(
        messages=messages, applications=sum(verdicts.values()),
        accepted=verdicts.get(Verdict.ACCEPTED, 0), rejected=verdicts.get(Verdict.REJECTED, 0),
        withdrawn=withdrawn, groups=groups, participants=participants,
        reasons=sorted(reasons.items(), key=lambda item: (-item[1], item[0])),
        warnings=sorted(warnings.items(), key=lambda item: (-item[1], item[0])),
        duplicates=duplicates, repeats=again.get("repeat", 0) + again.get("repeat-rejected", 0),
        amendments=again.get("amendment", 0), corrections=corrections)


def _sizes(session: Session, application_ids: Iterable[int]
           ) -> tuple[dict[int, int], dict[int, int]]:
    """Groups and participants per application."""
    groups: dict[int, int] = defaultdict(int)
    people: dict[int, int] = defaultdict(int)
    for chunk in _chunks(list(application_ids)):
        for application_id, count in session.exec(
                select(GroupRecord.application_id, func.count())
                .where(col(GroupRecord.application_id).in_(chunk))
                .where(col(GroupRecord.to_merge).is_(False))
                .group_by(col(GroupRecord.application_id))).all():
            groups[application_id] = count
        for application_id, count in session.exec(
                select(GroupRecord.application_id, func.count(col(ParticipantRecord.id)))
                .join(ParticipantRecord, col(ParticipantRecord.group_id) == col(GroupRecord.id))
                .where(col(GroupRecord.application_id).in_(chunk))
                .group_by(col(GroupRecord.application_id))).all():
            people[application_id] = count
    return groups, people


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    """IN lists of bounded length: SQLite limits the parameters of one statement."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _live_applications(session: Session, period: Period
                       ) -> list[tuple[int, str, str | None, str | None]]:
    """Accepted, not withdrawn: id, programme, institution name, registration number."""
    return [(int(row[0]), row[1], row[2], row[3]) for row in session.execute(
        sa_select(col(ApplicationRecord.id), col(ApplicationRecord.programme),
                  col(ApplicationRecord.institution), col(ApplicationRecord.institution_number))
        .where(*standing())
        .where(*between(ApplicationRecord.created_at, period))).all()]


def institution_places(session: Session) -> dict[str, tuple[str, str]]:
    """Registration number -> (funding route, municipality)."""
    places = {}
    for number, kind, founder, municipality in session.exec(
            select(InstitutionRecord.number, InstitutionRecord.kind, InstitutionRecord.founder,
                   InstitutionRecord.municipality)).all():
        route = funding_route(kind, FounderKind(founder))
        places[number] = (route.value, municipality or UNKNOWN_MUNICIPALITY)
    return places


def areas(session: Session, period: Period) -> list[AreaFigures]:
    """R8: accepted, not withdrawn supervisions per funding route and municipality."""
    live = _live_applications(session, period)
    groups, people = _sizes(session, [row[0] for row in live])
    places = institution_places(session)
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for application_id, _programme, _name, number in live:
        route, municipality = places.get(number or "", ("", UNKNOWN_MUNICIPALITY))
        if route == FundingRoute.IKVD:
            municipality = UNKNOWN_MUNICIPALITY  # funded directly: the place does not matter
        figures = totals[(route, municipality)]
        figures[0] += 1
        figures[1] += groups.get(application_id, 0)
        figures[2] += people.get(application_id, 0)
    return [AreaFigures(route, municipality, *values)
            for (route, municipality), values in sorted(totals.items())]


def _progress(session: Session, period: Period,
              programmes: Mapping[str, Programme]) -> list[Progress]:
    live = _live_applications(session, period)
    groups, _people = _sizes(session, [row[0] for row in live])
    result = []
    for name, programme in sorted(programmes.items()):
        per_institution: Counter[str] = Counter()
        names: dict[str, str] = {}
        for application_id, programme_name, institution, number in live:
            if programme_name == name:
                key = number or f"name:{name_key(institution or '?')}"  # one school, two spellings
                names.setdefault(key, institution or "?")
                per_institution[key] += groups.get(application_id, 0)
        minimum = programme.min_supervisions_per_institution
        below = sorted((names[key], n) for key, n in per_institution.items()
                       if minimum and n < minimum)
        total = sum(per_institution.values())
        if total or programme.target_supervisions:
            result.append(Progress(name, programme.title, total, programme.target_supervisions,
                                   minimum, below))
    return result


def _attention(session: Session, period: Period) -> list[Attention]:
    """What waits for a human: correspondence of the day; whatever is stuck, whenever it came."""
    found: list[Attention] = []
    for row in session.exec(select(MessageRecord).where(
            MessageRecord.state == MessageState.CORRESPONDENCE)
            .where(*between(MessageRecord.received_at, period))
            .order_by(col(MessageRecord.id))).all():
        found.append(Attention("correspondence", str(row.id), row.sender, row.subject,
                               at=row.received_at))
    for row in session.exec(select(MessageRecord).where(
            MessageRecord.state == MessageState.QUARANTINED).order_by(col(MessageRecord.id))).all():
        found.append(Attention("quarantined", str(row.id), row.sender, row.subject,
                               row.error.partition(":")[0], at=row.received_at))
    for state in (OutboxState.HELD, OutboxState.FAILED, OutboxState.SENDING):
        for outbox in session.exec(select(OutboxRecord).where(OutboxRecord.state == state)
                                   .order_by(col(OutboxRecord.id))).all():
            found.append(Attention(state.value, str(outbox.id), outbox.recipient, outbox.subject,
                                   outbox.last_error[:120], at=outbox.created_at))
    for number, institution, codes in _to_review(session, period):
        found.append(Attention("review", number, subject=institution or "", detail=codes))
    return found


def _to_review(session: Session, period: Period) -> list[tuple[str, str | None, str]]:
    """Accepted lists of the day with warnings (unclear positions and the like)."""
    rows = session.exec(
        select(ApplicationRecord.number, ApplicationRecord.institution, FindingRecord.code)
        .join(FindingRecord, col(FindingRecord.application_id) == col(ApplicationRecord.id))
        .where(*standing())
        .where(FindingRecord.severity == "warning")
        .where(*between(ApplicationRecord.created_at, period))
        .order_by(col(ApplicationRecord.number), col(FindingRecord.code))).all()
    codes: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for number, institution, code in rows:
        codes[(number, institution)].append(code)
    return [(number, institution, ", ".join(found))
            for (number, institution), found in codes.items()]


def _series(session: Session, day: date, zone: ZoneInfo) -> list[tuple[date, int]]:
    first = day - timedelta(days=SERIES_DAYS - 1)
    period = Period.local_days(first, day, zone)
    rows = session.exec(
        select(ApplicationRecord.created_at, func.count(col(GroupRecord.id)))
        .join(GroupRecord, col(GroupRecord.application_id) == col(ApplicationRecord.id))
        .where(*standing(), col(GroupRecord.to_merge).is_(False))
        .where(*between(ApplicationRecord.created_at, period))
        .group_by(col(ApplicationRecord.id), col(ApplicationRecord.created_at))).all()
    per_day: Counter[date] = Counter()
    for created, count in rows:
        per_day[local_moment(created, zone).date()] += count
    return [(first + timedelta(days=n), per_day[first + timedelta(days=n)])
            for n in range(SERIES_DAYS)]
