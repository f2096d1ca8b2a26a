"""Ranges of tested lrs for a schedule (issue 19), pure numpy: an lr or a range snapped to the
tested lrs, the suggested range, the numbers each kind of schedule takes from the rules, and the
steps a preview evaluates.

* **Snapping**: a view may only choose lrs the test tried. :func:`snap_lr` (a click) and
  :func:`snap_range` (a drag: both ends) answer tested lrs only, or a ValueError naming what is
  wrong.
* **The suggested range** (:func:`suggest_range`): the peak is :data:`PEAK_FACTOR` times the
  default suggestion, snapped to the nearest tested lr (a one cycle takes a higher peak than a
  constant lr: benchmarks/choice_quality.py ``--one-cycle``, chosen on the design family only);
  the low end is where the loss has begun to fall: the first reading (after the rules' warm-up
  skip) whose smoothed loss is :data:`LOW_DROP` of the way down from the curve's start to its
  lowest loss, at most the default suggestion / :data:`MIN_SPAN` (Smith: the bounds of a cycle 3
  to 4 times apart at least), snapped to a tested lr below the peak.
* **Preview steps** (:func:`preview_steps`): the first and last step of every column plus the
  schedule's turning points, so that the lowest and highest lr of each column
  (:func:`column_extremes`) are exact for a schedule monotone between its turning points.

Example
-------
>>> import numpy as np
>>> lrs = np.logspace(-5, 0, 51)
>>> snap_range(lrs, 1.1e-4, 0.0095)
(0.0001, 0.01)
>>> preview_steps(10, 2, [3.5]).tolist()
[0, 3, 4, 5, 9]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .numbers import is_int, is_real
from .rules import SCHEDULE
from .suggest import prepare

__all__ = [
    "LOW_DROP",
    "MIN_SPAN",
    "PEAK_FACTOR",
    "snap_lr",
    "nearest_reading",
    "check_range",
    "snap_range",
    "suggest_range",
    "check_total_steps",
    "warmup_steps",
    "cyclic_step_size",
    "column_edges",
    "preview_steps",
    "column_extremes",
    "schedule_shown",
]

#: the low end of a suggested range: where the loss is this fraction of its way down
LOW_DROP = 0.1
#: the suggested range's ends are at least this factor apart
MIN_SPAN = 4.0
#: the suggested range's peak over the default suggestion (a constant lr's): one cycle's peak
PEAK_FACTOR = 3.0


# ---------------------------------------------------------------------------- snapping
def snap_lr(
    lr: float, lrs: np.ndarray, index: int | None = None, rtol: float = 1e-9
) -> tuple[float, int]:
    """The tested lr nearest to ``lr`` (in log space) and its index.

    A view may only choose an lr the test tried: ``lr`` must lie within the range of the
    finite readings (``rtol`` of slack for rounding in transit), and the answer is always one
    of ``lrs``. When ``index`` is given and points at a reading equal to ``lr`` (a click sends
    both), that reading is used.

    Parameters
    ----------
    lr : float
        Positive and finite.
    lrs : numpy.ndarray
        The tested lrs so far.
    index : int, optional
        The reading the view says it picked.

    Returns
    -------
    (float, int)

    Raises
    ------
    ValueError
        No finite readings yet, or ``lr`` outside the tested range.

    Example
    -------
    >>> lrs = np.array([1e-4, 1e-3, 1e-2, 1e-1])
    >>> snap_lr(0.0123, lrs)
    (0.01, 2)
    >>> snap_lr(1e6, lrs)
    Traceback (most recent call last):
    ...
    ValueError: lr 1000000.0 is outside the tested range 0.0001 .. 0.1
    """
    lrs = np.asarray(lrs, dtype=np.float64)
    if index is not None and 0 <= index < lrs.size and lrs[index] == lr:
        return float(lrs[index]), int(index)
    lo, hi = _tested_span(lrs)
    if not (lo * (1 - rtol) <= lr <= hi * (1 + rtol)):
        raise ValueError(f"lr {lr} is outside the tested range {lo:.6g} .. {hi:.6g}")
    i = nearest_reading(lrs, lr)
    return float(lrs[i]), i


def _tested_span(lrs: NDArray[np.float64]) -> tuple[float, float]:
    ok = np.isfinite(lrs) & (lrs > 0)
    if not ok.any():
        raise ValueError("no readings yet: there is no tested lr to choose")
    return float(lrs[ok].min()), float(lrs[ok].max())


def nearest_reading(lrs: ArrayLike, lr: object, log: bool = True) -> int:
    """Index of the reading whose lr is nearest ``lr`` (in log space on a log axis); -1 if none.

    Example
    -------
    >>> lrs = [1e-4, 1e-3, 1e-2]
    >>> nearest_reading(lrs, 2e-3), nearest_reading(lrs, 6e-3, log=False)
    (1, 2)
    """
    a = np.asarray(lrs, dtype=float)
    ok = np.isfinite(a) & ((a > 0) if log else True)
    if not ok.any() or not (isinstance(lr, Real) and math.isfinite(lr)) or (log and lr <= 0):
        return -1
    x = float(lr)
    d = np.abs(np.log(np.where(ok, a, 1.0)) - math.log(x)) if log else np.abs(a - x)
    d = np.where(ok, d, np.inf)
    return int(np.argmin(d))


def _positive(name: str, v: object) -> float:
    if not is_real(v) or not (float(v) > 0 and math.isfinite(float(v))):
        raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    return float(v)


def check_range(lrs: ArrayLike | None, lo: object, hi: object) -> tuple[float, float]:
    """``(lo, hi)`` as floats when both are positive finite numbers, ``lo < hi`` and (``lrs``
    given) both lie within the tested lrs; else a ValueError naming ``lo`` / ``hi``.

    Example
    -------
    >>> check_range([1e-4, 1e-2], 1e-3, 1e-4)
    Traceback (most recent call last):
    ...
    ValueError: lo must be below hi, got lo=0.001, hi=0.0001
    """
    a, b = _positive("lo", lo), _positive("hi", hi)
    if not a < b:
        raise ValueError(f"lo must be below hi, got lo={a:.6g}, hi={b:.6g}")
    if lrs is not None:
        for name, v in (("lo", a), ("hi", b)):
            try:
                snap_lr(v, np.asarray(lrs, dtype=np.float64))
            except ValueError as e:
                raise ValueError(f"{name}: {e}") from None
    return a, b


def snap_range(lrs: ArrayLike, lo: object, hi: object) -> tuple[float, float]:
    """Both ends of a dragged range snapped to the nearest tested lr (in log space), as
    :func:`snap_lr` snaps a click.

    Raises
    ------
    ValueError
        ``lo`` / ``hi`` not positive finite numbers, ``lo >= hi``, an end outside the tested
        lrs, or both ends snapping to the same tested lr (the message names ``lo`` / ``hi``).

    Example
    -------
    >>> snap_range([1e-4, 1e-3, 1e-2], 1.2e-3, 1.3e-3)
    Traceback (most recent call last):
    ...
    ValueError: lo and hi snap to the same tested lr 0.001: drag across at least two readings
    """
    x = np.asarray(lrs, dtype=np.float64)
    a, b = check_range(x, lo, hi)
    sa, sb = snap_lr(a, x)[0], snap_lr(b, x)[0]
    if not sa < sb:
        raise ValueError(
            f"lo and hi snap to the same tested lr {sa:.6g}: drag across at least two readings"
        )
    return sa, sb


# ---------------------------------------------------------------------------- the suggestion
def suggest_range(result: Any, peak_factor: float = PEAK_FACTOR) -> tuple[float, float] | None:
    """The range a view proposes when none is brushed (see the module docstring), or None
    when the test suggests no lr or no tested lr lies below its suggestion.

    ``result``: a :class:`lrwidget.RangeTestResult` (its ``lrs``, ``smoothed``, ``losses`` and
    ``suggested_lr`` are read). ``peak_factor``: the peak over ``suggested_lr`` (1: an lr the
    user chose is the peak itself, as the framework callbacks build it around a click).

    Example
    -------
    >>> from types import SimpleNamespace
    >>> lrs = np.logspace(-5, 0, 51); fall = 2 / (1 + np.exp(4 * (np.log10(lrs) + 3))) + 0.1
    >>> r = SimpleNamespace(lrs=lrs, smoothed=fall, losses=fall, suggested_lr=1e-2)
    >>> [round(float(np.log10(v)), 1) for v in suggest_range(r)]  # peak: 3 x the suggestion
    [-3.5, -1.5]
    """
    peak = getattr(result, "suggested_lr", None)
    if peak is None:
        return None
    lrs = np.asarray(result.lrs, dtype=np.float64)
    try:
        base = snap_lr(float(peak), lrs)[0]
    except ValueError:
        return None
    top = float(np.max(lrs[np.isfinite(lrs)]))
    hi = snap_lr(min(peak_factor * base, top), lrs)[0]
    c = prepare(lrs, result.smoothed, result.losses)
    low = min(_falling_from(c.lrs, c.losses, base), base / MIN_SPAN)
    below = lrs[np.isfinite(lrs) & (lrs > 0) & (lrs < base)]
    if not below.size:
        return None
    return float(below[nearest_reading(below, low)]), hi


def _falling_from(lrs: NDArray[np.float64], losses: NDArray[np.float64], hi: float) -> float:
    """The first lr below ``hi`` where the loss is LOW_DROP of its way down (inf: none)."""
    if not losses.size:
        return math.inf
    start, bottom = float(losses[0]), float(np.min(losses))
    if not start > bottom:
        return math.inf
    fallen = np.flatnonzero((losses <= start - LOW_DROP * (start - bottom)) & (lrs < hi))
    return float(lrs[fallen[0]]) if fallen.size else math.inf


# ---------------------------------------------------------------------------- the kinds' numbers
def check_total_steps(total_steps: object) -> int:
    """``total_steps`` when it is an int within the rules' ``minTotalSteps`` ..
    ``maxTotalSteps``; else a ValueError naming it and the accepted values.

    Example
    -------
    >>> check_total_steps(2.5)
    Traceback (most recent call last):
    ...
    ValueError: total_steps must be an int from 2 to 1000000000, got 2.5
    """
    lo, hi = int(SCHEDULE["minTotalSteps"]), int(SCHEDULE["maxTotalSteps"])
    if not is_int(total_steps) or not lo <= int(total_steps) <= hi:
        raise ValueError(f"total_steps must be an int from {lo} to {hi}, got {total_steps!r}")
    return int(total_steps)


def warmup_steps(total_steps: int) -> int:
    """Steps of a cosine / linear schedule's warmup (the peak's step): the rules'
    ``warmupFraction`` of the steps, at least 1, at most ``total_steps - 1``.

    Example
    -------
    >>> warmup_steps(1000), warmup_steps(2)
    (100, 1)
    """
    w = round(float(SCHEDULE["warmupFraction"]) * total_steps)
    return min(max(1, w), total_steps - 1)


def cyclic_step_size(total_steps: int) -> int:
    """A cyclic schedule's ``step_size_up`` (= ``step_size_down``): ``cyclicCycles`` whole
    cycles in ``total_steps`` (fewer steps: cycles of 2 steps).

    Example
    -------
    >>> cyclic_step_size(1000), cyclic_step_size(2)
    (125, 1)
    """
    return max(1, total_steps // (2 * int(SCHEDULE["cyclicCycles"])))


# ---------------------------------------------------------------------------- preview steps
def column_edges(total_steps: int, columns: int) -> NDArray[np.int64]:
    """The first step of each of ``min(columns, total_steps)`` columns over the steps
    ``0 .. total_steps - 1``, and ``total_steps`` last (int64, exact integer arithmetic).

    Example
    -------
    >>> column_edges(10, 4).tolist()
    [0, 2, 5, 7, 10]
    """
    n = min(int(columns), int(total_steps))
    return (np.arange(n + 1, dtype=np.int64) * int(total_steps)) // n


def preview_steps(
    total_steps: int, columns: int | None, breakpoints: Sequence[float] | ArrayLike = ()
) -> NDArray[np.int64]:
    """The steps a preview evaluates, sorted, int64: every step when ``columns`` is None (or
    not fewer than the steps), else each column's first and last step and the integer steps
    either side of every turning point in ``breakpoints`` (the real steps where the schedule
    may change direction).

    Between two consecutive steps of the answer the schedule does not turn, so each column's
    lowest and highest lr are among the answer's steps in it (:func:`column_extremes`).

    Example
    -------
    >>> preview_steps(5, None).tolist()
    [0, 1, 2, 3, 4]
    """
    n = int(total_steps)
    if columns is None or columns >= n:
        return np.arange(n, dtype=np.int64)
    edges = column_edges(n, columns)
    bp = np.asarray(breakpoints, dtype=np.float64).ravel()
    bp = bp[np.isfinite(bp)]
    turns = np.concatenate([np.floor(bp), np.ceil(bp)]).clip(0, n - 1).astype(np.int64)
    return np.unique(np.concatenate([edges[:-1], edges[1:] - 1, turns]))


def column_extremes(
    steps: ArrayLike, lrs: ArrayLike, total_steps: int, columns: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each column's lowest and highest lr, from a preview's ``steps`` (those of
    :func:`preview_steps`, which hold every column's first step) and their ``lrs``.

    Example
    -------
    >>> s = preview_steps(10, 2, [3.5]); lr = np.minimum(s, 7 - s).astype(float)
    >>> [v.tolist() for v in column_extremes(s, lr, 10, 2)]
    [[0.0, -2.0], [3.0, 2.0]]
    """
    s = np.asarray(steps, dtype=np.int64)
    y = np.asarray(lrs, dtype=np.float64)
    starts = np.searchsorted(s, column_edges(total_steps, columns)[:-1])
    return np.minimum.reduceat(y, starts), np.maximum.reduceat(y, starts)


def schedule_shown(
    schedule: tuple[str, float, float, int], peaks: Sequence[float]
) -> dict[str, Any]:
    """What the views show of an attached schedule: its ``(kind, lo, hi, total_steps)`` and
    each param group's peak lr as the built scheduler holds it (``max_lrs``).

    Example
    -------
    >>> schedule_shown(("one_cycle", 1e-3, 0.1, 500), [0.1, 0.01])
    {'kind': 'one_cycle', 'lo': 0.001, 'hi': 0.1, 'total_steps': 500, 'max_lrs': [0.1, 0.01]}
    """
    kind, lo, hi, total_steps = schedule
    return {
        "kind": kind,
        "lo": float(lo),
        "hi": float(hi),
        "total_steps": int(total_steps),
        "max_lrs": [float(x) for x in peaks],
    }
