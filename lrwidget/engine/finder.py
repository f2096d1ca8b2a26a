"""LRFinder: the learning-rate range test, with torch-lr-finder's public face.

Switching from torch-lr-finder is one import::

    from lrwidget import LRFinder          # was: from torch_lr_finder import LRFinder

What is added: the model, optimizer and GradScaler come back bit for bit however the test ends
(see :mod:`lrwidget.engine.snapshot`); every reading is kept (:attr:`LRFinder.result`); custom steps
(``step_fn``) and the user's own loop (:meth:`LRFinder.track`); :meth:`LRFinder.stop` and
:meth:`LRFinder.subscribe` for a live view; :meth:`LRFinder.apply` and
:meth:`LRFinder.one_cycle` to use the chosen lr; one test per param group
(:meth:`LRFinder.range_test_groups`, :meth:`LRFinder.apply_groups`).

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
import os
from collections.abc import Iterable, Sequence
from typing import Any, Callable

import torch

from .batches import loader_generators, val_batches
from .checks import check_finder_args
from .collective import (
    DEFAULT_TIMEOUT,
    Collective,
    check_process_group,
    collective_of,
)
from .compat import TorchLrFinderExtras
from .groups import GroupTests
from .history import RangeTestResult
from .live import LiveHooks
from .loop import StopRule
from .optimizer_kinds import enter_train_mode
from .plan import Plan, range_test_plan, track_plan
from .runner import run_test
from .session import Busy, Run, Runs, Session, Sub
from .snapshot import Snapshot
from .steps import (
    check_own_scaler,
)
from .track import Tracker
from .watch_open import Watching

__all__ = ["LRFinder", "StopRule", "Tracker"]


class LRFinder(TorchLrFinderExtras, LiveHooks, GroupTests, Watching):
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
        model: Any,
        optimizer: torch.optim.Optimizer,
        criterion: Callable[..., torch.Tensor] | None = None,
        device: str | torch.device | None = None,
        memory_cache: bool = True,
        cache_dir: str | os.PathLike[str] | None = None,
        amp_backend: str | None = None,
        amp_config: dict[str, Any] | None = None,
        grad_scaler: torch.amp.GradScaler | None = None,
        process_group: Any = None,
    ) -> None:
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
    def check_range_test_args(
        self,
        train_loader: Iterable[Any],
        val_loader: Any = None,
        **range_test_kwargs: Any,
    ) -> None:
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
            move=self._ready,
            move_back=self.model.to,
        )

    def _ready(self) -> torch.device | None:
        """Ready the optimizer and model for the test's steps, after its snapshot (whose
        restore puts a schedule-free optimizer's mode and weights back): see ``_to_device``."""
        enter_train_mode(self.optimizer)
        return self._to_device()

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

    # ------------------------------------------------------------------ range_test
    def range_test(
        self,
        train_loader: Iterable[Any],
        val_loader: Iterable[Any] | None = None,
        start_lr: float | Sequence[float] | None = None,
        end_lr: float = 10,
        num_iter: int = 100,
        step_mode: str = "exp",
        smooth_f: float = 0.05,
        diverge_th: float = 5,
        accumulation_steps: int = 1,
        non_blocking_transfer: bool = True,
        step_fn: Callable[[torch.nn.Module, Any], torch.Tensor] | None = None,
        progress: bool | None = None,
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
        return run_test(self, train_loader, plan, self._session(comm, plan))

    # ------------------------------------------------------------------ the user's own loop
    def track(
        self,
        start_lr: float | Sequence[float] | None = None,
        end_lr: float = 10,
        num_iter: int = 100,
        step_mode: str = "exp",
        smooth_f: float = 0.05,
        diverge_th: float = 5,
        progress: bool | None = None,
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
