"""Learning-rate suggestions from a range-test curve (pure numpy).

Every rule is a pure function ``rule(lrs, losses) -> Suggestion``. A rule never raises on odd
curves (NaN, inf, flat, too short); it answers ``Suggestion(lr=None, reason=...)`` instead.

All rules see the same cleaned curve (see :func:`prepare`): readings with a non-positive or
non-finite lr are dropped, the curve is cut at the first non-finite loss (the run diverged
there), and the first ~10% and last few readings are skipped, because the start is dominated by
the smoothing warm-up and the end by the explosion.

Example
-------
>>> import numpy as np
>>> lrs = np.logspace(-6, 0, 100)
>>> falls = 2.0 / (1 + np.exp(3 * (np.log10(lrs) + 3)))
>>> losses = falls + np.where(lrs > 0.1, 50 * (lrs - 0.1), 0) + 0.1
>>> s = suggest(lrs, losses, "valley")
>>> 1e-4 < s.lr < 1e-2
True
>>> list(suggest_all(lrs, losses))[0] == DEFAULT
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .rules import format_lr

__all__ = [
    "Suggestion",
    "Curve",
    "prepare",
    "valley",
    "steep",
    "minimum",
    "slide",
    "RULES",
    "DEFAULT",
    "suggest",
    "suggest_all",
]

#: fewer usable readings than this (after skipping) and a rule answers None
MIN_POINTS = 5
#: readings skipped at the end (fewer on short curves); torch-lr-finder and fastai both skip 5
SKIP_END = 5


@dataclass(frozen=True)
class Suggestion:
    """One rule's answer.

    Attributes
    ----------
    name : str
        The rule ("valley", "steep", ...).
    lr : float or None
        The suggested learning rate, None when the rule cannot answer.
    index : int or None
        Index (into the arrays given) of the reading the lr comes from; None when ``lr`` is None
        or was derived rather than read off one reading (e.g. ``minimum``'s lr / 10).
    reason : str
        One line: why this lr, or why none.
    """

    name: str
    lr: float | None
    index: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "lr": self.lr, "index": self.index, "reason": self.reason}


@dataclass(frozen=True)
class Curve:
    """The cleaned curve every rule works on.

    ``lrs``/``losses`` are the usable readings (finite, lr > 0, before the first non-finite loss,
    first ~10% and last few skipped); ``index`` maps them back to the caller's arrays;
    ``lo``/``hi`` bound the finite-loss sweep (before skipping); ``diverged`` says whether the
    curve was cut at a non-finite loss; ``why`` is set when too few readings are left.
    """

    lrs: NDArray[np.float64]
    losses: NDArray[np.float64]
    index: NDArray[np.intp]
    lo: float
    hi: float
    diverged: bool
    why: str | None
    #: the last usable reading is above the lowest one: the curve turned up (skipped tail included)
    turned_up: bool = False


def prepare(lrs: ArrayLike, losses: ArrayLike, raw: ArrayLike | None = None) -> Curve:
    """Clean a range-test curve for the rules.

    Parameters
    ----------
    lrs, losses : array_like
        One value per reading, same length (``losses`` is usually the smoothed loss).
    raw : array_like, optional
        The raw losses; a non-finite raw loss also marks divergence.

    Returns
    -------
    Curve

    Raises
    ------
    ValueError
        If the arrays are not one-dimensional or differ in length.

    Example
    -------
    >>> c = prepare([1e-3, 1e-2, 1e-1], [1.0, 0.5, float("nan")])
    >>> c.diverged, c.why
    (True, 'too few finite points (2 < 5)')
    """
    x, y, bad = _checked_arrays(lrs, losses, raw)
    diverged = bool(bad.any())
    cut = int(np.argmax(bad)) if diverged else y.size
    keep = np.flatnonzero(np.isfinite(x[:cut]) & (x[:cut] > 0))
    n = keep.size
    if n == 0:
        return Curve(
            x[:0],
            y[:0],
            keep,
            math.nan,
            math.nan,
            diverged,
            f"too few finite points (0 < {MIN_POINTS})",
        )
    lo, hi = float(x[keep].min()), float(x[keep].max())
    start = n // 10
    end = n - min(SKIP_END, n // 10)
    sel = keep[start:end]
    why = None
    if sel.size < MIN_POINTS:
        why = f"too few finite points ({sel.size} < {MIN_POINTS})"
    turned_up = bool(y[keep[-1]] > y[keep].min())
    return Curve(x[sel], y[sel], sel, lo, hi, diverged, why, turned_up)


def _checked_arrays(
    lrs: ArrayLike, losses: ArrayLike, raw: ArrayLike | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """``(lrs, losses, bad)`` as float64 arrays of one length; ``bad``: the readings whose loss
    (or raw loss) is not finite. A ValueError for arrays that are not one-dimensional or differ
    in length."""
    x = np.asarray(lrs, dtype=np.float64).reshape(-1) if np.ndim(lrs) else np.asarray([lrs], float)
    y = np.asarray(losses, dtype=np.float64)
    if np.ndim(lrs) != 1 or y.ndim != 1:
        raise ValueError(
            "lrs and losses must be one-dimensional sequences, "
            f"got shapes {np.shape(lrs)} and {np.shape(losses)}"
        )
    if x.shape != y.shape:
        raise ValueError(f"lrs and losses must have the same length, got {x.size} and {y.size}")
    bad = ~np.isfinite(y)
    if raw is not None:
        r = np.asarray(raw, dtype=np.float64).reshape(-1)
        if r.shape != y.shape:
            raise ValueError(f"raw must have the same length as losses, got {r.size} and {y.size}")
        bad |= ~np.isfinite(r)
    return x, y, bad


def _none(name: str, reason: str) -> Suggestion:
    return Suggestion(name, None, None, reason)


def _pick(name: str, c: Curve, i: int, reason: str) -> Suggestion:
    return Suggestion(name, float(c.lrs[i]), int(c.index[i]), reason)


def _flat(c: Curve) -> bool:
    return not (c.losses.max() > c.losses.min())


def _longest_descent(y: NDArray[np.float64]) -> tuple[int, int, int]:
    """fastai's valley search: (start, end) of the longest strictly decreasing subsequence.

    ``lds[i]`` is the length of the longest strictly decreasing subsequence ending at i,
    computed in O(n log n) by patience sorting (fastai's double loop is O(n^2), too slow for
    long tracked runs). Like fastai, the run ends at the first i reaching the maximal length and
    starts ``lds[end]`` readings before it.
    """
    neg = -y
    tails = np.empty(y.size)
    size = 0
    lds = np.empty(y.size, dtype=np.int64)
    for i, v in enumerate(neg):
        k = int(np.searchsorted(tails[:size], v, side="left"))
        tails[k] = v
        if k == size:
            size += 1
        lds[i] = k + 1
    end = int(np.argmax(lds))
    return max(0, end - int(lds[end])), end, int(lds[end])


def valley(lrs: ArrayLike, losses: ArrayLike) -> Suggestion:
    """fastai's default: about halfway into the longest descent of the loss.

    Example
    -------
    >>> lrs = np.logspace(-5, 0, 50)
    >>> losses = np.r_[np.linspace(2, 0.5, 40), np.linspace(0.6, 9, 10)]
    >>> valley(lrs, losses).lr < 1e-1
    True
    """
    return _valley(prepare(lrs, losses))


def _valley(c: Curve) -> Suggestion:
    name = "valley"
    if c.why:
        return _none(name, c.why)
    start, end, length = _longest_descent(c.losses)
    if length < 2 or _flat(c):
        return _none(name, "the loss never decreases")
    sections = (end - start) / 3
    i = min(start + int(sections) + int(sections / 2), c.lrs.size - 1)
    span = f"{format_lr(c.lrs[start])}..{format_lr(c.lrs[end])}"
    return _pick(name, c, i, f"middle of the longest descent (lr {span})")


def _log_slopes(c: Curve) -> NDArray[np.float64]:
    """d loss / d log10(lr) between consecutive readings (NaN where lr does not grow)."""
    with np.errstate(all="ignore"):
        dx = np.diff(np.log10(c.lrs))
        dy = np.diff(c.losses)
        g = np.where(dx > 0, dy / np.where(dx > 0, dx, 1.0), np.nan)
    inf = ~np.isfinite(g) & ~np.isnan(g)
    g[inf] = np.sign(g[inf]) * np.finfo(float).max
    return g


def steep(lrs: ArrayLike, losses: ArrayLike) -> Suggestion:
    """Steepest descent of the loss against log10(lr), on the way down to the lowest loss.

    Against log10(lr), not lr: the sweep is geometric, so slopes against lr over-weight the
    noise of the first, tiny steps.

    Example
    -------
    >>> lrs = np.logspace(-5, 0, 60); losses = 1 / (1 + np.exp(4 * (np.log10(lrs) + 2.5))) + 0.1
    >>> round(float(np.log10(steep(lrs, losses).lr)), 1)
    -2.5
    """
    return _steep(prepare(lrs, losses))


def _steep(c: Curve) -> Suggestion:
    name = "steep"
    if c.why:
        return _none(name, c.why)
    # only the way down to the lowest loss counts: past it, noise on the exploding loss makes
    # steep dips that are no descent
    g = _log_slopes(c)[: int(np.argmin(c.losses))]
    if not np.any(g < 0):
        return _none(name, "the loss never decreases")
    j = int(np.nanargmin(g))
    # the slope j lies between readings j and j+1: take the reading with the lower lr, like fastai
    return _pick(name, c, j, f"steepest descent of loss vs log10(lr) ({g[j]:.3g} per decade)")


def minimum(lrs: ArrayLike, losses: ArrayLike) -> Suggestion:
    """One tenth of the lr at the lowest loss (clipped to the swept range).

    Example
    -------
    >>> lrs = np.logspace(-5, 0, 60); losses = (np.log10(lrs) + 2) ** 2
    >>> round(float(np.log10(minimum(lrs, losses).lr)), 1)
    -3.0
    """
    return _minimum(prepare(lrs, losses))


def _minimum(c: Curve) -> Suggestion:
    name = "minimum"
    if c.why:
        return _none(name, c.why)
    if _flat(c):
        return _none(name, "the loss is flat")
    i = int(np.argmin(c.losses))
    if i == 0:
        return _none(name, "the loss never decreases")
    at = float(c.lrs[i])
    lr = min(max(at / 10, c.lo), c.hi)
    note = (
        " (still falling at the end of the sweep)"
        if (i == c.lrs.size - 1 and not c.diverged and not c.turned_up)
        else ""
    )
    return Suggestion(name, lr, None, f"lowest loss at lr {format_lr(at)}, divided by 10{note}")


def slide(
    lrs: ArrayLike,
    losses: ArrayLike,
    lr_diff: int = 15,
    thresh: float = 0.005,
    adjust_value: float = 1.0,
) -> Suggestion:
    """fastai's slide rule: walk back from the end until the loss gradient flattens out.

    Compares ``np.gradient(losses)`` at two readings ``lr_diff`` apart, sliding that window from
    the end of the curve towards its start; the lr at the window's left end when the two
    gradients agree within ``thresh`` is the suggestion.

    Example
    -------
    >>> lrs = np.logspace(-5, 0, 100)
    >>> losses = np.r_[np.linspace(2, 0.3, 80), np.linspace(0.3, 9, 20) ** 2]
    >>> bool(slide(lrs, losses).lr < lrs[80])
    True
    """
    return _slide(prepare(lrs, losses), lr_diff, thresh, adjust_value)


def _slide(
    c: Curve, lr_diff: int = 15, thresh: float = 0.005, adjust_value: float = 1.0
) -> Suggestion:
    name = "slide"
    if c.why:
        return _none(name, c.why)
    if _flat(c):
        return _none(name, "the loss is flat")
    n = c.losses.size
    # fastai's 15-reading window assumes ~100 readings; on short curves it would not fit
    lr_diff = max(1, min(lr_diff, (n - 1) // 2))
    with np.errstate(all="ignore"):
        grad = np.gradient(c.losses)
    right, left = n - 1, n - 1 - lr_diff
    i = left
    while left >= 0 and not (abs(grad[right] - grad[left]) <= thresh):
        i = left
        right -= 1
        left -= 1
    lr = min(max(float(c.lrs[i]) * adjust_value, c.lo), c.hi)
    return Suggestion(
        name,
        lr,
        int(c.index[i]) if adjust_value == 1 else None,
        f"where the loss gradient levels off, sliding a {lr_diff}-point window back from the end",
    )


RULES: dict[str, Callable[..., Suggestion]] = {
    "valley": valley,
    "steep": steep,
    "minimum": minimum,
    "slide": slide,
}
#: The rule that trained best in benchmarks/choice_quality.py (issue 5): mean gap to the best
#: lr of a 13-point grid 1.4 points (worst 7.2) where valley loses 6.4 and torch-lr-finder's rule
#: 11.5; the noise floor of that benchmark (the best lr retrained / taken from another seed) is
#: 0.6-1.0 mean, 6.5-9.6 worst. A 3-candidate confirmation run was measured and did not clearly win.
DEFAULT: str = "minimum"

_ON_CURVE = {"valley": _valley, "steep": _steep, "minimum": _minimum, "slide": _slide}


def _check_method(method: str) -> None:
    if method not in RULES:
        raise ValueError(f"method must be one of {sorted(RULES)}, got {method!r}")


def suggest(
    lrs: ArrayLike, losses: ArrayLike, method: str | None = None, raw: ArrayLike | None = None
) -> Suggestion:
    """The suggestion of one rule (the default rule unless ``method`` is given).

    Parameters
    ----------
    lrs, losses : array_like
        The range-test readings (``losses`` smoothed), same length.
    method : str, optional
        A name in ``RULES``; default ``DEFAULT``.
    raw : array_like, optional
        Raw losses; a non-finite raw loss marks divergence like a non-finite smoothed one.

    Example
    -------
    >>> lrs = np.logspace(-5, 0, 60); losses = 1 / (1 + np.exp(4 * (np.log10(lrs) + 2.5))) + 0.1
    >>> suggest(lrs, losses, "steep").name
    'steep'
    """
    method = DEFAULT if method is None else method
    _check_method(method)
    fn = _ON_CURVE.get(method)
    if fn is not None:
        return fn(prepare(lrs, losses, raw))
    return _via_public(method, lrs, losses, raw)


def _via_public(
    method: str, lrs: ArrayLike, losses: ArrayLike, raw: ArrayLike | None
) -> Suggestion:
    # rules registered without a curve-level twin get the divergence cut applied here
    c = prepare(lrs, losses, raw)
    if c.diverged:
        bad = ~np.isfinite(np.asarray(losses, float))
        if raw is not None:
            bad |= ~np.isfinite(np.asarray(raw, float))
        cut = int(np.argmax(bad))
        lrs, losses = np.asarray(lrs, float)[:cut], np.asarray(losses, float)[:cut]
    return RULES[method](lrs, losses)


def suggest_all(
    lrs: ArrayLike, losses: ArrayLike, raw: ArrayLike | None = None
) -> dict[str, Suggestion]:
    """Every rule's suggestion, the default rule first.

    Example
    -------
    >>> lrs = np.logspace(-5, 0, 60); losses = 1 / (1 + np.exp(4 * (np.log10(lrs) + 2.5))) + 0.1
    >>> sorted(suggest_all(lrs, losses)) == sorted(RULES)
    True
    """
    names = [DEFAULT] + [n for n in RULES if n != DEFAULT]
    return {n: suggest(lrs, losses, n, raw) for n in names}
