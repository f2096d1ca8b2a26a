"""LRFinder: the learning-rate range test, with torch-lr-finder's public face.

Switching from torch-lr-finder is one import::

    from lrwidget import LRFinder          # was: from torch_lr_finder import LRFinder

What is added: the model, optimizer and GradScaler come back bit for bit however the test ends
(see :mod:`lrwidget.snapshot`); every reading is kept (:attr:`LRFinder.result`); custom steps
(``step_fn``) and the user's own loop (:meth:`LRFinder.track`); :meth:`LRFinder.stop` and
:meth:`LRFinder.subscribe` for a live view; :meth:`LRFinder.apply` and
:meth:`LRFinder.one_cycle` to use the chosen lr.

One test at a time per finder: taking the finder is one atomic step, before anything is
touched, and a second caller (another thread, a second widget) gets a ``RuntimeError``. When the
restore at the end fails, the test ends as an error and the saved state is kept for
:meth:`LRFinder.restore`; no new test starts until it succeeded (or was discarded).

Devices. On CPU each loss is read with ``.item()`` right after its step. On an accelerator the
losses stay on the device in a preallocated tensor and are fetched every ``fetch_every`` steps
(16), so the host never waits for the device inside a step. Divergence (and a NaN loss) is then
noticed up to ``fetch_every - 1`` steps late; the readings after the diverging one are dropped
and the model is restored anyway. ``stop()`` is still honoured at the next step.
"""
from __future__ import annotations

import collections.abc
import contextlib
import inspect
import itertools
import math
import os
import tempfile
import threading
import time
from numbers import Real
from typing import Callable, Dict, List, Optional

import torch

from .history import History, RangeTestResult
from .schedule import CHUNK, Sweep, start_lrs_for
from .snapshot import Snapshot
from .stream import LrApplied, RunEnded, RunStarted, Stream

__all__ = ["LRFinder", "StopRule", "Tracker"]

_isfinite = math.isfinite
_Tensor = torch.Tensor
_PAIR_TYPES = (tuple, list)
AMP_BACKENDS = ("torch",)
#: bytes each reading holds in :class:`lrwidget.history.History` (three float64 arrays)
READING_BYTES = 24


class StopRule:
    """The one place where a range test decides to end.

    Every reading goes through :meth:`decide`; between fetched readings (accelerators) the loop
    asks :meth:`pending`. A distributed version subclasses this and all-reduces the answer so
    that every rank stops at the same step.

    Parameters
    ----------
    num_iter : int
        Readings after which the test is complete.
    diverge_th : float
        Diverged when the smoothed loss exceeds ``diverge_th`` times the best smoothed loss.

    Example
    -------
    >>> r = StopRule(3, 5.0)
    >>> r.decide(1, 1.0, 1.0, 1.0), r.decide(2, 9.0, 6.0, 1.0), r.decide(3, 1.0, 1.0, 1.0)
    (None, 'diverged', 'completed')
    >>> r.decide(2, float("nan"), float("nan"), 1.0)
    'diverged'
    """

    __slots__ = ("num_iter", "diverge_th", "requested")

    def __init__(self, num_iter: int, diverge_th: float):
        self.num_iter = num_iter
        self.diverge_th = diverge_th
        self.requested = False  # set by stop() from any thread; a bool store is atomic

    def decide(self, n: int, loss: float, smoothed: float, best: float) -> Optional[str]:
        """Reason to end after the ``n``-th reading, or None to go on."""
        if not (_isfinite(loss) and _isfinite(smoothed)) or smoothed > self.diverge_th * best:
            return "diverged"
        if self.requested:
            return "stopped"
        if n >= self.num_iter:
            return "completed"
        return None

    def pending(self) -> Optional[str]:
        """Reason to end before the next step when readings are not yet known."""
        return "stopped" if self.requested else None


class _Run:
    """State of one running test (shared by range_test and track)."""

    def __init__(self, run_id, snapshot, history, rule, sweep: Sweep, moved_from):
        self.run_id = run_id
        self.snapshot = snapshot
        self.history = history
        self.rule = rule
        self.sweep = sweep
        self.start_lr = float(sweep.starts[0])
        self.end_lr = sweep.end_lr
        self.num_iter = sweep.num_iter
        self.step_mode = sweep.step_mode
        self.moved_from = moved_from
        self.reason: Optional[str] = None
        self.error: Optional[BaseException] = None
        self.t0 = time.time()
        self.perf0 = time.perf_counter()
        self.streams: Dict[int, Stream] = {}
        self.started = RunStarted(run_id, self.num_iter, self.start_lr, self.end_lr,
                                  self.step_mode, self.t0)


class _Sub:
    __slots__ = ("callback", "interval")

    def __init__(self, callback, interval):
        self.callback = callback
        self.interval = interval


class _Recorder:
    """Turns losses into readings; on accelerators stages them on the device first."""

    def __init__(self, run: _Run, fetch_every: int, device):
        self.history = run.history
        self.rule = run.rule
        self.fetch_every = fetch_every
        self.staged = 0       # losses waiting in the device buffer
        self.base = 0         # step index of the first of them
        self.lrs: List[float] = []  # their lrs
        self.buf = torch.empty(fetch_every, device=device) if fetch_every > 1 else None

    def add(self, i: int, lr: float, loss) -> Optional[str]:
        """Record step ``i`` (run with ``lr``); the reason to end, or None."""
        if self.buf is None or not isinstance(loss, _Tensor):
            if self.staged:  # a float after staged tensors: keep the order
                r = self.flush()
                if r:
                    return r
            v = loss.item() if isinstance(loss, _Tensor) else float(loss)
            s = self.history.append(lr, v)
            return self.rule.decide(i + 1, v, s, self.history.best)
        if self.staged == 0:
            self.base = i
        self.buf[self.staged] = loss.detach()
        self.lrs.append(lr)
        self.staged += 1
        if self.staged == self.fetch_every or i + 1 >= self.rule.num_iter:
            return self.flush()
        return self.rule.pending()

    def flush(self) -> Optional[str]:
        if not self.staged:
            return self.rule.pending()
        vals = self.buf[:self.staged].tolist()  # the one host sync per chunk
        lrs, self.lrs = self.lrs, []
        self.staged = 0
        h, decide, base = self.history, self.rule.decide, self.base
        for j, (lr, v) in enumerate(zip(lrs, vals)):
            s = h.append(lr, v)
            r = decide(base + j + 1, v, s, h.best)
            if r:
                return r  # readings after the one that ended the test are dropped
        return self.rule.pending()


def _cycle(loader, name: str):
    """Batches of ``loader`` forever, starting it again when it runs out (like torch-lr-finder)."""
    total = 0
    while True:
        got = 0
        for b in loader:
            got += 1
            yield b
        total += got
        if got == 0:
            if total == 0:
                raise ValueError(f"{name} is empty: it must yield at least one batch")
            raise ValueError(f"{name} ran out after {total} batches and cannot be iterated again; "
                             "pass a re-iterable loader (a DataLoader, a list) or fewer num_iter")


