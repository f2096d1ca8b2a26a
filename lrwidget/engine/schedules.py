"""Move an optimizer's lr schedule to a new base lr, whatever scheduler built it.

A framework creates the optimizer and its scheduler before a callback can run the range test,
so the schedule (warmup, decay, one cycle) is already built around the configured lr. Every
scheduler of ``torch.optim.lr_scheduler`` that frameworks build (LambdaLR, StepLR, Cosine...,
OneCycleLR, CyclicLR, LinearLR, SequentialLR) is linear in its base lrs: scaling the base lr of
a param group by ``k`` scales that group's whole schedule by ``k``. So moving to a chosen lr is
one ratio per group, applied to the lr the group holds now and to every base the scheduler keeps.
Absolute floors (``eta_min``, ReduceLROnPlateau's ``min_lrs``) are not scaled.

An lr held as a tensor (capturable/fused optimizers; the schedulers built on them keep tensors
too) is read with ``float()`` and moved in place (:func:`lrwidget.engine.loop.write_lr`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from .loop import write_lr

# per-group keys schedulers write into a param group, each a multiple of the group's base lr
_GROUP_KEYS = ("lr", "initial_lr", "max_lr", "min_lr", "base_lr")
# scheduler attributes holding one value per group, each a multiple of the group's base lr
_SCHEDULER_LISTS = ("base_lrs", "max_lrs")


def _is_lr(v: Any) -> bool:
    """A value a schedule scales: a real number, or a one-element tensor."""
    if isinstance(v, torch.Tensor):
        return v.numel() == 1 and v.is_floating_point()
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _base_of_group(group: dict[str, Any]) -> str:
    # OneCycleLR peaks at max_lr (its initial_lr is max_lr / div_factor); a warmup/decay
    # scheduler keeps the configured lr as initial_lr; without a scheduler the lr is the base
    for key in ("max_lr", "initial_lr"):
        if _is_lr(group.get(key)):
            return key
    return "lr"


def _cyclic(optimizer: Any, schedulers: Iterable[Any]) -> Any:
    # CyclicLR keeps its peaks on itself (max_lrs) and writes its lower bound as initial_lr;
    # a range test's lr is the peak of a cycle (Smith), so the peaks are the base
    n = len(optimizer.param_groups)
    for s in _all_schedulers(schedulers):
        if isinstance(getattr(s, "max_lrs", None), list) and len(s.max_lrs) == n:
            return s
    return None


def base_lrs(optimizer: Any, schedulers: Iterable[Any] = ()) -> list[float]:
    """The lr each param group's schedule is built around.

    A CyclicLR's ``max_lrs``, OneCycleLR's ``max_lr``, the ``initial_lr`` another scheduler
    keeps (the configured lr), else the group's ``lr``.

    Example
    -------
    >>> import torch
    >>> p = torch.nn.Parameter(torch.zeros(1))
    >>> opt = torch.optim.AdamW([p], lr=3e-4)
    >>> s = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: step / 10)  # warmup from 0
    >>> opt.param_groups[0]["lr"], base_lrs(opt, [s])
    (0.0, [0.0003])
    """
    schedulers = list(schedulers)
    cyc = _cyclic(optimizer, schedulers)
    if cyc is not None:
        return [float(v) for v in cyc.max_lrs]
    return [float(g[_base_of_group(g)]) for g in optimizer.param_groups]


def rebase(optimizer: Any, schedulers: Iterable[Any], new_base: Sequence[float]) -> None:
    """Scale each param group's schedule so that its base lr (:func:`base_lrs`) becomes
    ``new_base[i]``.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Or a wrapper with ``param_groups`` (accelerate's, Lightning's).
    schedulers : iterable of lr schedulers
        Those stepping ``optimizer``; their base lrs move with the groups'. A SequentialLR's
        or ChainedScheduler's own schedulers are moved too.
    new_base : sequence of float
        One positive finite lr per param group.

    Raises
    ------
    ValueError
        ``new_base`` has the wrong length or a value that is not a positive finite number,
        or a group's base lr is not positive (nothing to scale from); nothing is changed then.

    Example
    -------
    >>> import torch
    >>> p = torch.nn.Parameter(torch.zeros(1))
    >>> opt = torch.optim.AdamW([p], lr=1e-3)
    >>> s = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / 4))
    >>> opt.param_groups[0]["lr"]          # the first warmup step of 1e-3
    0.00025
    >>> rebase(opt, [s], [2e-5])
    >>> opt.param_groups[0]["lr"], s.base_lrs
    (5e-06, [2e-05])
    >>> opt = torch.optim.SGD([p], lr=0.1)
    >>> one = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=100)
    >>> rebase(opt, [one], [1e-3])   # OneCycleLR is built around its peak
    >>> opt.param_groups[0]["max_lr"], round(opt.param_groups[0]["lr"], 12)
    (0.001, 4e-05)
    """
    schedulers = _all_schedulers(schedulers)
    groups = optimizer.param_groups
    old, new = _checked_bases(optimizer, schedulers, new_base)
    # every new value is computed before any is written: one tensor may be held in two places
    # (a scheduler given a group's own lr tensor), and would be moved twice
    for holder, key, value in _writes(groups, schedulers, old, new):
        write_lr(holder, key, value)
    for s in schedulers:
        last = getattr(s, "_last_lr", None)
        if isinstance(last, list) and len(last) == len(groups):
            # what get_last_lr() returns (and a Trainer logs): copies, as the scheduler keeps them
            s._last_lr = [_copy(g["lr"]) for g in groups]  # noqa: SLF001 (torch has no setter)


def _checked_bases(
    optimizer: Any, schedulers: list[Any], new_base: Sequence[float]
) -> tuple[list[float], list[float]]:
    """(the groups' base lrs now, ``new_base`` as floats), or ValueError before any write."""
    n = len(optimizer.param_groups)
    new = [float(v) for v in new_base]
    if len(new) != n:
        raise ValueError(f"new_base has {len(new)} lrs; the optimizer has {n} groups")
    if not all(v > 0 and math.isfinite(v) for v in new):
        raise ValueError(f"new_base must hold positive finite lrs, got {new}")
    old = base_lrs(optimizer, schedulers)
    if not all(o > 0 and math.isfinite(o) for o in old):
        raise ValueError(f"a param group's base lr is not a positive finite number: {old}")
    return old, new


def _writes(
    groups: list[dict[str, Any]], schedulers: list[Any], old: list[float], new: list[float]
) -> list[tuple[Any, Any, float]]:
    """(holder, key, new value) of every lr of the groups and schedulers, scaled by new / old."""

    def moved(v: Any, i: int) -> float:
        # a value equal to the base becomes the new base exactly (v * (n / o) may differ from n
        # in the last bit, and LambdaLR computes every step's lr from its base_lrs)
        v = float(v)
        return new[i] if v == old[i] else v * (new[i] / old[i])

    writes: list[tuple[Any, Any, float]] = []
    for i, g in enumerate(groups):
        writes += [(g, k, moved(g[k], i)) for k in _GROUP_KEYS if _is_lr(g.get(k))]
    for s in schedulers:
        for name in _SCHEDULER_LISTS:
            values = getattr(s, name, None)
            if isinstance(values, list) and len(values) == len(groups):
                writes += [(values, i, moved(v, i)) for i, v in enumerate(values) if _is_lr(v)]
    return writes


def _copy(v: Any) -> Any:
    return v.detach().clone() if isinstance(v, torch.Tensor) else float(v)


def _all_schedulers(schedulers: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for s in schedulers:
        if s is None:
            continue
        out.append(s)
        out.extend(_all_schedulers(getattr(s, "_schedulers", ())))  # SequentialLR, Chained...
        inner = getattr(s, "scheduler", None)  # accelerate's AcceleratedScheduler wraps one
        if inner is not None and hasattr(inner, "base_lrs"):
            out.extend(_all_schedulers([inner]))
    return out


def move_to(optimizer: Any, schedulers: Iterable[Any], lr: float) -> None:
    """Rebase the schedule so that the first param group's base lr is ``lr``; the other groups
    keep their ratios to it (a group with the first one's base gets ``lr`` exactly).

    Example
    -------
    >>> import torch
    >>> a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    >>> opt = torch.optim.SGD([{"params": [a], "lr": 1e-2}, {"params": [b], "lr": 1e-3}])
    >>> move_to(opt, [], 0.5); [g["lr"] for g in opt.param_groups]
    [0.5, 0.05]
    """
    schedulers = list(schedulers)
    base = base_lrs(optimizer, schedulers)
    rebase(optimizer, schedulers, [lr * (b / base[0]) for b in base])


def scale(
    optimizer: Any, schedulers: Iterable[Any], factor: float, base: Sequence[float] | None = None
) -> list[float]:
    """Multiply every param group's schedule by ``factor``: the lr held now and every lr the
    schedulers give later (:func:`rebase` to ``factor`` x :func:`base_lrs`, or x ``base``: the
    bases read before a rollback restored older ones, so that actions compose). Returns the new
    lrs the groups hold.

    Example
    -------
    >>> import torch
    >>> p = torch.nn.Parameter(torch.zeros(1))
    >>> opt = torch.optim.SGD([p], lr=0.1)
    >>> s = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5 ** step)
    >>> [round(v, 12) for v in scale(opt, [s], 0.1)]
    [0.01]
    >>> opt.step(); s.step(); round(opt.param_groups[0]["lr"], 12)   # 0.01 x 0.5 ** 1
    0.005
    """
    schedulers = list(schedulers)
    bases = base_lrs(optimizer, schedulers) if base is None else base
    rebase(optimizer, schedulers, [b * factor for b in bases])
    return [float(g["lr"]) for g in optimizer.param_groups]
