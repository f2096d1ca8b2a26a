"""A range test driven by the caller's own training loop: :class:`Tracker`, made by
:meth:`lrwidget.finder.LRFinder.track`.

The tracker hands out the sweep's lrs (writing each into the optimizer) and takes one loss per
step; it starts and ends its run through the finder, like ``range_test``, so the model and
optimizer are restored however the ``with`` block exits.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import TYPE_CHECKING, Callable, Literal, cast

from torch import Tensor

from .checks import new_readings
from .collective import CollectiveRecorder, CollectiveRule
from .history import History, RangeTestResult
from .loop import Recorder, StopRule, lr_writer
from .schedule import CHUNK, Sweep

if TYPE_CHECKING:
    from .finder import LRFinder, _Run


class Tracker:
    """A range test driven by the caller's loop; made by :meth:`LRFinder.track`.

    Use as a context manager; iterate it for lrs and call :meth:`record` once per step.

    Attributes
    ----------
    result : RangeTestResult or None
        Set when the ``with`` block has exited.

    Example
    -------
    >>> import torch; from torch import nn
    >>> from lrwidget import LRFinder
    >>> model = nn.Linear(3, 1); opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    >>> with LRFinder(model, opt).track(end_lr=0.1, num_iter=3) as run:
    ...     for lr in run:
    ...         run.record(1.0)
    >>> run.result.stop_reason, run.readings is None    # readings live only inside the block
    ('completed', True)
    """

    def __init__(
        self,
        finder: LRFinder,
        sweep: Sweep,
        smooth_f: float,
        diverge_th: float,
        staged: bool = False,
        progress: bool = False,
    ):
        self.finder = finder
        self._sweep = sweep
        self._smooth_f = smooth_f
        self._diverge_th = diverge_th
        self._staged = staged  # losses staged on the device (the accelerator path)
        self._progress = progress  # show a progress bar (decided by the finder)
        self._run: _Run | None = None  # set while the with-block runs
        # set by __enter__ (the methods that use them first check that the run is on)
        self._recorder: Recorder
        self._write_lrs: Callable[[list[float]], None]
        self._group0: dict | None = None
        self._chunk_start = 0  # step of the first lr in the chunk at hand
        self._chunk_lrs: list[float] = []  # the first group's lrs of that chunk
        self._chunk_rows: list[list[float]] = []  # every group's lrs, unless group0 is used
        self._lr = math.nan  # the lr last handed out
        self._handed_out = 0  # lrs handed out
        self._awaiting = False  # an lr was handed out and its loss not yet recorded
        self._done = False
        self.result: RangeTestResult | None = None

    def __enter__(self) -> Tracker:
        f = self.finder
        if self._done or self._run is not None:
            raise RuntimeError("a Tracker runs once; call finder.track(...) again")
        comm = f._collective()
        rule = (StopRule if comm is None else CollectiveRule)(
            self._sweep.num_iter, self._diverge_th
        )
        f._take(rule)  # atomic: a second test on this finder is refused here
        snap = None
        agreed = comm is None  # a collective test: whether the ranks were asked to start
        try:
            readings = new_readings(self._sweep.num_iter, self._smooth_f)
            snap = f._capture()
            if comm is not None:
                agreed = True
                plan = f._plan("track", self._sweep, self._smooth_f, self._diverge_th)
                comm.agree_start(None, plan)
            self._run = f._begin(snap, self._sweep, readings, rule, self._progress)
        except BaseException as e:
            if not agreed and isinstance(e, Exception) and comm is not None:
                comm.agree_start(e, None)  # the other ranks hear why this one cannot start
            if f._active is not None and f._active.snapshot is snap and snap is not None:
                f._end(f._active)  # interrupted inside _begin: end it like any run
            else:
                f._abort(snap)
            raise
        fetch = max(1, int(f.fetch_every))
        if comm is not None:  # every rank's losses, reduced to their mean in chunks
            self._recorder = CollectiveRecorder(
                readings, cast(CollectiveRule, rule), fetch, f.device, comm, self._run.perf0
            )
        else:
            self._recorder = Recorder(readings, rule, fetch if self._staged else 1, f.device)
        self._group0, self._write_lrs = lr_writer(f.optimizer)
        return self

    def __exit__(self, exc_type, exc, tb) -> Literal[False]:
        run = self._run
        if run is None:
            return False
        try:
            if exc is not None:
                run.error = exc
            else:
                r = self._recorder.flush()
                if run.reason is None:
                    run.reason = r
                if isinstance(self._recorder, CollectiveRecorder):
                    run.elapsed = self._recorder.elapsed
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

    def __iter__(self) -> Tracker:
        return self

    def __next__(self) -> float:
        run = self._run
        if run is None:
            raise RuntimeError("use the tracker inside `with finder.track(...) as run:`")
        if self._awaiting:
            raise RuntimeError("call run.record(loss) once per step before taking the next lr")
        if run.reason is None:
            run.reason = run.rule.pending()
        if run.reason is not None or self._handed_out >= run.num_iter:
            raise StopIteration
        i = self._handed_out
        j = i - self._chunk_start
        if i == 0 or j >= len(self._chunk_lrs):  # the next chunk of lrs
            self._chunk_start, j = i, 0
            rows = run.sweep.rows(i, min(run.num_iter, i + CHUNK))
            self._chunk_lrs = rows[:, 0].tolist()
            self._chunk_rows = rows.tolist() if self._group0 is None else []
        lr = self._chunk_lrs[j]
        if self._group0 is not None:
            self._group0["lr"] = lr
        else:
            self._write_lrs(self._chunk_rows[j])
        self._lr = lr
        self._handed_out = i + 1
        self._awaiting = True
        return lr

    def record(self, loss) -> None:
        """Record the loss of the step run with the lr just yielded (a tensor or a number)."""
        if self._run is None:
            raise RuntimeError("record() outside `with finder.track(...) as run:`")
        if not self._awaiting:
            raise RuntimeError("record() must follow taking an lr from the tracker, once per step")
        if isinstance(loss, Tensor):
            if loss.numel() != 1:
                raise ValueError(
                    f"record() needs a scalar loss, got a tensor of shape {tuple(loss.shape)}"
                )
            loss = loss.detach().reshape(())
        elif isinstance(loss, bool) or not isinstance(loss, Real):
            raise TypeError(f"record() needs a loss tensor or a number, got {type(loss).__name__}")
        self._awaiting = False
        r = self._recorder.add(self._handed_out - 1, self._lr, loss)
        if r is not None and self._run.reason is None:
            self._run.reason = r

    @property
    def lr(self) -> float | None:
        """The lr of the current step (None before the first)."""
        return self._lr if self._handed_out else None

    @property
    def readings(self) -> History | None:
        """The live readings (:class:`lrwidget.history.History`) inside the ``with`` block;
        None outside it (the readings are then in :attr:`result`)."""
        return self._run.readings if self._run is not None else None
