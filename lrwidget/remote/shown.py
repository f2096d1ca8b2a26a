"""A job's runs as the notebook shows them (a part of
:class:`lrwidget.remote.source.RemoteSource`'s receiving thread): the job's events and states in,
this notebook's events out.

* **Runs get local ids**: two jobs (or a job and its restart) both number their runs from 1.
* Readings follow on: a batch that starts past what was shown is no job's, and is dropped.
* A run whose job went away (or was replaced) ends in the views, as an error saying why; a job
  that comes back is shown whole again (its state).
"""

from __future__ import annotations

import itertools
import time
from typing import Any, Callable

from ..engine.stream import LrApplied, Readings, RunEnded, RunStarted
from .codec import State
from .transport import LogLimit

__all__ = ["Shown"]


class Shown:
    """The run shown now: whose it is, its local id, how many readings of it the views have.

    Parameters
    ----------
    emit : callable
        Takes each event for the views (the delivering thread's ``put``).
    dropped : LogLimit
        Where a batch of readings that is no job's is logged.
    """

    def __init__(self, emit: Callable[[Any], None], dropped: LogLimit):
        self._emit = emit
        self._dropped = dropped
        self._key: tuple | None = None  # (session, the job's run id) shown now
        self._local = 0  # its local run id
        self.open = False  # started and not ended in the views
        self._lost = False  # ended by a disconnect
        self._n = 0  # readings of it shown
        self._applied: tuple | None = None  # (lrs, schedule, peaks) shown last
        self._seq = 0
        self._t0 = 0.0
        self._run_ids = itertools.count(1)

    def event(self, ev: Any, session: str) -> None:
        """An event of the job ``session`` (decoded, in order)."""
        if isinstance(ev, RunStarted):
            self._start((session, ev.run_id), ev)
        elif isinstance(ev, Readings):
            if self._key == (session, ev.run_id) and self.open:
                self._readings(ev)
        elif isinstance(ev, RunEnded):
            if self._key == (session, ev.run_id) and self.open:
                self._end(ev)
        elif isinstance(ev, LrApplied):
            self._applied = (tuple(ev.lrs), ev.schedule, ev.peaks)
            self._emit(ev)

    def state(self, st: State, session: str) -> None:
        """The whole state of the job ``session``: its run shown from scratch if it is new
        (or was lost), its readings so far, its end, the lrs it holds and the schedule they
        start."""
        if st.run is not None:
            key = (session, st.run.run_id)
            fresh = key != self._key or self._lost
            if fresh:
                self._start(key, st.run)
            if fresh or self.open:
                self._all_readings(st, st.run)
                if st.ended is not None:
                    self._end(st.ended)
        held = (
            None
            if st.applied is None
            else (tuple(st.applied), st.applied_schedule, st.applied_peaks)
        )
        if held is not None and held != self._applied:
            self._applied = held
            self._emit(LrApplied(*held))

    def lose(self, why: str) -> None:
        """The job is gone (or replaced) during a run: the run ends in the views, as an error."""
        if self.open:
            self.open, self._lost = False, True
            self._emit(RunEnded(self._local, "error", None, why, max(0.0, time.time() - self._t0)))

    def _start(self, key: tuple, run: RunStarted) -> None:
        self._key = key
        self._local = next(self._run_ids)
        self.open, self._lost = True, False
        self._n = 0
        self._seq = 0
        self._t0 = run.t0
        self._emit(
            RunStarted(self._local, run.num_iter, run.start_lr, run.end_lr, run.step_mode, run.t0)
        )

    def _end(self, ev: RunEnded) -> None:
        self.open = False
        self._emit(RunEnded(self._local, ev.stop_reason, ev.result, ev.error, ev.elapsed))

    def _readings(self, ev: Readings) -> None:
        if ev.start > self._n:  # a job's readings follow on: this is no job's
            self._dropped.warning(
                "dropped readings from index %d (%d shown so far)", ev.start, self._n
            )
            return
        self._n = max(self._n, ev.start + ev.lrs.size)
        self._seq += 1
        self._emit(
            Readings(self._local, self._seq, ev.start, ev.lrs, ev.losses, ev.smoothed, ev.elapsed)
        )

    def _all_readings(self, st: State, run: RunStarted) -> None:
        if st.lrs is None or st.losses is None or st.smoothed is None or not st.lrs.size:
            return
        self._seq += 1
        self._n = int(st.lrs.size)
        elapsed = st.ended.elapsed if st.ended is not None else max(0.0, time.time() - run.t0)
        self._emit(Readings(self._local, self._seq, 0, st.lrs, st.losses, st.smoothed, elapsed))
