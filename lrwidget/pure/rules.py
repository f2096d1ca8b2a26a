"""The rules the Python views and the front end must agree on, read from ``rules.json``.

The same file is imported by the front end (js/theme.js, format.js, ticks.js, scale.js), so the
palette, the status words, the number formats, the tick steps, the axis ranges and where a
suggestion's marker sits are written once. The functions here are the Python implementation of
those rules (pure, no widget or DOM code); each has a JavaScript twin with the same arithmetic in
the same order, and ``tests/test_rules.py`` checks that both give the same answers.

The rules, in short:

* **palette** per theme (``light`` / ``dark``): the colours a view falls back on when its host
  gives none (which host CSS variables override them is the front end's business, js/theme.js);
  the grid is the text colour at ``gridAlpha``, the raw curve the accent at ``rawAlpha``.
* **status word** per ``stop_reason``: ``done``, ``diverged``, ``stopped``, ``exhausted``,
  ``error``.
* **lr format**: 3 significant digits in exponent form without ``+`` or padding (``3.16e-3``,
  ``1e-4``, ``1.25e1``), exponent 0 written plain (``2.5``); ties round half up (as JavaScript).
* **loss format**: 4 significant digits, in the lr's exponent form below 1e-3 and from 1e4 on.
* **ticks**: linear steps of 1, 2 or 5 times a power of ten (the nearest to span / count in log
  terms); log axes label decades, and under two decades the densest of 1-2-5, 1-2-3-5, 1..9
  multiples that fits, else the two ends.
* **y range**: bottom at the lowest smoothed loss, top capped at the highest smoothed loss before
  it (the start) plus ``headroom`` times its rise, so a diverging tail does not flatten the valley.
* **x range**: the planned sweep ``[start_lr, end_lr]``, widened to any reading outside it.
* **marker loss**: a suggestion's marker sits on the drawn smoothed curve: the smoothed loss of
  its reading, else the curve interpolated at its lr (in log lr on a log axis).

Example
-------
>>> format_lr(0.00316227), status_word("completed"), palette(dark=True)["bg"]
('3.16e-3', 'done', '#1e1e1e')
"""

from __future__ import annotations

import copy
import json
import math
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .numbers import is_int

__all__ = [
    "LOG_MULTIPLES",
    "NICE_STEPS",
    "PLOT_HEIGHT",
    "RULES_PATH",
    "SCHEDULE",
    "SCHEDULE_KINDS",
    "STATUS_OF_REASON",
    "check_height",
    "format_loss",
    "format_lr",
    "format_tick",
    "linear_ticks",
    "log_ticks",
    "marker_loss",
    "nice_step",
    "palette",
    "power_of_ten",
    "status_word",
    "x_domain",
    "y_range",
]

#: the data file both languages read
RULES_PATH = Path(__file__).with_name("rules.json")
_R: dict[str, Any] = json.loads(RULES_PATH.read_text(encoding="utf-8"))

