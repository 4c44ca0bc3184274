"""The benchmarks' stage timer names functions of the poll: a function moved or renamed must fail
here, not leave the benchmark silently without its stages."""

from __future__ import annotations

import importlib

import pytest

from tests.benchmarks.stages import _TARGETS


@pytest.mark.parametrize(("module", "attribute", "stage"), _TARGETS)
def test_every_timed_function_exists_where_the_stage_timer_looks(module, attribute, stage):
    owner = importlib.import_module(module)
    for name in attribute.split("."):
        assert hasattr(owner, name), f"{module}.{attribute} ({stage}) is gone"
        owner = getattr(owner, name)
    assert callable(owner)
