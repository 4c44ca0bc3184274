"""A programme's rule parameters (R1, R3–R7, R10, R12) and the kinds of value a settings file holds.

The annotations are pydantic's: inert metadata on plain dataclasses here, read by the
configuration loader when it checks a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field, Strict, StrictBool

# What a file's values may be. TOML has its own integers, booleans, dates and lists: a quoted
# "fifty", "no" or "2026-09-01" is a mistake to point out, never a value to guess at.
Text = Annotated[str, Strict(), Field(min_length=1)]
Switch = StrictBool
Day = Annotated[date, Strict()]
Whole = Annotated[int, Strict()]
Number = Annotated[float, Strict()]

FILE_TABLE = ConfigDict(extra="forbid")  # an unknown key is a typo until shown otherwise


class SessionMode(StrEnum):
    IN_PERSON = "in_person"
    REMOTE = "remote"
    EITHER = "either"


class SplitPolicy(StrEnum):
    BALANCED = "balanced"  # 23 -> 8, 8, 7 (R4)
    FILL = "fill"  # 23 -> 10, 10, 3


@dataclass(frozen=True, slots=True)
class Programme:
    """A programme's rule parameters (R1, R3–R7, R10, R12): data, not code."""

    __pydantic_config__: ClassVar[ConfigDict] = FILE_TABLE

    name: Text
    title: Text
    max_group_size: Annotated[Whole, Field(ge=1, le=100)] = 10
    min_group_size: Annotated[Whole, Field(ge=0, le=100)] = 0
    leaders_apart: Switch = True
    split_policy: SplitPolicy = SplitPolicy.BALANCED
    one_supervision_per_educator: Switch = False
    registry_match_required: Switch = True
    open_from: Day | None = None
    open_until: Day | None = None
    target_supervisions: Annotated[Whole, Field(ge=0, le=1_000_000)] | None = None  # R7
    # R7, optional: wait-list beyond it
    supervision_cap: Annotated[Whole, Field(ge=1, le=1_000_000)] | None = None
    min_supervisions_per_institution: Annotated[Whole, Field(ge=0, le=1_000)] | None = None  # R6
    # Amendments (a list replying to a confirmation) are applied automatically while the programme
    # is open, up to this date and this many days after the application was accepted (e.g. until
    # groups are scheduled); later ones go to staff as correspondence.
    amendments_until: Day | None = None
    amendment_days: Annotated[Whole, Field(ge=0, le=3_650)] | None = None
    # How replies present the programme: the name beside our address in From, and the contact
    # details under the signature.
    sender_name: Text = "IKVD supervīziju pieteikumi"
    phone: Text | None = None
    web_page: Text | None = None
    # Who may apply: the registry's kinds of institution (VIIS "Veids"), and the partner
    # institutions (registration numbers or names) listed here or in `partners_file` (a file beside
    # the programme's, one a line). Empty: any institution.
    eligible_kinds: tuple[Text, ...] = ()
    partners: tuple[Text, ...] = ()
    partners_file: Text | None = None
    # A group smaller than this is no supervision of its own: staff merge it with another.
    merge_below: Annotated[Whole, Field(ge=0, le=100)] = 0
    # Routing: mail sent to one of these addresses (an alias), or to our address with one of these
    # `+tags`, or whose subject has one of these words, is for this programme.
    addresses: tuple[Text, ...] = ()
    tags: tuple[Text, ...] = ()
    subject_words: tuple[Text, ...] = ()
    # The stems of the words that name this programme's kind of activity (`supervīzij`): a mail
    # whose subject names another activity is for staff, never the default programme's.
    activity_words: tuple[Text, ...] = ()
    # A programme as configuration: off until switched on, its activity in the words of a reply
    # (`konsultācija`, and the dative of `pieteikums konsultācijai`), how long a session lasts,
    # where it is held, what happens next, and the folder of templates (under `templates_dir`)
    # whose files take the place of the shared ones where its wording differs.
    enabled: Switch = True
    activity: Text = "supervīzija"
    activity_dative: Text = "supervīzijai"
    duration_minutes: Annotated[Whole, Field(ge=1, le=10_080)] | None = None
    mode: SessionMode | None = None
    next_steps: Text | None = None
    templates: Text | None = None
    # The list's own columns besides the participants' (headers as written): required ones are
    # checked (`column.missing`), both are kept with the application for the coordinator.
    required_columns: tuple[Text, ...] = ()
    optional_columns: tuple[Text, ...] = ()

    def is_open(self, today: date) -> bool:
        return (self.open_from is None or today >= self.open_from) and (
            self.open_until is None or today <= self.open_until)

    def accepts_amendment(self, accepted_on: date, today: date) -> bool:
        return self.is_open(today) and (
            self.amendments_until is None or today <= self.amendments_until) and (
            self.amendment_days is None or (today - accepted_on).days <= self.amendment_days)
