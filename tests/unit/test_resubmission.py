"""Recognising a list sent again: fingerprints, named numbers, amendments' changes, and what each
list is to the applications before it (outcome.relate_lists / settle_lists)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from intake.core.model import (
    CellText,
    Decision,
    Field,
    Finding,
    Group,
    GroupKind,
    ListRow,
    Participant,
    Role,
    Severity,
)
from intake.core.outcome import (
    ListOutcome,
    MessageOutcome,
    relate_lists,
    settle_lists,
)
from intake.core.parts import Attachment
from intake.core.programme import Programme
from intake.core.resubmission import (
    Earlier,
    Relation,
    amendment_target,
    compare_people,
    finding_codes,
    list_fingerprint,
)
from intake.core.states import MessageState

SCHOOL = "Rīgas 12. vidusskola"
NATIONAL = Programme(name="national", title="Supervīzijas", one_supervision_per_educator=True)
TODAY = date(2026, 11, 25)
EARLIER = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def person(row: int, first: str, last: str, position: str = "skolotāja",
           email: str = "") -> Participant:
    return Participant(row, first, last, position, email or f"{first.lower()}@skola.lv",
                       Role.EDUCATOR)


ANNA, JANIS, LIGA = person(1, "Anna", "Bērziņa"), person(2, "Jānis", "Kalns"), person(3, "Līga", "Ozola")


def test_the_same_people_in_another_order_and_spelling_give_one_fingerprint():
    first = list_fingerprint(SCHOOL, [ANNA, JANIS, LIGA])
    again = list_fingerprint('"RĪGAS 12.VIDUSSKOLA"', [
        person(7, "LĪGA", "OZOLA", "Skolotāja", "LĪGA@SKOLA.LV"),
        person(8, "Anna", "Berzina", " skolotāja ", "anna@skola.lv"),
        person(9, "Jānis", "Kalns")])
    assert first == again


@pytest.mark.parametrize("changed", [
    ("Rīgas 13. vidusskola", [ANNA, JANIS, LIGA]),  # another institution
    (SCHOOL, [ANNA, JANIS]),  # someone removed
    (SCHOOL, [ANNA, JANIS, replace(LIGA, position="direktora vietniece")]),  # a position changed
    (SCHOOL, [ANNA, JANIS, replace(LIGA, email="liga.ozola@skola.lv")]),  # an e-mail changed
])
def test_another_institution_person_position_or_email_gives_another_fingerprint(changed):
    assert list_fingerprint(*changed) != list_fingerprint(SCHOOL, [ANNA, JANIS, LIGA])


def test_rows_that_gave_no_participant_count_by_their_folded_text():
    row = ListRow(5, {Field.EMAIL: CellText("x@@skola.lv", 5, 4)})
    moved = ListRow(9, {Field.EMAIL: CellText("X@@SKOLA.LV", 9, 2)})
    assert list_fingerprint(SCHOOL, [ANNA], [row]) == list_fingerprint(SCHOOL, [ANNA], [moved])
    assert list_fingerprint(SCHOOL, [ANNA], [row]) != list_fingerprint(SCHOOL, [ANNA])


def test_an_amendment_adds_removes_and_keeps_people_by_email_or_folded_name():
    renamed = person(4, "ANNA", "BERZINA", email="anna.b@skola.lv")  # same name, new e-mail
    new = person(5, "Pēteris", "Ozols")
    change = compare_people([ANNA, JANIS, LIGA], [renamed, LIGA, new], SCHOOL)
    assert change.added == (new,)
    assert change.removed == (JANIS,)
    assert change.unchanged == (renamed, LIGA)


def decision(*people: Participant, institution: str = SCHOOL,
             findings: tuple[Finding, ...] = ()) -> Decision:
    return Decision("saraksts.xlsx", institution, "national",
                    (Group(GroupKind.EDUCATORS, people),) if people else (), findings)


ERROR = Finding(Severity.ERROR, "email.invalid", "Nederīga e-pasta adrese.")


def earlier(id_: int, verdict: str, *people: Participant, fingerprint: str | None = None,
            institution: str = SCHOOL, codes: frozenset[tuple[str, str, int]] = frozenset()
            ) -> Earlier:
    return Earlier(id_, f"SUP-2026-{id_:05d}", verdict, EARLIER, institution, fingerprint,
                   "national", codes, people)


def test_the_amended_application_is_the_referenced_one_sharing_most_people():
    one, two = earlier(1, "accepted", ANNA), earlier(2, "accepted", ANNA, JANIS)
    other_school = earlier(3, "accepted", ANNA, JANIS, LIGA, institution="Ogres tehnikums")
    assert amendment_target(decision(ANNA, JANIS, LIGA), [one, two, other_school]) == two


def test_a_list_of_wholly_other_people_amends_nothing():
    assert amendment_target(decision(LIGA), [earlier(1, "accepted", ANNA, JANIS)]) is None


def outcome_of(item_decision: Decision, fingerprint: str = "f") -> MessageOutcome:
    item = ListOutcome(Attachment("saraksts.xlsx", b""), item_decision, (), fingerprint)
    return MessageOutcome(MessageState.APPLICATION, "1 attachment(s)", NATIONAL, (item,))


def relate(outcome: MessageOutcome, referenced=(), same=(), programme: Programme = NATIONAL,
           today: date = TODAY) -> MessageOutcome:
    return relate_lists(replace(outcome, programme=programme), referenced=list(referenced),
                        same_list=lambda _f: list(same), today=today, zone=UTC)


def test_the_same_list_as_an_accepted_application_is_a_repeat_found_by_fingerprint():
    accepted = earlier(1, "accepted", ANNA, fingerprint="f")
    (item,) = relate(outcome_of(decision(ANNA)), same=[accepted]).lists
    assert (item.relation, item.earlier) == (Relation.REPEAT, accepted)


def test_a_list_answering_a_confirmation_amends_it_and_its_people_are_no_duplicates():
    accepted = earlier(1, "accepted", ANNA, JANIS, fingerprint="old")
    related = relate(outcome_of(decision(ANNA, LIGA)), referenced=[accepted])
    assert related.lists[0].relation is Relation.AMENDMENT
    (item,) = settle_lists(related, referenced=[accepted], same_list=lambda _f: [],
                           unresolved=[]).lists
    assert item.change is not None and item.change.added == (LIGA,)
    assert item.change.removed == (JANIS,)


@pytest.mark.parametrize("programme", [
    replace(NATIONAL, amendments_until=date(2026, 11, 24)),
    replace(NATIONAL, amendment_days=4),  # accepted on the 20th: the 25th is day 5
    replace(NATIONAL, open_until=date(2026, 11, 24)),
])
def test_an_amendment_after_the_cutoff_makes_the_mail_correspondence(programme):
    accepted = earlier(1, "accepted", ANNA, JANIS)
    related = relate(outcome_of(decision(ANNA, LIGA)), referenced=[accepted], programme=programme)
    assert (related.state, related.reason, related.lists) == (
        MessageState.CORRESPONDENCE, "late-amendment", ())


def test_an_amendment_on_its_last_day_is_still_applied():
    accepted = earlier(1, "accepted", ANNA, JANIS)
    programme = replace(NATIONAL, amendment_days=5, amendments_until=TODAY)
    related = relate(outcome_of(decision(ANNA, LIGA)), referenced=[accepted], programme=programme)
    assert related.lists[0].relation is Relation.AMENDMENT


def test_an_amendment_with_errors_is_refused():
    accepted = earlier(1, "accepted", ANNA, JANIS)
    related = relate(outcome_of(decision(ANNA, LIGA, findings=(ERROR,))), referenced=[accepted])
    (item,) = settle_lists(related, referenced=[accepted], same_list=lambda _f: [],
                           unresolved=[]).lists
    assert (item.relation, item.earlier, item.change) == (Relation.AMENDMENT_REFUSED, accepted, None)


@pytest.mark.parametrize(("codes", "relation"), [
    (frozenset({("error", "email.invalid", 1)}), Relation.REPEAT_REJECTED),
    (frozenset({("error", "email.invalid", 2)}), Relation.NEW),  # other findings now: decided anew
])
def test_a_rejected_list_sent_unchanged_repeats_only_with_the_same_findings(codes, relation):
    repeats = relation is Relation.REPEAT_REJECTED
    rejected = earlier(1, "rejected", fingerprint="f", codes=codes)
    faulty = decision(ANNA, findings=(ERROR,))
    assert finding_codes(faulty) == {("error", "email.invalid", 1)}
    (item,) = settle_lists(outcome_of(faulty), referenced=[], same_list=lambda _f: [rejected],
                           unresolved=[]).lists
    assert item.relation is relation
    assert item.earlier == (rejected if repeats else None)


def test_a_new_list_corrects_the_senders_latest_rejection_for_the_same_institution():
    older = replace(earlier(1, "rejected"), created_at=datetime(2026, 11, 1, tzinfo=UTC))
    latest = earlier(2, "rejected")
    elsewhere = replace(earlier(3, "rejected", institution="Ogres tehnikums"),
                        created_at=datetime(2026, 11, 24, tzinfo=UTC))
    (item,) = settle_lists(outcome_of(decision(ANNA)), referenced=[], same_list=lambda _f: [],
                           unresolved=[older, elsewhere, latest]).lists
    assert (item.relation, item.earlier) == (Relation.NEW, latest)


def test_a_new_list_of_another_institution_corrects_nothing_unless_it_answers_the_rejection():
    rejected = earlier(1, "rejected", institution="Ogres tehnikums")
    plain = settle_lists(outcome_of(decision(ANNA)), referenced=[], same_list=lambda _f: [],
                         unresolved=[rejected])
    answering = settle_lists(outcome_of(decision(ANNA)), referenced=[rejected],
                             same_list=lambda _f: [], unresolved=[])
    assert plain.lists[0].earlier is None
    assert answering.lists[0].earlier == rejected


def test_another_programmes_application_is_never_the_same_list():
    accepted = replace(earlier(1, "accepted", ANNA, fingerprint="f"), programme="pumpurs")
    (item,) = relate(outcome_of(decision(ANNA)), same=[], referenced=[accepted]).lists
    assert item.relation is Relation.NEW
