"""A job's watch as the notebook sees it (a part of :class:`lrwidget.remote.source.RemoteSource`):
:class:`RemoteWatch` has what a widget's training view needs of a watch (``listen``,
``scale_lr``), fed by the receiving thread with the job's ``watch`` messages.

A job replays its watch's last steps and events when the notebook (re)syncs
(:mod:`lrwidget.remote.watch_link`): the steps already shown and the events already held are
skipped, so a notebook that comes back draws the stream so far once.

It keeps no stream of its own: its listeners (the widget's
:class:`~lrwidget.views.training.TrainingFeed`, whose :class:`~lrwidget.pure.trace.Trace` is the
one bounded copy of the job's steps) get each batch as the job's own listeners got it, the
verdict and the last :data:`MAX_EVENTS` events are kept here. ``scale_lr`` goes to the job as a
request (:mod:`lrwidget.remote.applying`: answered, failed when the job goes, expired); a
refusal comes back to the listeners as an :class:`ActionTaken` with its ``error``, as a local
watch's does.
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable

import numpy as np

from ..engine.watch_events import ActionTaken, Chunk, Listeners, VerdictChanged, check_factor
from .transport import LogLimit
from .watch_wire import WatchBatch

__all__ = ["RemoteWatch", "MAX_EVENTS"]

log = logging.getLogger("lrwidget.remote")

#: events kept (``events``): the rest went to the listeners only
MAX_EVENTS = 256


class RemoteWatch:
    """The job's watch (the last one its ``link.watch`` streamed), seen from the notebook.

    Parameters
    ----------
    send : callable
        ``send(factor, rollback) -> Future``: a ``scale_lr`` request to the job.

    Attributes
    ----------
    watch_id : int
        The job's id of the watch shown (0: none yet); a new one starts a new chart.
    step : int
        Steps of it received so far.
    verdict, reason : str
        Its doctor's verdict and why ("watching" before any).
    events : deque
        Its last :data:`MAX_EVENTS` verdict changes and actions.
    """

    def __init__(self, send: Callable[[float, bool], Future]):
        self._send = send
        self._listeners = Listeners()
        self._started = Listeners()
        self._gaps = LogLimit(log, first=1)
        self.watch_id = 0
        self.step = 0
        self.verdict, self.reason = "watching", ""
        self.events: deque[VerdictChanged | ActionTaken] = deque(maxlen=MAX_EVENTS)

    def listen(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Call ``callback(event)`` with every Chunk, VerdictChanged and ActionTaken (on the
        receiving thread: return at once); returns what stops it."""
        return self._listeners.add(callback)

    def on_start(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Call ``callback(self)`` when the job streams a new watch (before its first events)."""
        return self._started.add(callback)

    def scale_lr(self, factor: float, rollback: bool = False) -> Future:
        """Ask the job to ``scale_lr(factor, rollback=rollback)``; returns the Future of its
        answer (``[]``: accepted, applied at the job's next step; a refusal also comes to the
        listeners as an ActionTaken with its error).

        Raises
        ------
        ValueError, TypeError
            ``factor`` is not a finite number > 0, ``rollback`` not a bool.
        RuntimeError
            No job streamed a watch here yet.
        """
        f = check_factor(factor)
        if not isinstance(rollback, bool):
            raise TypeError(f"rollback must be True or False, got {rollback!r}")
        if not self.watch_id:
            raise RuntimeError("no job streams a watch here yet (link.watch(watch) in the job)")
        future = self._send(f, rollback)
        future.add_done_callback(lambda fut: self._answered(fut, f))
        return future

    def _answered(self, future: Future, factor: float) -> None:
        e = future.exception()
        if e is not None:
            self._tell(ActionTaken(self.step, factor, None, (), str(e)))

    def _tell(self, event: VerdictChanged | ActionTaken) -> None:
        self.events.append(event)
        if isinstance(event, VerdictChanged):
            self.verdict, self.reason = event.verdict, event.reason
        self._listeners.emit(event)

    # ------------------------------------------------------------------ the receiving thread
    def take(self, batch: WatchBatch) -> None:
        """A ``watch`` message of the job (checked): to the listeners."""
        if batch.watch != self.watch_id:
            self.watch_id, self.step = batch.watch, 0
            self.verdict, self.reason = "watching", ""
            self.events.clear()
            self._started.emit(self)
        self._chunk(batch)
        for ev in batch.events:
            if ev not in self.events:  # a replay (the job's answer to a sync) says it again
                self._tell(ev)

    def _chunk(self, batch: WatchBatch) -> None:
        skip = max(0, self.step - batch.start)  # steps already shown: a chart's steps only grow
        losses, lrs = batch.losses[skip:], batch.lrs[skip:]
        if not losses.size:
            return
        if batch.start > self.step:
            self._gaps.warning(
                "steps %d to %d of the job's watch were lost", self.step, batch.start - 1
            )
        start = max(batch.start, self.step)
        self.step = start + losses.size
        self._listeners.emit(Chunk(start, losses, lrs.reshape(-1, 1), np.full(1, np.nan)))
