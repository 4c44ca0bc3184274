"""The look-ahead of a large poll, with real worker processes: each message gets its own prepared
result (by place, whatever is skipped), the workers hold a few at a time and are handed the next
as each finishes, messages are prepared here until a worker has started, and a pool that dies
leaves them to be prepared here."""

from __future__ import annotations

import logging
import os
import signal
from concurrent.futures import wait
from datetime import date
from pathlib import Path

import pytest

from intake.core.automail import Ours
from intake.core.formats import Limits
from intake.core.outcome import Preparation
from intake.core.programme import Programme
from intake.mail.source import MessageRef
from intake.poll.replies import Replies
from intake.poll.workers import QUEUED_PER_WORKER, Lookahead, Workers, workers_for
from tests.support.mail import make_email

OURS = Ours(address="supervizija@intake.example.lv", message_id_domain="intake.example.lv")
PREPARATION = Preparation(
    ours=OURS, programmes={"national": Programme(name="national", title="Supervīzija")},
    default_programme="national", limits=Limits(), registry=None, today=date(2026, 11, 26))
REPLIES = Replies(Path("templates"), OURS.address, "intake.example.lv", Limits(), 25_000_000)


def fetched(*numbers: int) -> list[tuple[MessageRef, bytes]]:
    return [(MessageRef(f"1:{number}", 1), make_email(
        style="gmail", sender=f"Skola <s{number}@skola.example.lv>", to=OURS.address,
        subject=f"Jautājums {number}", body="Labdien!", number=number)) for number in numbers]


def subject(prepared: object) -> str:
    assert isinstance(prepared, tuple), prepared
    return prepared[1].subject  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def workers():
    with workers_for(2, 1, PREPARATION, REPLIES) as pool:
        assert pool is not None, "this machine has a single core"
        assert pool.started.wait(60), "no worker process started"
        yield pool


def test_each_message_gets_its_own_result_whatever_is_skipped(workers):
    ahead = Lookahead(workers, PREPARATION)
    batch = fetched(*range(1, 21))
    ahead.add(batch)

    # 1 and 2 were done before (not taken); 9 comes later than its place.
    taken = [subject(ahead.take(ref, raw)) for ref, raw in batch[2:8] + batch[9:]]

    assert taken == [f"Jautājums {n}" for n in [*range(3, 9), *range(10, 21)]]
    assert subject(ahead.take(*batch[8])) == "Jautājums 9"  # passed over: prepared here
    ahead.close()


def test_the_workers_hold_a_few_at_a_time_and_get_the_next_as_each_finishes(workers):
    ahead = Lookahead(workers, PREPARATION)
    first, second = fetched(*range(1, 31)), fetched(*range(31, 61))
    ahead.add(first)
    at_most = QUEUED_PER_WORKER * workers.processes
    assert ahead._queued <= at_most <= len(ahead._running)  # more once some have finished
    assert len(ahead._running) + len(ahead._jobs) == 30

    # Nothing taken: as each finishes, the next is handed over, until all thirty are prepared.
    while ahead._jobs or ahead._queued:
        assert ahead._queued <= at_most
        wait(list(ahead._running.values()))
    assert len(ahead._running) == 30

    ahead.add(second)
    assert [subject(ahead.take(ref, raw)) for ref, raw in first] == [
        f"Jautājums {n}" for n in range(1, 31)]
    running = list(ahead._running.values())
    assert running and ahead._queued <= at_most  # the next batch's first ones
    ahead.close()  # a stop request: nothing more is handed over; the few handed over finish
    assert not ahead._running and not ahead._jobs
    done, _pending = wait(running, timeout=60)
    assert len(done) == len(running) and not any(future.cancelled() for future in running)
    assert subject(ahead.take(*second[0])) == "Jautājums 31"


def test_a_message_the_workers_have_not_reached_is_handed_over_at_once(workers):
    ahead = Lookahead(workers, PREPARATION)
    batch = fetched(*range(1, 21))
    ahead.add(batch)
    # 1 to 14 were done before; 15 waited in line behind those handed over.
    assert subject(ahead.take(*batch[14])) == "Jautājums 15"
    waiting = [location for location, _job in ahead._jobs]
    assert waiting == [ref.location for ref, _ in batch[20 - len(waiting):]]  # 16 … 20 at most
    assert [subject(ahead.take(ref, raw)) for ref, raw in batch[15:]] == [
        f"Jautājums {n}" for n in range(16, 21)]
    ahead.close()


def test_a_message_that_was_never_added_is_prepared_here(workers):
    ahead = Lookahead(workers, PREPARATION)
    ahead.add(fetched(1, 2))
    (ref, raw), = fetched(99)
    assert subject(ahead.take(ref, raw)) == "Jautājums 99"
    assert len(ahead._running) == 2  # the others are still there to be taken
    ahead.close()


def test_until_a_worker_has_started_the_messages_are_prepared_here(workers):
    starting = Workers(workers.pool)  # the same processes, not yet known to have started
    ahead = Lookahead(starting, PREPARATION)
    batch = fetched(*range(1, 13))
    ahead.add(batch)
    assert ahead.workers is None
    assert subject(ahead.take(*batch[0])) == "Jautājums 1"
    assert not ahead._running  # nothing handed to the workers: this process does not wait

    starting.started.set()
    assert subject(ahead.take(*batch[1])) == "Jautājums 2"
    assert ahead._running  # from then on the workers prepare ahead
    assert [subject(ahead.take(ref, raw)) for ref, raw in batch[2:]] == [
        f"Jautājums {n}" for n in range(3, 13)]
    ahead.close()


def test_without_workers_every_message_is_prepared_here():
    ahead = Lookahead(None, PREPARATION)
    batch = fetched(1, 2, 3)
    ahead.add(batch)
    assert not ahead._running and not ahead._jobs
    assert [subject(ahead.take(ref, raw)) for ref, raw in batch] == [
        "Jautājums 1", "Jautājums 2", "Jautājums 3"]


def test_a_pool_that_dies_leaves_the_rest_to_be_prepared_here(caplog):
    batch = fetched(*range(1, 13))
    with workers_for(2, 1, PREPARATION, REPLIES) as pool:
        assert pool is not None and pool.started.wait(60)
        ahead = Lookahead(pool, PREPARATION)
        ahead.add(batch)
        assert subject(ahead.take(*batch[0])) == "Jautājums 1"  # the workers are up
        for process in list(pool.pool._processes.values()):  # type: ignore[attr-defined]
            os.kill(process.pid, signal.SIGKILL)
        with caplog.at_level(logging.ERROR, logger="intake.poll.workers"):
            taken = [subject(ahead.take(ref, raw)) for ref, raw in batch[1:]]

    assert taken == [f"Jautājums {n}" for n in range(2, 13)]
    assert ahead.workers is None
    assert [r.getMessage() for r in caplog.records] == [
        "worker processes died; deciding the rest of the poll in this process"]
