"""Learning-rate sequences for a range test (pure numpy).

A sweep is described by a *factor* per step relative to the reference start lr (the first
param group's). Every param group is its own start lr times that factor, so the ratios between
groups stay what the user set (a backbone at 1/10 of the head stays at 1/10).

:class:`Sweep` computes the lrs of any range of steps on demand, so a sweep of ``10**7`` steps
costs no memory proportional to its length; :func:`schedule` is the same numbers as one array
(for tests, docs and short sweeps). Every lr a sweep can produce is finite: one that would
overflow is refused when the sweep is made.

Example
-------
>>> lrs = schedule([1e-4, 1e-5], 1.0, 5, "exp")
>>> lrs.shape
(5, 2)
>>> float(lrs[0, 0]), float(lrs[-1, 0]), float(lrs[-1, 1])
(0.0001, 1.0, 0.1)
>>> Sweep([1e-4, 1e-5], 1.0, 10**9).lr(10**9 - 1)   # no array of 10**9 rows is built
1.0
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

from .numbers import is_int, is_real

__all__ = ["STEP_MODES", "Sweep", "factors", "schedule", "check_sweep", "check_finite"]

#: accepted values of ``step_mode``
STEP_MODES = ("exp", "linear")

#: rows per chunk of :meth:`Sweep.chunks` (a few tens of kB of lrs at a time)
CHUNK = 4096


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
    check_finite([start], end)
    return _factors(end / start, num_iter, step_mode, 0, num_iter)


def _factors(ratio: float, num_iter: int, step_mode: str, lo: int, hi: int) -> np.ndarray:
    # steps [lo, hi) of the sweep; any split into ranges gives the same bits as one call: each
    # element depends only on its own index (arange of integers and division are exact)
    t = np.arange(lo, hi, dtype=np.float64) / (num_iter - 1)
    if step_mode == "exp":
        f = ratio**t
    else:
        f = 1.0 + (ratio - 1.0) * t
    if lo == 0:
        f[0] = 1.0
    if hi == num_iter:
        f[-1] = ratio
    return f


def schedule(
    start_lrs: float | Sequence[float], end_lr: float, num_iter: int, step_mode: str = "exp"
) -> np.ndarray:
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
    sw = Sweep(start_lrs, end_lr, num_iter, step_mode)
    return sw.rows(0, sw.num_iter)


class Sweep:
    """Every param group's lr at any step of a sweep, computed on demand.

    Holds only the start lrs and the end lr: ``rows(lo, hi)`` costs memory for ``hi - lo`` rows,
    whatever ``num_iter`` is. Rows are :func:`schedule`'s rows bit for bit, however the steps
    are split into ranges.

    Parameters
    ----------
    start_lrs : float or sequence of float
        Start lr of each param group; the first one is the reference that sweeps to ``end_lr``.
    end_lr : float
        Last lr of the reference (first) group.
    num_iter : int
        Steps, at least 2.
    step_mode : {"exp", "linear"}

    Raises
    ------
    ValueError, TypeError
        As :func:`check_sweep` and :func:`check_finite`: a sweep that cannot run or whose lrs
        would not all be finite.

    Example
    -------
    >>> sw = Sweep([1.0, 0.5], 4.0, 3, "linear")
    >>> sw.rows(1, 3).tolist()
    [[2.5, 1.25], [4.0, 2.0]]
    >>> [(lo, len(r)) for lo, r in sw.chunks(2)]
    [(0, 2), (2, 1)]
    """

    __slots__ = ("starts", "end_lr", "num_iter", "step_mode", "ratio")

    def __init__(
        self,
        start_lrs: float | Sequence[float],
        end_lr: float,
        num_iter: int,
        step_mode: str = "exp",
    ):
        vals = list(np.asarray(start_lrs, dtype=object).reshape(-1))
        if not vals:
            raise ValueError("start_lrs must hold at least one lr (one per param group)")
        check_sweep(vals[0], end_lr, num_iter, step_mode)
        for v in vals:
            _check_positive_lr("start_lr", v)
        self.starts = np.array([float(v) for v in vals], dtype=np.float64)
        self.end_lr = float(end_lr)
        self.num_iter = int(num_iter)
        self.step_mode = step_mode
        check_finite(self.starts.tolist(), self.end_lr)
        self.ratio = self.end_lr / float(self.starts[0])

    def __len__(self) -> int:
        return self.num_iter

    @property
    def n_groups(self) -> int:
        return int(self.starts.size)

    def rows(self, lo: int, hi: int) -> np.ndarray:
        """Lrs of steps ``[lo, hi)``: float64 array of shape ``(hi - lo, n_groups)``.

        Row 0 is exactly ``start_lrs`` and the last row's first lr exactly ``end_lr``.
        """
        if not 0 <= lo < hi <= self.num_iter:
            raise IndexError(f"steps [{lo}, {hi}) are outside the sweep's 0..{self.num_iter}")
        f = _factors(self.ratio, self.num_iter, self.step_mode, lo, hi)
        out = f[:, None] * self.starts[None, :]
        if lo == 0:
            out[0] = self.starts
        if hi == self.num_iter:
            out[-1, 0] = self.end_lr
        return out

    def chunks(self, size: int = CHUNK) -> Iterator[tuple[int, np.ndarray]]:
        """``(lo, rows(lo, lo + size))`` for consecutive ranges covering the whole sweep."""
        n = self.num_iter
        for lo in range(0, n, size):
            yield lo, self.rows(lo, min(n, lo + size))

    def lr(self, i: int) -> float:
        """The reference (first) group's lr at step ``i``."""
        return float(self.rows(i, i + 1)[0, 0])


