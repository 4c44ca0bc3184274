"""The poll lease on SQLite and PostgreSQL: one holder at a time, and an expired one is taken over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from intake.lease import acquire, release
from intake.schema import upgrade
from intake.store import open_engine

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TTL = timedelta(minutes=10)


@pytest.fixture
def engine(database_url):
    engine = open_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def test_a_second_poller_waits_while_the_first_holds_the_lease(engine):
    assert acquire(engine, "a", NOW, TTL)
    assert not acquire(engine, "b", NOW + timedelta(minutes=1), TTL)
    assert acquire(engine, "a", NOW + timedelta(minutes=1), TTL)  # the holder renews


def test_a_released_lease_is_free(engine):
    assert acquire(engine, "a", NOW, TTL)
    release(engine, "a")
    assert acquire(engine, "b", NOW, TTL)


def test_a_crashed_holders_lease_expires(engine):
    assert acquire(engine, "a", NOW, TTL)
    assert acquire(engine, "b", NOW + TTL + timedelta(seconds=1), TTL)
    release(engine, "a")  # the old holder cannot release what it no longer holds
    assert not acquire(engine, "c", NOW + TTL + timedelta(seconds=2), TTL)
