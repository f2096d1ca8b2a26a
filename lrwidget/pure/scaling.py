"""How the suggested lr scales with the batch size: ``lr* ∝ B^a`` fitted per seed (pure numpy).

Each seed's suggestions over the batch sizes give one exponent (least squares of log lr* on
log B); ``a`` is their mean and its spread their standard deviation. The rule the exponent agrees
with is read off the 95 % interval of that mean (Student's t over the seeds), never narrower than
the exponent the tested lrs can resolve (one step of the sweep over the batch sizes' span):

- "linear" (SGD, Goyal et al. 2017): a = 1 is inside the interval, a = 0.5 is not, and
  neither is a = 0 (no scaling at all);
- "square root" (Adam, Malladi et al. 2022): a = 0.5 inside, a = 1 and a = 0 not;
- "neither": both rules outside;
- "undecided": a rule inside together with the other rule or with no scaling (a = 0), i.e. the
  seeds' spread cannot separate them (or too few seeds had a suggestion at two batch sizes to
  measure a spread at all). The text says which it cannot tell apart.

A rule is claimed only when the spread separates it from the other rule and from no scaling: an
exponent of 0.1 ± 0.4 is as consistent with lr* not depending on B as with the square root.

Example
-------
>>> fit = fit_scaling([32, 256], [[1e-3, 8e-3], [1.1e-3, 8.5e-3], [0.9e-3, 7.4e-3]])
>>> round(fit.exponent, 2), fit.rule
(1.0, 'linear')
>>> fit.text
'lr* ∝ B^1.00 ± 0.01: linear'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .numbers import is_int, is_real

__all__ = ["RULES", "ScalingFit", "check_batch_sizes", "fit_scaling", "t95"]

#: the exponent of each rule a fit is compared with
RULES = {"linear": 1.0, "square root": 0.5}
#: the exponent of no scaling at all (lr* the same at every batch size): a rule must be told
#: apart from it too
NONE = 0.0

#: two-sided 95 % quantiles of Student's t for 1..10 degrees of freedom
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)


@dataclass(frozen=True)
class ScalingFit:
    """The fitted ``lr* ∝ B^a`` and the rule it agrees with.

    Attributes
    ----------
    exponent : float
        ``a``: the mean of the seeds' exponents (nan when no seed had two suggestions).
    spread : float
        The standard deviation of the seeds' exponents (nan with fewer than two).
    rule : str
        "linear", "square root", "neither" or "undecided" (see the module's docstring).
    points : tuple of (float, float)
        ``(lr, loss)`` of each batch size's suggestion (geometric mean of the seeds' lrs, mean
        of their losses), in batch-size order: the line a chart draws through the suggestions.
    text : str
        One line, e.g. ``"lr* ∝ B^0.48 ± 0.07: square root (Adam)"``.
    exponents : tuple of float
        Each seed's exponent (seeds without two suggestions left out).
    half_width : float
        Half the width of the interval the rule was read from.
    """

    exponent: float
    spread: float
    rule: str
    points: tuple[tuple[float, float], ...]
    text: str
    exponents: tuple[float, ...] = ()
    half_width: float = math.nan


def t95(df: int) -> float:
    """Two-sided 95 % quantile of Student's t with ``df`` degrees of freedom (>= 1).

    Example
    -------
    >>> t95(2), round(t95(1000), 3)
    (4.303, 1.962)
    """
    return _T95[df - 1] if df <= len(_T95) else 1.96 + 2.5 / df  # within 0.01 from df 11


def check_batch_sizes(sizes: Sequence[object], name: str = "batch_sizes") -> list[int]:
    """The batch sizes as ints: at least two, distinct, each an int >= 1 (else ValueError /
    TypeError naming ``name``).

    Example
    -------
    >>> check_batch_sizes([32, 256])
    [32, 256]
    >>> check_batch_sizes([32])
    Traceback (most recent call last):
    ...
    ValueError: batch_sizes needs at least two batch sizes to fit lr* ∝ B^a, got [32]
    """
    out = []
    for b in sizes:
        if not is_int(b):
            raise TypeError(f"{name} must be ints (a batch size each), got {b!r}")
        if b < 1:
            raise ValueError(f"{name} must be ints >= 1, got {b!r}")
        out.append(int(b))
    if len(set(out)) < 2:
        raise ValueError(
            f"{name} needs at least two batch sizes to fit lr* ∝ B^a, got {list(sizes)!r}"
        )
    if len(set(out)) != len(out):
        raise ValueError(f"{name} has a batch size twice: {list(sizes)!r}")
    return out


def fit_scaling(
    batch_sizes: Sequence[int],
    lrs: Sequence[Sequence[float | None]],
    losses: Sequence[Sequence[float | None]] | None = None,
    lr_step: float = 0.0,
    label: str = "",
) -> ScalingFit:
    """Fit ``log lr* = a log B + c`` per seed and read the rule off the seeds' spread.

    Parameters
    ----------
    batch_sizes : sequence of int
        At least two distinct sizes.
    lrs : sequence of sequences
        ``lrs[s][j]``: seed ``s``'s suggested lr at ``batch_sizes[j]`` (None: no suggestion).
        At least two seeds: one seed has no spread, and a rule must not be claimed without one.
    losses : sequence of sequences, optional
        The loss at each suggestion, same layout (for :attr:`ScalingFit.points`; nan if None).
    lr_step : float
        The tested lrs' step as a factor (e.g. ``lrs[1] / lrs[0]`` of an exp sweep): the
        suggestions are only known to that step, so the interval is at least that wide in ``a``.
        0: no floor.
    label : str
        Put in brackets at the end of :attr:`ScalingFit.text` (e.g. the optimizer's name).

    Returns
    -------
    ScalingFit

    Raises
    ------
    ValueError
        Fewer than two batch sizes or seeds, rows of the wrong length, an lr that is not
        positive and finite, ``lr_step`` < 1 (other than 0).
    """
    sizes = check_batch_sizes(batch_sizes)
    table = _table(lrs, len(sizes), "lrs", positive=True)
    if len(table) < 2:
        raise ValueError(
            f"lrs has {len(table)} seed(s): a fit needs at least two seeds for a spread "
            "(a rule is never claimed from one)"
        )
    loss_table = (
        np.full_like(table, math.nan) if losses is None else _table(losses, len(sizes), "losses")
    )
    if loss_table.shape != table.shape:
        raise ValueError(f"losses must have the shape of lrs {table.shape}, got {loss_table.shape}")
    step = float(lr_step) if is_real(lr_step) else math.nan
    if not (step == 0 or (step >= 1 and math.isfinite(step))):
        raise ValueError(f"lr_step must be 0 or a finite factor >= 1, got {lr_step!r}")
    logb = np.log(np.asarray(sizes, dtype=float))
    per_seed = [a for a in (_slope(logb, np.log(row)) for row in table) if a is not None]
    floor = math.log(step) / float(logb.max() - logb.min()) if step else 0.0
    return _verdict(per_seed, floor, _points(table, loss_table), label)


def _table(
    rows: Sequence[Sequence[float | None]], n: int, name: str, positive: bool = False
) -> np.ndarray:
    out = np.full((len(rows), n), math.nan)
    for s, row in enumerate(rows):
        if len(row) != n:
            raise ValueError(
                f"{name}[{s}] must hold one value per batch size ({n}), got {len(row)}"
            )
        for j, v in enumerate(row):
            if v is None:
                continue
            x = float(v) if is_real(v) else math.nan
            ok = math.isfinite(x) and (x > 0 or not positive)
            if not ok:
                kind = "a positive finite lr" if positive else "a finite number"
                raise ValueError(f"{name}[{s}][{j}] must be {kind} or None, got {v!r}")
            out[s, j] = x
    return out


def _slope(x: np.ndarray, y: np.ndarray) -> float | None:
    """Least-squares slope of y on x over the finite y's; None with fewer than two distinct x."""
    ok = np.isfinite(y)
    if len(set(x[ok].tolist())) < 2:
        return None
    return float(np.polyfit(x[ok], y[ok], 1)[0])


def _points(table: np.ndarray, losses: np.ndarray) -> tuple[tuple[float, float], ...]:
    out = []
    for j in range(table.shape[1]):
        ok = np.isfinite(table[:, j])
        if ok.any():
            lr = float(np.exp(np.log(table[ok, j]).mean()))
            ls = losses[ok, j]
            loss = float(ls[np.isfinite(ls)].mean()) if np.isfinite(ls).any() else math.nan
            out.append((lr, loss))
    return tuple(out)


def _verdict(
    per_seed: list[float], floor: float, points: tuple[tuple[float, float], ...], label: str
) -> ScalingFit:
    tail = f" ({label})" if label else ""
    if len(per_seed) < 2:
        a = per_seed[0] if per_seed else math.nan
        why = "fewer than two seeds had a suggestion at two batch sizes"
        return ScalingFit(
            a, math.nan, "undecided", points, f"lr* ∝ B^a: undecided, {why}{tail}", tuple(per_seed)
        )
    a, sd = float(np.mean(per_seed)), float(np.std(per_seed, ddof=1))
    half = max(t95(len(per_seed) - 1) * sd / math.sqrt(len(per_seed)), floor)
    inside = [name for name, v in RULES.items() if abs(a - v) <= half]
    if abs(a - NONE) <= half and inside:
        inside.append("no scaling")
    rule = inside[0] if len(inside) == 1 else ("neither" if not inside else "undecided")
    why = f" ({' or '.join(inside)})" if rule == "undecided" else ""
    text = f"lr* ∝ B^{a:.2f} ± {sd:.2f}: {rule}{why}{tail}"
    return ScalingFit(a, sd, rule, points, text, tuple(per_seed), half)
