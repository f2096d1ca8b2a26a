"""A stand-in for ``lrwidget.pure.trace.Trace`` until it is merged (pure numpy).

A training stream in bounded memory: at most :data:`BUCKETS` buckets of ``width`` steps each, every
bucket keeping the min, max and sum of the loss and of the lr and its count; when the stream
outgrows them, neighbours merge pairwise and ``width`` doubles (min/max per bucket: a spike stays in
its bucket's max at any resolution, unlike a reservoir sample). :meth:`columns` gives ``n``
columns of a step range as the widget's ``training`` message sends them.

Example
-------
>>> t = BucketTrace(); t.add(0, np.array([1.0, 5.0, 2.0, 2.0]), np.full(4, 0.1))
>>> t.columns(0, 4, 2)[:3].tolist()
[[1.0, 2.0], [5.0, 2.0], [3.0, 2.0]]
"""

from __future__ import annotations

import numpy as np

__all__ = ["BUCKETS", "BucketTrace"]

#: most buckets kept (a power of two): 7 float64 arrays of this length, about 460 KB
BUCKETS = 8192


class BucketTrace:
    """Min / max / mean of loss and lr per bucket of steps, bounded; see the module."""

    def __init__(self) -> None:
        self.width = 1
        self.end = 0  # steps recorded: [0, end)
        inf = np.full(BUCKETS, np.inf)
        self._min = [inf.copy(), inf.copy()]  # loss, lr
        self._max = [-inf, -inf]  # two new arrays
        self._sum = [np.zeros(BUCKETS), np.zeros(BUCKETS)]
        self._cnt = np.zeros(BUCKETS)

    def add(self, start: int, losses: np.ndarray, lrs: np.ndarray) -> None:
        """Steps ``[start, start + len(losses))``; non-finite losses count in max as inf."""
        if losses.size == 0:
            return
        last = start + losses.size - 1
        while last // self.width >= BUCKETS:
            self._merge()
        idx = np.arange(start, last + 1) // self.width
        for k, v in enumerate((losses, lrs)):
            np.minimum.at(self._min[k], idx, np.where(np.isnan(v), np.inf, v))
            np.maximum.at(self._max[k], idx, np.where(np.isnan(v), np.inf, v))
            np.add.at(self._sum[k], idx, np.where(np.isfinite(v), v, 0.0))
        np.add.at(self._cnt, idx, 1.0)
        self.end = max(self.end, last + 1)

    def _merge(self) -> None:
        half = BUCKETS // 2
        for arrs, fn in ((self._min, np.minimum), (self._max, np.maximum), (self._sum, np.add)):
            for a in arrs:
                a[:half] = fn(a[0::2], a[1::2])
                a[half:] = _EMPTY[fn.__name__]
        self._cnt[:half], self._cnt[half:] = self._cnt[0::2] + self._cnt[1::2], 0.0
        self.width *= 2

    def columns(self, lo: int, hi: int, n: int) -> np.ndarray:
        """``(6, n)``: loss min, max, mean, lr min, max, mean per column of steps ``[lo, hi)``."""
        edges = lo + np.arange(n + 1) * ((hi - lo) / n)
        if (hi - lo) / n >= self.width:  # each column spans whole buckets: reduce over them
            i0 = np.minimum(np.floor(edges[:-1] / self.width).astype(np.int64), BUCKETS - 1)
            stop = int(min(BUCKETS, max(i0[-1] + 1, np.ceil(edges[-1] / self.width))))
            pick = lambda a, fn: fn.reduceat(a[:stop], i0)  # noqa: E731 (one line, used six times)
        else:  # narrower than a bucket: the bucket under the column's middle
            mid = np.minimum(
                ((edges[:-1] + edges[1:]) / 2 // self.width).astype(np.int64), BUCKETS - 1
            )
            pick = lambda a, fn: a[mid]  # noqa: E731
        cnt = pick(self._cnt, np.add)
        out = np.empty((6, n))
        for k in range(2):
            out[3 * k] = pick(self._min[k], np.minimum)
            out[3 * k + 1] = pick(self._max[k], np.maximum)
            out[3 * k + 2] = pick(self._sum[k], np.add) / np.maximum(cnt, 1)
        out[:, cnt == 0] = np.nan
        return out


_EMPTY = {"minimum": np.inf, "maximum": -np.inf, "add": 0.0}