def check_sweep(start: object, end: object, num_iter: object, step_mode: object) -> None:
    """Raise a clear ``ValueError``/``TypeError`` for a sweep that cannot run.

    Takes anything (a float, an int, a numpy number, a wrong type): that is what it checks.

    Example
    -------
    >>> check_sweep(1e-3, 1e-4, 100, "exp")
    Traceback (most recent call last):
    ...
    ValueError: end_lr must be greater than start_lr (0.001), got 0.0001
    """
    lo = _check_positive_lr("start_lr", start)
    if not is_real(end):
        raise TypeError(f"end_lr must be a real number greater than start_lr, got {end!r}")
    if not math.isfinite(end) or end <= lo:
        raise ValueError(f"end_lr must be greater than start_lr ({start}), got {end}")
    if not is_int(num_iter):
        raise TypeError(f"num_iter must be an int >= 2, got {num_iter!r}")
    if num_iter < 2:
        raise ValueError(f"num_iter must be an int >= 2, got {num_iter}")
    if step_mode not in STEP_MODES:
        raise ValueError(f"step_mode must be one of {STEP_MODES}, got {step_mode!r}")


def check_finite(start_lrs: Sequence[float], end_lr: float) -> None:
    """Raise a ``ValueError`` naming end_lr and start_lr when a sweep's lrs would overflow.

    Every group ``g`` ends at ``start_lrs[g] * end_lr / start_lrs[0]`` (its largest lr, in both
    step modes); each of those, and the ratio itself, must be a finite float.

    Example
    -------
    >>> check_finite([1e-4], 1e308)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: end_lr (1e+308) / start_lr (0.0001) overflows a float; choose a smaller end_lr ...
    >>> check_finite([1e-2, 1e10], 1e300)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: end_lr (1e+300) / start_lr (0.01) would take param group 1 (start lr 1...) to inf...
    """
    ref = float(start_lrs[0])
    ratio = float(end_lr) / ref
    fix = "; choose a smaller end_lr or a larger start_lr"
    if not math.isfinite(ratio):
        raise ValueError(f"end_lr ({end_lr}) / start_lr ({ref}) overflows a float{fix}")
    for g, s in enumerate(start_lrs):
        if not math.isfinite(float(s) * ratio):
            raise ValueError(
                f"end_lr ({end_lr}) / start_lr ({ref}) would take param group {g} "
                f"(start lr {s}) to inf{fix}"
            )


def _check_positive_lr(name: str, v: object) -> float:
    """``v`` as a float, or an error naming ``name``."""
    if not is_real(v):
        raise TypeError(f"{name} must be a positive finite real number, got {v!r}")
    if not (math.isfinite(v) and float(v) > 0):
        raise ValueError(f"{name} must be a positive finite real number, got {v}")
    return float(v)


def start_lrs_for(start_lr: float | Sequence[float] | None, current: list[float]) -> list[float]:
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
            raise ValueError(
                f"start_lr must be a number or one number per param group "
                f"({len(current)}), got {len(vals)} values"
            )
        for v in vals:
            _check_positive_lr("start_lr", v)
        return [float(v) for v in vals]
    lr = _check_positive_lr("start_lr", start_lr)
    ref = float(current[0])
    if ref > 0 and math.isfinite(ref):
        k = lr / ref
        return [lr] + [float(c) * k for c in current[1:]]
    return [lr] * len(current)
