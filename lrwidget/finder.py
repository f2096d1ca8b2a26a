"""LRFinder: the learning-rate range test, with torch-lr-finder's public face.

Switching from torch-lr-finder is one import::

    from lrwidget import LRFinder          # was: from torch_lr_finder import LRFinder

What is added: the model, optimizer and GradScaler come back bit for bit however the test ends
(see :mod:`lrwidget.snapshot`); every reading is kept (:attr:`LRFinder.result`); custom steps
(``step_fn``) and the user's own loop (:meth:`LRFinder.track`); :meth:`LRFinder.stop` and
:meth:`LRFinder.subscribe` for a live view; :meth:`LRFinder.apply` and
:meth:`LRFinder.one_cycle` to use the chosen lr.

Devices. On CPU each loss is read with ``.item()`` right after its step. On an accelerator the
losses stay on the device in a preallocated tensor and are fetched every ``fetch_every`` steps
(16), so the host never waits for the device inside a step. Divergence (and a NaN loss) is then
noticed up to ``fetch_every - 1`` steps late; the readings after the diverging one are dropped
and the model is restored anyway. ``stop()`` is still honoured at the next step.
"""
from __future__ import annotations

import contextlib
import inspect
import itertools
import math
import threading
import time
from numbers import Real
from typing import Callable, Dict, List, Optional

import torch

from .history import History, RangeTestResult
from .schedule import check_sweep, schedule, start_lrs_for
from .snapshot import Snapshot
from .stream import RunEnded, RunStarted, Stream

__all__ = ["LRFinder", "StopRule", "Tracker"]

_isfinite = math.isfinite
_Tensor = torch.Tensor
AMP_BACKENDS = ("torch",)


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

    def __init__(self, run_id, snapshot, history, rule, start_lr, end_lr, num_iter, step_mode,
                 moved_from):
        self.run_id = run_id
        self.snapshot = snapshot
        self.history = history
        self.rule = rule
        self.start_lr = start_lr
        self.end_lr = end_lr
        self.num_iter = num_iter
        self.step_mode = step_mode
        self.moved_from = moved_from
        self.reason: Optional[str] = None
        self.error: Optional[BaseException] = None
        self.t0 = time.time()
        self.perf0 = time.perf_counter()
        self.streams: Dict[int, Stream] = {}
        self.started = RunStarted(run_id, num_iter, start_lr, end_lr, step_mode, self.t0)


class _Sub:
    __slots__ = ("callback", "interval")

    def __init__(self, callback, interval):
        self.callback = callback
        self.interval = interval