def _move(obj, device, non_blocking):
    """``obj`` (a tensor, or tuples, lists, dicts of them) on ``device``."""
    if isinstance(obj, _Tensor):
        return obj.to(device, non_blocking=non_blocking)
    if isinstance(obj, tuple):
        if hasattr(obj, "_fields"):  # namedtuple
            return type(obj)(*(_move(o, device, non_blocking) for o in obj))
        return tuple(_move(o, device, non_blocking) for o in obj)
    if isinstance(obj, list):
        return [_move(o, device, non_blocking) for o in obj]
    if isinstance(obj, dict):
        return {k: _move(v, device, non_blocking) for k, v in obj.items()}
    to = getattr(obj, "to", None)  # e.g. Hugging Face BatchEncoding
    if callable(to) and not isinstance(obj, torch.nn.Module):
        try:
            return to(device)
        except Exception as e:  # a batch left on the wrong device would fail later, obscurely
            raise RuntimeError(f"moving a {type(obj).__name__} batch to {device} failed: its "
                               f".to({str(device)!r}) raised {type(e).__name__}: {e}") from e
    return obj


def _pair(batch, name: str):
    """``(inputs, labels)`` of a batch ``(inputs, labels, *extras)``; a clear error otherwise."""
    if isinstance(batch, _PAIR_TYPES) and len(batch) >= 2:
        return batch[0], batch[1]
    if isinstance(batch, _PAIR_TYPES):
        what = f"{type(batch).__name__}s of {len(batch)} item{'s' if len(batch) != 1 else ''}"
    else:
        what = f"{type(batch).__name__} batches"
    raise TypeError(f"{name} yields {what}; without step_fn each batch must be a tuple or list "
                    "(inputs, labels, *extras) (extras are ignored). For other batches pass "
                    "step_fn(model, batch) -> loss to range_test")


def _needs_closure(optimizer) -> bool:
    """Whether ``optimizer.step`` must be given a closure (torch.optim.LBFGS and the like)."""
    try:
        p = inspect.signature(optimizer.step).parameters.get("closure")
    except (TypeError, ValueError):  # a builtin or C step: assume the usual optional closure
        return False
    return p is not None and p.default is inspect.Parameter.empty and \
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)