#: status word (the widget's ``status``, the report's title) for each ``stop_reason``
STATUS_OF_REASON: dict[str, str] = dict(_R["status"])
LR_DIGITS: int = int(_R["lrFormat"]["digits"])
LOSS_DIGITS: int = int(_R["lossFormat"]["digits"])
_LOSS_EXP_BELOW: float = float(_R["lossFormat"]["expBelow"])
_TICK = _R["tickFormat"]
#: linear tick steps, times a power of ten
NICE_STEPS: tuple[float, ...] = tuple(_R["ticks"]["niceSteps"])
#: multiples of a power of ten tried on a log axis under two decades, sparsest first
LOG_MULTIPLES: tuple[tuple[int, ...], ...] = tuple(tuple(m) for m in _R["ticks"]["logMultiples"])
#: the plot's height in CSS pixels: ``min``, ``max`` (a view's constructor refuses others; the front
#: end clamps a saved state's) and ``default``
PLOT_HEIGHT: dict[str, int] = {k: int(v) for k, v in _R["plotHeight"].items()}
#: schedules from a range (issue 19): ``previewColumns``, ``finalDivisor``, ``warmupFraction``,
#: ``cyclicCycles``, ``minTotalSteps``, ``maxTotalSteps``, ``defaultTotalSteps`` (see rules.json)
SCHEDULE: dict[str, Any] = {k: v for k, v in _R["schedule"].items() if k not in ("about", "kinds")}
#: the schedule kinds in picker order, each with its label
SCHEDULE_KINDS: dict[str, str] = {k["name"]: k["label"] for k in _R["schedule"]["kinds"]}
_Y = _R["yRange"]
_X = _R["xRange"]
_EPS = 1e-9
_SUP = str.maketrans(
    "-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)


def palette(dark: bool = False) -> dict[str, Any]:
    """The colours of a theme (a fresh copy): ``fg``, ``fgMuted``, ``fgFaint``, ``bg``, ``panel``,
    ``border``, ``accent``, ``selected``, ``applied``, ``error``, ``rules`` (one colour per
    suggestion rule, in order), ``gridAlpha`` and ``rawAlpha``.

    >>> palette()["accent"], len(palette(dark=True)["rules"])
    ('#1a73e8', 6)
    """
    return copy.deepcopy(_R["palette"]["dark" if dark else "light"])


def check_height(height: Any) -> int:
    """``height`` if it is an int within :data:`PLOT_HEIGHT`, else a ValueError naming the range.

    >>> check_height(320)
    320
    >>> check_height(10**9)
    Traceback (most recent call last):
    ...
    ValueError: height must be an int from 160 to 2000 (pixels), got 1000000000
    """
    lo, hi = PLOT_HEIGHT["min"], PLOT_HEIGHT["max"]
    if not is_int(height) or not lo <= int(height) <= hi:
        raise ValueError(f"height must be an int from {lo} to {hi} (pixels), got {height!r}")
    return int(height)


def status_word(stop_reason: str) -> str:
    """The one word a view shows for a ``RangeTestResult.stop_reason``.

    >>> [status_word(r) for r in ("completed", "diverged", "stopped", "exhausted", "error")]
    ['done', 'diverged', 'stopped', 'exhausted', 'error']
    """
    try:
        return STATUS_OF_REASON[stop_reason]
    except (KeyError, TypeError):
        raise ValueError(
            f"stop_reason must be one of {sorted(STATUS_OF_REASON)}, got {stop_reason!r}"
        ) from None


# ---------------------------------------------------------------------------- formatting
def _non_finite(x: float) -> str | None:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return None


def _fmt(x: float, spec: str) -> str:
    # Decimal(x) is the float's exact value; rounding it half up is what JavaScript's
    # toExponential / toFixed do, so both languages write the same digits.
    with localcontext() as ctx:
        ctx.rounding = ROUND_HALF_UP
        return format(Decimal(x), spec)


def format_lr(x: float | None, digits: int | None = None) -> str:
    """An lr the way people type it into code: ``digits`` (default 3) significant digits in
    exponent form, trailing zeros dropped, no ``+``.

    >>> format_lr(0.00316227), format_lr(1e-4), format_lr(2.5), format_lr(12.5)
    ('3.16e-3', '1e-4', '2.5', '1.25e1')
    >>> format_lr(None), format_lr(float("nan"))
    ('\u2014', 'NaN')
    """
    if x is None:
        return "\u2014"
    x = float(x)
    bad = _non_finite(x)
    if bad:
        return bad
    if x == 0:
        return "0"
    d = LR_DIGITS if digits is None else int(digits)
    mant, exp = _fmt(x, f".{max(0, d - 1)}e").split("e")
    if "." in mant:
        mant = mant.rstrip("0").rstrip(".")
    e = int(exp)
    return mant if e == 0 else f"{mant}e{e}"


def _fixed(x: float, decimals: int) -> str:
    return _fmt(x, f".{decimals}f")


def format_loss(y: float | None, digits: int | None = None) -> str:
    """A loss with ``digits`` (default 4) significant digits; in the lr's exponent form below
    1e-3 and from ``10 ** digits`` on (where plain digits would need more than ``digits``).

    >>> format_loss(2.302585), format_loss(0.5), format_loss(123456.0), format_loss(1.234e-4)
    ('2.303', '0.5', '1.235e5', '1.234e-4')
    """
    if y is None:
        return "\u2014"
    y = float(y)
    bad = _non_finite(y)
    if bad:
        return bad
    if y == 0:
        return "0"
    d = LOSS_DIGITS if digits is None else int(digits)
    a = abs(y)
    if a >= 10.0**d or a < _LOSS_EXP_BELOW:
        return format_lr(y, d)
    s = _fixed(y, max(0, d - 1 - math.floor(math.log10(a))))
    return s.rstrip("0").rstrip(".") if "." in s else s


def format_tick(value: float, step: float) -> str:
    """A linear-axis tick label with just the decimals the tick spacing ``step`` needs.

    >>> (format_tick(0.25, 0.05), format_tick(2.0, 1.0), format_tick(1.0, 0.5),
    ...  format_tick(-1e-9, 0.1))
    ('0.25', '2', '1.0', '0.0')
    """
    value, step = float(value), float(step)
    if not math.isfinite(value):
        return ""
    if step > 0 and abs(value) < step * 1e-6:  # float noise at the zero tick
        value = 0.0
    a = abs(value)
    if a != 0 and (a >= _TICK["expAtOrAbove"] or a < _TICK["expBelow"]):
        return format_lr(value, LR_DIGITS)
    decimals = (
        max(0, min(int(_TICK["maxDecimals"]), -math.floor(math.log10(step) + _EPS)))
        if step > 0
        else 2
    )
    s = _fixed(value, decimals)
    return s[1:] if re.fullmatch(r"-0(\.0+)?", s) else s  # never "-0"


def power_of_ten(exponent: float) -> str:
    """A decade's label on a log axis: ``10⁻⁵``, ``1``, ``10``.

    >>> power_of_ten(-5), power_of_ten(0), power_of_ten(12)
    ('10⁻⁵', '1', '10¹²')
    """
    e = round(exponent)
    if e == 0:
        return "1"
    if e == 1:
        return "10"
    return "10" + str(e).translate(_SUP)


# ---------------------------------------------------------------------------- ticks
def _dec(mult: int, exp: int) -> float:
    # mult * 10**exp as the nearest float to the decimal (0.3, not 3 * 0.1): both languages
    # parse the same text, so tick values are equal, not merely close.
    return float(f"{mult}e{exp}")


def _nice_step_parts(span: float, count: float) -> tuple[int, int]:
    raw = span / count
    e = math.floor(math.log10(raw))
    f = raw / _dec(1, e)
    steps = [*NICE_STEPS, 10]
    for a, b in zip(steps, steps[1:]):
        if f < math.sqrt(a * b):  # the nearest step in log terms
            return int(a), e
    return 10, e


def nice_step(span: float, count: float) -> float:
    """A step of 1, 2 or 5 times a power of ten, the nearest to ``span / count`` in log terms.

    >>> nice_step(10, 5), nice_step(1, 4), nice_step(100, 3)
    (2.0, 0.2, 50.0)
    """
    if not (span > 0) or not (count > 0):
        return 1.0
    return _dec(*_nice_step_parts(float(span), float(count)))


def linear_ticks(lo: float, hi: float, count: int = 5) -> list[tuple[float, str]]:
    """About ``count`` round values covering ``[lo, hi]``, as ``(value, label)`` pairs.

    >>> linear_ticks(0.0, 1.0, 5)[:3]
    [(0.0, '0.0'), (0.2, '0.2'), (0.4, '0.4')]
    >>> linear_ticks(2.31, 2.31)
    [(2.31, '2.31')]
    """
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"linear_ticks needs finite bounds, got lo={lo}, hi={hi}")
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        return [(lo, format_tick(lo, 0.0))]
    m, e = _nice_step_parts(hi - lo, max(1, count))
    step = _dec(m, e)
    first = math.ceil(lo / step - _EPS)
    last = math.floor(hi / step + _EPS)
    out = []
    for k in range(first, min(last, first + 999) + 1):
        v = _dec(k * m, e)
        out.append((v, format_tick(v, step)))
    return out


