"""Readings of a range test and the result object.

:class:`History` holds every reading in preallocated float64 arrays (lr, raw loss, smoothed
loss); :meth:`History.append` is O(1) and writes three array cells. ``History.n`` is bumped only
after the three cells are written, so another thread (the stream) may read ``arrays[:n]``
without a lock: under the GIL the writes are visible before the new ``n`` is.

Smoothing follows torch-lr-finder's ``smooth_f`` (the weight of the newest loss) with fastai's
bias correction::

    avg_i      = smooth_f * loss_i + (1 - smooth_f) * avg_{i-1},   avg_{-1} = 0
    smoothed_i = avg_i / (1 - (1 - smooth_f) ** (i + 1))

so the first smoothed value is the first loss (no pull towards 0) and ``smooth_f = 0`` means no
smoothing at all (smoothed = raw).

:class:`RangeTestResult` is the finished test: copies of the arrays, why it ended, the sweep's
settings and the suggestions (computed on first access, off the training thread).

Example
-------
>>> h = History(4, smooth_f=0.5)
>>> [h.append(lr, loss) for lr, loss in [(1e-3, 2.0), (1e-2, 1.0)]]
[2.0, 1.3333333333333333]
>>> h.n, h.best
(2, 1.3333333333333333)
"""
from __future__ import annotations

import json
import math
import os
import threading
from typing import Dict, Optional

import numpy as np

__all__ = ["History", "RangeTestResult", "STOP_REASONS"]

#: values of ``RangeTestResult.stop_reason``
STOP_REASONS = ("completed", "diverged", "stopped", "error")

_isfinite = math.isfinite


class History:
    """Preallocated readings of one range test.

    Parameters
    ----------
    capacity : int
        Most readings this history can hold (the test's ``num_iter``).
    smooth_f : float
        Weight of the newest loss in the exponential moving average, in ``[0, 1)``.

    Attributes
    ----------
    lrs, losses, smoothed : numpy.ndarray
        float64 arrays of length ``capacity``; only ``[:n]`` is meaningful.
    n : int
        Number of readings written so far.
    best : float
        Lowest finite smoothed loss so far (``inf`` before the first).

    Example
    -------
    >>> h = History(100_000, 0.05)
    >>> h.nbytes <= 4_000_000
    True
    """

    __slots__ = ("lrs", "losses", "smoothed", "n", "best", "capacity",
                 "_sf", "_keep", "_avg", "_norm")

    def __init__(self, capacity: int, smooth_f: float = 0.05):
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        if not (0.0 <= smooth_f < 1.0):
            raise ValueError(f"smooth_f must be in [0, 1), got {smooth_f}")
        self.capacity = int(capacity)
        self.lrs = np.full(self.capacity, np.nan)
        self.losses = np.full(self.capacity, np.nan)
        self.smoothed = np.full(self.capacity, np.nan)
        self.n = 0
        self.best = math.inf
        self._sf = float(smooth_f)
        self._keep = 1.0 - float(smooth_f)
        self._avg = 0.0
        self._norm = 0.0  # sum of the EMA weights, 1 - (1 - smooth_f) ** n: the bias correction

    @property
    def nbytes(self) -> int:
        """Bytes held by the reading arrays."""
        return self.lrs.nbytes + self.losses.nbytes + self.smoothed.nbytes

    def append(self, lr: float, loss: float) -> float:
        """Record one reading and return its smoothed loss.

        ``loss`` may be NaN or inf; it is stored as is and the smoothed loss becomes non-finite
        too (the test is then over anyway).

        Raises
        ------
        IndexError
            When the history is full.
        """
        i = self.n
        if self._sf == 0.0:
            s = loss
        else:
            self._avg = avg = self._sf * loss + self._keep * self._avg
            self._norm = norm = self._sf + self._keep * self._norm
            # the first reading is its own average, exactly (as in torch-lr-finder)
            s = avg / norm if i else loss
        self.lrs[i] = lr
        self.losses[i] = loss
        self.smoothed[i] = s
        if s < self.best:
            self.best = s
        # published last: readers use [:n] without a lock
        self.n = i + 1
        return s

    def last(self) -> Optional[tuple]:
        """The last reading as ``(lr, loss, smoothed)``, or None when empty."""
        i = self.n - 1
        if i < 0:
            return None
        return float(self.lrs[i]), float(self.losses[i]), float(self.smoothed[i])

    def view(self, start: int = 0, stop: Optional[int] = None):
        """Copies of ``lrs, losses, smoothed`` for readings ``[start:stop]`` (default: up to n)."""
        stop = self.n if stop is None else stop
        return (self.lrs[start:stop].copy(), self.losses[start:stop].copy(),
                self.smoothed[start:stop].copy())


def _num_out(v: float):
    # JSON has no NaN/inf: finite numbers stay numbers, NaN becomes null, infinities strings
    if _isfinite(v):
        return v
    if v != v:
        return None
    return "inf" if v > 0 else "-inf"


def _num_in(v) -> float:
    if v is None:
        return math.nan
    return float(v)  # float("inf") / float("-inf") / float("nan") parse the strings


