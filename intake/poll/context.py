"""What every step of a poll (and a staff action that decides mail again) works with: the settings,
the database, the templates, the registry, the clock, and the hooks for tests and for a stop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import jinja2
from sqlalchemy import Engine

from intake.config import Settings
from intake.core.automail import Ours
from intake.core.outcome import Preparation
from intake.core.registry import InstitutionIndex

Failpoint = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    engine: Engine
    environment: jinja2.Environment
    registry: InstitutionIndex | None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    failpoint: Failpoint = lambda _name: None
    should_stop: Callable[[], bool] = lambda: False  # SIGTERM: finish the message in hand, then stop

    @property
    def ours(self) -> Ours:
        return Ours(self.settings.mail.address, self.settings.mail.domain)

    def local_day(self, moment: datetime) -> date:
        """The day `moment` falls on where the service is (its configured time zone)."""
        return moment.astimezone(ZoneInfo(self.settings.timezone)).date()

    def preparation(self) -> Preparation:
        """What deciding a message without the database needs, as of now."""
        settings = self.settings
        return Preparation(self.ours, settings.programmes, settings.default_programme,
                           settings.limits, self.registry, self.local_day(self.now()))
