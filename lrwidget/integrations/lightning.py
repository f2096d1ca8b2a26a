"""PyTorch Lightning: a callback that runs the range test when training starts and trains with
the chosen lr.

The test runs in ``on_train_start``: by then Lightning has built the optimizer and its lr
schedulers (``configure_optimizers``), moved the module to its device, wrapped it for the
strategy (DDP) and set up the train dataloader (with its distributed sampler), and no training
step has run. Each step of the test is one batch through Lightning's own transfer hooks and the
module's ``training_step``, through the strategy (so DDP synchronises gradients as in training).
Lightning's own ``LearningRateFinder`` instead runs its fit loop for the test and restores a
checkpoint written to disk afterwards.

What a test step must not leave behind, besides the model and optimizer the finder restores:

- ``self.log`` in ``training_step`` goes to a result collection of its own, thrown away after
  the test (Lightning's is untouched: no test step counts in an epoch's logged mean);
- torchmetrics metrics updated in ``training_step`` get their states back;
- a dataloader's own random generators get their states back, so training sees the batches it
  would have seen without the test.

In a notebook, a click cannot reach a cell that runs ``trainer.fit`` (the kernel handles no
front-end message while a cell runs): :meth:`LRFinderCallback.find` is the find step that runs
the test beforehand, in the background, on a bare trainer of its own (see
:mod:`lrwidget.integrations.choice`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import lightning.pytorch as pl
import torch

from ..engine.batches import loader_generators
from ..engine.finder import LRFinder
from ..engine.schedules import move_to
from . import lightning_compat as compat
from .choice import ChoiceRecord, Chooser
from .framework_schedule import Chosen, rebuild, resumed
from .watching import FitWatch, WatchRecord

log = logging.getLogger("lrwidget.integrations.lightning")

__all__ = ["LRFinderCallback"]


class LRFinderCallback(ChoiceRecord, WatchRecord, pl.Callback):
    """Find the lr when ``trainer.fit`` starts, then train with it.

    When training starts (``on_train_start``, from step 0 only: a resumed or continued fit is
    left alone) the range test runs on the module's configured optimizer with the trainer's
    train dataloader and the module's own ``training_step`` loss; the model and optimizer are
    restored; the lr is chosen (``choose``); the optimizer and every lr scheduler of
    ``configure_optimizers`` are moved to it (:func:`lrwidget.engine.schedules.rebase`:
    a warmup, a decay or a one cycle is then built around the chosen lr), and training runs.

    Parameters
    ----------
    start_lr : float, optional
        The sweep's first lr (default 1e-7; param groups keep the ratios of their configured lrs).
    end_lr : float
        The sweep's last lr.
    num_iter : int
        Steps of the test (>= 2).
    choose : {"click", "default"}
        "click": the lr applied in the widget: the find step's (:meth:`find`, in a notebook),
        or a listening notebook's (``lrwidget.listen()``; the job runs with ``LRWIDGET_ADDRESS``
        and ``LRWIDGET_TOKEN`` set); anywhere else ``fit`` raises before any step.
        "default": the suggestion of ``rule`` at once (scripts, CI).
    timeout : float, optional
        Seconds to wait for a click before taking the suggestion (None: no limit).
    rule : str, optional
        The rule whose suggestion is taken when nothing is clicked: a name in
        :data:`lrwidget.pure.suggest.RULES`; None: lrwidget's default rule.
    watch : bool
        Watch training with the doctor (:mod:`lrwidget.integrations.watching`): one reading
        per optimizer step, drawn in the widget (its buttons act), else a line per verdict.
    schedule : str, optional
        Train with a schedule over a range (:meth:`schedule`: "one_cycle", "cyclic", "cosine",
        "linear") in place of the configure_optimizers scheduler (or as the first), stepped
        every optimizer step; a range applied in the widget does so too, with its kind.
    total_steps : int, optional
        Steps the schedule spans; None: ``trainer.estimated_stepping_batches``.
    **range_test_kwargs
        Passed to :meth:`lrwidget.LRFinder.range_test`: ``step_mode``, ``smooth_f``,
        ``diverge_th``, ``accumulation_steps`` (default: the trainer's
        ``accumulate_grad_batches``), ``val_loader``, ``progress``...

    Attributes
    ----------
    result : RangeTestResult or None
        The test's result.
    chosen_lr : float or None
        The lr of the first param group training was moved to (None before, or when the test
        suggested nothing and the configured lr was kept).
    chosen_by : {"click", "default", None}
    widget : LRFinderWidget or None
        The live view, when one was shown.
    watch : Watch or None
        Training's watch (``watch=True``; None before training began).

    Raises
    ------
    ValueError, TypeError
        At construction, for a bad setting (naming it). ``fit`` raises before any training step
        for a module with manual optimization, for ``choose="click"`` with nowhere to click,
        and for what the range test refuses (e.g. a ``training_step`` that returns no loss).

    Notes
    -----
    The chosen lr and where it came from are said in one INFO line (logger ``lrwidget``) and
    shown in the progress bar (``chosen_lr``, in ``trainer.progress_bar_metrics`` only: not
    logged, not a callback metric).

    One optimizer: Lightning's automatic optimization takes one (several need manual
    optimization, where ``training_step`` steps the optimizers itself, so a range test cannot
    drive it: refused). Under a multi-process strategy (DDP) every rank runs the test together
    (:mod:`lrwidget.engine.collective`): the same readings, the same choice on every rank. What
    a test step does not do: gradient clipping (``gradient_clip_val``), the module's own
    ``optimizer_step`` / ``on_train_batch_*`` hooks and callbacks; the loss is backpropagated as
    it is (with the precision plugin's grad scaler, when it has one).

    Example
    -------
    >>> LRFinderCallback(choose="clik")
    Traceback (most recent call last):
    ...
    ValueError: choose must be one of 'click', 'default', got 'clik'
    >>> cb = LRFinderCallback(end_lr=1, num_iter=50, choose="default")
    >>> cb.chosen_lr is None    # trainer = Trainer(callbacks=[cb]); trainer.fit(model) sets it
    True
    """

    def __init__(
        self,
        start_lr: float | None = None,
        end_lr: float = 10,
        num_iter: int = 100,
        choose: str = "click",
        timeout: float | None = None,
        rule: str | None = None,
        watch: bool = False,
        schedule: str | None = None,
        total_steps: int | None = None,
        **range_test_kwargs: Any,
    ):
        super().__init__()
        self._chooser = Chooser(
            *(start_lr, end_lr, num_iter, choose, timeout, range_test_kwargs),
            rule=rule,
            schedule=schedule,
            total_steps=total_steps,
        )
        self._watching = FitWatch(watch)
        self._stepped = 0  # trainer.global_step at the last reading
        self._scheduler_state: Any = None  # a resumed checkpoint's schedule over a range
        self._find_thread: threading.Thread | None = None

    # ------------------------------------------------------------------ Lightning hooks
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        _check_automatic(pl_module)
        t = self._find_thread
        if t is not None and t.is_alive():
            # the find step's trainer still holds the module; its next test step sees this fit
            # took it over and ends the test (see _Steps), which this fit then reports
            log.info("waiting for the find step's range test to end")
            t.join()

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._choose(trainer, pl_module)
        if self._watching.enabled:
            schedulers = [c.scheduler for c in trainer.lr_scheduler_configs]
            finder = _fit_finder(trainer, pl_module)
            self._watching.open(finder, schedulers, compat.fit_loaders(trainer), self._chooser)
            self._stepped = trainer.global_step

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, i: int
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        if isinstance(loss, torch.Tensor):  # divided by accumulate_grad_batches, even in a step
            # cut short at an epoch's end: the reading is the mean of the step's batches' losses
            self._watching.add(loss * trainer.accumulate_grad_batches, mean=True)
        if trainer.global_step != self._stepped:  # the optimizer stepped at this batch
            self._stepped = trainer.global_step
            self._watching.step_end()

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._watching.close(None)

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        self._watching.close(exception)

    def _choose(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.global_step > 0:
            # a fit resumed from a checkpoint, or continued: no second test. A resumed
            # optimizer holds the chosen lr already; a continued fit's is built anew by
            # configure_optimizers, at the configured lr: moved back to the chosen one
            lr = self.chosen_lr
            if self._chooser.chosen_schedule is not None:
                self._resume_schedule(trainer)
            elif lr is not None:
                schedulers = [c.scheduler for c in trainer.lr_scheduler_configs]
                move_to(trainer.optimizers[0], schedulers, lr)
                _show_in_bar(trainer, lr)
            log.info(
                "training continues at step %d: no range test; lr=%s",
                trainer.global_step,
                "as configured" if lr is None else f"{lr:.3g} as chosen before",
            )
            return
        if getattr(trainer, "fast_dev_run", False):  # set by Trainer.__init__, not declared
            log.warning("fast_dev_run: the range test is skipped, the configured lr is kept")
            return
        self._chooser.use_accumulation(trainer.accumulate_grad_batches)
        self._chooser.schedule_steps(float(trainer.estimated_stepping_batches))
        if self._chooser.asked.kind is not None:
            compat.check_one_schedule(trainer)  # before the test
        steps = _Steps(trainer, pl_module)
        finder = steps.finder()
        schedulers = [c.scheduler for c in trainer.lr_scheduler_configs]

        def place(chosen: Chosen) -> None:
            compat.check_one_schedule(trainer)
            compat.use_schedule(trainer, rebuild(finder.optimizer, schedulers, chosen))

        with steps.active():
            self._chooser.test_and_choose(finder, steps.loader(), steps, schedulers, place)
        steps.after()
        if self.chosen_lr is not None:
            _show_in_bar(trainer, self.chosen_lr)

    def _resume_schedule(self, trainer: pl.Trainer) -> None:
        """A continued or resumed fit goes on with the schedule over a range chosen before."""
        chosen = self._chooser.chosen_schedule
        assert chosen is not None
        schedulers = [c.scheduler for c in trainer.lr_scheduler_configs]
        sched = resumed(trainer.optimizers[0], schedulers, chosen, self._scheduler_state)
        compat.use_schedule(trainer, sched)

    def state_dict(self) -> dict[str, Any]:
        return {"chosen_lr": self.chosen_lr, "chosen_by": self.chosen_by, **self._schedule_state()}

    def _schedule_state(self) -> dict[str, Any]:
        c = self.chosen_schedule
        return {} if c is None else {"chosen_schedule": c}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._chooser.chosen_lr = state_dict.get("chosen_lr")
        self._chooser.chosen_by = state_dict.get("chosen_by")
        c = state_dict.get("chosen_schedule")
        self._chooser.chosen_schedule = None if c is None else Chosen(**c)

    def on_load_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        # a schedule over a range was saved in place of configure_optimizers' scheduler, whose
        # load_state_dict cannot take it (a LambdaLR raises): kept for _resume_schedule
        mine = checkpoint.get("callbacks", {}).get(self.state_key, {})
        if mine.get("chosen_schedule") and checkpoint.get("lr_schedulers"):
            self._scheduler_state = checkpoint["lr_schedulers"][0]
            checkpoint["lr_schedulers"] = []

    # ------------------------------------------------------------------ the find step
    def find(
        self,
        model: pl.LightningModule,
        train_dataloaders: Any = None,
        datamodule: pl.LightningDataModule | None = None,
        trainer: pl.Trainer | None = None,
    ) -> Any:
        """The notebook's find step: start the range test in the background and return its
        live widget at once; click the curve, press Apply, then ``trainer.fit(model, ...)``
        with this callback trains at the applied lr without testing again (nothing applied by
        then: the default suggestion, with a warning). The test runs the module's own
        ``training_step`` in a thread under a bare trainer (one device; no logger, checkpoint,
        progress bar or validation); the model and its optimizer are restored when it ends.

        Parameters
        ----------
        model : LightningModule
            The module ``fit`` will train (its ``configure_optimizers`` builds the optimizer).
        train_dataloaders, datamodule
            What ``fit`` will get (either, or neither if the module has a ``train_dataloader``).
        trainer : Trainer, optional
            The trainer ``fit`` will run on: the test uses its accelerator (first device),
            precision, ``accumulate_grad_batches``, ``max_epochs``, ``max_steps`` and
            ``default_root_dir``.

        Returns
        -------
        LRFinderWidget
            Running; ``w.wait()`` blocks until the test ended, ``w.apply(lr)`` applies in code.

        Raises
        ------
        RuntimeError
            A find step of this callback is still running.
        Exception
            What the trainer or the range test refused before the test began.

        Example
        -------
        >>> cb = LRFinderCallback(end_lr=1, num_iter=100)       # doctest: +SKIP
        >>> trainer = Trainer(max_epochs=3, callbacks=[cb])      # doctest: +SKIP
        >>> cb.find(model, train_loader, trainer=trainer)        # doctest: +SKIP
        >>> trainer.fit(model, train_loader)  # after Apply      # doctest: +SKIP
        """
        if self._find_thread is not None and self._find_thread.is_alive():
            raise RuntimeError(
                "a find step of this callback is still running: wait() or stop() its widget first"
            )
        _check_automatic(model)
        step = _FindStep(self._chooser)
        self._find_thread = step.start(
            trainer, model, train_dataloaders=train_dataloaders, datamodule=datamodule
        )
        return step.widget_or_raise()


class _FindStep(pl.Callback):
    """The find step's trainer: at ``on_train_start`` start the widget's test, hand the widget to
    ``find()``, keep the trainer's context alive until the test ended, then end the fit before
    its first step."""

    def __init__(self, chooser: Chooser):
        super().__init__()
        self.chooser = chooser
        self.ready = threading.Event()
        self.w: Any = None
        self.error: BaseException | None = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        steps = _Steps(trainer, pl_module, owner=trainer)
        try:
            with steps.active():
                self.w = self.chooser.find(steps.finder(), steps.loader(), steps)
                self.ready.set()
                with contextlib.suppress(BaseException):
                    # an error that ended the test is shown in the widget and raised again
                    # by the fit that takes the choice (Chooser._from_find)
                    self.w.wait()
            steps.after()
        finally:
            trainer.should_stop = True  # the fit ends here, before its first step

    def start(
        self, trainer: pl.Trainer | None, model: pl.LightningModule, **fit_kwargs: Any
    ) -> threading.Thread:
        """Fit ``model`` in a thread under a bare trainer with ``trainer``'s settings and this
        callback, which starts the test at ``on_train_start``; the thread, started."""
        with compat.no_banner():
            bare = pl.Trainer(**compat.bare_settings(trainer), callbacks=[self])
        self.chooser.use_accumulation(bare.accumulate_grad_batches)

        def fit() -> None:
            try:
                bare.fit(model, **fit_kwargs)
            except BaseException as e:  # noqa: BLE001 (handed to find() or the fit that takes the choice)
                self.fail(e)
            else:
                self.fail(None)

        thread = threading.Thread(target=fit, name="lrwidget-lightning-find", daemon=True)
        thread.start()
        return thread

    def fail(self, error: BaseException | None) -> None:
        if error is not None and self.ready.is_set():
            log.warning("the find step's trainer failed after its range test: %r", error)
        self.error = error
        self.ready.set()

    def widget_or_raise(self) -> Any:
        self.ready.wait()
        if self.w is None:
            if self.error is not None:
                raise self.error
            raise RuntimeError(
                "the find step's trainer ended without starting the range test (no training "
                "batches? limit_train_batches=0, or no training_step)"
            )
        return self.w


class _Steps:
    """The range test's ``step_fn`` inside Lightning's fit: one batch through the precision
    plugin, the batch-transfer hooks and the strategy's ``training_step``; and what a test
    must hand back to the fit afterwards (logging, metric states, loader generators)."""

    def __init__(self, trainer: pl.Trainer, module: pl.LightningModule, owner: Any = None):
        self.trainer, self.module = trainer, module
        self.owner = owner  # the find step's trainer, which must keep the module
        self.index = 0
        self.results = compat.new_results()
        self.loaders = compat.fit_loaders(trainer)

    def finder(self) -> LRFinder:
        return _fit_finder(self.trainer, self.module)

    def loader(self) -> Any:
        iterables = self.trainer.train_dataloader
        if len(self.loaders) == 1:
            return self.loaders[0]
        return compat.Combined(iterables)  # several train loaders: training_step gets them together

    def __call__(self, model: Any, batch: Any) -> torch.Tensor:
        t, m = self.trainer, self.module
        self._check_owner(None)
        i, self.index = self.index, self.index + 1
        try:
            batch = t.precision_plugin.convert_input(batch)
            batch = compat.before_batch_transfer(m, batch)
            batch = t.strategy.batch_to_device(batch, dataloader_idx=0)
            self.results.batch, self.results.batch_size = batch, None  # what self.log sizes by
            out = t.strategy.training_step(batch, i)
        except Exception as e:
            self._check_owner(e)  # a step cut short by a fit that took the module: say so
            raise
        self._check_owner(None)
        loss = out.get("loss") if isinstance(out, Mapping) else out
        if not isinstance(loss, torch.Tensor):
            raise TypeError(
                f"training_step returned {type(out).__name__} for batch {i}; the range test "
                "needs a loss every step: a tensor, or a dict with 'loss' (Lightning skips the "
                "step of a None, a range test cannot)"
            )
        return loss

    def _check_owner(self, cause: BaseException | None) -> None:
        if self.owner is not None and compat.trainer_of(self.module) is not self.owner:
            raise RuntimeError(
                "trainer.fit started while the find step's range test was running: the test "
                "ended there. Call find() again and run fit once its test ended"
            ) from cause

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """During the test: ``self.log`` as in ``training_step``, into a collection of its own;
        afterwards Lightning's own state as it was, metrics and loader generators included."""
        metrics = compat.metric_states(self.module)
        generators = [(g, g.get_state()) for g in loader_generators(*self.loaders)]
        try:
            with compat.logging_into(self.trainer, self.module, self.results):
                yield
        finally:
            for metric, state in metrics:
                for k, v in state.items():
                    setattr(metric, k, v)
            for g, s in generators:
                g.set_state(s)

    def after(self) -> None:
        """A loader with persistent workers shares one iterator between every ``iter()``: the
        test moved the fit's along, so the fit gets a fresh one (as Lightning's own finder
        does)."""
        if any(getattr(dl, "persistent_workers", False) for dl in self.loaders):
            compat.reset_fit_loaders(self.trainer)


def _fit_finder(trainer: pl.Trainer, module: pl.LightningModule) -> LRFinder:
    """A finder on the fit's module and its one optimizer (with the precision's grad scaler)."""
    opts = trainer.optimizers
    if len(opts) != 1 or not isinstance(opts[0], torch.optim.Optimizer):
        raise ValueError(
            "LRFinderCallback needs configure_optimizers to return one optimizer, got "
            f"{len(opts)}: {[type(o).__name__ for o in opts]}"
        )
    scaler = getattr(trainer.precision_plugin, "scaler", None)
    return LRFinder(module, opts[0], grad_scaler=scaler)


#: the progress bar's entry for the chosen lr
BAR_KEY = "chosen_lr"


def _show_in_bar(trainer: pl.Trainer, lr: float) -> None:
    """Show ``lr`` in the progress bar, through ``trainer.progress_bar_metrics``: only the bar
    reads it (nothing is logged, and callbacks such as a checkpoint or early stopping read
    ``callback_metrics``); Lightning clears it when a fit starts. A string: rich's bar writes
    numbers with 3 decimals, which shows a small lr as 0.000."""
    bar: dict[str, Any] = trainer.progress_bar_metrics
    bar[BAR_KEY] = f"{lr:.2e}"


def _check_automatic(module: Any) -> None:
    if not getattr(module, "automatic_optimization", True):
        raise ValueError(
            "LRFinderCallback needs automatic_optimization=True: with manual optimization "
            "training_step steps the optimizers itself, so a range test cannot set and sweep "
            "the lr of each step (use LRFinder.track() in your own loop instead)"
        )
