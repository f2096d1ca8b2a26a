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
import logging
import math
import os
import secrets
import stat
import threading
from typing import TYPE_CHECKING, Any, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..pure.numbers import is_int, is_real
from ..pure.schedule import STEP_MODES
from .files import remove_file

if TYPE_CHECKING:
    from ..pure.suggest import Suggestion

__all__ = ["History", "RangeTestResult", "STOP_REASONS"]

#: values of ``RangeTestResult.stop_reason``; "exhausted": the caller's loop (``track``) ended
#: before ``num_iter`` readings, without ``stop()`` or a divergence (its loader ran out)
STOP_REASONS = ("completed", "diverged", "stopped", "exhausted", "error")

#: the version :meth:`RangeTestResult.to_dict` writes and the newest one it reads
FORMAT_VERSION = 1
#: the largest ``num_iter`` a saved result may claim: every count below it is exact as a float64
#: (and a JavaScript number, which the views use)
MAX_NUM_ITER = 2**53

_isfinite = math.isfinite
log = logging.getLogger("lrwidget.history")

_Path = Union[str, "os.PathLike[str]"]
_Floats = NDArray[np.float64]


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

    __slots__ = (
        "lrs",
        "losses",
        "smoothed",
        "n",
        "best",
        "capacity",
        "_sf",
        "_keep",
        "_avg",
        "_norm",
    )

    def __init__(self, capacity: int, smooth_f: float = 0.05) -> None:
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

    def view(self, start: int = 0, stop: int | None = None) -> tuple[_Floats, _Floats, _Floats]:
        """Copies of ``lrs, losses, smoothed`` for readings ``[start:stop]`` (default: up to n)."""
        stop = self.n if stop is None else stop
        return (
            self.lrs[start:stop].copy(),
            self.losses[start:stop].copy(),
            self.smoothed[start:stop].copy(),
        )


def _num_out(v: float) -> float | str | None:
    # JSON has no NaN/inf: finite numbers stay numbers, NaN becomes null, infinities strings
    if _isfinite(v):
        return v
    if v != v:
        return None
    return "inf" if v > 0 else "-inf"


_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _numbers(name: str, values: object) -> list[float]:
    """The floats of a JSON array written by ``_num_out``; ValueError naming the bad item."""
    if not isinstance(values, list):
        raise ValueError(f"{name} must be a list of numbers, got {_json_type(values)}")
    out: list[float] = []
    for i, v in enumerate(values):
        if v is None:
            out.append(math.nan)
        elif isinstance(v, str) and v in _NON_FINITE:
            out.append(_NON_FINITE[v])
        else:
            out.append(_number(f"{name}[{i}]", v, 'a number, null, "inf" or "-inf"'))
    return out


def _number(name: str, v: object, what: str = "a number") -> float:
    if not is_real(v):
        raise ValueError(f"{name} must be {what}, got {_shown(v)}")
    try:
        return float(v)
    except OverflowError:  # an int of hundreds of digits (JSON allows it)
        raise ValueError(f"{name} must be {what}, got {_shown(v)}: too large") from None


def _json_type(v: object) -> str:
    if v is None:
        return "null"
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
    }
    return names.get(type(v), f"a {type(v).__name__}")


def _shown(v: object) -> str:
    """``v`` for an error message, short whatever it is: a file may hold a 100,000-level
    nesting (whose repr recurses too deep), a 400-digit number or a string of megabytes."""
    if is_int(v) and abs(int(v)) >= 10**20:
        return f"an integer of {len(str(abs(v)))} digits"  # its own digit limit is 4300
    if v is None or isinstance(v, (bool, int, float)):
        return repr(v)
    if isinstance(v, str):
        return repr(v) if len(v) <= 60 else f"{v[:50]!r}... ({len(v)} characters)"
    return _json_type(v)


def _check_version(version: object) -> None:
    if not (is_int(version) and int(version) >= 1):
        raise ValueError(f"version must be an integer >= 1, got {_shown(version)}")
    if int(version) > FORMAT_VERSION:
        raise ValueError(
            f"this result was written by a newer lrwidget (format version "
            f"{_shown(version)}); this one reads version {FORMAT_VERSION}: upgrade "
            "lrwidget to load it"
        )


