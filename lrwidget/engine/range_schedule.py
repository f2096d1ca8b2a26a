"""Schedules built from a range of lrs (issue 19): :func:`build_schedule` attaches one of torch's
schedulers to an optimizer, :func:`schedule_preview` says what it will give, step by step.

The mapping from a range ``lo .. hi`` (the first param group's; the other groups keep their
ratio to it, as :meth:`lrwidget.LRFinder.apply` does):

* ``one_cycle``: ``OneCycleLR(max_lr=hi, div_factor=hi / lo)``: from lo up to hi over torch's
  ``pct_start`` (0.3) of the steps, then down to lo / ``final_div_factor`` (torch's 1e4).
* ``cyclic``: ``CyclicLR(base_lr=lo, max_lr=hi)``, triangular, ``step_size_up`` =
  ``step_size_down`` = :func:`lrwidget.pure.ranges.cyclic_step_size` (the rules'
  ``cyclicCycles`` whole cycles).
* ``cosine`` / ``linear``: a ``LambdaLR`` (:class:`WarmupDecay`): linear warmup from lo to hi
  over :func:`lrwidget.pure.ranges.warmup_steps`, then a cosine (linear) decay to lo /
  ``finalDivisor`` (100) at the last step, held after it. A LambdaLR because torch's
  ``CosineAnnealingLR`` has one ``eta_min`` for every group: group ratios would not hold.

``one_cycle`` and ``cyclic`` cycle the momentum as torch does by default when the optimizer has
one (``momentum`` or ``betas``); without one they leave it (torch would refuse).

The preview is the real scheduler's: the same kind built on a throwaway optimizer, its lr read
at each step it evaluates (``last_epoch`` set, one ``step()``: every kind here is closed-form
in ``last_epoch``), never a formula of its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.optim.lr_scheduler import CyclicLR, LambdaLR, LRScheduler, OneCycleLR

from ..pure.numbers import is_int
from ..pure.ranges import (
    check_range,
    check_total_steps,
    cyclic_step_size,
    preview_steps,
    warmup_steps,
)
from ..pure.rules import SCHEDULE, SCHEDULE_KINDS

__all__ = [
    "KINDS",
    "WarmupDecay",
    "check_kind",
    "check_schedule",
    "group_lrs",
    "all_or_nothing",
    "build_schedule",
    "schedule_preview",
]

#: the kinds of schedule, in the picker's order
KINDS: tuple[str, ...] = tuple(SCHEDULE_KINDS)
#: most steps one preview evaluates (columns=None evaluates every step)
MAX_PREVIEW_STEPS = 10**7
_MAX_COLUMNS = 1 << 16


@dataclass
class WarmupDecay:
    """The factor of a cosine / linear schedule at a step (a LambdaLR's ``lr_lambda``; a
    callable object, so the scheduler's ``state_dict`` keeps it).

    Linear from ``start`` at step 0 to 1 at step ``warmup``, then ``shape`` ("cosine" or
    "linear") down to ``end`` at step ``total - 1``, ``end`` after.

    Example
    -------
    >>> f = WarmupDecay(0.1, 0.001, 2, 5, "linear")
    >>> [round(f(s), 6) for s in range(6)]
    [0.1, 0.55, 1.0, 0.5005, 0.001, 0.001]
    """

    start: float
    end: float
    warmup: int
    total: int
    shape: str

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return self.start + (1.0 - self.start) * (step / self.warmup)
        p = min(1.0, (step - self.warmup) / max(1, self.total - 1 - self.warmup))
        if self.shape == "cosine":
            return self.end + (1.0 - self.end) * 0.5 * (1.0 + math.cos(math.pi * p))
        return 1.0 - (1.0 - self.end) * p


def check_kind(kind: object) -> str:
    """``kind`` when it is one of :data:`KINDS`; else a ValueError naming them."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    return kind


def check_schedule(
    kind: object, lo: object, hi: object, total_steps: object
) -> tuple[str, float, float, int]:
    """The arguments of a schedule, checked (ValueError naming the bad one): a kind of
    :data:`KINDS`, ``0 < lo < hi`` finite, ``total_steps`` an int within the rules' bounds."""
    kind = check_kind(kind)
    a, b = check_range(None, lo, hi)
    return kind, a, b, check_total_steps(total_steps)


def group_lrs(optimizer: Any, lr: float) -> list[float]:
    """``lr`` for the first param group, the others scaled alike (their ratio to the first
    kept; all ``lr`` when the first group's lr is not a positive finite number).

    Example
    -------
    >>> a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    >>> opt = torch.optim.SGD([{"params": [a], "lr": 1e-2}, {"params": [b], "lr": 1e-3}])
    >>> group_lrs(opt, 0.5)
    [0.5, 0.05]
    """
    cur = [float(g["lr"]) for g in optimizer.param_groups]
    ref = cur[0]
    if ref > 0 and math.isfinite(ref):
        k = lr / ref
        # a group with the first one's lr gets exactly lr too (c * k may be off in the last bit)
        return [lr] + [lr if c == ref else c * k for c in cur[1:]]
    return [lr] * len(cur)


@contextmanager
def all_or_nothing(optimizer: Any) -> Iterator[None]:
    """On an exception inside, every param group gets back the keys and values it had (a
    scheduler's constructor writes ``initial_lr``, ``max_lr``, momentum... before it may
    fail); an lr held as a tensor is written back in place."""
    saved = [
        {k: (v, v.detach().clone() if isinstance(v, torch.Tensor) else v) for k, v in g.items()}
        for g in optimizer.param_groups
    ]
    try:
        yield
    except BaseException:
        for g, keep in zip(optimizer.param_groups, saved):
            for k in [k for k in g if k not in keep]:
                del g[k]
            for k, (held, value) in keep.items():
                g[k] = held
                if isinstance(held, torch.Tensor):  # a capturable optimizer's: the same tensor
                    with torch.no_grad():
                        held.copy_(value)
        raise


def _momentum_default(optimizer: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    # torch cycles momentum by default and refuses an optimizer without one
    can = "momentum" in optimizer.defaults or "betas" in optimizer.defaults
    return {"cycle_momentum": can, **kwargs}


def build_schedule(
    optimizer: torch.optim.Optimizer,
    kind: str,
    lo: float,
    hi: float,
    total_steps: int,
    **kwargs: Any,
) -> LRScheduler:
    """A torch scheduler of ``kind`` over ``lo .. hi`` for ``total_steps`` steps, attached to
    ``optimizer`` (see the module docstring for the mapping).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Its param groups keep their ratios to the first one (``lo``, ``hi`` are its).
    kind : str
        One of :data:`KINDS`: "one_cycle", "cyclic", "cosine", "linear".
    lo, hi : float
        ``0 < lo < hi``, finite.
    total_steps : int
        Optimizer steps the schedule spans, from the rules' ``minTotalSteps`` (2) to
        ``maxTotalSteps`` (1e9).
    **kwargs
        Passed to OneCycleLR / CyclicLR (``pct_start``, ``cycle_momentum``, ...); none for
        cosine / linear.

    Returns
    -------
    torch.optim.lr_scheduler.LRScheduler
        Step it after each ``optimizer.step()``.

    Raises
    ------
    ValueError
        A bad argument (named, with the accepted values), before the optimizer is touched;
        a scheduler's own refusal leaves the param groups as they were too.

    Example
    -------
    >>> p = torch.nn.Parameter(torch.zeros(1)); opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    >>> s = build_schedule(opt, "one_cycle", 1e-3, 1e-1, total_steps=100)
    >>> opt.param_groups[0]["max_lr"], round(opt.param_groups[0]["initial_lr"], 12)
    (0.1, 0.001)
    """
    kind, lo, hi, n = check_schedule(kind, lo, hi, total_steps)
    if kwargs and kind in ("cosine", "linear"):
        raise ValueError(f"the {kind} schedule takes no keyword arguments, got {sorted(kwargs)}")
    his, los = group_lrs(optimizer, hi), group_lrs(optimizer, lo)
    with all_or_nothing(optimizer):
        if kind == "one_cycle":
            kw = _momentum_default(optimizer, kwargs)
            return OneCycleLR(optimizer, his, total_steps=n, div_factor=hi / lo, **kw)
        if kind == "cyclic":
            step = cyclic_step_size(n)
            kw = _momentum_default(optimizer, {"step_size_up": step, **kwargs})
            return CyclicLR(optimizer, base_lr=los, max_lr=his, **kw)
        end = lo / float(SCHEDULE["finalDivisor"])
        for g, v in zip(optimizer.param_groups, his):
            g["initial_lr"] = v  # LambdaLR's base; a scheduler before may have left its own
        return LambdaLR(optimizer, WarmupDecay(lo / hi, end / hi, warmup_steps(n), n, kind))


def _turning_points(kind: str, n: int, sched: LRScheduler, kwargs: dict[str, Any]) -> list[float]:
    """The real steps where a schedule of ``kind`` may change direction."""
    if kind == "one_cycle":
        pct = float(kwargs.get("pct_start", 0.3))
        turns = [pct * n - 1, n - 1.0]
        return [*turns, 2 * pct * n - 2] if kwargs.get("three_phase") else turns
    if kind == "cyclic":
        assert isinstance(sched, CyclicLR)
        size, up = float(sched.total_size), float(sched.total_size * sched.step_ratio)
        if 2 * n / size > MAX_PREVIEW_STEPS:
            raise ValueError(f"{2 * n / size:.3g} turns are too many to preview; fewer cycles")
        starts = np.arange(0.0, n, size)
        return np.concatenate([starts, starts + up]).tolist()
    assert isinstance(sched, LambdaLR)
    return [float(warmup_steps(n)), n - 1.0]


def _checked_columns(columns: object, n: int) -> int | None:
    if columns is None:
        if n > MAX_PREVIEW_STEPS:
            raise ValueError(f"columns=None previews every step: at most {MAX_PREVIEW_STEPS}")
        return None
    if not is_int(columns) or not 1 <= int(columns) <= _MAX_COLUMNS:
        raise ValueError(
            f"columns must be None or an int from 1 to {_MAX_COLUMNS}, got {columns!r}"
        )
    return int(columns)


def _lr_at(sched: LRScheduler, optimizer: Any, step: int) -> float:
    sched.last_epoch = step - 1
    sched.step()
    return float(optimizer.param_groups[0]["lr"])


def schedule_preview(
    kind: str,
    lo: float,
    hi: float,
    total_steps: int,
    columns: int | None = None,
    **kwargs: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """The lrs of the first param group that :func:`build_schedule` gives, at the steps a
    preview draws.

    Parameters
    ----------
    kind, lo, hi, total_steps, **kwargs
        As :func:`build_schedule`'s.
    columns : int, optional
        The preview's width in columns: the steps of
        :func:`lrwidget.pure.ranges.preview_steps` (each column's ends and the turning points:
        :func:`lrwidget.pure.ranges.column_extremes` then gives each column's exact lowest and
        highest lr). None: every step ``0 .. total_steps - 1``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The steps (int64, sorted) and the lr the scheduler gives there (float64): step ``s``'s
        lr is the one the optimizer holds after ``s`` calls of ``scheduler.step()``.

    Example
    -------
    >>> steps, lrs = schedule_preview("linear", 1e-3, 1e-1, total_steps=11)
    >>> int(steps[lrs.argmax()]), float(lrs[1]), round(float(lrs[-1]), 15)
    (1, 0.1, 1e-05)
    """
    kind, lo, hi, n = check_schedule(kind, lo, hi, total_steps)
    cols = _checked_columns(columns, n)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=hi, momentum=0.9)
    sched = build_schedule(opt, kind, lo, hi, n, **kwargs)
    opt.step()  # no gradient: changes nothing, and torch sees the order it expects
    steps = preview_steps(n, cols, _turning_points(kind, n, sched, kwargs))
    lrs = np.fromiter((_lr_at(sched, opt, int(s)) for s in steps), np.float64, steps.size)
    return steps, lrs
