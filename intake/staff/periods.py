"""The periods staff figures are counted over: local days as UTC bounds, and back to local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement
from sqlmodel import col


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in UTC; `start` None: since the beginning."""

    start: datetime | None
    end: datetime

    @classmethod
    def local_day(cls, day: date, zone: ZoneInfo) -> Period:
        return cls(_utc(day, zone), _utc(day + timedelta(days=1), zone))

    @classmethod
    def local_days(cls, first: date | None, last: date, zone: ZoneInfo) -> Period:
        return cls(_utc(first, zone) if first else None, _utc(last + timedelta(days=1), zone))


def _utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


def between(column: Any, period: Period) -> list[ColumnElement[bool]]:
    """WHERE conditions: `column` within `period`."""
    conditions = [col(column) < period.end]
    if period.start is not None:
        conditions.append(col(column) >= period.start)
    return conditions


def local_moment(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def local_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """Local wall time without a zone: what a spreadsheet can show."""
    return local_moment(moment, zone).replace(tzinfo=None)
