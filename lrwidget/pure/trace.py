"""A training stream (step, loss, lr) kept in bounded memory, for drawing at any zoom (pure numpy).

:class:`Trace` holds at most ``capacity`` buckets, each the min / max / sum / count of the losses
(and the min / max of the lrs) of ``width`` consecutive steps. When the buckets are full, pairs
are merged and ``width`` doubles, so 1,000,000 steps take the same memory as 4,096. Unlike a
reservoir sample (TensorBoard keeps 1,000 random points and drops most spikes), a merged bucket
keeps its extremes: a spike stays in the max of whatever bucket holds it, so every column that
:meth:`Trace.columns` draws over it shows it, at any zoom.

Example
-------
>>> import numpy as np
>>> t = Trace(capacity=8)
>>> y = np.ones(1000); y[637] = 50.0
>>> for i in range(0, 1000, 16):
...     t.append(y[i : i + 16], np.full(y[i : i + 16].size, 1e-3))
>>> t.width, t.n
(128, 1000)
>>> float(t.columns(600, 700, 5).loss_max.max())
50.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Columns", "Trace"]

#: the per-bucket arrays and the value an empty bucket holds
_EMPTY = {
    "loss_min": np.inf,
    "loss_max": -np.inf,
    "loss_sum": 0.0,
    "count": 0.0,
    "nonfinite": 0.0,
    "lr_min": np.inf,
    "lr_max": -np.inf,
}
_MINS = ("loss_min", "lr_min")
_MAXES = ("loss_max", "lr_max")
_SUMS = ("loss_sum", "count", "nonfinite")


@dataclass(frozen=True)
class Columns:
    """Per-pixel-column summaries of a step range; NaN where a column holds no finite loss.

    Attributes
    ----------
    edges : numpy.ndarray
        ``n + 1`` column edges in steps.
    loss_min, loss_max, loss_mean, lr_min, lr_max : numpy.ndarray
        One value per column (the mean over the buckets the column touches).
    nonfinite : numpy.ndarray
        Non-finite losses in the column's buckets (drawn as a marker, not a value).
    """

    edges: NDArray[np.float64]
    loss_min: NDArray[np.float64]
    loss_max: NDArray[np.float64]
    loss_mean: NDArray[np.float64]
    lr_min: NDArray[np.float64]
    lr_max: NDArray[np.float64]
    nonfinite: NDArray[np.float64]


class Trace:
    """The whole stream in ``capacity`` buckets of ``width`` steps (a power of two).

    Parameters
    ----------
    capacity : int
        Buckets kept (even, >= 2); memory is ``7 * 8 * capacity`` bytes whatever the length.
    """

    def __init__(self, capacity: int = 4096) -> None:
        if not (isinstance(capacity, int) and capacity >= 2 and capacity % 2 == 0):
            raise ValueError(f"capacity must be an even int >= 2, got {capacity!r}")
        self.capacity = capacity
        self.width = 1
        self.n = 0
        self.arrays = {k: np.full(capacity, v) for k, v in _EMPTY.items()}

    @property
    def nbytes(self) -> int:
        """Bytes the buckets hold (constant: preallocated)."""
        return sum(a.nbytes for a in self.arrays.values())

    @property
    def buckets(self) -> int:
        """Buckets in use."""
        return -(-self.n // self.width)

    def append(self, losses: ArrayLike, lrs: ArrayLike) -> None:
        """Add the next steps: one loss and the lr used for each (O(chunk), amortised).

        Raises
        ------
        ValueError
            If ``losses`` and ``lrs`` differ in length.
        """
        y = np.asarray(losses, dtype=np.float64).reshape(-1)
        x = np.asarray(lrs, dtype=np.float64).reshape(-1)
        if y.shape != x.shape:
            raise ValueError(f"losses and lrs must have the same length, got {y.size} and {x.size}")
        while y.size:
            room = self.capacity * self.width - self.n
            if room == 0:
                self._merge()
                continue
            take = min(room, y.size)
            self._fill(y[:take], x[:take])
            y, x = y[take:], x[take:]

    def skip(self, steps: int) -> None:
        """Go past ``steps`` steps that have no reading (a stream joined late, a lost message):
        their columns are empty (NaN), not non-finite. O(log) merges, however many steps."""
        while steps > 0:
            room = self.capacity * self.width - self.n
            if room == 0:
                self._merge()
                continue
            take = min(room, steps)
            self.n += take
            steps -= take

    def _fill(self, y: NDArray[np.float64], x: NDArray[np.float64]) -> None:
        b = np.arange(self.n, self.n + y.size) // self.width
        starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
        at = b[starts]
        ok = np.isfinite(y)
        parts = {
            "loss_min": np.minimum.reduceat(np.where(ok, y, np.inf), starts),
            "loss_max": np.maximum.reduceat(np.where(ok, y, -np.inf), starts),
            "loss_sum": np.add.reduceat(np.where(ok, y, 0.0), starts),
            "count": np.add.reduceat(ok.astype(np.float64), starts),
            "nonfinite": np.add.reduceat((~ok).astype(np.float64), starts),
            "lr_min": np.minimum.reduceat(x, starts),
            "lr_max": np.maximum.reduceat(x, starts),
        }
        self._combine(at, parts)
        self.n += y.size

    def _combine(self, at: NDArray[np.intp], parts: dict[str, NDArray[np.float64]]) -> None:
        a = self.arrays
        for k in _MINS:
            a[k][at] = np.minimum(a[k][at], parts[k])
        for k in _MAXES:
            a[k][at] = np.maximum(a[k][at], parts[k])
        for k in _SUMS:
            a[k][at] += parts[k]

    def _merge(self) -> None:
        """Pairs of buckets into one: half the buckets, twice the width."""
        half = self.capacity // 2
        for k, arr in self.arrays.items():
            pairs = arr.reshape(half, 2)
            if k in _MINS:
                merged = pairs.min(1)
            elif k in _MAXES:
                merged = pairs.max(1)
            else:
                merged = pairs.sum(1)
            arr[:half] = merged
            arr[half:] = _EMPTY[k]
        self.width *= 2

    def columns(self, lo: float, hi: float, n: int) -> Columns:
        """Min / max / mean per pixel column for the steps ``[lo, hi)`` split into ``n`` columns.

        A column takes every bucket it overlaps, so a spike shows in each column over its bucket.

        Raises
        ------
        ValueError
            If ``n < 1`` or ``hi <= lo``.
        """
        if not (isinstance(n, int) and n >= 1 and hi > lo):
            raise ValueError(f"columns needs hi > lo and an int n >= 1, got {lo}, {hi}, {n}")
        edges = np.linspace(lo, hi, n + 1)
        used = self.buckets
        if used == 0:
            empty = np.full(n, np.nan)
            return Columns(edges, empty, empty, empty, empty, empty, np.zeros(n))
        b0 = np.clip(np.floor(edges[:-1] / self.width), 0, used - 1).astype(np.intp)
        b1 = np.clip(np.ceil(edges[1:] / self.width), 1, used).astype(np.intp)
        b1 = np.maximum(b1, b0 + 1)
        inside = (edges[1:] > 0) & (edges[:-1] < self.n)
        got = {k: self._reduce(k, b0, b1) for k in _EMPTY}
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = got["loss_sum"] / got["count"]
        seen = inside & (got["count"] > 0)
        heard = inside & (got["count"] + got["nonfinite"] > 0)  # skipped steps have no lr

        def show(v: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.where(seen, v, np.nan)

        return Columns(
            edges,
            show(got["loss_min"]),
            show(got["loss_max"]),
            show(mean),
            np.where(heard, got["lr_min"], np.nan),
            np.where(heard, got["lr_max"], np.nan),
            np.where(inside, got["nonfinite"], 0.0),
        )

    def _reduce(self, key: str, b0: NDArray[np.intp], b1: NDArray[np.intp]) -> NDArray[np.float64]:
        """Each column's buckets ``[b0, b1)`` reduced (they overlap by at most one bucket)."""
        a = self.arrays[key][: self.buckets]
        if key in _SUMS:
            total = np.r_[0.0, np.cumsum(a)]
            return total[b1] - total[b0]
        ufunc = np.minimum if key in _MINS else np.maximum
        # reduceat covers [b0[c], b0[c+1]) (or a[b0[c]] alone when they are equal); the last
        # bucket a column touches may lie one past that range, so it is folded in too. The last
        # column ends at b1[-1]: one padding bucket holding the identity
        padded = np.r_[a, _EMPTY[key]]
        runs = ufunc.reduceat(padded, np.r_[b0, b1[-1]])[:-1]
        return ufunc(runs, a[b1 - 1])
