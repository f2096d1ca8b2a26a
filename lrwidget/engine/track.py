"""A range test driven by the caller's own training loop: :class:`Tracker`, made by
:meth:`lrwidget.engine.finder.LRFinder.track`.

The tracker hands out the sweep's lrs (writing each into the optimizer) and takes one loss per
step; it starts and ends its run through the finder, like ``range_test``, so the model and
optimizer are restored however the ``with`` block exits.

With gradient accumulation a loop runs several micro-batches per optimizer step. A reading is
one optimizer step: the losses recorded for micro-batches that did not end a step are kept and
averaged into the reading of the step that follows, and the lr handed out stays the same until
that step was taken. Which micro-batch ended a step is ``record``'s ``stepped``, or, when not
given, the optimizer's own word where it has one (accelerate's ``sync_gradients``).
"""

from __future__ import annotations

import logging
import math
import warnings
from types import TracebackType
from typing import TYPE_CHECKING, Callable, Literal, cast

from torch import Tensor

from ..pure.numbers import is_real
from ..pure.schedule import CHUNK
from .checks import new_readings
from .collective import CollectiveRecorder, CollectiveRule
from .history import History, RangeTestResult
from .loop import Recorder, lr_writer
from .plan import staged
from .progress import wanted
from .steps import sync_state

if TYPE_CHECKING:
    from .finder import LRFinder
    from .plan import Plan
    from .session import Run, Session

log = logging.getLogger("lrwidget.track")

