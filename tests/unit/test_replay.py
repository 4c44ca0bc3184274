"""A batch's second pass reads each message's own prepared result, by place, not by position."""

from __future__ import annotations

from intake.mailbox import MessageRef
from intake.pipeline import _Replay


def refs(*names: str) -> list[tuple[MessageRef, bytes]]:
    return [(MessageRef(name, 1), name.encode()) for name in names]


def test_a_second_pass_without_a_message_gets_each_others_own_result():
    pulled = []

    def prepared():
        for name in "abcd":
            pulled.append(name)
            yield f"prepared {name}"

    replay = _Replay(refs("a", "b", "c", "d"), prepared())
    first = replay.results(refs("a", "b", "c", "d"), lambda raw: "here")
    assert [next(first), next(first)] == ["prepared a", "prepared b"]  # then a failure

    second = list(replay.results(refs("a", "c", "d"), lambda raw: "here"))  # b became final

    assert second == ["prepared a", "prepared c", "prepared d"]
    assert pulled == ["a", "b", "c", "d"]  # each prepared once


def test_a_message_the_first_pass_did_not_have_is_prepared_here():
    replay = _Replay(refs("a"), iter(["prepared a"]))
    assert list(replay.results(refs("a", "z"), lambda raw: f"here {raw.decode()}")) == [
        "prepared a", "here z"]