def log_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[tuple[float, str]]:
    """Labelled ticks for a log axis over ``[lo, hi]`` (at most ``max_ticks``).

    Decades (every k-th, aligned to multiples of k, when crowded); under two decades the densest
    of 1-2-5, 1-2-3-5 and 1..9 multiples that fits; a range too narrow for any: its two ends.

    >>> [label for _, label in log_ticks(1e-5, 1.0)]
    ['10⁻⁵', '10⁻⁴', '10⁻³', '10⁻²', '10⁻¹', '1']
    >>> [v for v, _ in log_ticks(0.015, 0.3, 4)]
    [0.02, 0.05, 0.1, 0.2]
    """
    lo, hi = float(lo), float(hi)
    if not (lo > 0 and hi > 0 and math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"log_ticks needs 0 < lo, hi < inf, got lo={lo}, hi={hi}")
    if hi < lo:
        lo, hi = hi, lo
    max_ticks = max(2, int(max_ticks))
    e0 = math.ceil(math.log10(lo) - _EPS)
    e1 = math.floor(math.log10(hi) + _EPS)
    decades = e1 - e0 + 1
    if decades >= 2:
        stride = max(1, math.ceil(decades / max_ticks))
        # multiples of the stride, so labels do not wander as the range grows
        first = math.ceil(e0 / stride) * stride
        return [(_dec(1, e), power_of_ten(e)) for e in range(first, e1 + 1, stride)]
    best: list[tuple[float, str]] | None = None
    for mults in LOG_MULTIPLES:
        ticks = [
            (v, format_lr(v))
            for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
            for v in (_dec(m, e) for m in mults)
            if lo * (1 - _EPS) <= v <= hi * (1 + _EPS)
        ]
        if 2 <= len(ticks) <= max_ticks:
            best = ticks
    return best if best is not None else [(lo, format_lr(lo)), (hi, format_lr(hi))]


