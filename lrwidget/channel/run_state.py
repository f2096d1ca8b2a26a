"""One run as its consumers replicate it: events in, state and a version out (pure).

The channel, a job's link to the notebook and the notebook's remote source each keep a copy of
a source's current (or last) run, to replay it to whoever comes late. This is that copy, once:
no threads, no I/O; its owner serialises the calls.

Example
-------
>>> from lrwidget.engine.stream import RunStarted, Readings, RunEnded
>>> s = RunState()
>>> s.update(RunStarted(1, 10, 1e-5, 1.0, "exp", 0.0))
True
>>> v = s.version
>>> s.update(Readings(1, 0, 0, [1e-5, 1e-4], [2.0, 1.9], [2.0, 1.95], 0.1))
True
>>> [type(e).__name__ for e in s.since(v)], s.since(v)[0].start
(['Readings'], 0)
>>> s.update(Readings(7, 0, 0, [1.0], [1.0], [1.0], 0.1))  # a run it never saw start
False
"""

from __future__ import annotations

import bisect
from typing import Any, Union

import numpy as np

from ..engine.stream import LrApplied, Readings, RunEnded, RunStarted
from ..pure.readings import ReadingsBuffer
from ..pure.smooth import centered

__all__ = ["RunEvent", "RunState"]

#: what a :class:`RunState` takes (and hands back from :meth:`RunState.since`)
RunEvent = Union[RunStarted, Readings, RunEnded, LrApplied]


class RunState:
    """The current (or last) run of one source: its start, readings, end, and the applied lrs.

    Every change bumps :attr:`version`; :meth:`since` gives the events that bring a copy made
    at an older version up to date (all of them for version 0: a replay from scratch).
    """

    def __init__(self) -> None:
        self.run: RunStarted | None = None
        self.readings = ReadingsBuffer()
        self.ended: RunEnded | None = None
        self.applied: tuple[float, ...] | None = None
        self.applied_schedule: tuple | None = None  # the schedule those lrs start, if any
        self.applied_peaks: tuple[float, ...] | None = None  # and its peaks
        self.version = 0
        self._run_ver = 0
        self._ended_ver = 0
        self._applied_ver = 0
        self._marks: list[tuple[int, int]] = []  # (version, readings.n) after each write
        self._line: tuple[tuple[int, int], np.ndarray] | None = None  # (made at, line)

    # ------------------------------------------------------------------ events in
    def update(self, ev: RunEvent) -> bool:
        """Take one event; False (and nothing changes) if it is of a run not current here."""
        if isinstance(ev, RunStarted):
            self._start(ev)
        elif isinstance(ev, LrApplied):
            self.version += 1
            self.applied, self._applied_ver = tuple(float(x) for x in ev.lrs), self.version
            self.applied_schedule, self.applied_peaks = ev.schedule, ev.peaks
        elif not self.current(ev.run_id):
            return False
        elif isinstance(ev, Readings):
            self.write(ev.start, ev.lrs, ev.losses, ev.smoothed)
        else:
            self.version += 1
            self.ended, self._ended_ver = ev, self.version
        return True

    def current(self, run_id: int) -> bool:
        """Whether ``run_id`` is the run held here."""
        return self.run is not None and self.run.run_id == run_id

    def write(self, start: int, lrs: Any, losses: Any, smoothed: Any) -> None:
        """Readings ``[start, start + len(lrs))`` of the current run (e.g. from its result)."""
        self.readings.write(start, lrs, losses, smoothed)
        self.version += 1
        self._marks.append((self.version, self.readings.n))

    def seed(self, result: Any, run_id: int = 0, t0: float = 0.0) -> None:
        """A run that ended before anyone looked: ``result`` (a RangeTestResult) whole."""
        r = result
        self._start(RunStarted(run_id, r.num_iter, r.start_lr, r.end_lr, r.step_mode, t0))
        self.write(0, r.lrs, r.losses, r.smoothed)
        self.update(RunEnded(run_id, r.stop_reason, r, r.error, r.elapsed))

    def line(self) -> np.ndarray | None:
        """The line a finished run is drawn with: its loss smoothed without lag.

        :func:`lrwidget.pure.smooth.centered` of the readings' lrs and raw losses, one value per
        reading, made once per finished run (again only if its readings were written since).
        None while the run goes on (the views draw the live EMA the readings carry) and for a
        run without readings.
        """
        if self.ended is None or not self.readings.n:
            return None
        made_at = (self._ended_ver, self._marks[-1][0])
        if self._line is None or self._line[0] != made_at:
            lrs, losses, _ = self.readings.view()
            self._line = made_at, centered(lrs, losses)
        return self._line[1]

    def _start(self, ev: RunStarted) -> None:
        self.version += 1
        self.run, self._run_ver = ev, self.version
        self.ended = None
        self.readings.clear()
        self._marks.clear()

    # ------------------------------------------------------------------ state out
    def n_at(self, version: int) -> int:
        """How many readings of the current run a copy made at ``version`` holds."""
        if version < self._run_ver:
            return 0
        i = bisect.bisect_right(self._marks, (version, float("inf")))
        return self._marks[i - 1][1] if i else 0

    def since(self, version: int) -> list[RunEvent]:
        """The events that bring a copy made at ``version`` to this one (0: from scratch).

        The readings come as one :class:`Readings` (``seq`` -1, copies of the arrays).
        """
        out: list[RunEvent] = []
        if self.run is not None:
            if version < self._run_ver:
                out.append(self.run)
            start = self.n_at(version)
            if start < self.readings.n:
                lrs, losses, smoothed = (a.copy() for a in self.readings.view(start))
                out.append(Readings(self.run.run_id, -1, start, lrs, losses, smoothed, 0.0))
            if self.ended is not None and version < self._ended_ver:
                out.append(self.ended)
        if self.applied is not None and version < self._applied_ver:
            out.append(LrApplied(self.applied, self.applied_schedule, self.applied_peaks))
        return out
