"""Learning-rate sequences for a range test (pure numpy).

A sweep is described by a *factor* per step relative to the reference start lr (the first
param group's). Every param group is its own start lr times that factor, so the ratios between
groups stay what the user set (a backbone at 1/10 of the head stays at 1/10).

Example
-------
>>> lrs = schedule([1e-4, 1e-5], 1.0, 5, "exp")
>>> lrs.shape
(5, 2)
>>> float(lrs[0, 0]), float(lrs[-1, 0]), float(lrs[-1, 1])
(0.0001, 1.0, 0.1)
"""
from __future__ import annotations

import math
from numbers import Real
from typing import List, Sequence, Union

import numpy as np

__all__ = ["STEP_MODES", "factors", "schedule", "check_sweep"]

#: accepted values of ``step_mode``
STEP_MODES = ("exp", "linear")


def factors(start: float, end: float, num_iter: int, step_mode: str = "exp") -> np.ndarray:
    """Multiplicative factors (relative to ``start``) for each of ``num_iter`` steps.

    exp: step i uses ``start * (end / start) ** (i / (num_iter - 1))``; linear:
    ``start + (end - start) * i / (num_iter - 1)``. The first factor is exactly 1 and
    ``start * factors[-1]`` is exactly ``end`` (both endpoints are written, not computed, so
    rounding cannot move them).

    Parameters
    ----------
    start, end : float
        Reference start and end lr, ``0 < start < end``.
    num_iter : int
        Number of steps, at least 2.
    step_mode : {"exp", "linear"}

    Returns
    -------
    numpy.ndarray of float64, shape (num_iter,)

    Example
    -------
    >>> factors(0.1, 10.0, 3, "exp").tolist()
    [1.0, 10.0, 100.0]
    """
    check_sweep(start, end, num_iter, step_mode)
    t = np.arange(num_iter, dtype=np.float64) / (num_iter - 1)
    if step_mode == "exp":
        f = (end / start) ** t
    else:
        f = 1.0 + (end / start - 1.0) * t
    f[0] = 1.0
    f[-1] = end / start
    return f


def schedule(start_lrs: Union[float, Sequence[float]], end_lr: float, num_iter: int,
             step_mode: str = "exp") -> np.ndarray:
    """Per-step, per-group learning rates.

    Parameters
    ----------
    start_lrs : float or sequence of float
        Start lr of each param group; the first one is the reference that sweeps to ``end_lr``.
    end_lr : float
        Last lr of the reference (first) group.
    num_iter : int
    step_mode : {"exp", "linear"}

    Returns
    -------
    numpy.ndarray of float64, shape (num_iter, n_groups)
        Row i holds every group's lr at step i. Column 0 starts exactly at ``start_lrs[0]`` and
        ends exactly at ``end_lr``.

    Example
    -------
    >>> schedule([1.0, 0.5], 4.0, 3, "linear").tolist()
    [[1.0, 0.5], [2.5, 1.25], [4.0, 2.0]]
    """
    starts = np.atleast_1d(np.asarray(start_lrs, dtype=np.float64))
    f = factors(float(starts[0]), float(end_lr), num_iter, step_mode)
    out = f[:, None] * starts[None, :]
    out[0] = starts
    out[-1, 0] = end_lr
    return out


def check_sweep(start: float, end: float, num_iter: int, step_mode: str) -> None:
    """Raise a clear ``ValueError``/``TypeError`` for a sweep that cannot run.

    Example
    -------
    >>> check_sweep(1e-3, 1e-4, 100, "exp")
    Traceback (most recent call last):
    ...
    ValueError: end_lr must be greater than start_lr (0.001), got 0.0001
    """
    _check_positive_lr("start_lr", start)
    if isinstance(end, bool) or not isinstance(end, Real):
        raise TypeError(f"end_lr must be a real number greater than start_lr, got {end!r}")
    if not math.isfinite(end) or end <= start:
        raise ValueError(f"end_lr must be greater than start_lr ({start}), got {end}")
    if isinstance(num_iter, bool) or not isinstance(num_iter, (int, np.integer)):
        raise TypeError(f"num_iter must be an int >= 2, got {num_iter!r}")
    if num_iter < 2:
        raise ValueError(f"num_iter must be an int >= 2, got {num_iter}")
    if step_mode not in STEP_MODES:
        raise ValueError(f"step_mode must be one of {STEP_MODES}, got {step_mode!r}")


def _check_positive_lr(name: str, v) -> None:
    if isinstance(v, bool) or not isinstance(v, Real):
        raise TypeError(f"{name} must be a positive finite real number, got {v!r}")
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a positive finite real number, got {v}")


def start_lrs_for(start_lr, current: List[float]) -> List[float]:
    """Resolve ``start_lr`` (None, a number or one per group) against the groups' current lrs.

    None keeps the current lrs; a number sets the first group to it and scales the others by the
    same factor (ratios kept); a sequence gives every group its own start.

    Example
    -------
    >>> start_lrs_for(1e-4, [1e-2, 1e-3])
    [0.0001, 1e-05]
    """
    if start_lr is None:
        starts = [float(v) for v in current]
        for v in starts:
            _check_positive_lr("start_lr (the optimizer's current lr, start_lr=None)", v)
        return starts
    if isinstance(start_lr, (list, tuple, np.ndarray)):
        vals = list(np.asarray(start_lr, dtype=object).reshape(-1))
        if len(vals) != len(current):
            raise ValueError(f"start_lr must be a number or one number per param group "
                             f"({len(current)}), got {len(vals)} values")
        for v in vals:
            _check_positive_lr("start_lr", v)
        return [float(v) for v in vals]
    _check_positive_lr("start_lr", start_lr)
    ref = float(current[0])
    if ref > 0 and math.isfinite(ref):
        k = float(start_lr) / ref
        return [float(start_lr)] + [float(c) * k for c in current[1:]]
    return [float(start_lr)] * len(current)