# ---------------------------------------------------------------------------- ranges and markers
def y_range(
    smoothed: ArrayLike,
    raw: ArrayLike | None = None,
    pad: float | None = None,
    headroom: float | None = None,
) -> tuple[float, float]:
    """The loss range to show, readable when the tail diverges.

    The bottom is the lowest finite smoothed loss; the top is capped at the highest smoothed loss
    before it (the starting plateau) plus ``headroom`` (1.5) times the rise from the minimum to
    there, so a loss that explodes to 1e6 does not flatten the valley. A flat start still gets
    ``flatSpan`` (5 %) of the loss as its rise. ``raw`` widens the range only within that cap
    (and as far below the minimum as the cap is above it). ``pad`` (6 %) of the span is added on
    both sides. Without a finite smoothed loss the raw losses stand in; without any: ``(0, 1)``.

    >>> y_range([3.0, 2.0, 1.0, 1.5, 1e6], pad=0.0)
    (1.0, 6.0)
    """
    pad = float(_Y["pad"] if pad is None else pad)
    headroom = float(_Y["headroom"] if headroom is None else headroom)
    s = np.asarray(smoothed, dtype=np.float64).ravel()
    r = np.asarray(raw, dtype=np.float64).ravel() if raw is not None else np.empty(0)
    r = r[np.isfinite(r)]
    fin = np.isfinite(s)
    if fin.any():
        imin = int(np.argmin(np.where(fin, s, np.inf)))  # the first lowest, as the JS loop
        mn = float(s[imin])
        max_all = float(s[fin].max())
        before = max(mn, float(s[: imin + 1][fin[: imin + 1]].max()))
    elif r.size:
        mn, max_all = float(r.min()), float(r.max())
        before = mn
    else:
        return (0.0, 1.0)
    rise = before - mn
    floor_span = max(abs(mn) * _Y["flatSpan"], 1e-12)
    cap = before + max(rise, floor_span) * headroom
    top = min(max_all, cap)
    bottom = mn
    if r.size:
        up = r[(r > top) & (r <= cap)]
        if up.size:
            top = float(up.max())
        down = r[(r < bottom) & (r >= mn - (cap - mn))]
        if down.size:
            bottom = float(down.min())
    if not top > bottom:
        p = max(abs(bottom) * _Y["flatPad"], 1e-9)
        return (bottom - p, top + p)
    p = (top - bottom) * pad
    return (bottom - p, top + p)


