"""A release for a range test's steps, so a browser test waits only for what it checks.

A run that the test watches used to sleep at every step ("slow enough to watch the curve grow"),
for the whole run. With a gate its steps run at full speed up to the count the test allows, then
wait there until the test allows more or opens the gate: the test sees a run that is certainly
still running, lets a few more steps through to see the curve grow, then lets the rest run.

The gate is a file (the one channel that reaches a notebook kernel, a marimo or Voilà kernel and
the ranks of a torchrun job alike): it holds the number of steps allowed, or ``open``.

Test side::

    gate = Gate(jupyter.root / "run.gate")  # allows FIRST steps
    ... the cell runs ``held(step, path)`` ...
    gate.allow(n)  # n steps in all
    gate.open()  # the rest at full speed

Kernel side: ``step = held(step, path)`` or ``hold = Hold(path)`` and ``hold()`` in the step.

Watching a held run (test side): ``watch_it_grow(root, gate)`` for a view of any host;
``wait_until(check, what)`` polls any other condition.
"""

from __future__ import annotations

import os
import pathlib
import time
from collections.abc import Callable
from typing import Any

#: steps a new gate lets through before it holds the run
FIRST = 5
OPEN = "open"
#: a held step goes on after this long even if the gate stays shut, so that a test that died
#: never leaves a kernel or a job waiting for ever (its teardown also kills them by pid)
HOLD_LIMIT_S = 120.0
POLL_S = 0.01


class Gate:
    """The test's side: a file of the steps allowed, written whole (``os.replace``)."""

    def __init__(self, path: os.PathLike | str, first: int = FIRST):
        self.path = pathlib.Path(path)
        self.allowed = 0
        self.allow(first)

    def _write(self, text: str) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.path)  # the kernel never reads half a number

    def allow(self, steps: int) -> None:
        """Let the run go on until ``steps`` steps in all have started."""
        self.allowed = steps
        self._write(str(steps))

    def more(self, steps: int) -> None:
        """Let ``steps`` more steps through."""
        self.allow(self.allowed + steps)

    def open(self) -> None:
        """Let every remaining step run at full speed."""
        self._write(OPEN)


class Hold:
    """The kernel's side: call it at the start of every step; it returns when the gate lets
    that step through."""

    def __init__(self, path: os.PathLike | str):
        self.path = pathlib.Path(path)
        self.steps = 0
        self.opened = False

    def _allowed(self) -> float:
        try:
            text = self.path.read_text().strip()
        except OSError:
            return 0
        if text == OPEN:
            self.opened = True  # never read again: the rest of the run pays nothing
            return float("inf")
        return int(text) if text.isdigit() else 0

    def __call__(self) -> None:
        self.steps += 1
        deadline = time.monotonic() + HOLD_LIMIT_S
        while not self.opened and self._allowed() < self.steps:
            if time.monotonic() > deadline:
                return
            time.sleep(POLL_S)


def held(step: Callable[..., Any], path: os.PathLike | str) -> Callable[..., Any]:
    """``step`` behind the gate at ``path``."""
    hold = Hold(path)

    def gated(*args: Any, **kwargs: Any) -> Any:
        hold()
        return step(*args, **kwargs)

    return gated


# ------------------------------------------------------------------ watching a held run
def wait_until(check, what: str, timeout: float = 60.0, every: float = 0.05):
    """Poll ``check()`` until it returns something true (returned); fail saying ``what`` was
    awaited (a locator's attributes are read anew each time: a re-rendered view is found)."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(every)


def _readings(root) -> tuple[int, str | None]:
    return int(root.get_attribute("data-readings") or 0), root.get_attribute("data-status")


def watch_it_grow(root, gate: Gate, timeout: float = 60.0, more: int = 10) -> int:
    """The view ``root`` of a run behind ``gate`` runs with readings; ``more`` steps let through
    arrive while it still runs (the gate holds the run after them). Returns that count; the
    caller opens the gate once it has seen what it needs of the running view."""
    n1, _ = wait_until(
        lambda: (r := _readings(root))[1] == "running" and r[0] > 0 and r,
        "the view to run with readings",
        timeout,
    )
    gate.more(more)
    n2, status = wait_until(
        lambda: (r := _readings(root))[0] > n1 and r,
        f"the readings to grow past {n1} while the range test runs",
        timeout,
    )
    assert status == "running", f"the range test ended too soon to watch it ({status})"
    assert n2 > n1 > 0, f"readings did not grow while the range test ran: {n1} -> {n2}"
    return n2
