"""``LRFinderCallback`` for the Hugging Face ``Trainer``: a range test before training, then
training at the chosen lr.

The Trainer has no lr finder of its own. When training begins (``on_train_begin``: the Trainer
has built its optimizer, wrapped it for accelerate, built the schedule and prepared the train
dataloader) the callback runs the range test on the Trainer's model and optimizer with that
dataloader and the model's own loss (``model(**batch).loss``, as ``Trainer.compute_loss`` takes
it), restores both, chooses an lr and moves everything that holds it:

- every param group's lr (their ratios kept) and the base lrs of ``trainer.lr_scheduler``, so
  warmup and decay are built around the chosen lr (:func:`lrwidget.engine.schedules.rebase`);
- ``trainer.args.learning_rate`` (the callback's ``args`` is the Trainer's own object), so what
  the Trainer logs and saves says the lr it trains with.

Where the choice comes from is :class:`lrwidget.integrations.choice.Chooser`'s business: in a
notebook the find step (:meth:`LRFinderCallback.find`, then ``trainer.train()``), in a job a
notebook running ``lrwidget.listen()``, in a script or CI ``choose="default"``.

Fine-tuning. The Trainer's maintainers declined an lr finder because finders tend to suggest
~1e-3 where fine-tuning a pre-trained transformer wants ~1e-5 (transformers #16013). Which rule
picks the lr of ``choose="default"`` is :data:`DEFAULT_RULE` (one place), or the callback's
``rule``; benchmarks/choice_quality.py measures the rules on fine-tuning.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
from transformers import Trainer, TrainerCallback

from ..engine.finder import LRFinder
from .choice import ChoiceRecord, Chooser
from .framework_schedule import Chosen, cycle_momentum, move_lambda, reinstall
from .watching import FitWatch, WatchRecord

__all__ = ["DEFAULT_RULE", "LRFinderCallback"]

log = logging.getLogger("lrwidget.integrations.transformers")

#: The rule that picks the lr when no click does (``choose="default"``, a timeout, a busy cell):
#: a name in :data:`lrwidget.pure.suggest.RULES`, or None for lrwidget's default rule
#: (:data:`lrwidget.pure.suggest.DEFAULT`). The hook for a fine-tuning rule: set it here.
DEFAULT_RULE: str | None = None


def model_loss(model: Any, batch: Any) -> Any:
    """The loss of one Trainer batch, as ``Trainer.compute_loss`` reads it from the model.

    Example
    -------
    >>> import torch
    >>> class M(torch.nn.Module):
    ...     def forward(self, x, labels):
    ...         return {"loss": (x - labels).pow(2).mean()}
    >>> model_loss(M(), {"x": torch.ones(2), "labels": torch.zeros(2)})
    tensor(1.)
    """
    outputs = model(**batch)
    loss = outputs["loss"] if isinstance(outputs, dict) else outputs[0]
    if loss is None:
        raise ValueError(
            "the model returned no loss for a batch of the Trainer's train dataloader: its "
            "batches must hold the labels (e.g. a 'labels' key) so that model(**batch).loss is set"
        )
    return loss


class LRFinderCallback(ChoiceRecord, WatchRecord, TrainerCallback):
    """Run the range test when the Trainer starts training, then train at the chosen lr.

    Parameters
    ----------
    start_lr : float, optional
        First lr of the sweep (first param group; the others keep their ratio). None: 1e-7 (the
        optimizer holds a scheduled lr when training begins, 0 during a warmup).
    end_lr : float
        Last lr of the sweep.
    num_iter : int
        Steps of the sweep (optimizer steps: each takes ``gradient_accumulation_steps`` batches).
    choose : {"click", "default"}
        "click": the lr applied in the widget: the find step's (:meth:`find`), or a listening
        notebook's (``LRWIDGET_ADDRESS`` set: ``lrwidget.listen()``); a script raises a clear
        error before any step. "default": the suggestion of ``rule``, for scripts and CI.
    timeout : float, optional
        Seconds to wait for a click before taking the suggestion (None: no limit).
    rule : str, optional
        The rule of the suggestion taken when nothing is clicked: a name in
        :data:`lrwidget.pure.suggest.RULES`. None: :data:`DEFAULT_RULE`.
    watch : bool
        Watch training with the doctor (:mod:`lrwidget.integrations.watching`): one reading per
        optimizer step (the loss the Trainer backpropagates, summed over the accumulated
        batches as the Trainer logs it), drawn in the widget (its buttons act), else a line per
        verdict; actions scale ``trainer.lr_scheduler``.
    schedule : str, optional
        Train with a schedule over a range (:meth:`schedule`: "one_cycle", "cyclic", "cosine",
        "linear"): the Trainer's own schedule (a ``LambdaLR``) is moved onto it in place; a
        range applied in the widget does so too, with its kind.
    total_steps : int, optional
        Steps the schedule spans; None: the Trainer's ``state.max_steps``.
    **range_test_kwargs
        Passed to :meth:`lrwidget.LRFinder.range_test` (``step_mode``, ``smooth_f``,
        ``diverge_th``, ``val_loader``, ``accumulation_steps``...). ``accumulation_steps``
        defaults to the Trainer's ``gradient_accumulation_steps``.

    Attributes
    ----------
    result : RangeTestResult or None
        The last range test's result.
    chosen_lr : float or None
        The first param group's base lr the Trainer trains with (also
        ``trainer.args.learning_rate``); None while nothing was chosen.
    chosen_by : {"click", "default", None}
    widget : LRFinderWidget or None
        The live view, when one was shown.
    watch : Watch or None
        Training's watch (``watch=True``; None before training began).

    Raises
    ------
    ValueError, TypeError
        For a bad argument, naming it, when the callback is made.

    Notes
    -----
    The chosen lr and where it came from are said in one INFO line (logger ``lrwidget``) and
    kept as the first entry of ``trainer.state.log_history``
    (``{"chosen_lr", "chosen_by", "step"}``).

    The test's step is the finder's: forward, ``loss.backward()``, ``optimizer.step()``. What the
    Trainer adds around its own step is not in it: gradient clipping (``max_grad_norm``), a
    ``compute_loss`` override or ``compute_loss_func``, label smoothing. The Trainer's model is
    the unwrapped one (``trainer.model``), so under DDP each rank steps on its own gradients
    during the test (the finder still averages the recorded loss over the ranks).

    Example
    -------
    >>> LRFinderCallback(choose="default", num_iter=50).chosen_lr is None
    True
    >>> LRFinderCallback(choose="always")
    Traceback (most recent call last):
    ...
    ValueError: choose must be one of 'click', 'default', got 'always'

    A script (or CI)::

        callback = LRFinderCallback(choose="default")
        trainer = Trainer(model, args, train_dataset=train_set, callbacks=[callback])
        trainer.train()               # range test, restore, then training at callback.chosen_lr

    A notebook: the find step in one cell, Apply in the widget, ``trainer.train()`` in the next.
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
    ) -> None:
        self._chooser = Chooser(
            *(start_lr, end_lr, num_iter, choose, timeout, range_test_kwargs),
            rule=DEFAULT_RULE if rule is None else rule,
            schedule=schedule,
            total_steps=total_steps,
        )
        self._find_finder: LRFinder | None = None
        self._watching = FitWatch(watch)
        self._loss_hook: Any = None
        self._steps_read = False  # attach(trainer): the Trainer's own step losses are read

    # ------------------------------------------------------------------ the find step
    def find(self, trainer: Any) -> Any:
        """The notebook's find step: start the range test on ``trainer``'s model and optimizer
        in a background thread and return its live widget at once.

        Click the curve and Apply; the next ``trainer.train()`` trains at the applied lr without
        testing again (nothing applied: at the default suggestion, with a warning). Wait for the
        test to end (``widget.wait()``, or its status in the view) before ``trainer.train()``:
        the Trainer prepares the optimizer and builds its schedule before training begins.

        The optimizer is the one ``trainer.train()`` will use (``trainer.create_optimizer()``
        builds it now, from ``trainer.args``), the data its train dataloader.

        Parameters
        ----------
        trainer : transformers.Trainer
            With this callback among its callbacks.

        Returns
        -------
        LRFinderWidget
        """
        if not isinstance(trainer, Trainer):
            raise TypeError(f"trainer must be a transformers.Trainer, got {type(trainer).__name__}")
        if self not in trainer.callback_handler.callbacks:
            raise ValueError(
                "trainer: this callback is not one of its callbacks, so trainer.train() would "
                "not use the lr applied here; pass callbacks=[callback] to Trainer(...) or call "
                "trainer.add_callback(callback)"
            )
        if getattr(trainer, "is_deepspeed_enabled", False) or getattr(
            trainer, "is_fsdp_enabled", False
        ):
            raise ValueError(
                "trainer: under DeepSpeed or FSDP the Trainer builds its optimizer inside "
                "train(), so find() cannot test it first; use choose='default', or a notebook "
                "running lrwidget.listen() with LRWIDGET_ADDRESS set for the job"
            )
        self._chooser.use_accumulation(trainer.args.gradient_accumulation_steps)
        finder = LRFinder(trainer.model, trainer.create_optimizer())
        schedulers = [s for s in (trainer.lr_scheduler,) if s is not None]
        w = self._chooser.find(finder, trainer.get_train_dataloader(), model_loss, schedulers)
        self._find_finder = finder
        return w

    # ------------------------------------------------------------------ inside train()
    def on_train_begin(
        self,
        args: Any,
        state: Any,
        control: Any,
        model: Any = None,
        optimizer: Any = None,
        lr_scheduler: Any = None,
        train_dataloader: Any = None,
        **kwargs: Any,
    ) -> None:
        self._begin(args, state, model, optimizer, lr_scheduler, train_dataloader)
        if self._watching.enabled:
            schedulers = [s for s in (lr_scheduler,) if s is not None]
            self._unhook()  # a train() that raised left it (the Trainer has no hook for that)
            self._watching.open(
                LRFinder(model, optimizer), schedulers, [train_dataloader], self._chooser
            )
            if not self._steps_read:
                self._loss_hook = model.register_forward_hook(self._forward_loss, with_kwargs=True)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        # after the optimizer and the schedule stepped: a moved one cycle's momentum follows
        cycle_momentum(kwargs.get("lr_scheduler"), kwargs.get("optimizer"))
        self._watching.step_end()

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._unhook()
        self._watching.close(None)

    def attach(self, trainer: Trainer) -> Trainer:
        """Watch the loss the Trainer trains on, whatever computes it; returns ``trainer``.

        Without it the watch reads the model's own loss (a forward hook): a ``compute_loss_func``,
        label smoothing or a ``compute_loss`` override is not seen. Attached, each
        ``trainer.training_step``'s returned loss (what the Trainer sums into the loss it logs)
        is read instead; the callback is added to the trainer if it is not there yet.

        Example
        -------
        >>> cb = LRFinderCallback(choose="default", watch=True)
        >>> trainer = cb.attach(Trainer(model, args, train_dataset=data,  # doctest: +SKIP
        ...                             compute_loss_func=smoothed_ce))
        """
        if not isinstance(trainer, Trainer):
            raise TypeError(f"attach() needs a transformers.Trainer, got {type(trainer).__name__}")
        if self not in trainer.callback_handler.callbacks:
            trainer.add_callback(self)
        own = trainer.training_step

        def training_step(*args: Any, **kwargs: Any) -> Any:
            loss = own(*args, **kwargs)
            self._watching.add(loss)  # the step's share, as the Trainer sums it for its log
            return loss

        trainer.training_step = training_step
        self._steps_read = True
        return trainer

    def _forward_loss(self, module: Any, args: Any, kwargs: Any, output: Any) -> None:
        """The model's loss of a training forward, as ``Trainer.training_step`` takes it."""
        if not (module.training and torch.is_grad_enabled()):
            return  # evaluation, or a forward of the user's outside training
        if isinstance(output, dict):
            loss = output.get("loss")
        else:
            loss = output[0] if isinstance(output, (tuple, list)) and output else None
        # a model given num_items_in_batch normalises over the whole accumulated step, so the
        # Trainer sums its losses; it divides the others by the accumulation steps: their mean
        self._watching.add(loss, mean="num_items_in_batch" not in kwargs)

    def _unhook(self) -> None:
        if self._loss_hook is not None:
            self._loss_hook.remove()
            self._loss_hook = None

    def _begin(
        self,
        args: Any,
        state: Any,
        model: Any,
        optimizer: Any,
        lr_scheduler: Any,
        train_dataloader: Any,
    ) -> None:
        missing = [
            n
            for n, v in (
                ("model", model),
                ("optimizer", optimizer),
                ("train_dataloader", train_dataloader),
            )
            if v is None
        ]
        if missing:
            raise RuntimeError(
                f"the Trainer began training without {', '.join(missing)}: the range test "
                "needs the model, its optimizer and the train dataloader"
            )
        if state.global_step > 0:
            # resumed from a checkpoint: its optimizer and schedule already hold the lr chosen
            # when this training began, and a test now would move them
            log.info("resumed at step %d: no range test, the checkpoint's lr", state.global_step)
            reinstall(lr_scheduler)  # a schedule moved here: its factor, from the checkpoint's
            return
        self._check_no_race(optimizer, lr_scheduler)
        self._chooser.use_accumulation(args.gradient_accumulation_steps)
        self._chooser.schedule_steps(float(state.max_steps) if state.max_steps > 0 else math.inf)
        if self._chooser.asked.kind is not None:
            _check_lambda(lr_scheduler)  # before the test

        def place(chosen: Chosen) -> None:
            _check_lambda(lr_scheduler)
            move_lambda(lr_scheduler, optimizer, chosen)

        finder = LRFinder(model, optimizer)
        self._chooser.test_and_choose(finder, train_dataloader, model_loss, [lr_scheduler], place)
        self._find_finder = None  # its choice is taken
        if self._chooser.chosen_by is not None:
            args.learning_rate = self._chooser.chosen_lr
            # where the Trainer keeps what it did (trainer.state.log_history, saved as
            # trainer_state.json); the Trainer's own bar and on_log callbacks cannot be reached
            # from a callback without logging a metric the user did not ask for
            chosen = {"chosen_lr": args.learning_rate, "chosen_by": self.chosen_by}
            if self.chosen_schedule is not None:
                chosen["chosen_schedule"] = self.chosen_schedule
            state.log_history.append({**chosen, "step": state.global_step})

    def _check_no_race(self, optimizer: Any, lr_scheduler: Any) -> None:
        """Refuse a find step's test that was still running while ``train()`` prepared.

        The Trainer wraps the optimizer (loading its state) and builds the schedule from the
        groups' lrs before training begins; during the test those hold the sweep's lrs, and the
        restore at its end removes the schedule's ``initial_lr`` from the groups.
        """
        finder, w = self._find_finder, self._chooser.widget
        if finder is None or w is None:
            return
        running = finder.running
        failed = None
        if running:
            try:
                w.wait()
            except Exception as e:  # noqa: BLE001 (the cause of the refusal below)
                # the race itself can end the test: the Trainer zeroes the gradients before
                # on_train_begin; the finder restored the model either way
                failed = e
        built_during = lr_scheduler is not None and any(
            "initial_lr" not in g for g in optimizer.param_groups
        )
        if not (running or built_during):
            return
        self._find_finder = None
        # the find step's choice is dropped: its test ran on an optimizer being prepared
        self._chooser.discard_find()
        raise RuntimeError(
            "trainer.train() began while the find step's range test was still running: the "
            "Trainer prepares the optimizer and builds its schedule before training begins, "
            "which a running test cannot share. Nothing was trained; the model and optimizer "
            "are as before the test. Call find(trainer) again and wait for the test to end "
            "(widget.wait()) before trainer.train()"
        ) from failed


def _check_lambda(lr_scheduler: Any) -> None:
    """A schedule from a range moves the Trainer's own schedule, a LambdaLR (every
    ``lr_scheduler_type`` of warmup and decay); anything else is refused, before the test."""
    if not isinstance(lr_scheduler, torch.optim.lr_scheduler.LambdaLR):
        raise ValueError(
            "schedule: the Trainer's lr_scheduler must be the LambdaLR it builds "
            "(lr_scheduler_type 'linear', 'cosine', 'constant', 'constant_with_warmup', ...), "
            f"got {type(lr_scheduler).__name__}; leave optimizers=(opt, None) to the Trainer"
        )
