"""`intake` commands in processes that begin at the same moment: each imports the command line,
says it is ready, and waits on one pipe; closing the pipe's write end releases them all at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# The child: everything slow (imports) before the barrier, nothing but the entry point after it.
_CHILD = """\
import importlib, os, sys
module, _, name = sys.argv[3].partition(":")
main = getattr(importlib.import_module(module), name)
ready, go = int(sys.argv[1]), int(sys.argv[2])
os.write(ready, b".")
os.close(ready)
os.read(go, 1)
os.close(go)
sys.exit(main(sys.argv[4:]))
"""


@dataclass(frozen=True)
class Finished:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return f"intake {' '.join(self.args)} exited {self.returncode}:\n{self.stdout}\n{self.stderr}"


@dataclass(frozen=True)
class Command:
    """`args` for `intake` (or for `entry`, "module:function" taking a list of arguments and
    returning the exit status); `until`, for a command that runs until stopped (the daemon), says
    from a line of its log when it has done enough: it is then sent SIGTERM."""

    args: tuple[str, ...]
    until: Callable[[str], bool] | None = None
    entry: str = "intake.cli:main"


def run_together(commands: Sequence[Command], *, env: Mapping[str, str], cwd: Path,
                 timeout: float = 120) -> list[Finished]:
    """Starts every command, releases them together once all are ready, and waits for each."""
    ready_read, ready_write = os.pipe()
    go_read, go_write = os.pipe()
    processes: list[subprocess.Popen[str]] = []
    try:
        for command in commands:
            processes.append(subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(ready_write), str(go_read), command.entry,
                 *command.args],
                pass_fds=(ready_write, go_read), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, env=dict(env), cwd=cwd))
        os.close(ready_write)
        os.close(go_read)
        ready = 0
        while ready < len(commands):  # EOF first: a child died before it was ready
            chunk = os.read(ready_read, len(commands))
            if not chunk:
                break
            ready += len(chunk)
    finally:
        os.close(ready_read)
        os.close(go_write)  # the barrier: every child's read returns now
    finished = []
    for command, process in zip(commands, processes, strict=True):
        stderr_before = ""
        if command.until is not None and process.stderr is not None:
            for line in process.stderr:  # the daemon's log, line by line, until it is done
                stderr_before += line
                if command.until(line):
                    process.send_signal(signal.SIGTERM)
                    break
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        finished.append(Finished(command.args, process.returncode, stdout, stderr_before + stderr))
    assert ready == len(commands), "a process exited before it was ready:\n" + "\n".join(
        f.describe() for f in finished)
    return finished