#: micro-batches of one optimizer step after which a warning says no step seems to come
LONG_ACCUMULATION = 1000


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

    def __init__(self, finder: LRFinder, session: Session, plan: Plan) -> None:
        self.finder = finder
        self._session = session  # the run's life: taken in __enter__, ended in __exit__
        self._plan = plan
        self._run: Run | None = None  # set while the with-block runs
        # set by __enter__ (the methods that use them first check that the run is on)
        self._recorder: Recorder
        self._write_lrs: Callable[[list[float]], None]
        self._group0: dict | None = None
        self._chunk_start = 0  # step of the first lr in the chunk at hand
        self._chunk_lrs: list[float] = []  # the first group's lrs of that chunk
        self._chunk_rows: list[list[float]] = []  # every group's lrs, unless group0 is used
        self._lr = math.nan  # the lr last handed out
        self._row: list[float] = []  # every group's lrs of that step, unless group0 is used
        self._handed_out = 0  # lrs handed out
        self._awaiting = False  # an lr was handed out and its loss not yet recorded
        self._sync = sync_state(finder.optimizer)  # says whether a micro-batch ended a step
        self._micro_sum: Tensor | float = 0.0  # losses of this step's micro-batches so far
        self._micro_n = 0  # their number: > 0 while a step's accumulation is under way
        self._done = False
        self.result: RangeTestResult | None = None

    def __enter__(self) -> Tracker:
        f = self.finder
        if self._done or self._run is not None:
            raise RuntimeError("a Tracker runs once; call finder.track(...) again")
        session, plan = self._session, self._plan
        comm = session.comm
        fetch = max(1, int(f.fetch_every))
        session.take()  # atomic: a second test on this finder is refused here
        try:
            readings = new_readings(plan.sweep.num_iter, plan.smooth_f)
            session.capture()
            session.agree(plan.agreement("track", fetch))
            progress = wanted(plan.progress, comm.rank if comm else 0)
            self._run = session.begin(plan.sweep, readings, progress)
        except BaseException as e:
            session.failed(e)
            session.close()
            raise
        if comm is not None:  # every rank's losses, reduced to their mean in chunks
            self._recorder = CollectiveRecorder(
                readings, cast(CollectiveRule, session.rule), fetch, f.device, comm, self._run.perf0
            )
        else:
            fetch = fetch if staged(f.device) else 1
            self._recorder = Recorder(readings, session.rule, fetch, f.device)
        self._group0, self._write_lrs = lr_writer(f.optimizer)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        run = self._run
        if run is None:
            return False
        try:
            if exc is not None:
                run.error = exc
            else:
                r = self._recorder.flush()
                if run.reason is None:
                    run.reason = r or self._ended_early(run)
                if isinstance(self._recorder, CollectiveRecorder):
                    run.elapsed = self._recorder.elapsed
        except BaseException as e:  # a failing fetch is this run's error
            run.error = e
            raise
        finally:
            self._done = True
            self._run = None
            try:
                self._session.close()
            finally:
                self.result = self.finder.result
        return False

    @staticmethod
    def _ended_early(run: Run) -> str | None:
        """Stop reason "exhausted", with a warning, when the loop left before ``num_iter``
        readings without a stop or a divergence (its loader ran out first, or a ``break``):
        the curve covers only part of the sweep, which nothing else would tell."""
        n = run.readings.n
        if n >= run.num_iter:
            return None
        covered = (
            f"The curve and its suggestion cover part of the sweep (up to lr="
            f"{run.readings.lrs[n - 1]:.3g} of end_lr={run.end_lr:.3g})"
            if n
            else "There is no curve"
        )
        warnings.warn(
            f"the range test's loop ended after {n} of num_iter={run.num_iter} readings, "
            "without finder.stop() or a divergence: its loader ran out first, or the loop "
            f"was left early. {covered}. Give the loop at least num_iter batches (iterate "
            "the loader again when it ends) or pass a smaller num_iter; call finder.stop() "
            "to end a test early on purpose",
            UserWarning,
            stacklevel=3,  # the caller's with-statement (through __exit__)
        )
        return "exhausted"

    def __iter__(self) -> Tracker:
        return self

    def __next__(self) -> float:
        run = self._run
        if run is None:
            raise RuntimeError("use the tracker inside `with finder.track(...) as run:`")
        if self._awaiting:
            raise RuntimeError("call run.record(loss) once per step before taking the next lr")
        if self._micro_n:  # the step's accumulation goes on with the same lr; a stop() or an
            # error of a chunk's fetch ends the test after this step, not in the middle of it
            if self._group0 is not None:
                self._group0["lr"] = self._lr
            else:
                self._write_lrs(self._row)
            self._awaiting = True
            return self._lr
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
            self._row = self._chunk_rows[j]
            self._write_lrs(self._row)
        self._lr = lr
        self._handed_out = i + 1
        self._awaiting = True
        return lr

    def record(self, loss: Tensor | float, stepped: bool | None = None) -> None:
        """Record the loss of the step run with the lr just yielded (a tensor or a number).

        Parameters
        ----------
        loss : torch.Tensor or float
            The step's (or micro-batch's) loss, as computed: not divided by the number of
            micro-batches.
        stepped : bool, optional
            Whether this micro-batch ended an optimizer step (gradient accumulation). False:
            its loss is kept, the next lr handed out is the same, and the reading is the mean
            loss of the step's micro-batches, made when a micro-batch with ``stepped=True``
            is recorded. None (default): the optimizer's own word where it has one
            (accelerate's ``AcceleratedOptimizer``: ``accelerator.sync_gradients``, so a loop
            with ``accelerator.accumulate`` needs nothing more), else True.

        Example
        -------
        >>> import torch; from torch import nn
        >>> from lrwidget import LRFinder
        >>> model = nn.Linear(3, 1); opt = torch.optim.SGD(model.parameters(), lr=1e-3)
        >>> x, y = torch.randn(8, 3), torch.randn(8, 1)
        >>> with LRFinder(model, opt).track(end_lr=0.1, num_iter=3) as run:
        ...     for i, lr in enumerate(run):        # 2 micro-batches per optimizer step
        ...         loss = nn.functional.mse_loss(model(x[i % 2::2]), y[i % 2::2])
        ...         (loss / 2).backward()
        ...         if i % 2:
        ...             opt.step(); opt.zero_grad()
        ...         run.record(loss, stepped=i % 2 == 1)
        >>> len(run.result.lrs), i + 1
        (3, 6)
        """
        run = self._run
        if run is None:
            raise RuntimeError("record() outside `with finder.track(...) as run:`")
        if not self._awaiting:
            raise RuntimeError("record() must follow taking an lr from the tracker, once per step")
        loss = _checked_loss(loss)
        if stepped is None:
            stepped = self._sync is None or bool(self._sync.sync_gradients)
        elif not isinstance(stepped, bool):
            raise TypeError(f"stepped must be a bool or None, got {stepped!r}")
        self._awaiting = False
        if not stepped or self._micro_n:
            mean = self._accumulate(loss, stepped)
            if mean is None:
                return
            loss = mean
        r = self._recorder.add(self._handed_out - 1, self._lr, loss)
        if r is not None and run.reason is None:
            run.reason = r

    def _accumulate(self, loss: Tensor | float, stepped: bool) -> Tensor | float | None:
        """Keep a micro-batch's loss; the mean of the step's micro-batches once it ``stepped``
        (None before: the lr stays until a step comes)."""
        if isinstance(loss, Tensor):
            loss = loss.float()  # a half-precision sum would round
        self._micro_sum = self._micro_sum + loss
        self._micro_n += 1
        if stepped:
            mean = self._micro_sum / self._micro_n
            self._micro_sum, self._micro_n = 0.0, 0
            return mean
        if self._micro_n == LONG_ACCUMULATION:
            log.warning(
                "%d micro-batches recorded without an optimizer step: the lr stays "
                "at %.3g and no reading is made until one is recorded with "
                "stepped=True (or accelerate's sync_gradients is True again)",
                self._micro_n,
                self._lr,
            )
        return None

    @property
    def lr(self) -> float | None:
        """The lr of the current step (None before the first)."""
        return self._lr if self._handed_out else None

    @property
    def readings(self) -> History | None:
        """The live readings (:class:`lrwidget.engine.history.History`) inside the ``with`` block;
        None outside it (the readings are then in :attr:`result`)."""
        return self._run.readings if self._run is not None else None


def _checked_loss(loss: object) -> Tensor | float:
    """A recorded loss: a scalar tensor (detached, shape ()) or a number; else the error."""
    if isinstance(loss, Tensor):
        if loss.numel() != 1:
            raise ValueError(
                f"record() needs a scalar loss, got a tensor of shape {tuple(loss.shape)}"
            )
        return loss.detach().reshape(())
    if not is_real(loss):
        raise TypeError(f"record() needs a loss tensor or a number, got {type(loss).__name__}")
    return cast(float, loss)
