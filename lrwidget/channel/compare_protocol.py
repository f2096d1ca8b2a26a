"""The compare view's commands (issue 20), parsed as untrusted (pure): a front end may say hello,
select a (run, lr) or clear it, and ask to apply the kernel's selection; nothing else.

A selection names its run by index (< the number of runs) and an lr, which the kernel then
snaps to a tested lr of that run (:func:`lrwidget.pure.ranges.snap_lr`); an apply carries no lr
at all: the kernel applies what it selected itself, so a front end cannot put an lr into an
optimizer that no curve tested.

Example
-------
>>> parse_compare_command({"type": "compare_select", "run": 1, "lr": 0.01}, 2)
CompareSelect(run=1, lr=0.01)
>>> parse_compare_command({"type": "compare_select", "run": 2, "lr": 0.01}, 2)
Traceback (most recent call last):
...
lrwidget.channel.protocol.BadCommand: compare_select: run must be an int in [0, 2), got 2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from ..pure.numbers import is_int
from .protocol import BadCommand, lr_field

__all__ = ["CompareApply", "CompareHello", "CompareSelect", "parse_compare_command"]


@dataclass(frozen=True)
class CompareHello:
    """A rendered view asks for the live runs' readings so far."""


@dataclass(frozen=True)
class CompareSelect:
    """A click: run ``run``'s tested lr nearest ``lr`` (``lr`` None: clear the selection)."""

    run: int
    lr: float | None


@dataclass(frozen=True)
class CompareApply:
    """Apply the kernel's selection to its run's optimizer."""


CompareCommand = Union[CompareHello, CompareSelect, CompareApply]


def parse_compare_command(content: Any, n_runs: int) -> CompareCommand:
    """A front end's message as a command, checked; :class:`BadCommand` names what is wrong."""
    if not isinstance(content, dict):
        raise BadCommand(f"a command must be an object, got {type(content).__name__}")
    kind = content.get("type")
    if kind == "hello":
        return CompareHello()
    if kind == "compare_apply":
        return CompareApply()
    if kind == "compare_select":
        run = content.get("run")
        if not is_int(run) or not 0 <= int(run) < n_runs:
            raise BadCommand(
                f"compare_select: run must be an int in [0, {n_runs}), got {run!r:.40}"
            )
        return CompareSelect(int(run), lr_field("compare_select", content))
    shown = repr(kind)[:40]
    raise BadCommand(f"unknown command type {shown}; known: hello, compare_select, compare_apply")
