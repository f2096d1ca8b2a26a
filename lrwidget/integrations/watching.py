"""``LRFinderCallback(watch=True)``: the training doctor inside a framework's training, shared by
the Lightning and the Hugging Face callbacks (one place).

After the lr is chosen and training begins, :meth:`FitWatch.open` opens a
:class:`lrwidget.engine.watch.Watch` on the framework's own model, optimizer and the schedule the
framework steps (its actions scale that schedule: :func:`lrwidget.engine.schedules.scale`), with
the range test's curve as the doctor's evidence. The callback hands it each forward's loss
(:meth:`FitWatch.add`) and says when an optimizer step ended (:meth:`FitWatch.step_end`): one
reading per optimizer step, with gradient accumulation too. :meth:`FitWatch.close` ends it when
training ends; the watch stays readable (``callback.watch``: verdict, reason, events).

Where it draws: the callback's widget when there is one (the find step's, or the one shown by a
fit in the kernel: ``widget.show_watch``, whose buttons act at the next step); in a job that
reports to a notebook's ``lrwidget.listen()`` (``LRWIDGET_ADDRESS`` set), that widget, whose
buttons reach the job (:meth:`lrwidget.remote.link.Link.watch`); else the watch prints each
verdict change as one line on standard error when that is a terminal (beside the
progress bar), or logs it (logger ``lrwidget.watch``).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from torch import Tensor

from ..engine.finder import LRFinder
from ..engine.watch import Watch
from ..remote.link import Link, connect
from .choice import to_listener

__all__ = ["FitWatch", "WatchRecord", "check_watch"]


def check_watch(watch: object) -> bool:
    """``watch`` of a callback, checked when the callback is made.

    Example
    -------
    >>> check_watch("yes")
    Traceback (most recent call last):
    ...
    TypeError: watch must be True or False (watch training with the doctor), got 'yes'
    """
    if not isinstance(watch, bool):
        raise TypeError(
            f"watch must be True or False (watch training with the doctor), got {watch!r}"
        )
    return watch


class FitWatch:
    """One callback's watch of the framework's training (``enabled``: its ``watch=``).

    Attributes
    ----------
    watch : Watch or None
        The last training's watch (None before training began, or with ``watch=False``); it
        stays after training ended, for its verdict and events.
    """

    def __init__(self, enabled: object) -> None:
        self.enabled = check_watch(enabled)
        self.watch: Watch | None = None
        self._open = False
        self._sum: Tensor | None = None  # the step's losses so far (on their device: no sync)
        self._count = 0
        self._mean = False
        self._link: Link | None = None

    def open(self, finder: LRFinder, schedulers: list[Any], loaders: Any, chooser: Any) -> None:
        """Watch training from now on (nothing with ``watch=False``).

        Parameters
        ----------
        finder : LRFinder
            On the framework's model and optimizer (the one the test ran on, or a new one).
        schedulers : list
            The lr schedulers the framework steps: an action scales their whole schedule.
        loaders : list
            The train loaders, whose generators a rollback brings back.
        chooser : Chooser
            Its result is the doctor's curve; its widget, when shown, draws training.
        """
        # a training that raised left its watch open (the HF Trainer has no hook for that)
        self.close(RuntimeError("the last training raised"))
        if not self.enabled:
            return
        if finder.result is None:  # the find step's test ran on a finder of its own
            finder.result = chooser.result
        watch = finder.watch(schedulers, loaders=list(loaders))
        if chooser.widget is not None:
            chooser.widget.show_watch(watch)
        elif to_listener():  # every rank connects (collective); rank 0 streams
            self._link = connect(finder)
            self._link.watch(watch)
        self.watch = watch.__enter__()
        self._open = True
        self._sum, self._count = None, 0

    def add(self, loss: Any, mean: bool = False) -> None:
        """One forward's loss (a scalar tensor; anything else is not a reading) towards the
        step's reading: summed (``mean=False``: each is the step's share, as a framework scales
        it for gradient accumulation), or averaged (``mean=True``: each is a batch's mean)."""
        if not self._open or not isinstance(loss, Tensor) or loss.numel() != 1:
            return
        v = loss.detach().reshape(())
        self._sum = v if self._sum is None else self._sum + v
        self._count += 1
        self._mean = mean

    def step_end(self) -> None:
        """An optimizer step ended: record its reading (applies a button's action, if any)."""
        if not self._open or self._sum is None or self.watch is None:
            return
        reading = self._sum / self._count if self._mean else self._sum
        self._sum, self._count = None, 0
        self.watch.record(reading)

    def close(self, error: BaseException | None) -> None:
        """Training ended (``error``: what ended it; then nothing collective runs)."""
        if not self._open or self.watch is None:
            return
        self._open = False
        tb: TracebackType | None = None if error is None else error.__traceback__
        try:
            self.watch.__exit__(None if error is None else type(error), error, tb)
        finally:
            if self._link is not None:  # sends what the watch said last, then closes
                self._link.close()
                self._link = None


class WatchRecord:
    """What a framework callback shows of its :class:`FitWatch` (``self._watching``)."""

    _watching: FitWatch

    @property
    def watch(self) -> Watch | None:
        """The training's :class:`lrwidget.engine.watch.Watch` (``watch=True``; None before
        training began): ``verdict``, ``reason``, ``events``, ``scale_lr`` (from any thread:
        applied at the next optimizer step)."""
        return self._watching.watch
