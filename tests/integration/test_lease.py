"""The poll lock on SQLite and PostgreSQL: one holder at a time, freed when the holder is gone."""

from __future__ import annotations

import subprocess
import sys

from intake.store.engine import open_engine
from intake.store.lease import poll_lock


def test_a_second_poller_is_refused_while_the_first_holds_the_lock(engine, database_url):
    other = open_engine(database_url)
    try:
        with poll_lock(engine) as first:
            assert first
            with poll_lock(other) as second:
                assert not second
        with poll_lock(other) as after:
            assert after
    finally:
        other.dispose()


def test_a_killed_holder_frees_the_lock(engine, database_url):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from intake.store.lease import poll_lock\n"
         "from intake.store.engine import open_engine\n"
         f"with poll_lock(open_engine({database_url!r})) as held:\n"
         "    print(held, flush=True)\n"
         "    sys.stdin.read()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"  # it holds the lock now
        with poll_lock(engine) as held:
            assert not held
        holder.kill()
        holder.communicate(timeout=30)  # reaps it and closes our ends of its pipes
        with poll_lock(engine) as held:
            assert held
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.communicate(timeout=30)  # a failed assertion too closes our ends of its pipes
