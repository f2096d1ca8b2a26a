"""A schedule built from a range where people train (issue 19): what the framework callbacks do
with ``schedule=`` (or a range applied in their widget) once the range test chose.

* **The range.** A range applied in the widget (the find step's, a ``listen()`` notebook's),
  with its kind; else the ends given to the callback; else the chosen lr (a click, the default
  suggestion) as the peak, snapped to a tested lr, with the low end of
  :func:`lrwidget.pure.ranges.suggest_range` below it (where the loss has begun to fall, at
  most a quarter of the peak): the suggested range, around the lr chosen.
* **The steps.** The callback's ``total_steps``, else the framework's own total (Lightning's
  ``trainer.estimated_stepping_batches``, the Trainer's ``state.max_steps``); fewer steps than
  training takes are refused before the test (a one cycle would end before training does).
* **The schedule** is :func:`lrwidget.engine.range_schedule.build_schedule`'s, exactly: the same
  lr at every step, each param group keeping its ratio to the first as configured.

How it gets into the framework differs (each framework's module says why): Lightning's
configure_optimizers scheduler is replaced by the one :func:`rebuild` makes (attached when there
is none); the Hugging Face Trainer's ``LambdaLR`` is moved in place (:func:`move_lambda`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler

from ..engine.loop import write_lr
from ..engine.range_schedule import (
    WarmupDecay,
    all_or_nothing,
    build_schedule,
    check_kind,
    check_schedule,
    group_lrs,
)
from ..engine.schedules import base_lrs
from ..pure.ranges import check_range, check_total_steps, suggest_range

__all__ = [
    "Asked",
    "Chosen",
    "Following",
    "rebuild",
    "resumed",
    "move_lambda",
    "range_around",
    "reinstall",
]

# keys a scheduler writes into a param group (one cycle, cyclic, warmup); stale after a rebuild
_SCHEDULER_KEYS = ("initial_lr", "max_lr", "min_lr", "base_lr")


@dataclass(frozen=True)
class Chosen:
    """The schedule training runs with: :func:`build_schedule`'s arguments."""

    kind: str
    lo: float
    hi: float
    total_steps: int

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "lo": self.lo, "hi": self.hi, "total_steps": self.total_steps}


@dataclass(frozen=True)
class Asked:
    """What a callback was asked for (checked when made): a kind (None: no schedule unless one
    is applied in the widget), fixed ends (None: from the choice), total steps (None: the
    framework's).

    Example
    -------
    >>> Asked.checked("one_cycle", 1e-3, None, None)
    Traceback (most recent call last):
    ...
    ValueError: lo and hi: give both ends or neither (None: the range test's), got lo=0.001, hi=None
    """

    kind: str | None = None
    lo: float | None = None
    hi: float | None = None
    total_steps: int | None = None

    @classmethod
    def checked(cls, kind: object, lo: object, hi: object, total_steps: object) -> Asked:
        n = None if total_steps is None else check_total_steps(total_steps)
        if kind is None:
            if lo is not None or hi is not None:
                raise ValueError("lo and hi need a kind of schedule: pass schedule=")
            return cls(total_steps=n)
        kind = check_kind(kind)
        if (lo is None) != (hi is None):
            raise ValueError(
                "lo and hi: give both ends or neither (None: the range test's), "
                f"got lo={lo!r}, hi={hi!r}"
            )
        if lo is None:
            return cls(kind, total_steps=n)
        a, b = check_range(None, lo, hi)
        return cls(kind, a, b, n)

    def steps_in(self, framework_total: float) -> int | None:
        """The steps a schedule spans in a training of ``framework_total`` optimizer steps
        (``inf``: no end known); None when that is unknown and no schedule is asked for."""
        total = framework_total if math.isfinite(framework_total) else None
        if total is not None and self.total_steps is not None and self.total_steps < total:
            raise ValueError(
                f"total_steps must cover the training's {int(total)} optimizer steps, got "
                f"{self.total_steps} (None: the framework's own total)"
            )
        n = self.total_steps if self.total_steps is not None else total
        if self.kind is None and (n is None or n < 2):
            return None  # no schedule asked for: one applied in a widget is refused later
        if n is None:
            raise ValueError(
                "total_steps: the framework knows no end of training (no max_steps / "
                "max_epochs); pass total_steps= to the callback"
            )
        return check_total_steps(int(n))


def range_around(result: Any, peak: float) -> tuple[float, float]:
    """The suggested range (:func:`lrwidget.pure.ranges.suggest_range`) with ``peak`` (a click,
    a rule's suggestion) in place of the default suggestion: the peak snapped to the nearest
    tested lr, the low end where the loss has begun to fall, at most a quarter of it."""
    peaked = SimpleNamespace(
        lrs=result.lrs, smoothed=result.smoothed, losses=result.losses, suggested_lr=peak
    )
    rng = suggest_range(peaked, peak_factor=1.0)  # the lr chosen is the peak itself
    if rng is None:
        raise ValueError(
            f"no range around the chosen lr {peak:.6g}: no tested lr below it; pass lo and hi"
        )
    return rng


def _peaks(optimizer: Any, schedulers: list[Any], hi: float) -> list[float]:
    """Each group's peak: ``hi`` for the first, the others at their configured ratio to it."""
    configured = SimpleNamespace(param_groups=[{"lr": b} for b in base_lrs(optimizer, schedulers)])
    return group_lrs(configured, hi)