class _Recorder:
    """Turns losses into readings; on accelerators stages them on the device first."""

    def __init__(self, run: _Run, ref: List[float], fetch_every: int, device):
        self.h = run.history
        self.rule = run.rule
        self.ref = ref
        self.k = fetch_every
        self.p = 0
        self.base = 0
        self.buf = torch.empty(fetch_every, device=device) if fetch_every > 1 else None

    def add(self, i: int, loss) -> Optional[str]:
        if self.buf is None or not isinstance(loss, _Tensor):
            if self.p:  # a float after staged tensors: keep the order
                r = self.flush()
                if r:
                    return r
            v = loss.item() if isinstance(loss, _Tensor) else float(loss)
            s = self.h.append(self.ref[i], v)
            return self.rule.decide(i + 1, v, s, self.h.best)
        if self.p == 0:
            self.base = i
        self.buf[self.p] = loss.detach()
        self.p += 1
        if self.p == self.k or i + 1 >= self.rule.num_iter:
            return self.flush()
        return self.rule.pending()

    def flush(self) -> Optional[str]:
        if not self.p:
            return self.rule.pending()
        vals = self.buf[:self.p].tolist()  # the one host sync per chunk
        self.p = 0
        h, decide, ref, base = self.h, self.rule.decide, self.ref, self.base
        for j, v in enumerate(vals):
            s = h.append(ref[base + j], v)
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
        except Exception:
            return obj
    return obj


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
        ``step_fn`` or when :meth:`track` is used.
    device : str or torch.device, optional
        Where batches (and the model, during the test) go; default: the model's device.
    memory_cache : bool
        Keep the snapshot of model and optimizer in CPU memory (True) or in a file under
        ``cache_dir`` (False).
    cache_dir : str, optional
    amp_backend : {None, "torch"}
        "torch" runs forward and loss under ``torch.autocast(**amp_config)``.
    amp_config : dict, optional
        ``torch.autocast`` arguments; default ``{"device_type": <device>, "dtype": float16 on
        CUDA, bfloat16 elsewhere}``.
    grad_scaler : torch.amp.GradScaler, optional
        Used for backward and step when given (restored afterwards like the optimizer).

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
    # tests flip this to run the accelerator (staged) path on CPU
    _stage_on_cpu = False

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
        self._active: Optional[_Run] = None
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
        test ends, so there is nothing left to undo; the readings stay for :meth:`plot`."""
        if self._active is not None:
            raise RuntimeError("reset() called while a range test is running; call stop()")

    # ------------------------------------------------------------------ validation
    def _check_idle(self):
        if self._active is not None:
            raise RuntimeError("a range test is already running on this LRFinder")

    def _sweep_args(self, start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th):
        current = [g["lr"] for g in self.optimizer.param_groups]
        current = [float(v) if isinstance(v, _Tensor) else v for v in current]
        starts = start_lrs_for(start_lr, current)
        check_sweep(starts[0], end_lr, num_iter, step_mode)
        sf = _real("smooth_f", smooth_f, "a real number in [0, 1)")
        if not (0.0 <= sf < 1.0):
            raise ValueError(f"smooth_f must be a real number in [0, 1), got {smooth_f}")
        th = _real("diverge_th", diverge_th, "a real number > 1")
        if not th > 1.0:
            raise ValueError(f"diverge_th must be a real number > 1, got {diverge_th}")
        return starts, float(end_lr), int(num_iter), sf, th

    def check_range_test_args(self, train_loader, val_loader=None, **range_test_kwargs) -> None:
        """Check arguments for :meth:`range_test` without running anything.

        Does every check ``range_test`` does before its first step (``range_test`` calls it), so
        a caller that starts the test later, e.g. in a background thread, can raise bad input
        at once, in the caller's thread. Loaders are not iterated: only those with a length of
        0 are caught here; an empty loader without ``len`` is still caught by ``range_test``
        before any step.

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
            An argument out of range (the message names it and the accepted values).
        RuntimeError
            A range test is already running on this finder.

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
        """All of range_test's checks; returns the normalized sweep (see :meth:`_sweep_args`)."""
        self._check_idle()
        sweep = self._sweep_args(start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th)
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
        return sweep

    # ------------------------------------------------------------------ run lifecycle
    def _capture(self) -> Snapshot:
        return Snapshot.capture(self.model, self.optimizer, self.grad_scaler,
                                memory_cache=self.memory_cache, cache_dir=self.cache_dir)

    def _begin(self, snap, starts, end_lr, num_iter, step_mode, smooth_f, diverge_th) -> _Run:
        moved_from = None
        if self.model_device != self.device:
            moved_from = self.model_device
            self.model.to(self.device)
        run = _Run(next(self._run_ids), snap, History(num_iter, smooth_f),
                   StopRule(num_iter, diverge_th), starts[0], end_lr, num_iter, step_mode,
                   moved_from)
        with self._lock:
            self._active = run
            for sub in self._subs:
                run.streams[id(sub)] = Stream(sub.callback, sub.interval, run.history,
                                              run.started, run.perf0).start()
        return run

    def _end(self, run: _Run) -> None:
        try:
            if run.moved_from is not None:
                self.model.to(run.moved_from)
            run.snapshot.restore()
        finally:
            run.snapshot.free()
            h = run.history
            if run.error is not None:
                reason = "error"
                e = run.error
                error = type(e).__name__ + (f": {e}" if str(e) else "")
            else:
                reason = run.reason or ("completed" if h.n >= run.num_iter else "stopped")
                error = None
            result = RangeTestResult(*h.view(), reason, run.step_mode, run.start_lr, run.end_lr,
                                     run.num_iter, time.perf_counter() - run.perf0, error)
            self.result = result
            with self._lock:
                self._active = None
                streams = list(run.streams.values())
            ended = RunEnded(run.run_id, reason, result, error, result.elapsed)
            for s in streams:
                s.finish(ended)

    # ------------------------------------------------------------------ range_test
    def range_test(self, train_loader, val_loader=None, start_lr=None, end_lr=10, num_iter=100,
                   step_mode="exp", smooth_f=0.05, diverge_th=5, accumulation_steps=1,
                   non_blocking_transfer=True, step_fn=None) -> RangeTestResult:
        """Sweep the lr from ``start_lr`` to ``end_lr``, one optimizer step per lr.

        Parameters
        ----------
        train_loader : iterable
            Yields ``(inputs, labels)`` batches, or anything ``step_fn`` understands. Started
            again when it runs out before ``num_iter`` steps.
        val_loader : iterable, optional
            When given, the recorded loss of each step is the mean loss over all of it
            (evaluated in ``model.eval()`` without gradients) instead of the training loss.
        start_lr : float or list of float, optional
            Start lr of the first param group (others keep their ratio to it), or one per group.
            None: the optimizer's current lrs.
        end_lr : float
            Last lr of the first param group.
        num_iter : int
            Steps (readings), at least 2.
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

        Returns
        -------
        RangeTestResult
            Also kept as :attr:`result`. The model, optimizer and GradScaler are restored
            before this returns or raises.

        Raises
        ------
        ValueError, TypeError
            For bad arguments, before any step and with the model untouched.

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
        starts, end_lr, num_iter, smooth_f, diverge_th = self._checked_args(
            train_loader, val_loader, start_lr, end_lr, num_iter, step_mode, smooth_f,
            diverge_th, accumulation_steps, step_fn)
        sched = schedule(starts, end_lr, num_iter, step_mode)

        snap = self._capture()
        run = None
        gen = _cycle(train_loader, "train_loader")
        try:
            batches = itertools.chain([next(gen)], gen)  # empty loader: raises here
            if val_loader is not None:
                for _ in val_loader:
                    break
                else:
                    raise ValueError("val_loader is empty: it must yield at least one batch")
            run = self._begin(snap, starts, end_lr, num_iter, step_mode, smooth_f, diverge_th)
            self.model.train()
            step = self._make_step(batches, accumulation_steps, non_blocking_transfer, step_fn)
            if val_loader is not None:
                train_step = step
                validate = self._make_validate(val_loader, non_blocking_transfer, step_fn)

                def step():
                    train_step()
                    return validate()
            if self.device.type == "cpu" and not self._stage_on_cpu:
                run.reason = self._loop_cpu(run, sched, step)
            else:
                run.reason = self._loop_staged(run, sched, step)
        except BaseException as e:
            if run is not None:
                run.error = e
            raise
        finally:
            gen.close()  # lets a DataLoader shut its workers down now, not at garbage collection
            if run is None and self._active is not None and self._active.snapshot is snap:
                run = self._active  # interrupted inside _begin: end it like any run
            if run is None:
                snap.restore()  # only the loader was touched (its RNG draw); put that back too
                snap.free()
            else:
                self._end(run)
        return self.result

    def _set_lrs_fn(self, sched):
        """A function ``set(i)`` writing row i of the schedule into the param groups."""
        groups = self.optimizer.param_groups
        rows = sched.tolist()
        if len(groups) == 1 and not isinstance(groups[0]["lr"], _Tensor):
            g0 = groups[0]
            ref = sched[:, 0].tolist()

            def set_lrs(i):
                g0["lr"] = ref[i]
            return set_lrs

        def set_lrs(i):
            for g, lr in zip(groups, rows[i]):
                cur = g["lr"]
                if isinstance(cur, _Tensor):
                    cur.fill_(lr)  # tensor lr (capturable/fused optimizers): same object
                else:
                    g["lr"] = lr
        return set_lrs

    def _loop_cpu(self, run: _Run, sched, step) -> Optional[str]:
        # the hot loop: per step only the lr write, the step, one .item() and three array writes
        set_lrs = self._set_lrs_fn(sched)
        ref = sched[:, 0].tolist()
        h = run.history
        append = h.append
        decide = run.rule.decide
        for i in range(run.num_iter):
            set_lrs(i)
            v = step().item()
            r = decide(i + 1, v, append(ref[i], v), h.best)
            if r is not None:
                return r
        return "completed"

    def _loop_staged(self, run: _Run, sched, step) -> Optional[str]:
        set_lrs = self._set_lrs_fn(sched)
        rec = _Recorder(run, sched[:, 0].tolist(), max(1, int(self.fetch_every)), self.device)
        for i in range(run.num_iter):
            set_lrs(i)
            r = rec.add(i, step())
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

        if not amp and scaler is None and acc == 1 and step_fn is None:
            def step():
                opt.zero_grad()
                inputs, labels = nxt()
                loss = crit(model(_move(inputs, dev, non_blocking)),
                            _move(labels, dev, non_blocking))
                if type(loss) is not _Tensor or loss.numel() != 1:
                    _check_loss(loss, src)
                loss.backward()
                opt.step()
                return loss.detach()
            return step

        autocast = (lambda: torch.autocast(**self.amp_config)) if amp else contextlib.nullcontext

        def step():
            opt.zero_grad()
            total = None
            for _ in range(acc):
                batch = nxt()
                with autocast():
                    if step_fn is None:
                        inputs, labels = batch
                        loss = crit(model(_move(inputs, dev, non_blocking)),
                                    _move(labels, dev, non_blocking))
                    else:
                        loss = step_fn(model, _move(batch, dev, non_blocking))
                if not isinstance(loss, _Tensor) or loss.numel() != 1:
                    _check_loss(loss, src)
                loss = loss.reshape(())
                if acc > 1:
                    loss = loss / acc
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
                                inputs, labels = batch
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
        self._check_idle()
        args = self._sweep_args(start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th)
        return Tracker(self, *args, step_mode=step_mode)

    # ------------------------------------------------------------------ live hooks
    def stop(self) -> None:
        """End the running test at the next step boundary (stop_reason "stopped").

        Safe from any thread; does nothing when no test is running.
        """
        run = self._active
        if run is not None:
            run.rule.requested = True

    @property
    def running(self) -> bool:
        """Whether a test is running now."""
        return self._active is not None

    def subscribe(self, callback: Callable, interval: float = 0.05) -> Callable[[], None]:
        """Receive each run's events (:mod:`lrwidget.stream`) on a delivery thread.

        Parameters
        ----------
        callback : callable
            ``callback(event)`` with a ``RunStarted``, ``Readings`` (batched, about every
            ``interval`` seconds) or ``RunEnded``. All of a run's events are delivered before
            ``range_test`` returns. Subscribing during a run starts with that run's
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
        if self._active is not None:
            raise RuntimeError("apply() during a running test would be undone by the restore; "
                               "apply after it ended")
        new = self._ratio_lrs(self._lr_arg(lr))
        for g, v in zip(self.optimizer.param_groups, new):
            if isinstance(g["lr"], _Tensor):
                g["lr"].fill_(v)
            else:
                g["lr"] = v
        return [float(g["lr"]) for g in self.optimizer.param_groups]

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
        if self._active is not None:
            raise RuntimeError("one_cycle() during a running test; call it after the test ended")
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

    def __init__(self, finder: LRFinder, starts, end_lr, num_iter, smooth_f, diverge_th,
                 step_mode="exp"):
        self.finder = finder
        self._args = (starts, end_lr, num_iter, step_mode, smooth_f, diverge_th)
        self._sched = schedule(starts, end_lr, num_iter, step_mode)
        self._run: Optional[_Run] = None
        self._rec: Optional[_Recorder] = None
        self._set = None
        self._i = 0           # lrs handed out
        self._awaiting = False
        self._done = False
        self.result: Optional[RangeTestResult] = None

    def __enter__(self) -> "Tracker":
        f = self.finder
        f._check_idle()
        if self._done or self._run is not None:
            raise RuntimeError("a Tracker runs once; call finder.track(...) again")
        starts, end_lr, num_iter, step_mode, smooth_f, diverge_th = self._args
        snap = f._capture()
        try:
            self._run = f._begin(snap, starts, end_lr, num_iter, step_mode, smooth_f, diverge_th)
        except BaseException:
            snap.restore()
            snap.free()
            raise
        staged = f.device.type != "cpu" or f._stage_on_cpu
        fetch = max(1, int(f.fetch_every)) if staged else 1
        self._rec = _Recorder(self._run, self._sched[:, 0].tolist(), fetch, f.device)
        self._set = f._set_lrs_fn(self._sched)
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
            self.finder._end(run)
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
        self._set(i)
        self._i = i + 1
        self._awaiting = True
        return self._sched[i, 0].item()

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
        r = self._rec.add(self._i - 1, loss)
        if r is not None and self._run.reason is None:
            self._run.reason = r

    @property
    def lr(self) -> Optional[float]:
        """The lr of the current step (None before the first)."""
        return self._sched[self._i - 1, 0].item() if self._i else None

    @property
    def history(self):
        """The live readings (:class:`lrwidget.history.History`)."""
        return self._run.history if self._run is not None else None
