"""LRFinder: the learning-rate range test, with torch-lr-finder's public face.

Switching from torch-lr-finder is one import::

    from lrwidget import LRFinder          # was: from torch_lr_finder import LRFinder

What is added: the model, optimizer and GradScaler come back bit for bit however the test ends
(see :mod:`lrwidget.engine.snapshot`); every reading is kept (:attr:`LRFinder.result`); custom steps
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

This module is the public face and a test's life on a finder (take it, snapshot, begin, end,
restore); the parts live beside it: argument checks in :mod:`lrwidget.engine.checks`, batches in
:mod:`lrwidget.engine.batches`, the step closures in :mod:`lrwidget.engine.steps`, the hot loop and
:class:`StopRule` in :mod:`lrwidget.engine.loop`, the user's own loop (:class:`Tracker`) in
:mod:`lrwidget.engine.track`.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, cast

import torch

from .batches import check_val_loader, cycle, first_checked, loader_generators, val_batches
from .checks import check_finder_args, new_readings, real
from .collective import (
    DEFAULT_TIMEOUT,
    Collective,
    CollectiveRecorder,
    CollectiveRule,
    check_process_group,
    collective_of,
)
from .compat import TorchLrFinderExtras
from .history import RangeTestResult
from .loop import StopRule, loop_cpu, loop_staged, write_lr
from .plan import Plan, range_test_plan, staged, track_plan
from .progress import wanted
from .session import Busy, Run, Runs, Session, Sub
from .snapshot import Snapshot
from .steps import (
    Step,
    check_own_scaler,
    stepping_every_call,
    then_validate,
    train_step,
    validation_loss,
)
from .stream import LrApplied
from .track import Tracker

__all__ = ["LRFinder", "StopRule", "Tracker"]


class LRFinder(TorchLrFinderExtras):
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
    process_group : torch.distributed.ProcessGroup or False, optional
        The ranks that test together. Default: the default group, when torch.distributed is
        initialized. With more than one rank the finder is collective (:attr:`collective`):
        every rank calls ``range_test`` / ``track`` / ``apply`` alike, the recorded loss is the
        mean over the ranks, every rank ends on the same step with the same result, and
        ``apply`` uses rank 0's lr on every rank (:mod:`lrwidget.engine.collective`). False: this
        process tests alone (a model that is not wrapped, tested on one rank only). No rank
        waits longer than :attr:`collective_timeout` seconds for the others at one of the
        test's collectives (``CollectiveTimeout``).

    Notes
    -----
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
    #: seconds a rank waits for the others at one of a collective test's collectives (its
    #: start, each reduction, apply) before it raises CollectiveTimeout (torch.distributed)
    collective_timeout: float = DEFAULT_TIMEOUT

    def __init__(
        self,
        model,
        optimizer,
        criterion=None,
        device=None,
        memory_cache=True,
        cache_dir=None,
        amp_backend=None,
        amp_config=None,
        grad_scaler=None,
        process_group=None,
    ):
        check_finder_args(model, optimizer, criterion, amp_backend, amp_config)
        check_own_scaler(grad_scaler, optimizer)
        check_process_group(process_group)
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
        self.process_group = process_group
        self._runs = Runs()

    @property
    def result(self) -> RangeTestResult | None:
        """The last test's :class:`RangeTestResult` (None before the first)."""
        return self._runs.result

    @result.setter
    def result(self, value: RangeTestResult | None) -> None:
        self._runs.result = value

    @property
    def _subs(self) -> list[Sub]:  # read by the views' tests
        return self._runs.subs

    @property
    def _active(self) -> Run | None:  # read by the views' tests
        return self._runs.active

    def reset(self) -> None:
        """Kept for torch-lr-finder code. The model and optimizer are already restored when a
        test ends, so there is usually nothing left to undo; the readings stay for :meth:`plot`.
        After a test whose restore failed it retries that restore (:meth:`restore`)."""
        if self._runs.claim is not None:
            raise RuntimeError("reset() called while a range test is running; call stop()")
        if self._runs.pending is not None:
            self.restore()

    # ------------------------------------------------------------------ torch.distributed
    @property
    def collective(self) -> bool:
        """Whether this finder's tests, and :meth:`apply`, are collective now: a process group of
        more than one rank is in use (``process_group``, or torch.distributed's default group).

        Example
        -------
        >>> import torch; from torch import nn
        >>> m = nn.Linear(2, 1)
        >>> LRFinder(m, torch.optim.SGD(m.parameters(), lr=0.1)).collective
        False
        """
        return self._collective() is not None

    def _collective(self) -> Collective | None:
        return collective_of(self.process_group, self.device, self.collective_timeout)

    # ------------------------------------------------------------------ checks
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
            ``non_blocking_transfer``, ``step_fn``, ``progress``).

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
        >>> finder.check_range_test_args(
        ...     [], num_iters=50)  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
        Traceback (most recent call last):
        ...
        TypeError: range_test() got an unexpected keyword argument 'num_iters'; accepted keyword
        arguments: val_loader, start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th, ...
        """
        sig = inspect.signature(LRFinder.range_test)
        try:
            bound = sig.bind(self, train_loader, val_loader, **range_test_kwargs)
        except TypeError as e:
            allowed = [p for p in sig.parameters if p not in ("self", "train_loader")]
            raise TypeError(
                f"range_test() {e}; accepted keyword arguments: {', '.join(allowed)}"
            ) from None
        bound.apply_defaults()
        a = bound.arguments
        self._runs.check_idle()
        del a["self"]
        a["val_loader"] = val_batches(a["val_loader"])
        range_test_plan(self, **a)

    # ------------------------------------------------------------------ a run's life
    def _session(self, comm: Collective | None, plan: Plan) -> Session:
        return Session(
            self._runs,
            comm,
            plan.sweep.num_iter,
            plan.diverge_th,
            capture=self._capture,
            move=self._to_device,
            move_back=self.model.to,
        )

    def _agreement(self, plan: Plan, kind: str, steps: bool) -> dict:
        fetch = max(1, int(self.fetch_every))
        if not steps:
            return plan.agreement(kind, fetch)
        return plan.agreement(
            kind,
            fetch,
            accumulation_steps=plan.accumulation_steps,
            val_loader=plan.val_loader is not None,
        )

    def _to_device(self) -> torch.device | None:
        """Move the model to the test's device; where it was, or None when it stays."""
        if self.model_device == self.device:
            return None
        self.model.to(self.device)
        return self.model_device

    def _capture(self, *loaders: Any) -> Snapshot:
        extra = (self.criterion,) if isinstance(self.criterion, torch.nn.Module) else ()
        return Snapshot.capture(
            self.model,
            self.optimizer,
            self.grad_scaler,
            memory_cache=self.memory_cache,
            cache_dir=self.cache_dir,
            extra_modules=extra,
            generators=loader_generators(*loaders),
        )

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
        return self._runs.restore(discard)

    # ------------------------------------------------------------------ range_test
    def range_test(
        self,
        train_loader,
        val_loader=None,
        start_lr=None,
        end_lr=10,
        num_iter=100,
        step_mode="exp",
        smooth_f=0.05,
        diverge_th=5,
        accumulation_steps=1,
        non_blocking_transfer=True,
        step_fn=None,
        progress=None,
    ) -> RangeTestResult:
        """Sweep the lr from ``start_lr`` to ``end_lr``, one optimizer step per lr.

        Parameters
        ----------
        train_loader : iterable
            Yields ``(inputs, labels, *extras)`` batches (tuples or lists; extras are ignored),
            or anything ``step_fn`` understands (a torch-lr-finder ``TrainDataLoaderIter``
            yields the pairs its ``inputs_labels_from_batch`` makes). Started again when it
            runs out before ``num_iter`` steps (a one-shot iterator, e.g. a generator, must
            then be long enough).
        val_loader : iterable, optional
            When given, the recorded loss of each step is the mean loss over all of it
            (evaluated in ``model.eval()`` without gradients) instead of the training loss.
            It is read after every step, so it must be iterable again and again (a DataLoader,
            a list), not a one-shot iterator. A torch-lr-finder ``ValDataLoaderIter`` (or
            subclass) is read as torch-lr-finder reads it: its ``data_loader`` in full at every
            step, each batch split by its ``inputs_labels_from_batch``.
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
        progress : bool, optional
            A progress bar (tqdm: step i/N, lr, smoothed loss, ETA, why it ended) on standard
            error. None (default): when standard error is a terminal (a script, a torchrun job
            started from a shell; not a notebook, whose widget is the view). Only rank 0 of a
            collective test shows it. It is updated from a thread of its own, never per step.

        Notes
        -----
        Under torch.distributed (see :attr:`collective`) every rank calls ``range_test`` with
        the same sweep: the recorded loss is the mean over the ranks (reduced every
        ``fetch_every`` steps), and every rank ends on the same step with the same result.

        Optimizers whose ``step`` needs a closure (``torch.optim.LBFGS``) are stepped with
        ``optimizer.step(closure)``; the closure zeroes the gradients and runs forward and
        backward on the step's batches (all ``accumulation_steps`` of them), and the recorded
        loss is its first evaluation, before the step. They cannot be used with a GradScaler.

        A model, optimizer and loader from ``accelerator.prepare`` (accelerate) are tested as
        they are: the prepared model's mixed precision applies; the optimizer steps at every
        step of the test even when an ``accelerator.accumulate`` loop left it skipping steps
        (``accumulation_steps`` decides the batches per step here); with fp16 the loss is
        scaled by the optimizer's own GradScaler, which is restored like the optimizer.

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
        comm = self._collective()
        val_loader = val_batches(val_loader)  # torch-lr-finder's ValDataLoaderIter, read again
        try:
            self._runs.check_idle()
            plan = range_test_plan(
                self,
                train_loader,
                val_loader,
                start_lr,
                end_lr,
                num_iter,
                step_mode,
                smooth_f,
                diverge_th,
                accumulation_steps,
                non_blocking_transfer,
                step_fn,
                progress,
            )
        except Exception as e:
            if comm is not None and not isinstance(e, Busy):
                comm.agree_start(e, None)  # the other ranks hear why and start nothing either
            raise
        return self._run_test(train_loader, plan, self._session(comm, plan))

    def _run_test(self, train_loader: Any, plan: Plan, session: Session) -> RangeTestResult:
        """Run a checked test: take the finder, snapshot, check the first batches, agree with
        the other ranks, then step through the sweep; the session ends it however it ends."""
        session.take()  # from here on this call owns the finder, or it has raised
        cycled = None
        try:
            readings = new_readings(plan.sweep.num_iter, plan.smooth_f)
            session.capture(train_loader, plan.val_loader)
            cycled = cycle(train_loader, "train_loader")
            # the first batches are checked before anything is moved or announced
            batches = first_checked(cycled, "train_loader", pairs=plan.step_fn is None)
            if plan.val_loader is not None:
                check_val_loader(plan.val_loader, pairs=plan.step_fn is None)
            session.agree(self._agreement(plan, "range_test", True))
            comm = session.comm
            run = session.begin(
                plan.sweep, readings, wanted(plan.progress, comm.rank if comm else 0)
            )
            self.model.train()
            with stepping_every_call(self.optimizer):  # accelerate: even mid-accumulation
                self._loop(run, self._step(batches, plan), comm)
        except BaseException as e:
            session.failed(e)
            raise
        finally:
            if cycled is not None:
                cycled.close()  # lets a DataLoader shut its workers down now, not at collection
            session.close()
        return cast(RangeTestResult, self.result)  # set when the session ended

    def _loop(self, run: Run, step: Step, comm: Collective | None) -> None:
        """Step through the run's sweep: the CPU loop, the staged (accelerator) loop, or the
        staged loop whose losses are reduced over the ranks."""
        fetch = max(1, int(self.fetch_every))
        args = (run.sweep, run.readings, run.rule, self.optimizer, step)
        if comm is not None:
            rule = cast(CollectiveRule, run.rule)
            rec = CollectiveRecorder(run.readings, rule, fetch, self.device, comm, run.perf0)
            run.reason = loop_staged(*args, 1, self.device, recorder=rec)
            run.elapsed = rec.elapsed
        elif staged(self.device):
            run.reason = loop_staged(*args, fetch, self.device)
        else:
            run.reason = loop_cpu(*args)

    def _step(self, batches: Any, plan: Plan) -> Step:
        """The closure one step of the test runs: train, then validate when there is a
        ``val_loader``."""
        val_loader, step_fn, non_blocking = plan.val_loader, plan.step_fn, plan.non_blocking
        autocast = self.amp_config if self.amp_backend is not None else None
        step = train_step(
            self.model,
            self.optimizer,
            self.criterion,
            batches,
            device=self.device,
            non_blocking=non_blocking,
            accumulation_steps=plan.accumulation_steps,
            step_fn=step_fn,
            autocast=autocast,
            grad_scaler=self.grad_scaler,
        )
        if val_loader is None:
            return step
        validate = validation_loss(
            self.model,
            self.criterion,
            val_loader,
            device=self.device,
            non_blocking=non_blocking,
            step_fn=step_fn,
            autocast=autocast,
        )
        return then_validate(step, validate)

    # ------------------------------------------------------------------ the user's own loop
    def track(
        self,
        start_lr=None,
        end_lr=10,
        num_iter=100,
        step_mode="exp",
        smooth_f=0.05,
        diverge_th=5,
        progress=None,
    ) -> Tracker:
        """A range test driven by your own training loop.

        Iterating the returned :class:`Tracker` writes the next lr into every param group and
        yields it; call ``run.record(loss)`` after each step. Iteration ends after ``num_iter``
        readings, on divergence or on :meth:`stop`. The model, optimizer and GradScaler are
        restored when the ``with`` block exits, however it exits. ``progress`` as for
        :meth:`range_test`.

        Under torch.distributed (:attr:`collective`) every rank runs the loop alike: the same
        sweep, one ``record`` per step, leaving it on the same step (a rank whose loader runs
        out earlier than the others' would wait for them in the next reduction); the tracker
        then ends every rank on the same step, as :meth:`range_test` does.

        With gradient accumulation a reading is one optimizer step: iterate and ``record``
        once per micro-batch; the lr stays the same until the step, and the reading is the
        mean loss of its micro-batches (``run.record(loss, stepped=...)``; inside
        ``accelerator.accumulate`` accelerate's ``sync_gradients`` says it by itself).

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
        comm = self._collective()
        try:
            self._runs.check_idle()
            plan = track_plan(
                self, start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th, progress
            )
        except Exception as e:
            if comm is not None and not isinstance(e, Busy):
                comm.agree_start(e, None)  # the other ranks' `with` hears why
            raise
        return Tracker(self, self._session(comm, plan), plan)

    # ------------------------------------------------------------------ live hooks
    def stop(self) -> None:
        """End the running test at the next step boundary (stop_reason "stopped").

        Safe from any thread; does nothing when no test is running.
        """
        rule = self._runs.claim  # one read: set from the moment a test takes the finder
        if rule is not None:
            rule.requested = True

    @property
    def running(self) -> bool:
        """Whether a test is running now (from the moment it took the finder until it ended)."""
        return self._runs.claim is not None

    def subscribe(self, callback: Callable, interval: float = 0.05) -> Callable[[], None]:
        """Receive each run's events (:mod:`lrwidget.engine.stream`) on a delivery thread.

        Parameters
        ----------
        callback : callable
            ``callback(event)`` with a ``RunStarted``, ``Readings`` (batched, about every
            ``interval`` seconds) or ``RunEnded``. All of a run's events are delivered before
            ``range_test`` returns. :meth:`apply` delivers ``LrApplied`` from its own thread.
            Subscribing during a run starts with that run's ``RunStarted`` and all its readings
            so far.
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
        iv = real("interval", interval, "a positive number of seconds")
        if not (iv > 0 and math.isfinite(iv)):
            raise ValueError(f"interval must be a positive number of seconds, got {interval}")
        sub = Sub(callback, iv)
        with self._runs.lock:
            self._runs.subs.append(sub)
            run = self._runs.active
            if run is not None:
                run.stream(id(sub), callback, iv)

        def unsubscribe() -> None:
            with self._runs.lock:
                if sub in self._runs.subs:
                    self._runs.subs.remove(sub)
                active = self._runs.active
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
        v = real(name, lr, "a positive finite real number")
        if not (v > 0 and math.isfinite(v)):
            raise ValueError(f"{name} must be a positive finite real number, got {lr}")
        return v

    def _ratio_lrs(self, lr: float) -> list[float]:
        cur = [float(g["lr"]) for g in self.optimizer.param_groups]
        ref = cur[0]
        if ref > 0 and math.isfinite(ref):
            k = lr / ref
            # a group with the first one's lr gets exactly lr too (c * k may be off in the last bit)
            return [lr] + [lr if c == ref else c * k for c in cur[1:]]
        return [lr] * len(cur)

    def apply(self, lr=None) -> list[float]:
        """Write ``lr`` into the first param group and scale the others alike.

        Parameters
        ----------
        lr : float, optional
            New lr of the first param group; None: the last result's suggested lr.

        Returns
        -------
        list of float
            Every param group's new lr.

        Under torch.distributed (:attr:`collective`) every rank calls ``apply``: rank 0's ``lr``
        is used on every rank (what the other ranks pass is ignored), and when it or any rank
        refuses (a bad lr on rank 0, a test still running or not restored on some rank) every
        rank raises and none applies anything.

        Example
        -------
        >>> import torch; from torch import nn
        >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
        >>> opt = torch.optim.SGD([{"params": a.parameters(), "lr": 1e-2},
        ...                        {"params": b.parameters(), "lr": 1e-3}])
        >>> LRFinder(nn.Sequential(a, b), opt).apply(0.1)
        [0.1, 0.01]
        """
        if self._runs.claim is not None:  # local even when collective: a test is using the group
            raise RuntimeError(
                "apply() during a running test would be undone by the restore; apply after it ended"
            )
        new = self._ratio_lrs(self._agreed_lr(lr))
        for g, v in zip(self.optimizer.param_groups, new):
            write_lr(g, "lr", v)
        held = [float(g["lr"]) for g in self.optimizer.param_groups]
        with self._runs.lock:
            subs = list(self._runs.subs)
        for sub in subs:  # views show what the optimizer holds, however it got there
            sub.callback(LrApplied(tuple(held)))
        return held

    def _agreed_lr(self, lr) -> float:
        """``lr`` checked (None: the suggestion); under torch.distributed rank 0's on every rank,
        or the same error on every rank."""
        comm = self._collective()
        if comm is None:
            self._check_restored()
            return self._lr_arg(lr)
        problem = None
        v = None
        try:
            self._check_restored()
            if comm.rank == 0:
                v = self._lr_arg(lr)
        except (ValueError, TypeError, RuntimeError) as e:  # raised on every rank, below
            problem = e
        return comm.choose(v, problem)  # rank 0's lr on every rank, or an error on every rank

    def _check_restored(self) -> None:
        if self._runs.pending is not None:
            raise RuntimeError(
                "the last range test's restore failed and finder.restore() would undo "
                "a new lr; call finder.restore() first"
            )

    def one_cycle(self, lr=None, total_steps=None, **kwargs):
        """A ``torch.optim.lr_scheduler.OneCycleLR`` peaking at ``lr`` (group ratios kept).

        Parameters
        ----------
        lr : float, optional
            Max lr of the first param group; None: the last result's suggested lr.
        total_steps : int
            Passed to OneCycleLR, as are ``kwargs`` (``pct_start``, ``div_factor``, ...).

        Notes
        -----
        Under torch.distributed (:attr:`collective`) every rank calls ``one_cycle``, like
        :meth:`apply`: every rank's schedule peaks at rank 0's ``lr``, or every rank raises.

        Example
        -------
        >>> import torch; from torch import nn
        >>> m = nn.Linear(2, 1); opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        >>> sched = LRFinder(m, opt).one_cycle(0.5, total_steps=100)
        >>> [g["max_lr"] for g in opt.param_groups]
        [0.5]
        """
        if self._runs.claim is not None:
            raise RuntimeError("one_cycle() during a running test; call it after the test ended")
        max_lrs = self._ratio_lrs(self._agreed_lr(lr))
        return torch.optim.lr_scheduler.OneCycleLR(
            self.optimizer, max_lr=max_lrs, total_steps=total_steps, **kwargs
        )