class RangeTestResult:
    """A finished range test.

    Attributes
    ----------
    lrs, losses, smoothed : numpy.ndarray
        float64 readings (reference-group lr, raw loss, smoothed loss).
    stop_reason : str
        One of "completed", "diverged", "stopped", "error".
    step_mode : str
    start_lr, end_lr : float
        Reference-group sweep bounds.
    num_iter : int
        Steps asked for (``len(lrs)`` may be less).
    elapsed : float
        Seconds the test ran.
    error : str or None
        ``repr`` of the exception when ``stop_reason == "error"``.
    suggestions : dict
        Rule name -> :class:`lrwidget.suggest.Suggestion`, the default rule first (computed on
        first access).
    suggested_lr : float or None
        The default rule's lr.

    Example
    -------
    >>> import numpy as np, tempfile, os
    >>> r = RangeTestResult(np.array([1e-3, 1e-2]), np.array([1.0, np.inf]),
    ...                     np.array([1.0, np.inf]), "diverged", "exp", 1e-3, 1e-2, 2, 0.1)
    >>> p = os.path.join(tempfile.mkdtemp(), "r.json"); r.save(p)
    >>> RangeTestResult.load(p).losses.tolist()
    [1.0, inf]
    """

    def __init__(self, lrs, losses, smoothed, stop_reason: str, step_mode: str, start_lr: float,
                 end_lr: float, num_iter: int, elapsed: float, error: Optional[str] = None):
        if stop_reason not in STOP_REASONS:
            raise ValueError(f"stop_reason must be one of {STOP_REASONS}, got {stop_reason!r}")
        self.lrs = np.asarray(lrs, dtype=np.float64)
        self.losses = np.asarray(losses, dtype=np.float64)
        self.smoothed = np.asarray(smoothed, dtype=np.float64)
        if not (self.lrs.shape == self.losses.shape == self.smoothed.shape) or self.lrs.ndim != 1:
            raise ValueError("lrs, losses and smoothed must be 1-d arrays of one length, got "
                             f"{self.lrs.shape}, {self.losses.shape}, {self.smoothed.shape}")
        self.stop_reason = stop_reason
        self.step_mode = step_mode
        self.start_lr = float(start_lr)
        self.end_lr = float(end_lr)
        self.num_iter = int(num_iter)
        self.elapsed = float(elapsed)
        self.error = error
        self._suggestions = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return int(self.lrs.size)

    def __repr__(self) -> str:
        return (f"RangeTestResult({len(self)} readings, {self.stop_reason}, "
                f"lr {self.start_lr:.3g}..{self.end_lr:.3g} {self.step_mode}, "
                f"suggested_lr={self.suggested_lr!r})")

    @property
    def suggestions(self) -> Dict[str, object]:
        # lazily: the rules cost milliseconds the training thread should not pay
        if self._suggestions is None:
            with self._lock:
                if self._suggestions is None:
                    from .suggest import suggest_all
                    self._suggestions = suggest_all(self.lrs, self.smoothed, raw=self.losses)
        return self._suggestions

    @property
    def suggested_lr(self) -> Optional[float]:
        from .suggest import DEFAULT
        s = self.suggestions.get(DEFAULT)
        return None if s is None else s.lr

    @property
    def history(self) -> Dict[str, list]:
        """torch-lr-finder's ``{"lr": [...], "loss": [...]}`` (smoothed losses)."""
        return {"lr": self.lrs.tolist(), "loss": self.smoothed.tolist()}

    def to_dict(self) -> dict:
        """A JSON-safe dict (NaN -> null, +-inf -> "inf"/"-inf"); suggestions included."""
        return {
            "version": 1,
            "lrs": [_num_out(v) for v in self.lrs.tolist()],
            "losses": [_num_out(v) for v in self.losses.tolist()],
            "smoothed": [_num_out(v) for v in self.smoothed.tolist()],
            "stop_reason": self.stop_reason,
            "step_mode": self.step_mode,
            "start_lr": self.start_lr,
            "end_lr": self.end_lr,
            "num_iter": self.num_iter,
            "elapsed": self.elapsed,
            "error": self.error,
            "suggestions": {k: s.to_dict() for k, s in self.suggestions.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> "RangeTestResult":
        """Inverse of :meth:`to_dict` (suggestions are recomputed from the readings)."""
        missing = [k for k in ("lrs", "losses", "smoothed", "stop_reason") if k not in d]
        if missing:
            raise ValueError(f"not a RangeTestResult dict: missing {missing}")
        lrs = [_num_in(v) for v in d["lrs"]]
        return cls(lrs, [_num_in(v) for v in d["losses"]], [_num_in(v) for v in d["smoothed"]],
                   d["stop_reason"], d.get("step_mode", "exp"),
                   d.get("start_lr", lrs[0] if lrs else math.nan),
                   d.get("end_lr", lrs[-1] if lrs else math.nan),
                   d.get("num_iter", len(lrs)), d.get("elapsed", 0.0), d.get("error"))

    def save(self, path) -> None:
        """Write the result as JSON (strict: no NaN literals)."""
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, allow_nan=False)

    @classmethod
    def load(cls, path) -> "RangeTestResult":
        """Read a result written by :meth:`save`."""
        with open(os.fspath(path), encoding="utf-8") as f:
            return cls.from_dict(json.load(f))
