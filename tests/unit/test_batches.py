"""How a poll cuts the mailbox into batches: by count and bytes, and in a large poll the last
batches halve, so that the replies sent after the last commit are few."""

from __future__ import annotations

from intake.mail.source import MessageRef
from intake.poll.pipeline import TAPER_FLOOR, _batches


def refs(*sizes: int) -> list[MessageRef]:
    return [MessageRef(f"1:{number}", size) for number, size in enumerate(sizes, 1)]


def sizes(batches: list[list[MessageRef]]) -> list[int]:
    return [len(batch) for batch in batches]


def test_batches_hold_at_most_the_count_and_about_the_bytes():
    assert sizes(list(_batches(refs(*[10] * 7), 3, 1000))) == [3, 3, 1]
    assert sizes(list(_batches(refs(*[10] * 7), 50, 25))) == [2, 2, 2, 1]
    # A message larger than the byte limit goes alone; none is left out or repeated.
    mailbox = refs(10, 500, 10, 10)
    batches = list(_batches(mailbox, 50, 100))
    assert sizes(batches) == [1, 1, 2] and [r for b in batches for r in b] == mailbox


def test_the_last_batches_of_a_large_poll_halve():
    mailbox = refs(*[10] * 1000)
    batches = list(_batches(mailbox, 50, 10**9, taper=True))
    assert sizes(batches)[:16] == [50] * 16
    assert sizes(batches)[-4:] == [25, 13, 8, 4]
    assert all(len(batch) >= TAPER_FLOOR for batch in batches[:-1])  # only the remainder is less
    assert [r for b in batches for r in b] == mailbox
    # A poll smaller than two batches tapers from the start; the byte limit still holds.
    assert sizes(list(_batches(refs(*[10] * 20), 50, 10**9, taper=True))) == [10, 8, 2]
    assert sizes(list(_batches(refs(*[10] * 20), 50, 30, taper=True))) == [3, 3, 3, 3, 3, 3, 2]