def _available_memory() -> Optional[int]:
    """Bytes this process can still allocate (MemAvailable, capped by a cgroup v2 limit)."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, AttributeError):
            avail = None
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        if limit != "max":
            with open("/sys/fs/cgroup/memory.current") as f:
                left = int(limit) - int(f.read().strip())
            avail = left if avail is None else min(avail, left)
    except (OSError, ValueError):
        pass
    return avail


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def _describe(e: BaseException) -> str:
    return type(e).__name__ + (f": {e}" if str(e) else "")


def _check_readings_fit(num_iter: int) -> None:
    """Refuse a ``num_iter`` whose readings cannot be held, before anything is allocated."""
    need = READING_BYTES * num_iter
    avail = _available_memory()
    if avail is not None and need > avail:
        raise ValueError(f"num_iter={num_iter} is too large: its readings need {_gib(need)} "
                         f"({READING_BYTES} bytes each), more than the {_gib(avail)} of memory "
                         "available; use a smaller num_iter")


def _not_restored(e: BaseException, error: Optional[str]) -> str:
    msg = (f"the model and optimizer were NOT restored after the range test: {_describe(e)}. "
           "The saved state is kept: remove the cause, then call finder.restore() to write it "
           "back (finder.restore(discard=True) keeps the model and optimizer as they are now)")
    if error:
        msg += f". The test itself had failed first: {error}"
    return msg


def _check_loss(loss, source: str):
    if not isinstance(loss, _Tensor):
        raise TypeError(f"{source} must return a scalar loss tensor, got {type(loss).__name__}")
    if loss.numel() != 1:
        raise ValueError(f"{source} must return a scalar loss tensor, got a tensor of shape "
                         f"{tuple(loss.shape)} (reduce it, e.g. .mean())")


def _real(name: str, v, what: str):
    if isinstance(v, bool) or not isinstance(v, Real):
        raise TypeError(f"{name} must be {what}, got {v!r}")
    return float(v)


class LRFinder:
    """Learning-rate range test for a PyTorch model and optimizer.

    Parameters
    ----------
    model : torch.nn.Module
    optimizer : torch.optim.Optimizer
        Must hold (some of) the model's parameters.
    criterion : callable, optional
        ``criterion(outputs, labels) -> scalar tensor``. May be None when ``range_test`` gets a
        ``step_fn`` or when :meth:`track` is used. A criterion that is an ``nn.Module`` (with a
        learnable temperature, running statistics) is restored after the test like the model.
    device : str or torch.device, optional
        Where batches (and the model, during the test) go; default: the model's device.
    memory_cache : bool
        Keep the snapshot of model and optimizer in CPU memory (True) or in a file under
        ``cache_dir`` (False).
    cache_dir : str or os.PathLike, optional
        Directory of that file (default: the system temp dir). With ``memory_cache=False`` it
        must exist and be writable; that is checked with the other arguments, before any step.
    amp_backend : {None, "torch"}
        "torch" runs forward and loss under ``torch.autocast(**amp_config)``.
    amp_config : dict, optional
        ``torch.autocast`` arguments; default ``{"device_type": <device>, "dtype": float16 on
        CUDA, bfloat16 elsewhere}``.
    grad_scaler : torch.amp.GradScaler, optional
        Used for backward and step when given (restored afterwards like the optimizer).

    Every tensor in the optimizer's param groups is restored too, the model's or not. Only one
    test runs on a finder at a time; see :meth:`restore` for a test whose restore failed.

    Example
    -------
    >>> import torch
    >>> from torch import nn
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> model = nn.Linear(4, 2); opt = torch.optim.SGD(model.parameters(), lr=1e-4)
    >>> data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(5)]
    >>> finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    >>> result = finder.range_test(data, end_lr=1.0, num_iter=20)
    >>> len(result.lrs), result.stop_reason in ("completed", "diverged")
    (20, True)
    >>> opt.param_groups[0]["lr"]   # restored
    0.0001
    """

    #: steps between fetches of the staged losses on accelerators (see the module docstring)
    fetch_every = 16

    def __init__(self, model, optimizer, criterion=None, device=None, memory_cache=True,
                 cache_dir=None, amp_backend=None, amp_config=None, grad_scaler=None):
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError("optimizer must be a torch.optim.Optimizer, got "
                            f"{type(optimizer).__name__}")
        if criterion is not None and not callable(criterion):
            raise TypeError(f"criterion must be callable or None, got {type(criterion).__name__}")
        mine = {id(p) for p in model.parameters()}
        if not any(id(p) in mine for g in optimizer.param_groups for p in g["params"]):
            raise ValueError("optimizer holds none of the model's parameters: build it from "
                             "model.parameters() (or pass the model it was built for)")
        if amp_backend is not None and amp_backend not in AMP_BACKENDS:
            raise ValueError(f"amp_backend must be None or one of {AMP_BACKENDS} "
                             f"(apex is not supported), got {amp_backend!r}")
        if amp_config is not None and not isinstance(amp_config, dict):
            raise TypeError(f"amp_config must be a dict of torch.autocast arguments, got "
                            f"{type(amp_config).__name__}")
        self.model = model
        self.optimizer = optimizer
        self.criterion = criterion
        self.memory_cache = bool(memory_cache)
        self.cache_dir = cache_dir
        p = next(model.parameters(), None)
        self.model_device = p.device if p is not None else torch.device("cpu")
        self.device = torch.device(device) if device is not None else self.model_device
        self.amp_backend = amp_backend
        if amp_backend is not None and amp_config is None:
            dt = torch.float16 if self.device.type == "cuda" else torch.bfloat16
            amp_config = {"device_type": self.device.type, "dtype": dt}
        self.amp_config = amp_config
        self.grad_scaler = grad_scaler
        self.result: Optional[RangeTestResult] = None
        self._lock = threading.Lock()
        # the stop rule of the test that holds this finder, from the moment it was taken (before
        # its snapshot) until it ended; None when free. Taken and released under _lock only.
        self._claim: Optional[StopRule] = None
        self._active: Optional[_Run] = None  # the running test, once it has begun
        self._pending: Optional[Snapshot] = None  # kept after a restore that failed
        self._subs: List[_Sub] = []
        self._run_ids = itertools.count(1)

    # ------------------------------------------------------------------ compatibility face
    @property
    def history(self) -> Dict[str, list]:
        """``{"lr": [...], "loss": [...]}`` of the last test (smoothed losses)."""
        if self.result is None:
            return {"lr": [], "loss": []}
        return self.result.history

    @property
    def best_loss(self) -> Optional[float]:
        """Lowest smoothed loss of the last test (torch-lr-finder's attribute)."""
        if self.result is None or not len(self.result):
            return None
        import numpy as np
        s = self.result.smoothed[np.isfinite(self.result.smoothed)]
        return float(s.min()) if s.size else None

    def reset(self) -> None:
        """Kept for torch-lr-finder code. The model and optimizer are already restored when a
        test ends, so there is usually nothing left to undo; the readings stay for :meth:`plot`.
        After a test whose restore failed it retries that restore (:meth:`restore`)."""
        if self._claim is not None:
            raise RuntimeError("reset() called while a range test is running; call stop()")
        if self._pending is not None:
            self.restore()

    # ------------------------------------------------------------------ taking the finder
    def _check_idle(self):
        if self._claim is not None:
            raise RuntimeError("a range test is already running on this LRFinder; wait for it "
                               "to end (or call stop()) before starting another")
        if self._pending is not None:
            raise RuntimeError("the model and optimizer were NOT restored after the last range "
                               "test (see finder.result.error); call finder.restore() to retry "
                               "once the cause is removed, or finder.restore(discard=True) to "
                               "keep them as they are, before starting another test")

    def _take(self, rule: StopRule) -> None:
        """Check that the finder is free and take it, as one step under the lock."""
        with self._lock:
            self._check_idle()
            self._claim = rule

    def _release(self) -> None:
        with self._lock:
            self._claim = None

    # ------------------------------------------------------------------ validation
    def _sweep_args(self, start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th):
        current = [g["lr"] for g in self.optimizer.param_groups]
        current = [float(v) if isinstance(v, _Tensor) else v for v in current]
        starts = start_lrs_for(start_lr, current)
        sweep = Sweep(starts, end_lr, num_iter, step_mode)
        _check_readings_fit(sweep.num_iter)
        sf = _real("smooth_f", smooth_f, "a real number in [0, 1)")
        if not (0.0 <= sf < 1.0):
            raise ValueError(f"smooth_f must be a real number in [0, 1), got {smooth_f}")
        th = _real("diverge_th", diverge_th, "a real number > 1")
        if not th > 1.0:
            raise ValueError(f"diverge_th must be a real number > 1, got {diverge_th}")
        return sweep, sf, th

    def _check_cache_dir(self) -> None:
        """With ``memory_cache=False`` the snapshot is a file: its directory must take one."""
        if self.memory_cache:
            return
        d = self.cache_dir
        try:
            path = os.fspath(d) if d is not None else tempfile.gettempdir()
        except TypeError:
            raise TypeError(f"cache_dir must be a directory path (str or os.PathLike) or None, "
                            f"got {type(d).__name__}") from None
        fix = "pass an existing, writable directory as cache_dir, or memory_cache=True"
        if not os.path.exists(path):
            raise ValueError(f"cache_dir {path!r} does not exist; {fix}")
        if not os.path.isdir(path):
            raise ValueError(f"cache_dir {path!r} is not a directory; {fix}")
        kw = {"effective_ids": True} if os.access in os.supports_effective_ids else {}
        why = None
        if not os.access(path, os.W_OK | os.X_OK, **kw):
            why = "permission denied"
        else:
            # permission bits are not the whole story (read-only mounts, /proc, root): try it
            try:
                fd, probe = tempfile.mkstemp(prefix=".lrwidget-probe-", dir=path)
                os.close(fd)
                os.remove(probe)
            except OSError as e:
                why = e.strerror or str(e)
        if why is not None:
            raise ValueError(f"cache_dir {path!r} is not writable ({why}); {fix}")

    def check_range_test_args(self, train_loader, val_loader=None, **range_test_kwargs) -> None:
        """Check arguments for :meth:`range_test` without running anything.

        Does every check ``range_test`` does before its first step (``range_test`` calls it), so
        a caller that starts the test later, e.g. in a background thread, can raise bad input
        at once, in the caller's thread. Loaders are not iterated: only those with a length of
        0 are caught here; an empty loader without ``len``, and batches of the wrong shape, are
        still caught by ``range_test`` before any step.

        Parameters
        ----------
        train_loader, val_loader : iterable
            As for :meth:`range_test`.
        **range_test_kwargs
            Any other :meth:`range_test` keyword (``start_lr``, ``end_lr``, ``num_iter``,
            ``step_mode``, ``smooth_f``, ``diverge_th``, ``accumulation_steps``,
            ``non_blocking_transfer``, ``step_fn``).

        Raises
        ------
        TypeError
            An unknown keyword (the message lists the accepted ones) or an argument of the
            wrong type.
        ValueError
            An argument out of range (the message names it and the accepted values), a sweep
            whose lrs would overflow, ``num_iter`` readings that do not fit in memory, a
            one-shot ``val_loader``, an unusable ``cache_dir`` (with ``memory_cache=False``), a
            GradScaler with an optimizer that needs a closure.
        RuntimeError
            A range test is already running on this finder, or the last one's restore failed
            (see :meth:`restore`).

        Example
        -------
        >>> import torch; from torch import nn
        >>> model = nn.Linear(3, 2); opt = torch.optim.SGD(model.parameters(), lr=1e-3)
        >>> finder = LRFinder(model, opt, nn.CrossEntropyLoss())
        >>> finder.check_range_test_args([(torch.randn(4, 3), torch.tensor([0, 1, 0, 1]))],
        ...                              num_iter=50)           # fine: returns None
        >>> finder.check_range_test_args([], num_iter=50)
        Traceback (most recent call last):
        ...
        ValueError: train_loader is empty: it must yield at least one batch
        >>> finder.check_range_test_args([], num_iters=50)
        Traceback (most recent call last):
        ...
        TypeError: range_test() got an unexpected keyword argument 'num_iters'; accepted keyword arguments: val_loader, start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th, accumulation_steps, non_blocking_transfer, step_fn
        """
        sig = inspect.signature(LRFinder.range_test)
        try:
            bound = sig.bind(self, train_loader, val_loader, **range_test_kwargs)
        except TypeError as e:
            allowed = [p for p in sig.parameters if p not in ("self", "train_loader")]
            raise TypeError(f"range_test() {e}; accepted keyword arguments: "
                            f"{', '.join(allowed)}") from None
        bound.apply_defaults()
        a = bound.arguments
        self._checked_args(a["train_loader"], a["val_loader"], a["start_lr"], a["end_lr"],
                           a["num_iter"], a["step_mode"], a["smooth_f"], a["diverge_th"],
                           a["accumulation_steps"], a["step_fn"])

    def _checked_args(self, train_loader, val_loader, start_lr, end_lr, num_iter, step_mode,
                      smooth_f, diverge_th, accumulation_steps, step_fn):
        """All of range_test's checks; returns ``(sweep, smooth_f, diverge_th)``."""
        self._check_idle()
        sweep, smooth_f, diverge_th = self._sweep_args(start_lr, end_lr, num_iter, step_mode,
                                                       smooth_f, diverge_th)
        if isinstance(accumulation_steps, bool) or not isinstance(accumulation_steps, int):
            raise TypeError(f"accumulation_steps must be an int >= 1, got {accumulation_steps!r}")
        if accumulation_steps < 1:
            raise ValueError(f"accumulation_steps must be an int >= 1, got {accumulation_steps}")
        if step_fn is not None and not callable(step_fn):
            raise TypeError(f"step_fn must be callable(model, batch) -> loss or None, got "
                            f"{type(step_fn).__name__}")
        if step_fn is None and self.criterion is None:
            raise ValueError("criterion is None: pass a criterion to LRFinder(...) or a "
                             "step_fn(model, batch) -> loss to range_test")
        for name, ld in (("train_loader", train_loader), ("val_loader", val_loader)):
            if ld is None:
                if name == "train_loader":
                    raise TypeError("train_loader must be an iterable of batches (e.g. a "
                                    "DataLoader), got None")
                continue
            if not hasattr(ld, "__iter__"):
                raise TypeError(f"{name} must be an iterable of batches (e.g. a DataLoader), "
                                f"got {type(ld).__name__}")
            try:
                # cheap: a DataLoader's len; never iterates (that would draw from its sampler)
                empty = hasattr(ld, "__len__") and len(ld) == 0
            except (TypeError, NotImplementedError):  # an IterableDataset's loader has __len__ but may not know it
                empty = False
            if empty:
                raise ValueError(f"{name} is empty: it must yield at least one batch")
        if isinstance(val_loader, collections.abc.Iterator):
            # read in full after every step: an iterator would be exhausted after the first
            raise ValueError(f"val_loader (a {type(val_loader).__name__}) can be iterated only "
                             "once, but it is read in full after every step; pass a DataLoader "
                             "or a list of batches")
        self._check_cache_dir()
        if self.grad_scaler is not None and self.grad_scaler.is_enabled() \
                and _needs_closure(self.optimizer):
            raise ValueError(f"{type(self.optimizer).__name__} steps with a closure "
                             "(optimizer.step(closure)), which a GradScaler cannot drive: pass "
                             "grad_scaler=None (amp_backend='torch' alone is fine)")
        return sweep, smooth_f, diverge_th

    # ------------------------------------------------------------------ run lifecycle
    def _history(self, num_iter: int, smooth_f: float) -> History:
        try:
            return History(num_iter, smooth_f)
        except MemoryError as e:
            raise ValueError(f"num_iter={num_iter}: its readings ({_gib(READING_BYTES * num_iter)}"
                             f", {READING_BYTES} bytes each) cannot be allocated; use a smaller "
                             "num_iter") from e

    def _capture(self) -> Snapshot:
        extra = (self.criterion,) if isinstance(self.criterion, torch.nn.Module) else ()
        return Snapshot.capture(self.model, self.optimizer, self.grad_scaler,
                                memory_cache=self.memory_cache, cache_dir=self.cache_dir,
                                extra_modules=extra)

    def _begin(self, snap, sweep: Sweep, history: History, rule: StopRule) -> _Run:
        moved_from = None
        if self.model_device != self.device:
            moved_from = self.model_device
            self.model.to(self.device)
        run = _Run(next(self._run_ids), snap, history, rule, sweep, moved_from)
        with self._lock:
            self._active = run
            for sub in self._subs:
                run.streams[id(sub)] = Stream(sub.callback, sub.interval, run.history,
                                              run.started, run.perf0).start()
        return run

    def _abort(self, snap: Optional[Snapshot]) -> None:
        """End a test that was taken but never began: put back what the loader touched."""
        try:
            if snap is not None:
                try:
                    snap.restore()  # only the loader was touched (its RNG draw); put that back
                except BaseException as e:
                    if not getattr(snap, "restored", False):
                        with self._lock:
                            self._pending = snap
                        if isinstance(e, Exception):
                            raise RuntimeError(_not_restored(e, None)) from e
                    raise
                snap.free()
        finally:
            self._release()

    def _end(self, run: _Run) -> None:
        snap = run.snapshot
        failed = late = None
        streams: list = []
        try:
            try:
                if run.moved_from is not None:
                    self.model.to(run.moved_from)
                snap.restore()
            except BaseException as e:
                if getattr(snap, "restored", False):
                    late = e  # restored, then a Ctrl-C held back during the restore
                else:
                    failed = e
            if failed is None:
                snap.free()
            h = run.history
            error = None
            if run.error is not None:
                reason = "error"
                error = _describe(run.error)
            else:
                reason = run.reason or ("completed" if h.n >= run.num_iter else "stopped")
            if failed is not None:
                reason = "error"
                error = _not_restored(failed, error)
            result = RangeTestResult(*h.view(), reason, run.step_mode, run.start_lr, run.end_lr,
                                     run.num_iter, time.perf_counter() - run.perf0, error)
            self.result = result
        finally:
            with self._lock:
                if failed is not None:
                    self._pending = snap  # kept for finder.restore()
                self._active = None
                self._claim = None
                streams = list(run.streams.values())
        ended = RunEnded(run.run_id, reason, result, error, result.elapsed)
        for s in streams:
            s.finish(ended)
        if failed is not None:
            if isinstance(failed, Exception):
                raise RuntimeError(error) from failed
            raise failed
        if late is not None:
            raise late

    def restore(self, discard: bool = False) -> bool:
        """Write back the state saved before a test whose own restore failed.

        A range test restores the model, optimizer (and criterion, GradScaler) when it ends. If
        that restore raises (a step registered a new buffer on the model, the snapshot file in
        ``cache_dir`` was deleted), the test ends as an error saying so, and the saved state is
        kept here. Remove the cause and call ``restore()``; until it succeeds (or is discarded)
        no new test starts. ``reset()`` does the same.

        Parameters
        ----------
        discard : bool
            Drop the kept state without writing it back: the model and optimizer stay as they
            are now.

        Returns
        -------
        bool
            True when the saved state was written back; False when there was nothing to
            restore or it was discarded.

        Raises
        ------
        RuntimeError
            The restore failed again (chained from the cause; the state stays kept for another
            try), or a range test is running.

        Example
        -------
        >>> import torch; from torch import nn
        >>> m = nn.Linear(2, 1); opt = torch.optim.SGD(m.parameters(), lr=1e-3)
        >>> finder = LRFinder(m, opt)
        >>> def step(model, x):
        ...     if not hasattr(model, "seen"):     # changes the model: it cannot be restored
        ...         model.register_buffer("seen", torch.zeros(1))
        ...     return model(x).pow(2).mean()
        >>> try:
        ...     finder.range_test([torch.ones(4, 2)], end_lr=0.1, num_iter=3, step_fn=step)
        ... except RuntimeError as e:
        ...     print(str(e)[:44])
        the model and optimizer were NOT restored af
        >>> del m._buffers["seen"]                     # remove the cause, then retry
        >>> finder.restore(), opt.param_groups[0]["lr"]
        (True, 0.001)
        >>> finder.restore()                           # nothing left to restore
        False
        """
        with self._lock:
            if self._claim is not None:
                raise RuntimeError("restore() called while a range test is running on this "
                                   "LRFinder; a running test restores by itself when it ends")
            snap = self._pending
            if snap is None:
                return False
            self._claim = StopRule(2, 2.0)  # nothing may start while the state is written back
        try:
            if discard:
                snap.free()
                self._pending = None
                return False
            try:
                snap.restore()
            except BaseException as e:
                if getattr(snap, "restored", False):  # restored, then a held-back Ctrl-C
                    snap.free()
                    self._pending = None
                    raise
                if not isinstance(e, Exception):
                    raise
                raise RuntimeError(_not_restored(e, None)) from e
            snap.free()
            self._pending = None
            return True
        finally:
            self._release()

    # ------------------------------------------------------------------ range_test
    def range_test(self, train_loader, val_loader=None, start_lr=None, end_lr=10, num_iter=100,
                   step_mode="exp", smooth_f=0.05, diverge_th=5, accumulation_steps=1,
                   non_blocking_transfer=True, step_fn=None) -> RangeTestResult:
        """Sweep the lr from ``start_lr`` to ``end_lr``, one optimizer step per lr.

        Parameters
        ----------
        train_loader : iterable
            Yields ``(inputs, labels, *extras)`` batches (tuples or lists; extras are ignored),
            or anything ``step_fn`` understands. Started again when it runs out before
            ``num_iter`` steps (a one-shot iterator, e.g. a generator, must then be long
            enough).
        val_loader : iterable, optional
            When given, the recorded loss of each step is the mean loss over all of it
            (evaluated in ``model.eval()`` without gradients) instead of the training loss.
            It is read after every step, so it must be iterable again and again (a DataLoader,
            a list), not a one-shot iterator.
        start_lr : float or list of float, optional
            Start lr of the first param group (others keep their ratio to it), or one per group.
            None: the optimizer's current lrs.
        end_lr : float
            Last lr of the first param group. Every group's lrs must stay finite floats.
        num_iter : int
            Steps (readings), at least 2. The readings take 24 bytes each; the lrs are computed
            as the test goes, not stored up front.
        step_mode : {"exp", "linear"}
        smooth_f : float
            Weight of the newest loss in the smoothed loss, in [0, 1).
        diverge_th : float
            Stop when the smoothed loss exceeds ``diverge_th`` x its best (> 1).
        accumulation_steps : int
            Batches per optimizer step (the loss of each is divided by it).
        non_blocking_transfer : bool
            ``non_blocking`` for moving batches to the device.
        step_fn : callable, optional
            ``step_fn(model, batch) -> scalar loss tensor`` replacing ``criterion(model(x), y)``
            (dict batches, models returning their loss, several losses summed). The finder
            still does backward and the optimizer step.

        Optimizers whose ``step`` needs a closure (``torch.optim.LBFGS``) are stepped with
        ``optimizer.step(closure)``; the closure zeroes the gradients and runs forward and
        backward on the step's batches (all ``accumulation_steps`` of them), and the recorded
        loss is its first evaluation, before the step. They cannot be used with a GradScaler.

        Returns
        -------
        RangeTestResult
            Also kept as :attr:`result`. The model, optimizer, GradScaler and a criterion that
            is a module are restored before this returns or raises.

        Raises
        ------
        ValueError, TypeError
            For bad arguments, before any step and with the model untouched.
        RuntimeError
            Another test is running on this finder (nothing is touched); or the restore at the
            end failed: the result's ``stop_reason`` is "error" and the saved state is kept for
            :meth:`restore`.

        Example
        -------
        >>> import torch; from torch import nn
        >>> model = nn.Linear(3, 1); opt = torch.optim.SGD(model.parameters(), lr=1e-3)
        >>> batches = [{"x": torch.randn(4, 3), "y": torch.randn(4, 1)}] * 3
        >>> def step(m, b): return nn.functional.mse_loss(m(b["x"]), b["y"])
        >>> r = LRFinder(model, opt).range_test(batches, end_lr=0.1, num_iter=10, step_fn=step)
        >>> len(r.lrs) <= 10
        True
        """
        return self._range_test(train_loader, val_loader, start_lr, end_lr, num_iter, step_mode,
                                smooth_f, diverge_th, accumulation_steps, non_blocking_transfer,
                                step_fn, staged=self.device.type != "cpu")

    def _range_test(self, train_loader, val_loader, start_lr, end_lr, num_iter, step_mode,
                    smooth_f, diverge_th, accumulation_steps, non_blocking_transfer, step_fn,
                    staged: bool) -> RangeTestResult:
        # staged: losses stay on the device and are fetched in chunks (the accelerator loop);
        # an argument so that tests can run that loop on CPU
        sweep, smooth_f, diverge_th = self._checked_args(
            train_loader, val_loader, start_lr, end_lr, num_iter, step_mode, smooth_f,
            diverge_th, accumulation_steps, step_fn)
        rule = StopRule(sweep.num_iter, diverge_th)
        self._take(rule)  # from here on this call owns the finder, or it has raised
        snap = run = gen = None
        try:
            history = self._history(sweep.num_iter, smooth_f)
            snap = self._capture()
            gen = _cycle(train_loader, "train_loader")
            first = next(gen)  # an empty loader raises here; the batch is kept, not lost
            if step_fn is None:
                _pair(first, "train_loader")
            batches = itertools.chain([first], gen)
            if val_loader is not None:
                for b in val_loader:
                    if step_fn is None:
                        _pair(b, "val_loader")
                    break
                else:
                    raise ValueError("val_loader is empty: it must yield at least one batch")
            run = self._begin(snap, sweep, history, rule)
            self.model.train()
            step = self._make_step(batches, accumulation_steps, non_blocking_transfer, step_fn)
            if val_loader is not None:
                train_step = step
                validate = self._make_validate(val_loader, non_blocking_transfer, step_fn)

                def step():
                    train_step()
                    return validate()
            if staged:
                run.reason = self._loop_staged(run, step)
            else:
                run.reason = self._loop_cpu(run, step)
        except BaseException as e:
            if run is not None:
                run.error = e
            raise
        finally:
            if gen is not None:
                gen.close()  # lets a DataLoader shut its workers down now, not at collection
            if run is None and snap is not None and self._active is not None \
                    and self._active.snapshot is snap:
                run = self._active  # interrupted inside _begin: end it like any run
            if run is None:
                self._abort(snap)
            else:
                self._end(run)
        return self.result

    def _lr_writer(self):
        """``(g0, write)``: g0 is the one plain-float param group (the fast case) or None;
        ``write(row)`` writes one lr per group otherwise."""
        groups = self.optimizer.param_groups
        if len(groups) == 1 and not isinstance(groups[0]["lr"], _Tensor):
            return groups[0], None

        def write(row):
            for g, lr in zip(groups, row):
                cur = g["lr"]
                if isinstance(cur, _Tensor):
                    cur.fill_(lr)  # tensor lr (capturable/fused optimizers): same object
                else:
                    g["lr"] = lr
        return None, write

    def _loop_cpu(self, run: _Run, step) -> Optional[str]:
        # the hot loop: per step only the lr write, the step, one .item() and three array writes;
        # lrs come in chunks of the sweep, so nothing proportional to num_iter is built
        g0, write = self._lr_writer()
        h = run.history
        append = h.append
        decide = run.rule.decide
        for lo, rows in run.sweep.chunks():
            ref = rows[:, 0].tolist()
            all_rows = rows.tolist() if write is not None else None
            for j, lr in enumerate(ref):
                if g0 is not None:
                    g0["lr"] = lr
                else:
                    write(all_rows[j])
                v = step().item()
                r = decide(lo + j + 1, v, append(lr, v), h.best)
                if r is not None:
                    return r
        return "completed"

    def _loop_staged(self, run: _Run, step) -> Optional[str]:
        g0, write = self._lr_writer()
        rec = _Recorder(run, max(1, int(self.fetch_every)), self.device)
        for lo, rows in run.sweep.chunks():
            ref = rows[:, 0].tolist()
            all_rows = rows.tolist() if write is not None else None
            for j, lr in enumerate(ref):
                if g0 is not None:
                    g0["lr"] = lr
                else:
                    write(all_rows[j])
                r = rec.add(lo + j, lr, step())
                if r is not None:
                    return r
        return rec.flush() or "completed"

    def _make_step(self, batches, acc, non_blocking, step_fn) -> Callable[[], _Tensor]:
        """The training step as a closure, specialised so the common case does nothing extra."""
        model, opt, crit, dev = self.model, self.optimizer, self.criterion, self.device
        scaler = self.grad_scaler
        amp = self.amp_backend is not None
        src = "step_fn" if step_fn is not None else "criterion"
        nxt = batches.__next__
        closure_opt = _needs_closure(opt)

        if not amp and scaler is None and acc == 1 and step_fn is None and not closure_opt:
            def step():
                opt.zero_grad()
                b = nxt()
                if type(b) not in _PAIR_TYPES or len(b) < 2:
                    inputs, labels = _pair(b, "train_loader")
                else:
                    inputs, labels = b[0], b[1]
                loss = crit(model(_move(inputs, dev, non_blocking)),
                            _move(labels, dev, non_blocking))
                if type(loss) is not _Tensor or loss.numel() != 1:
                    _check_loss(loss, src)
                loss.backward()
                opt.step()
                return loss.detach()
            return step

        autocast = (lambda: torch.autocast(**self.amp_config)) if amp else contextlib.nullcontext

        def loss_of(batch):
            with autocast():
                if step_fn is None:
                    inputs, labels = _pair(batch, "train_loader")
                    loss = crit(model(_move(inputs, dev, non_blocking)),
                                _move(labels, dev, non_blocking))
                else:
                    loss = step_fn(model, _move(batch, dev, non_blocking))
            if not isinstance(loss, _Tensor) or loss.numel() != 1:
                _check_loss(loss, src)
            loss = loss.reshape(())
            return loss / acc if acc > 1 else loss

        if closure_opt:
            def step():
                # every evaluation of the closure sees the same batches, as the optimizer expects
                bs = [nxt() for _ in range(acc)]
                first = []

                def closure():
                    opt.zero_grad()
                    total = None
                    for batch in bs:
                        loss = loss_of(batch)
                        loss.backward()
                        d = loss.detach().float()
                        total = d if total is None else total + d
                    if not first:
                        first.append(total)  # the loss before the step is the one recorded
                    return total
                opt.step(closure)
                return first[0]
            return step

        def step():
            opt.zero_grad()
            total = None
            for _ in range(acc):
                loss = loss_of(nxt())
                if scaler is not None:
                    scaler.scale(loss).backward()
                else:
                    loss.backward()
                d = loss.detach().float()
                total = d if total is None else total + d
            if scaler is not None:
                scaler.step(opt)
                scaler.update()
            else:
                opt.step()
            return total
        return step

    def _make_validate(self, val_loader, non_blocking, step_fn) -> Callable[[], _Tensor]:
        model, crit, dev = self.model, self.criterion, self.device
        amp = self.amp_backend is not None
        autocast = (lambda: torch.autocast(**self.amp_config)) if amp else contextlib.nullcontext
        src = "step_fn" if step_fn is not None else "criterion"

        def validate():
            model.eval()
            total = torch.zeros((), device=dev)
            count = 0
            try:
                with torch.no_grad():
                    for batch in val_loader:
                        with autocast():
                            if step_fn is None:
                                inputs, labels = _pair(batch, "val_loader")
                                labels = _move(labels, dev, non_blocking)
                                loss = crit(model(_move(inputs, dev, non_blocking)), labels)
                                w = len(labels) if hasattr(labels, "__len__") else 1
                            else:
                                loss = step_fn(model, _move(batch, dev, non_blocking))
                                w = 1
                        if not isinstance(loss, _Tensor) or loss.numel() != 1:
                            _check_loss(loss, src)
                        total += loss.detach().float().reshape(()) * w
                        count += w
            finally:
                model.train()
            return total / max(count, 1)
        return validate

    # ------------------------------------------------------------------ the user's own loop
    def track(self, start_lr=None, end_lr=10, num_iter=100, step_mode="exp", smooth_f=0.05,
              diverge_th=5) -> "Tracker":
        """A range test driven by your own training loop.

        Iterating the returned :class:`Tracker` writes the next lr into every param group and
        yields it; call ``run.record(loss)`` after each step. Iteration ends after ``num_iter``
        readings, on divergence or on :meth:`stop`. The model, optimizer and GradScaler are
        restored when the ``with`` block exits, however it exits.

        Example
        -------
        >>> import torch; from torch import nn
        >>> model = nn.Linear(3, 1); opt = torch.optim.SGD(model.parameters(), lr=1e-3)
        >>> x, y = torch.randn(16, 3), torch.randn(16, 1)
        >>> finder = LRFinder(model, opt)
        >>> with finder.track(end_lr=0.1, num_iter=5) as run:
        ...     for lr in run:
        ...         opt.zero_grad(); loss = nn.functional.mse_loss(model(x), y)
        ...         loss.backward(); opt.step(); run.record(loss)
        >>> len(run.result.lrs), opt.param_groups[0]["lr"]
        (5, 0.001)
        """
        return self._track(start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th,
                           staged=self.device.type != "cpu")

    def _track(self, start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th,
               staged: bool) -> "Tracker":
        self._check_idle()
        sweep, smooth_f, diverge_th = self._sweep_args(start_lr, end_lr, num_iter, step_mode,
                                                       smooth_f, diverge_th)
        self._check_cache_dir()
        return Tracker(self, sweep, smooth_f, diverge_th, staged)

    # ------------------------------------------------------------------ live hooks
    def stop(self) -> None:
        """End the running test at the next step boundary (stop_reason "stopped").

        Safe from any thread; does nothing when no test is running.
        """
        rule = self._claim  # one read: set from the moment a test takes the finder
        if rule is not None:
            rule.requested = True

    @property
    def running(self) -> bool:
        """Whether a test is running now (from the moment it took the finder until it ended)."""
        return self._claim is not None

    def subscribe(self, callback: Callable, interval: float = 0.05) -> Callable[[], None]:
        """Receive each run's events (:mod:`lrwidget.stream`) on a delivery thread.

        Parameters
        ----------
        callback : callable
            ``callback(event)`` with a ``RunStarted``, ``Readings`` (batched, about every
            ``interval`` seconds) or ``RunEnded``. All of a run's events are delivered before
            ``range_test`` returns. :meth:`apply` delivers ``LrApplied`` from its own thread. Subscribing during a run starts with that run's
            ``RunStarted`` and all its readings so far.
        interval : float
            Seconds between batches (> 0).

        Returns
        -------
        callable
            ``unsubscribe()``.

        Example
        -------
        >>> import torch; from torch import nn
        >>> m = nn.Linear(2, 1); finder = LRFinder(m, torch.optim.SGD(m.parameters(), lr=1e-3))
        >>> events = []; unsubscribe = finder.subscribe(events.append)
        >>> _ = finder.range_test([(torch.ones(2, 2), torch.ones(2, 1))], end_lr=0.01,
        ...                       num_iter=5, step_fn=lambda m, b: (m(b[0]) - b[1]).pow(2).mean())
        >>> type(events[0]).__name__, type(events[-1]).__name__
        ('RunStarted', 'RunEnded')
        >>> unsubscribe()
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable(event), got {type(callback).__name__}")
        iv = _real("interval", interval, "a positive number of seconds")
        if not (iv > 0 and _isfinite(iv)):
            raise ValueError(f"interval must be a positive number of seconds, got {interval}")
        sub = _Sub(callback, iv)
        with self._lock:
            self._subs.append(sub)
            run = self._active
            if run is not None:
                run.streams[id(sub)] = Stream(callback, iv, run.history, run.started,
                                                run.perf0).start()

        def unsubscribe():
            with self._lock:
                if sub in self._subs:
                    self._subs.remove(sub)
                active = self._active
                s = active.streams.pop(id(sub), None) if active is not None else None
            if s is not None:
                s.cancel()
        return unsubscribe

    # ------------------------------------------------------------------ using the result
    def _lr_arg(self, lr, name="lr"):
        if lr is None:
            lr = self.result.suggested_lr if self.result is not None else None
            if lr is None:
                raise ValueError(f"{name} is None and there is no suggested lr; pass an lr")
        v = _real(name, lr, "a positive finite real number")
        if not (v > 0 and _isfinite(v)):
            raise ValueError(f"{name} must be a positive finite real number, got {lr}")
        return v

    def _ratio_lrs(self, lr: float) -> List[float]:
        cur = [float(g["lr"]) for g in self.optimizer.param_groups]
        ref = cur[0]
        if ref > 0 and _isfinite(ref):
            k = lr / ref
            return [lr] + [c * k for c in cur[1:]]  # the first group gets exactly lr
        return [lr] * len(cur)

    def apply(self, lr=None) -> List[float]:
        """Write ``lr`` into the first param group and scale the others alike.

        Parameters
        ----------
        lr : float, optional
            New lr of the first param group; None: the last result's suggested lr.

        Returns
        -------
        list of float
            Every param group's new lr.

        Example
        -------
        >>> import torch; from torch import nn
        >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
        >>> opt = torch.optim.SGD([{"params": a.parameters(), "lr": 1e-2},
        ...                        {"params": b.parameters(), "lr": 1e-3}])
        >>> LRFinder(nn.Sequential(a, b), opt).apply(0.1)
        [0.1, 0.01]
        """
        if self._claim is not None:
            raise RuntimeError("apply() during a running test would be undone by the restore; "
                               "apply after it ended")
        if self._pending is not None:
            raise RuntimeError("the last range test's restore failed and finder.restore() "
                               "would undo this apply(); call finder.restore() first")
        new = self._ratio_lrs(self._lr_arg(lr))
        for g, v in zip(self.optimizer.param_groups, new):
            if isinstance(g["lr"], _Tensor):
                g["lr"].fill_(v)
            else:
                g["lr"] = v
        held = [float(g["lr"]) for g in self.optimizer.param_groups]
        with self._lock:
            subs = list(self._subs)
        for sub in subs:  # views show what the optimizer holds, however it got there
            sub.callback(LrApplied(tuple(held)))
        return held

    def one_cycle(self, lr=None, total_steps=None, **kwargs):
        """A ``torch.optim.lr_scheduler.OneCycleLR`` peaking at ``lr`` (group ratios kept).

        Parameters
        ----------
        lr : float, optional
            Max lr of the first param group; None: the last result's suggested lr.
        total_steps : int
            Passed to OneCycleLR, as are ``kwargs`` (``pct_start``, ``div_factor``, ...).

        Example
        -------
        >>> import torch; from torch import nn
        >>> m = nn.Linear(2, 1); opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        >>> sched = LRFinder(m, opt).one_cycle(0.5, total_steps=100)
        >>> [g["max_lr"] for g in opt.param_groups]
        [0.5]
        """
        if self._claim is not None:
            raise RuntimeError("one_cycle() during a running test; call it after the test ended")
        if self._pending is not None:
            raise RuntimeError("the last range test's restore failed; call finder.restore() "
                               "before one_cycle()")
        max_lrs = self._ratio_lrs(self._lr_arg(lr))
        return torch.optim.lr_scheduler.OneCycleLR(self.optimizer, max_lr=max_lrs,
                                                   total_steps=total_steps, **kwargs)

    def plot(self, skip_start=10, skip_end=5, log_lr=True, show_lr=None, ax=None,
             suggest_lr=True):
        """Plot smoothed loss against lr with matplotlib (torch-lr-finder's signature).

        Returns
        -------
        matplotlib.axes.Axes, or (Axes, float or None) when ``suggest_lr``
            The suggested lr is the default rule's (:mod:`lrwidget.suggest`).
        """
        if self.result is None:
            raise RuntimeError("no range test has run yet: call range_test() first")
        for name, v in (("skip_start", skip_start), ("skip_end", skip_end)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be an int >= 0, got {v!r}")
        if show_lr is not None:
            show_lr = _real("show_lr", show_lr, "a number or None")
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("plot() needs matplotlib: pip install matplotlib") from e
        r = self.result
        n = len(r)
        sl = slice(skip_start, n - skip_end if skip_end else n)
        lrs, losses = r.lrs[sl], r.smoothed[sl]
        fig = None
        if ax is None:
            fig, ax = plt.subplots()
        ax.plot(lrs, losses)
        best = None
        if suggest_lr:
            s = r.suggestions[next(iter(r.suggestions))]
            best = s.lr
            if best is not None:
                y = r.smoothed[s.index] if s.index is not None else float("nan")
                ax.scatter([best], [y], s=75, marker="o", color="red", zorder=3,
                           label=f"{s.name}: {best:.2E}")
                ax.legend()
                print(f"Suggested LR ({s.name}): {best:.2E}")
            else:
                print(f"No suggested LR ({s.name}): {s.reason}")
        if log_lr:
            ax.set_xscale("log")
        ax.set_xlabel("Learning rate")
        ax.set_ylabel("Loss")
        if show_lr is not None:
            ax.axvline(x=show_lr, color="red")
        if fig is not None and plt.get_backend().lower() not in ("agg", "pdf", "svg", "ps",
                                                                  "cairo", "template"):
            plt.show()
        if suggest_lr:
            return ax, best
        return ax


class Tracker:
    """A range test driven by the caller's loop; made by :meth:`LRFinder.track`.

    Use as a context manager; iterate it for lrs and call :meth:`record` once per step.

    Attributes
    ----------
    result : RangeTestResult or None
        Set when the ``with`` block has exited.
    """

    def __init__(self, finder: LRFinder, sweep: Sweep, smooth_f: float, diverge_th: float,
                 staged: bool = False):
        self.finder = finder
        self._sweep = sweep
        self._smooth_f = smooth_f
        self._diverge_th = diverge_th
        self._staged = staged  # losses staged on the device (the accelerator path)
        self._run: Optional[_Run] = None
        self._rec: Optional[_Recorder] = None
        self._write = None
        self._g0 = None
        self._lo = 0          # first step of the chunk of lrs at hand
        self._ref: List[float] = []
        self._rows: Optional[list] = None
        self._lr: Optional[float] = None
        self._i = 0           # lrs handed out
        self._awaiting = False
        self._done = False
        self.result: Optional[RangeTestResult] = None

    def __enter__(self) -> "Tracker":
        f = self.finder
        if self._done or self._run is not None:
            raise RuntimeError("a Tracker runs once; call finder.track(...) again")
        rule = StopRule(self._sweep.num_iter, self._diverge_th)
        f._take(rule)  # atomic: a second test on this finder is refused here
        snap = None
        try:
            history = f._history(self._sweep.num_iter, self._smooth_f)
            snap = f._capture()
            self._run = f._begin(snap, self._sweep, history, rule)
        except BaseException:
            if f._active is not None and f._active.snapshot is snap and snap is not None:
                f._end(f._active)  # interrupted inside _begin: end it like any run
            else:
                f._abort(snap)
            raise
        fetch = max(1, int(f.fetch_every)) if self._staged else 1
        self._rec = _Recorder(self._run, fetch, f.device)
        self._g0, self._write = f._lr_writer()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        run = self._run
        if run is None:
            return False
        try:
            if exc is not None:
                run.error = exc
            else:
                r = self._rec.flush()
                if run.reason is None:
                    run.reason = r
        except BaseException as e:  # a failing fetch is this run's error
            run.error = e
            raise
        finally:
            self._done = True
            self._run = None
            try:
                self.finder._end(run)
            finally:
                self.result = self.finder.result
        return False

    def __iter__(self) -> "Tracker":
        return self

    def __next__(self) -> float:
        run = self._run
        if run is None:
            raise RuntimeError("use the tracker inside `with finder.track(...) as run:`")
        if self._awaiting:
            raise RuntimeError("call run.record(loss) once per step before taking the next lr")
        if run.reason is None:
            run.reason = run.rule.pending()
        if run.reason is not None or self._i >= run.num_iter:
            raise StopIteration
        i = self._i
        j = i - self._lo
        if i == 0 or j >= len(self._ref):  # the next chunk of lrs
            self._lo, j = i, 0
            rows = run.sweep.rows(i, min(run.num_iter, i + CHUNK))
            self._ref = rows[:, 0].tolist()
            self._rows = rows.tolist() if self._write is not None else None
        lr = self._ref[j]
        if self._g0 is not None:
            self._g0["lr"] = lr
        else:
            self._write(self._rows[j])
        self._lr = lr
        self._i = i + 1
        self._awaiting = True
        return lr

    def record(self, loss) -> None:
        """Record the loss of the step run with the lr just yielded (a tensor or a number)."""
        if self._run is None:
            raise RuntimeError("record() outside `with finder.track(...) as run:`")
        if not self._awaiting:
            raise RuntimeError("record() must follow taking an lr from the tracker, once per step")
        if isinstance(loss, _Tensor):
            if loss.numel() != 1:
                raise ValueError("record() needs a scalar loss, got a tensor of shape "
                                 f"{tuple(loss.shape)}")
            loss = loss.detach().reshape(())
        elif isinstance(loss, bool) or not isinstance(loss, Real):
            raise TypeError(f"record() needs a loss tensor or a number, got {type(loss).__name__}")
        self._awaiting = False
        r = self._rec.add(self._i - 1, self._lr, loss)
        if r is not None and self._run.reason is None:
            self._run.reason = r

    @property
    def lr(self) -> Optional[float]:
        """The lr of the current step (None before the first)."""
        return self._lr

    @property
    def history(self):
        """The live readings (:class:`lrwidget.history.History`)."""
        return self._run.history if self._run is not None else None