def x_domain(
    lrs: ArrayLike, start_lr: float | None = None, end_lr: float | None = None, log: bool = True
) -> tuple[float, float]:
    """The lr axis range: the planned sweep ``[start_lr, end_lr]`` when known (the axis stays put
    while the curve grows into it), widened to any reading outside it; else the readings' extent;
    a decade either side of a single value, ``[1e-7, 10]`` without any.

    >>> x_domain([1e-5, 1e-4], 1e-6, 10.0), x_domain([1e-5, 1e-4])
    ((1e-06, 10.0), (1e-05, 0.0001))
    """

    def ok(v: float) -> bool:
        return math.isfinite(v) and (not log or v > 0)

    lo, hi = math.inf, -math.inf
    if start_lr is not None and end_lr is not None and ok(start_lr) and ok(end_lr):
        lo, hi = min(float(start_lr), float(end_lr)), max(float(start_lr), float(end_lr))
    a = np.asarray(lrs, dtype=np.float64).ravel()
    a = a[np.isfinite(a) & ((a > 0) if log else True)]
    if a.size:
        lo, hi = min(lo, float(a.min())), max(hi, float(a.max()))
    if lo == math.inf:
        e = _X["emptyLog" if log else "emptyLinear"]
        return (float(e[0]), float(e[1]))
    if lo == hi:
        if log:
            return (lo / _X["singleLogFactor"], hi * _X["singleLogFactor"])
        return (lo - _X["singleLinearPad"], hi + _X["singleLinearPad"])
    return (lo, hi)


def marker_loss(
    lrs: ArrayLike,
    smoothed: ArrayLike,
    lr: float | None,
    index: int | None = None,
    log: bool = True,
) -> float | None:
    """The loss at which a suggestion's marker is drawn: on the smoothed curve as drawn.

    The smoothed loss of the suggestion's reading ``index`` when it is finite; otherwise the
    smoothed curve interpolated at ``lr`` between the readings around it (in log10 lr on a log
    axis: the straight line the plot draws between them), the end reading's loss beyond either
    end. None when no reading has a finite lr and smoothed loss.

    >>> marker_loss([1e-3, 1e-2, 1e-1], [2.0, 1.0, 3.0], 1e-2, index=1)
    1.0
    >>> marker_loss([1e-3, 1e-1], [2.0, 1.0], 1e-2)
    1.5
    """
    x = np.asarray(lrs, dtype=np.float64).ravel()
    y = np.asarray(smoothed, dtype=np.float64).ravel()
    n = min(x.size, y.size)
    x, y = x[:n], y[:n]
    if index is not None and 0 <= index < n and math.isfinite(y[index]):
        return float(y[index])
    if lr is None or not math.isfinite(lr) or (log and lr <= 0):
        return None
    ok = np.isfinite(x) & np.isfinite(y) & ((x > 0) if log else True)
    if not ok.any():
        return None
    x, y = x[ok], y[ok]
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    t = np.log10(x) if log else x
    tl = math.log10(lr) if log else float(lr)
    if tl <= t[0]:
        return float(y[0])
    if tl >= t[-1]:
        return float(y[-1])
    j = int(np.searchsorted(t, tl, side="right")) - 1  # t[j] <= tl < t[j + 1]
    return float(y[j] + (y[j + 1] - y[j]) * ((tl - t[j]) / (t[j + 1] - t[j])))