def _readings_of(d: dict[str, Any]) -> tuple[list[float], list[float], list[float]]:
    """The saved readings, checked: one length, lrs finite and > 0."""
    lrs, losses, smoothed = (_numbers(k, d[k]) for k in ("lrs", "losses", "smoothed"))
    if not len(lrs) == len(losses) == len(smoothed):
        raise ValueError(
            "lrs, losses and smoothed must have one length, got "
            f"{len(lrs)}, {len(losses)}, {len(smoothed)}"
        )
    for i, lr in enumerate(lrs):
        if not (_isfinite(lr) and lr > 0):
            raise ValueError(f"lrs[{i}] is {lr!r}: learning rates must be finite and > 0")
    return lrs, losses, smoothed


def _one_of(name: str, v: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(v, str) or v not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {_shown(v)}")
    return v


def _bound(d: dict[str, Any], k: str, lrs: list[float]) -> float:
    """``start_lr`` / ``end_lr``: checked; written by hand without it, the readings' end."""
    if k not in d:
        return (lrs[0] if k == "start_lr" else lrs[-1]) if lrs else math.nan
    v = _number(k, d[k])
    if not (_isfinite(v) and v > 0):
        raise ValueError(f"{k} must be finite and > 0, got {v!r}")
    return v


class RangeTestResult:
    """A finished range test.

    Attributes
    ----------
    lrs, losses, smoothed : numpy.ndarray
        float64 readings (reference-group lr, raw loss, smoothed loss).
    stop_reason : str
        One of "completed", "diverged", "stopped", "exhausted" (the loop of
        :meth:`lrwidget.LRFinder.track` ended before ``num_iter`` readings), "error".
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
        Rule name -> :class:`lrwidget.pure.suggest.Suggestion`, the default rule first (computed on
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

    def __init__(
        self,
        lrs: ArrayLike,
        losses: ArrayLike,
        smoothed: ArrayLike,
        stop_reason: str,
        step_mode: str,
        start_lr: float,
        end_lr: float,
        num_iter: int,
        elapsed: float,
        error: str | None = None,
    ) -> None:
        if stop_reason not in STOP_REASONS:
            raise ValueError(f"stop_reason must be one of {STOP_REASONS}, got {stop_reason!r}")
        self.lrs = np.asarray(lrs, dtype=np.float64)
        self.losses = np.asarray(losses, dtype=np.float64)
        self.smoothed = np.asarray(smoothed, dtype=np.float64)
        if not (self.lrs.shape == self.losses.shape == self.smoothed.shape) or self.lrs.ndim != 1:
            raise ValueError(
                "lrs, losses and smoothed must be 1-d arrays of one length, got "
                f"{self.lrs.shape}, {self.losses.shape}, {self.smoothed.shape}"
            )
        self.stop_reason = stop_reason
        self.step_mode = step_mode
        self.start_lr = float(start_lr)
        self.end_lr = float(end_lr)
        self.num_iter = int(num_iter)
        self.elapsed = float(elapsed)
        self.error = error
        self._suggestions: dict[str, Suggestion] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return int(self.lrs.size)

    def __repr__(self) -> str:
        return (
            f"RangeTestResult({len(self)} readings, {self.stop_reason}, "
            f"lr {self.start_lr:.3g}..{self.end_lr:.3g} {self.step_mode}, "
            f"suggested_lr={self.suggested_lr!r})"
        )

    @property
    def suggestions(self) -> dict[str, Suggestion]:
        # lazily: the rules cost milliseconds the training thread should not pay
        if self._suggestions is None:
            with self._lock:
                if self._suggestions is None:
                    from ..pure.suggest import suggest_all

                    self._suggestions = suggest_all(self.lrs, self.smoothed, raw=self.losses)
        return self._suggestions

    @property
    def suggested_lr(self) -> float | None:
        from ..pure.suggest import DEFAULT

        s = self.suggestions.get(DEFAULT)
        return None if s is None else s.lr

    @property
    def history(self) -> dict[str, list[float]]:
        """torch-lr-finder's ``{"lr": [...], "loss": [...]}`` (smoothed losses)."""
        return {"lr": self.lrs.tolist(), "loss": self.smoothed.tolist()}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (NaN -> null, +-inf -> "inf"/"-inf"); suggestions included."""
        return {
            "version": FORMAT_VERSION,
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
    def from_dict(cls, d: dict[str, Any]) -> RangeTestResult:
        """Inverse of :meth:`to_dict` (suggestions are recomputed from the readings).

        Raises
        ------
        ValueError
            ``d`` is not a dict, comes from a newer format version, or holds a field this
            library cannot use (lrs that are not finite and > 0, arrays of different lengths, an
            unknown ``stop_reason`` or ``step_mode``, ...); the message names it.

        Example
        -------
        >>> RangeTestResult.from_dict({"lrs": [1e-3, -1e-2], "losses": [1, 2], "smoothed": [1, 2],
        ...                            "stop_reason": "completed"})
        Traceback (most recent call last):
        ...
        ValueError: lrs[1] is -0.01: learning rates must be finite and > 0
        """
        if not isinstance(d, dict):
            raise ValueError(
                f"a RangeTestResult must be a JSON object (a dict), got {_json_type(d)}"
            )
        _check_version(d.get("version", FORMAT_VERSION))
        missing = [k for k in ("lrs", "losses", "smoothed", "stop_reason") if k not in d]
        if missing:
            raise ValueError(f"not a RangeTestResult dict: missing {missing}")
        lrs, losses, smoothed = _readings_of(d)
        reason = _one_of("stop_reason", d["stop_reason"], STOP_REASONS)
        mode = _one_of("step_mode", d.get("step_mode", "exp"), STEP_MODES)
        start_lr, end_lr = (_bound(d, k, lrs) for k in ("start_lr", "end_lr"))
        num_iter = d.get("num_iter", len(lrs))
        if not (is_int(num_iter) and len(lrs) <= int(num_iter) <= MAX_NUM_ITER):
            raise ValueError(
                f"num_iter must be an integer from the number of readings ({len(lrs)}) "
                f"to 2**53, got {_shown(num_iter)}"
            )
        elapsed = _number("elapsed", d.get("elapsed", 0.0))
        if not (_isfinite(elapsed) and elapsed >= 0):
            raise ValueError(f"elapsed must be finite and >= 0, got {elapsed!r}")
        error = d.get("error")
        if error is not None and not isinstance(error, str):
            raise ValueError(f"error must be a string or null, got {_shown(error)}")
        return cls(
            lrs, losses, smoothed, reason, mode, start_lr, end_lr, int(num_iter), elapsed, error
        )

    def save(self, path: _Path) -> None:
        """Write the result as JSON (strict: no NaN literals), atomically.

        The JSON goes to a temporary file beside ``path``, is flushed to disk and then replaces
        ``path`` in one step: however the write ends (disk full, Ctrl-C, a crash), ``path``
        holds either the old file, whole, or the new one, and the temporary file is removed
        on failure. An existing file's permissions are kept.
        """
        data = json.dumps(self.to_dict(), allow_nan=False).encode("utf-8")
        _replace_file(os.fspath(path), data)

    @classmethod
    def load(cls, path: _Path) -> RangeTestResult:
        """Read a result written by :meth:`save`.

        Raises
        ------
        ValueError
            The file is not JSON, or not a result this version can read (see
            :meth:`from_dict`); the message names the file and what is wrong.
        """
        path = os.fspath(path)
        with open(path, encoding="utf-8") as f:
            try:
                d = json.load(f)
            except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, > 4300 digits
                raise ValueError(f"{path} is not a RangeTestResult JSON file: {e}") from e
            except RecursionError:  # json's parser recurses once per level of nesting
                raise ValueError(
                    f"{path} is not a RangeTestResult JSON file: its JSON is nested too deeply"
                ) from None
        try:
            return cls.from_dict(d)
        except ValueError as e:
            raise ValueError(f"cannot load {path}: {e}") from e


def _replace_file(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it and ``os.replace``."""
    target = os.path.realpath(path)  # through a symlink, as open() would write
    folder, name = os.path.split(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    try:
        # 0o666 less the umask, as open(path, "w") would create it
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with open(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename makes it the file
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as e:
        if not isinstance(e, FileExistsError):  # that name is someone else's file
            remove_file(tmp, "the temporary file", log)
        raise
