"""Deliver a range test's readings to a subscriber in batches, from a thread of its own.

The training loop only writes into :class:`lrwidget.engine.history.History`; a
:class:`Stream` thread
wakes every ``interval`` seconds, reads ``History.n`` and hands the new readings to the callback
as one :class:`Readings` event. The training thread never calls a subscriber, so a slow
subscriber (a widget sending messages) cannot slow the test down, and a fast test cannot flood
the subscriber (one event per interval, however many readings).

Events for one run arrive in this order: :class:`RunStarted`, zero or more :class:`Readings`
(``seq`` 0, 1, 2, ...), :class:`RunEnded`. :meth:`Stream.finish` does a last flush and delivers
``RunEnded`` before it returns.

Example
-------
>>> from lrwidget.engine.history import History
>>> events = []
>>> h = History(10, 0.0)
>>> s = Stream(events.append, 0.01, h, RunStarted(1, 10, 1e-3, 1.0, "exp", 0.0))
>>> _ = s.start(); _ = h.append(1e-3, 2.0); s.finish(RunEnded(1, "stopped", None, None, 0.0))
>>> [type(e).__name__ for e in events]
['RunStarted', 'Readings', 'RunEnded']
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Union

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from .history import History, RangeTestResult

__all__ = ["LrApplied", "Readings", "RunEnded", "RunStarted", "Stream"]

log = logging.getLogger("lrwidget.stream")


@dataclass(frozen=True)
class RunStarted:
    """A range test began: a subscriber should clear what it shows."""

    run_id: int
    num_iter: int
    start_lr: float
    end_lr: float
    step_mode: str
    t0: float  # time.time() at the start


@dataclass(frozen=True)
class Readings:
    """New readings ``[start, start + len(lrs))`` of run ``run_id`` (arrays are copies)."""

    run_id: int
    seq: int
    start: int
    lrs: NDArray[np.float64]
    losses: NDArray[np.float64]
    smoothed: NDArray[np.float64]
    elapsed: float

    @property
    def count(self) -> int:
        return int(self.lrs.size)


@dataclass(frozen=True)
class RunEnded:
    """The run is over; the model and optimizer were already restored."""

    run_id: int
    stop_reason: str
    result: RangeTestResult | None
    error: str | None
    elapsed: float


@dataclass(frozen=True)
class LrApplied:
    """New lrs were written into the optimizer (``LRFinder.apply`` / ``schedule``), one per
    param group.

    Delivered at once, from the thread that applied them (not a stream thread). ``schedule``:
    ``(kind, lo, hi, total_steps)`` when ``LRFinder.schedule`` attached a schedule (the lrs are
    its first step's); None when one lr was applied, which detaches any schedule shown.
    ``peaks``: with a schedule, each param group's peak lr as the built scheduler holds it (the
    views show these numbers, not ones recomputed from ``lrs``, which round differently).
    """

    lrs: tuple[float, ...]
    schedule: tuple[str, float, float, int] | None = None
    peaks: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if (self.schedule is None) != (self.peaks is None):
            raise ValueError("LrApplied: a schedule comes with its peaks, and peaks with one")


#: what a :class:`Stream` hands its subscriber
Event = Union[RunStarted, Readings, RunEnded]


class Stream:
    """One subscriber's delivery thread for one run.

    Parameters
    ----------
    callback : callable
        ``callback(event)``, called on the stream thread. An exception in it is logged with its
        traceback (logger ``lrwidget.stream``; the first three of a run) and delivery goes on.
    interval : float
        Seconds between flushes.
    readings : History
        The run's readings (read without a lock, up to ``readings.n``).
    started : RunStarted
        The first event delivered.
    perf0 : float, optional
        ``time.perf_counter()`` at the start of the run (default: now).
    """

    def __init__(
        self,
        callback: Callable[[Event], object],
        interval: float,
        readings: History,
        started: RunStarted,
        perf0: float | None = None,
    ) -> None:
        self.callback = callback
        self.interval = float(interval)
        self.readings = readings
        self.started = started
        self.sent = 0
        self.seq = 0
        self.errors = 0
        # Readings.elapsed counts from here
        self._t = time.perf_counter() if perf0 is None else perf0
        self._wake = threading.Event()
        self._closing = False
        self._ended: RunEnded | None = None
        self._thread = threading.Thread(target=self._run, name="lrwidget-stream", daemon=True)

    def start(self) -> Stream:
        self._thread.start()
        return self

    def _emit(self, event: Event) -> None:
        try:
            self.callback(event)
        except Exception:  # a broken subscriber must not end the run or the other events
            self.errors += 1
            if self.errors <= 3:  # the first few tell the bug; a broken view would flood the log
                log.exception("a subscriber raised; delivery continues")

    def flush(self) -> None:
        """Deliver readings written since the last flush as one event (stream thread only)."""
        h = self.readings
        n = h.n  # read n first: everything below n is already written
        if n <= self.sent:
            return
        start = self.sent
        lrs, losses, smoothed = h.view(start, n)
        self.sent = n
        ev = Readings(
            self.started.run_id,
            self.seq,
            start,
            lrs,
            losses,
            smoothed,
            time.perf_counter() - self._t,
        )
        self.seq += 1
        self._emit(ev)

    def _run(self) -> None:
        self._emit(self.started)
        while not self._closing:
            self._wake.wait(self.interval)
            self.flush()
        self.flush()
        if self._ended is not None:
            self._emit(self._ended)

    def finish(self, ended: RunEnded | None = None, timeout: float | None = 30.0) -> None:
        """Flush the last readings, deliver ``ended`` (if given) and wait for the thread."""
        self._ended = ended
        self._closing = True
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def cancel(self) -> None:
        """Stop delivering (no RunEnded); returns without waiting."""
        self._ended = None
        self._closing = True
        self._wake.set()
