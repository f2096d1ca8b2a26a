"""The finished curve's smoothing: a centred (zero-phase) smoother on log10(lr) (pure numpy).

While a range test runs, its loss is smoothed by a causal, bias-corrected EMA
(``engine/history.py``): it sees only the past, so it lags the raw loss. With ``smooth_f=0.05``
its mean lag is ~19 readings, over a decade of the default sweep, and its lowest point is where
the raw loss has climbed back to the average of the past, well right of the raw minimum. The EMA
stays the live curve, the divergence check and what the suggestion rules read (a rule chosen
again on this line was worse on held-out families: docs/suggestions.md). Once the test is over
the whole curve is known and :func:`centered` smooths it without lag: the line the views draw
for a finished run (``RunState.line`` in the channel, the static pictures):

1. a running median of the readings within ``half_width`` decades of lr on each side (as many
   readings on each side, so the window stays centred at the ends and at the cut): robust to
   spikes, and exact on a monotone stretch, so a steep rise stays where it happened;
2. a running mean of those medians over half that width, which irons out the median's steps.
   The mean never reaches across the *divergence point* (the first reading past the lowest
   median whose median is above the start level by twice the whole fall: the loss exploded),
   so the explosion is never smeared backwards past where it happened.

Readings from the first non-finite loss on, and readings whose lr is not finite and > 0, come
out NaN, as the EMA does after a NaN.

Example
-------
>>> import numpy as np
>>> lrs = np.logspace(-6, 0, 100)
>>> losses = (np.log10(lrs) + 3) ** 2 + 1
>>> int(np.argmin(centered(lrs, losses))) == int(np.argmin(losses))
True
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from .numbers import is_real

__all__ = ["HALF_WIDTH", "MAX_SIDE", "centered"]

#: decades of lr on each side of a reading in the median's window (the mean's is half of it);
#: chosen on the design families of benchmarks/choice_quality.py (agreement with the raw-curve
#: oracle and the default rule's gap), 4 readings a side of the default 100-step sweep
HALF_WIDTH = 0.4
#: at most this many readings on each side, whatever the sweep's density (bounds the work of
#: tracked runs with 10^5 readings; a dense sweep has enough readings in a narrower window)
MAX_SIDE = 32
#: readings per block of the vectorised median (bounds its temporary to ~2 MB)
_BLOCK = 4096

_Floats = NDArray[np.float64]


def centered(lrs: ArrayLike, losses: ArrayLike, half_width: float = HALF_WIDTH) -> _Floats:
    """The zero-phase smoothed loss of a finished range test.

    Parameters
    ----------
    lrs, losses : array_like
        One value per reading, same length (the raw losses).
    half_width : float
        Decades of lr on each side of a reading in the median's window, > 0.

    Returns
    -------
    numpy.ndarray
        float64, one value per reading; NaN from the first non-finite loss on and where the lr
        is not finite and > 0.

    Raises
    ------
    ValueError
        If the arrays are not one-dimensional or differ in length, or ``half_width`` is not a
        finite number > 0.

    Example
    -------
    >>> centered([1e-3, 1e-2, 1e-1, 1.0], [2.0, 1.0, float("nan"), 3.0]).tolist()
    [2.0, 1.0, nan, nan]
    """
    x, y = _checked(lrs, losses, half_width)
    out = np.full(y.size, np.nan)
    bad = ~np.isfinite(y)
    cut = int(np.argmax(bad)) if bad.any() else y.size
    with np.errstate(all="ignore"):
        ok = np.flatnonzero(np.isfinite(x[:cut]) & (x[:cut] > 0))
        if ok.size == 0:
            return out
        order = ok[np.argsort(np.log10(x[ok]), kind="stable")]
        logs = np.log10(x[order])
    med = _running_median(y[order], _sides(logs, half_width))
    out[order] = _running_mean(med, _clipped(_sides(logs, half_width / 2), _divergence(med)))
    return out


def _checked(lrs: ArrayLike, losses: ArrayLike, half_width: float) -> tuple[_Floats, _Floats]:
    x = np.asarray(lrs, dtype=np.float64)
    y = np.asarray(losses, dtype=np.float64)
    if x.ndim != 1 or y.ndim != 1 or x.size != y.size:
        raise ValueError(
            "lrs and losses must be one-dimensional sequences of one length, "
            f"got shapes {x.shape} and {y.shape}"
        )
    if not (is_real(half_width) and 0 < float(half_width) < np.inf):
        raise ValueError(f"half_width must be a finite number > 0 (decades), got {half_width!r}")
    return x, y


def _sides(logs: _Floats, h: float) -> NDArray[np.intp]:
    """Readings on each side of each reading in its centred window: those within ``h`` decades
    on the side with fewer of them (so the window is symmetric), at most ``MAX_SIDE``."""
    i = np.arange(logs.size)
    tol = 1e-9 * max(1.0, h)  # a geometric sweep's spacing is h's divisor up to rounding
    left = i - np.searchsorted(logs, logs - h - tol, side="left")
    right = np.searchsorted(logs, logs + h + tol, side="right") - 1 - i
    return np.minimum(np.minimum(left, right), MAX_SIDE)


def _running_median(y: _Floats, k: NDArray[np.intp]) -> _Floats:
    """``median(y[i - k[i] : i + k[i] + 1])`` for every i, vectorised per distinct k."""
    out = y.copy()
    for side in np.unique(k[k > 0]):
        windows = sliding_window_view(y, 2 * int(side) + 1)
        idx = np.flatnonzero(k == side)
        for b in range(0, idx.size, _BLOCK):
            at = idx[b : b + _BLOCK]
            out[at] = np.median(windows[at - side], axis=1)
    return out


def _divergence(med: _Floats) -> int:
    """Index of the first median past the lowest one that is above the start level (the
    median of the first readings) by twice the whole fall, or ``len(med)``. Scale-free, and
    out of reach of the noise of a flat curve (whose fall is the noise itself)."""
    low = int(np.argmin(med))
    start = float(np.median(med[: max(1, min(5, low))]))
    above = np.flatnonzero(med[low:] > start + 2 * (start - med[low]))
    return low + int(above[0]) if above.size else med.size


def _clipped(k: NDArray[np.intp], split: int) -> NDArray[np.intp]:
    """``k`` shrunk so that no window reaches across ``split`` (either way)."""
    i = np.arange(k.size)
    reach = np.where(i < split, split - 1 - i, i - split)
    return np.minimum(k, reach)


def _running_mean(m: _Floats, k: NDArray[np.intp]) -> _Floats:
    """``mean(m[i - k[i] : i + k[i] + 1])`` for every i, by cumulative sums."""
    i = np.arange(m.size)
    cs = np.concatenate(([0.0], np.cumsum(m)))
    return (cs[i + k + 1] - cs[i - k]) / (2 * k + 1)
