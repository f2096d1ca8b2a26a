"""Several range tests on one chart (issue 20), the rules of it (pure): how many runs, their
labels, their colours, and the seed's warning when an optimizer's lr is far from its own
curve's suggestion.

The seed: "copying a learning rate from a tutorial that used a different optimizer is a
common mistake". :func:`lr_mismatch` is the one rule that says so, for the compare view's
legend and its static pictures alike.

Example
-------
>>> lr_mismatch(1e-3, 3.3e-5)
"lr 1e-3 is 30x above this curve's suggestion (3.3e-5)"
>>> lr_mismatch(2e-3, 1e-3) is None
True
>>> run_labels(None, ["SGD", ""])
('SGD', 'run 2')
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .numbers import is_real
from .rules import format_lr, palette

__all__ = [
    "MAX_RUNS",
    "MISMATCH_FACTOR",
    "check_run_count",
    "lr_mismatch",
    "run_colors",
    "run_labels",
]

#: most runs one chart overlays (the palette's colours: each run its own)
MAX_RUNS = 8
#: an optimizer lr this many times away from its curve's suggestion (or more) is flagged
MISMATCH_FACTOR = 10.0
#: longest label kept (a legend entry, a tooltip)
MAX_LABEL = 80


def check_run_count(n: int) -> None:
    """Raise ValueError naming ``runs`` unless 1 <= ``n`` <= :data:`MAX_RUNS`.

    >>> check_run_count(9)
    Traceback (most recent call last):
    ...
    ValueError: runs: at most 8 runs on one chart, got 9
    """
    if n < 1:
        raise ValueError(
            "runs: pass at least one run (an LRFinderWidget, a RangeTestResult or a path)"
        )
    if n > MAX_RUNS:
        raise ValueError(f"runs: at most {MAX_RUNS} runs on one chart, got {n}")


def run_labels(labels: Sequence[str] | None, defaults: Sequence[str]) -> tuple[str, ...]:
    """Each run's label: ``labels`` (checked) or ``defaults`` (a widget's title), else "run i".

    Raises
    ------
    TypeError
        ``labels`` is not a sequence of str.
    ValueError
        Its length differs from the runs', a label is empty or longer than 80 characters, or
        two labels are equal (a click names its run by label).

    Example
    -------
    >>> run_labels(["a", "a"], ["", ""])
    Traceback (most recent call last):
    ...
    ValueError: labels must be unique, got 'a' twice
    """
    n = len(defaults)
    if labels is None:
        chosen = [d if d else f"run {i + 1}" for i, d in enumerate(defaults)]
        # two untitled widgets of one title: number the repeats so a label names one run
        return _unique(chosen)
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise TypeError(f"labels must be a sequence of str, got {type(labels).__name__}")
    if len(labels) != n:
        raise ValueError(f"labels: {len(labels)} labels for {n} runs")
    for v in labels:
        if not isinstance(v, str) or not v.strip() or len(v) > MAX_LABEL:
            raise ValueError(
                f"labels: each must be a non-empty str of at most {MAX_LABEL} characters, got {v!r}"
            )
    for v in labels:
        if labels.count(v) > 1:
            raise ValueError(f"labels must be unique, got {v!r} twice")
    return tuple(labels)


def _unique(names: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for name in names:
        label, k = name, 2
        while label in out:
            label, k = f"{name} ({k})", k + 1
        out.append(label)
    return tuple(out)


def lr_mismatch(lr: object, suggested: object, factor: float = MISMATCH_FACTOR) -> str | None:
    """The seed's warning: ``lr`` is ``factor`` times or more away from ``suggested``.

    Parameters
    ----------
    lr : float or None
        The lr the run's optimizer holds (a live widget's, or the optimizer given for it).
    suggested : float or None
        The default suggestion of the run's curve.
    factor : float
        How far counts as far (10: an Adam lr of 1e-3 copied into SGD, whose curve suggests
        about 1e-1, is 100x below).

    Returns
    -------
    str or None
        ``"lr 1e-3 is 30x above this curve's suggestion (3.3e-5)"``; None when either is not
        a positive finite number or they are within ``factor`` of each other.

    Example
    -------
    >>> lr_mismatch(1e-3, 0.1)
    "lr 1e-3 is 100x below this curve's suggestion (1e-1)"
    >>> lr_mismatch(None, 0.1) is None, lr_mismatch(1e-3, float("nan")) is None
    (True, True)
    """
    if not (_positive(lr) and _positive(suggested)):
        return None
    a, s = float(lr), float(suggested)  # type: ignore[arg-type]  # checked by _positive
    ratio = a / s if a >= s else s / a
    if not ratio >= factor:
        return None
    side = "above" if a > s else "below"
    return f"lr {format_lr(a)} is {_times(ratio)}x {side} this curve's suggestion ({format_lr(s)})"


def _positive(v: object) -> bool:
    return is_real(v) and math.isfinite(float(v)) and float(v) > 0


def _times(ratio: float) -> str:
    """A ratio as people say it: two significant digits (30, 120, 1.2e4 stays 12000)."""
    return f"{float(f'{ratio:.2g}'):g}" if ratio < 1e6 else f"{ratio:.1e}"


def run_colors(n: int, dark: bool = False) -> list[str]:
    """The colours of ``n`` runs in a theme (rules.json ``runs``: Okabe-Ito, colour-blind safe).

    >>> run_colors(2)
    ['#0072b2', '#d55e00']
    """
    runs = palette(dark)["runs"]
    return [runs[i % len(runs)] for i in range(n)]