def rebuild(optimizer: Any, schedulers: list[Any], chosen: Chosen) -> LRScheduler:
    """:func:`build_schedule` on ``optimizer`` as configured: each group's lr back at its base
    (``schedulers``' scheduled lr may be 0 in a warmup) and the keys those schedulers wrote
    removed; all or nothing."""
    peaks = _peaks(optimizer, schedulers, chosen.hi)
    with all_or_nothing(optimizer):
        for g, p in zip(optimizer.param_groups, peaks):
            for k in _SCHEDULER_KEYS:
                g.pop(k, None)
            write_lr(g, "lr", p)
        return build_schedule(optimizer, chosen.kind, chosen.lo, chosen.hi, chosen.total_steps)


def resumed(optimizer: Any, schedulers: list[Any], chosen: Chosen, state: Any) -> LRScheduler:
    """:func:`rebuild` where a checkpoint left off: ``state`` (the scheduler's ``state_dict``
    the checkpoint kept; None: none) loaded, and the param groups as the checkpoint restored
    them (the lr and momentum of its step)."""
    restored = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    sched = rebuild(optimizer, schedulers, chosen)
    if state is not None:
        sched.load_state_dict(state)
    for g, kept in zip(optimizer.param_groups, restored):
        g.update(kept)
    return sched


class Following:
    """A LambdaLR's factor at a step: :func:`build_schedule`'s one cycle or cyclic lr there
    divided by its peak, read from the real torch scheduler (never a formula of its own).

    Its ``__dict__`` holds only the numbers, so a scheduler's ``state_dict`` keeps it and a
    checkpoint loads with ``weights_only=True``.

    Example
    -------
    >>> f = Following("one_cycle", 1e-3, 1e-1, 100)
    >>> round(f(0) * 0.1, 12), f(29)  # from lo, up to the peak at 30 % of the steps
    (0.001, 1.0)
    """

    def __init__(self, kind: str, lo: float, hi: float, total_steps: int) -> None:
        self.kind, self.lo, self.hi, self.total_steps = check_schedule(kind, lo, hi, total_steps)

    def __call__(self, step: int) -> float:
        sched, opt = _real(self.kind, self.lo, self.hi, self.total_steps)
        sched.last_epoch = step - 1
        sched.step()  # every kind here is closed-form in last_epoch
        return float(opt.param_groups[0]["lr"]) / self.hi


@functools.lru_cache(maxsize=4)
def _real(kind: str, lo: float, hi: float, n: int) -> tuple[LRScheduler, torch.optim.Optimizer]:
    """The real scheduler on a throwaway one-parameter optimizer (one per schedule in use)."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=hi, momentum=0.9)
    sched = build_schedule(opt, kind, lo, hi, n)
    opt.step()  # no gradient: changes nothing, and torch sees the order it expects
    return sched, opt


def _factor(chosen: Chosen) -> Any:
    if chosen.kind in ("cosine", "linear"):
        real = _real(chosen.kind, chosen.lo, chosen.hi, chosen.total_steps)[0]
        assert isinstance(real, LambdaLR)  # build_schedule's for these kinds
        return real.lr_lambdas[0]
    return Following(chosen.kind, chosen.lo, chosen.hi, chosen.total_steps)


def move_lambda(sched: Any, optimizer: Any, chosen: Chosen) -> None:
    """Move a ``LambdaLR`` (the Trainer's) in place onto ``chosen``: its factor becomes
    build_schedule's (cosine / linear: the same :class:`WarmupDecay`; one cycle / cyclic:
    :class:`Following`), its bases each group's peak; the lr held now is the one of its step."""
    if not isinstance(sched, LambdaLR):
        raise ValueError(f"the schedule to move must be a LambdaLR, got {type(sched).__name__}")
    peaks = _peaks(optimizer, [sched], chosen.hi)
    factor = _factor(chosen)
    at = factor(sched.last_epoch)
    with all_or_nothing(optimizer):
        for g, p in zip(optimizer.param_groups, peaks):
            for k in _SCHEDULER_KEYS:
                g.pop(k, None)
            g["initial_lr"] = p
            write_lr(g, "lr", p * at)
    sched.base_lrs = list(peaks)
    sched.lr_lambdas = [factor] * len(peaks)


def reinstall(sched: Any) -> bool:
    """After a checkpoint's state was loaded into a fresh LambdaLR (a resumed Trainer): put
    back the factor a moved schedule had, from the numbers its state kept (``load_state_dict``
    writes them onto the fresh factor); False when the state was not one of ours."""
    if not isinstance(sched, LambdaLR) or not sched.lr_lambdas:
        return False
    kept = vars(sched.lr_lambdas[0])
    if {"kind", "lo", "hi", "total_steps"} <= kept.keys():
        factor: Any = Following(kept["kind"], kept["lo"], kept["hi"], kept["total_steps"])
    elif {"start", "end", "warmup", "total", "shape"} <= kept.keys():
        factor = WarmupDecay(*(kept[k] for k in ("start", "end", "warmup", "total", "shape")))
    else:
        return False
    sched.lr_lambdas = [factor] * len(sched.lr_lambdas)
    return True
