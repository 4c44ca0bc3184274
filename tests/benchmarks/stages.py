"""Per-stage time of a poll, for the benchmarks: the stage functions wrapped, in every process.

`install()` wraps the functions each stage of a poll calls (in the modules that call them) with
a timer that counts exclusive time: a stage nested in another (the annotated copy inside
composing a reply, parsing inside preparing a message) is subtracted from its caller. Wall and
CPU time (this thread's) per stage, per process. The worker processes of a large poll are forked
from the fork server, which imports this through `sitecustomize` (see `environment`): each worker
writes its figures to BENCH_STAGES_DIR when it exits. Production code knows nothing of this.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
import threading
import time
from collections.abc import Callable
from multiprocessing import util
from pathlib import Path
from typing import Any

# (module, attribute or Class.method, stage), in the modules that call them.
_TARGETS = (
    ("intake.mail.imap", "ImapSource.list_new", "fetch"),
    ("intake.mail.imap", "ImapSource.fetch", "fetch"),
    ("intake.core.outcome", "parse_message", "parse"),
    ("intake.core.outcome", "read_participant_list", "read"),
    ("intake.poll.workers", "prepare_message", "decide"),
    ("intake.poll.recording", "finish", "decide"),  # R5 against the database
    ("intake.poll.pipeline", "write_batch", "store"),
    ("intake.poll.writing", "queue_reply", "store"),
    ("intake.poll.workers", "Lookahead.take", "wait for workers"),
    ("intake.poll.writing", "_queue_deferred", "wait for workers"),
    ("intake.poll.recording", "compose_reply", "compose"),
    ("intake.poll.writing", "compose_reply", "compose"),
    ("intake.poll.workers", "compose_reply", "compose"),
    ("intake.core.blank_list", "make_blank_list", "blank list"),  # imported where it is called
    ("intake.core.annotation", "annotate_workbook", "annotate"),
    ("intake.poll.pipeline", "deliver_pending", "send"),
    ("intake.poll.pipeline", "move_decided", "move"),
    ("intake.poll.pipeline", "decided_before", "move"),
)
STAGES = ("fetch", "parse", "read", "decide", "store", "wait for workers", "compose", "blank list",
          "annotate", "send", "move")

totals: dict[str, list[float]] = {}  # stage: [wall, cpu, calls]


class _Hook:
    """What the after-fork registry holds (weakly): kept alive by this module."""


_HOOK = _Hook()
_open = threading.local()  # per thread, per open stage: [wall, cpu] of its nested stages


def _stack() -> list[list[float]]:
    if not hasattr(_open, "stack"):
        _open.stack = []
    return _open.stack  # type: ignore[no-any-return]


def _enter() -> tuple[float, float]:
    _stack().append([0.0, 0.0])
    return time.perf_counter(), time.thread_time()


def _leave(stage: str, started: tuple[float, float]) -> None:
    wall, cpu = time.perf_counter() - started[0], time.thread_time() - started[1]
    stack = _stack()
    nested = stack.pop()
    figures = totals.setdefault(stage, [0.0, 0.0, 0])
    figures[0] += wall - nested[0]
    figures[1] += cpu - nested[1]
    figures[2] += 1
    if stack:
        stack[-1][0] += wall
        stack[-1][1] += cpu


def _timed(stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isgeneratorfunction(function):
        @functools.wraps(function)
        def generator(*args: Any, **kwargs: Any) -> Any:
            inner = function(*args, **kwargs)
            while True:
                started = _enter()
                try:
                    item = next(inner)
                except StopIteration:
                    return
                finally:
                    _leave(stage, started)
                yield item
        return generator

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = _enter()
        try:
            return function(*args, **kwargs)
        finally:
            _leave(stage, started)
    return timed


def install() -> None:
    for module_name, attribute, stage in _TARGETS:
        module = importlib.import_module(module_name)
        owner: Any = module
        name = attribute
        if "." in attribute:
            class_name, name = attribute.split(".")
            owner = getattr(module, class_name)
        setattr(owner, name, _timed(stage, getattr(owner, name)))
    util.register_after_fork(_HOOK, _in_child)


def _in_child(_totals: object) -> None:
    """A worker forked from the fork server: its own figures, written when it exits."""
    totals.clear()
    _stack().clear()
    util.Finalize(None, dump, exitpriority=100)


def dump() -> None:
    folder = os.environ.get("BENCH_STAGES_DIR")
    if folder and totals:
        Path(folder, f"{os.getpid()}.json").write_text(json.dumps(totals))


def workers_totals(folder: Path) -> dict[str, list[float]]:
    """The workers' figures, summed."""
    summed: dict[str, list[float]] = {}
    for path in folder.glob("*.json"):
        for stage, figures in json.loads(path.read_text()).items():
            into = summed.setdefault(stage, [0.0, 0.0, 0])
            for index, value in enumerate(figures):
                into[index] += value
    return summed


def environment(folder: Path) -> dict[str, str]:
    """Environment for a poll process whose every process (the fork server's too) is timed."""
    hook = folder / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text("import tests.benchmarks.stages as s\ns.install()\n")
    root = str(Path(__file__).resolve().parents[2])
    stages = folder / "stages"
    stages.mkdir(exist_ok=True)
    return {"PYTHONPATH": f"{hook}:{root}", "BENCH_STAGES_DIR": str(stages)}
