"""A run's life on a finder, written once for ``range_test`` and ``track``.

:class:`Runs` is a finder's bookkeeping (who holds it, the running test, a snapshot kept after
a failed restore, the subscribers); :class:`Session` is one run through it: take the finder
(atomic, before anything is touched), snapshot, agree with the other ranks, begin, then end
(restore, the views hear the end) or abort (a test that never began). The recovery path, what
an exception or a Ctrl-C at any point leaves behind, lives here only.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any, Callable

import torch

from ..pure.schedule import Sweep
from .collective import Collective, CollectiveRule
from .history import History, RangeTestResult
from .loop import StopRule
from .progress import INTERVAL, ProgressBar
from .snapshot import Snapshot
from .stream import RunEnded, RunStarted, Stream


class Run:
    """State of one running test (shared by range_test and track)."""

    def __init__(
        self,
        run_id: int,
        snapshot: Snapshot,
        readings: History,
        rule: StopRule,
        sweep: Sweep,
        moved_from: torch.device | None,
    ) -> None:
        self.run_id = run_id
        self.snapshot = snapshot
        self.readings = readings
        self.rule = rule
        self.sweep = sweep
        self.start_lr = float(sweep.starts[0])
        self.end_lr = sweep.end_lr
        self.num_iter = sweep.num_iter
        self.step_mode = sweep.step_mode
        self.moved_from = moved_from
        self.reason: str | None = None
        self.error: BaseException | None = None
        self.elapsed: float | None = None  # agreed by the ranks (a collective test)
        self.t0 = time.time()
        self.perf0 = time.perf_counter()
        self.streams: dict[int, Any] = {}
        self.started = RunStarted(
            run_id, self.num_iter, self.start_lr, self.end_lr, self.step_mode, self.t0
        )

    def stream(self, key: int, callback: Callable, interval: float) -> None:
        """Deliver this run's events to ``callback`` from a thread of its own."""
        self.streams[key] = Stream(
            callback, interval, self.readings, self.started, self.perf0
        ).start()


class Busy(RuntimeError):
    """A test is running on this finder (another thread): nothing collective may start here."""


class Sub:
    __slots__ = ("callback", "interval")

    def __init__(self, callback: Callable, interval: float) -> None:
        self.callback = callback
        self.interval = interval


def describe(e: BaseException) -> str:
    return type(e).__name__ + (f": {e}" if str(e) else "")


def not_restored(e: BaseException, error: str | None) -> str:
    msg = (
        f"the model and optimizer were NOT restored after the range test: {describe(e)}. "
        "The saved state is kept: remove the cause, then call finder.restore() to write it "
        "back (finder.restore(discard=True) keeps the model and optimizer as they are now)"
    )
    if error:
        msg += f". The test itself had failed first: {error}"
    return msg


def result_of(run: Run, failed: BaseException | None) -> RangeTestResult:
    """The run's result: "error" when it raised, or when its restore failed (``failed``)."""
    readings = run.readings
    error = None
    if run.error is not None:
        reason = "error"
        error = describe(run.error)
    else:
        reason = run.reason or ("completed" if readings.n >= run.num_iter else "stopped")
    if failed is not None:
        reason = "error"
        error = not_restored(failed, error)
    return RangeTestResult(
        *readings.view(),
        reason,
        run.step_mode,
        run.start_lr,
        run.end_lr,
        run.num_iter,
        time.perf_counter() - run.perf0 if run.elapsed is None or error else run.elapsed,
        error,
    )


class Runs:
    """A finder's runs: one at a time, taken and released under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # the stop rule of the test that holds the finder, from the moment it was taken (before
        # its snapshot) until it ended; None when free. Taken and released under lock only.
        self.claim: StopRule | None = None
        self.active: Run | None = None  # the running test, once it has begun
        self.pending: Snapshot | None = None  # kept after a restore that failed
        self.subs: list[Sub] = []
        self.ids = itertools.count(1)
        self.result: RangeTestResult | None = None  # the last run's

    def check_idle(self) -> None:
        if self.claim is not None:
            raise Busy(
                "a range test is already running on this LRFinder; wait for it "
                "to end (or call stop()) before starting another"
            )
        if self.pending is not None:
            raise RuntimeError(
                "the model and optimizer were NOT restored after the last range "
                "test (see finder.result.error); call finder.restore() to retry "
                "once the cause is removed, or finder.restore(discard=True) to "
                "keep them as they are, before starting another test"
            )

    def take(self, rule: StopRule) -> None:
        """Check that the finder is free and take it, as one step under the lock."""
        with self.lock:
            self.check_idle()
            self.claim = rule

    def release(self) -> None:
        with self.lock:
            self.claim = None

    def restore(self, discard: bool) -> bool:
        """Write back (or drop) the snapshot kept after a failed restore; see LRFinder.restore."""
        with self.lock:
            if self.claim is not None:
                raise RuntimeError(
                    "restore() called while a range test is running on this "
                    "LRFinder; a running test restores by itself when it ends"
                )
            snap = self.pending
            if snap is None:
                return False
            self.claim = StopRule(2, 2.0)  # nothing may start while the state is written back
        try:
            if discard:
                snap.free()
                self.pending = None
                return False
            try:
                snap.restore()
            except BaseException as e:
                if snap.restored:  # restored, then a held-back Ctrl-C
                    snap.free()
                    self.pending = None
                    raise
                if not isinstance(e, Exception):
                    raise
                raise RuntimeError(not_restored(e, None)) from e
            snap.free()
            self.pending = None
            return True
        finally:
            self.release()


class Session:
    """One run's life: :meth:`take`, :meth:`capture`, :meth:`agree`, :meth:`begin`, then
    :meth:`close` (ends a begun run, aborts one that never began) and :meth:`failed` on an error.

    Parameters
    ----------
    runs : Runs
        The finder's runs.
    comm : Collective or None
        The ranks this test runs with (its stop rule is then a ``CollectiveRule``).
    num_iter, diverge_th
        The stop rule's.
    capture : callable
        ``capture(*loaders) -> Snapshot`` of the model, optimizer and the loaders' RNGs.
    move, move_back : callable
        ``move() -> device or None`` moves the model to the test's device and returns where
        it was (None: not moved); ``move_back(device)`` undoes it.
    """

    def __init__(
        self,
        runs: Runs,
        comm: Collective | None,
        num_iter: int,
        diverge_th: float,
        *,
        capture: Callable[..., Snapshot],
        move: Callable[[], torch.device | None],
        move_back: Callable[[torch.device], Any],
    ) -> None:
        self.runs = runs
        self.comm = comm
        self.rule = (StopRule if comm is None else CollectiveRule)(num_iter, diverge_th)
        self._capture = capture
        self.move = move
        self.move_back = move_back
        self.snap: Snapshot | None = None
        self.run: Run | None = None
        self.agreed = comm is None  # a collective test: whether the ranks were asked to start

    def take(self) -> None:
        self.runs.take(self.rule)  # from here on this session owns the finder, or it raised

    def capture(self, *loaders: Any) -> None:
        """Snapshot what the test will change (and the loaders' RNGs) before it changes it."""
        self.snap = self._capture(*loaders)

    def agree(self, plan: dict) -> None:
        """Tell the other ranks this one starts, and check that they run the same ``plan``."""
        if self.comm is not None:
            self.agreed = True
            self.comm.agree_start(None, plan)

    def begin(self, sweep: Sweep, readings: History, progress: bool) -> Run:
        snap = self.snap
        assert snap is not None, "capture the snapshot before the run begins"
        moved_from = self.move()
        run = Run(next(self.runs.ids), snap, readings, self.rule, sweep, moved_from)
        # made here, on the thread that started the test (tqdm.auto picks its kind of bar here)
        bar = ProgressBar(run.started) if progress else None
        with self.runs.lock:
            self.runs.active = run
            for sub in self.runs.subs:
                run.stream(id(sub), sub.callback, sub.interval)
            if bar is not None:  # one more subscriber of this run, updated off the hot loop
                run.stream(id(bar), bar, INTERVAL)
        self.run = run
        return run

    def failed(self, e: BaseException) -> None:
        """Record ``e`` as the run's error; a rank that never agreed tells the others why."""
        if self.run is not None:
            self.run.error = e
        if not self.agreed and isinstance(e, Exception) and self.comm is not None:
            # no rank has stepped yet: nothing collective is pending
            self.comm.agree_start(e, None)

    def close(self) -> RangeTestResult | None:
        """End the run (restore, the views hear the end), or abort one that never began."""
        run, snap = self.run, self.snap
        active = self.runs.active
        if run is None and snap is not None and active is not None and active.snapshot is snap:
            run = active  # interrupted inside begin: end it like any run
        if run is None:
            self._abort(snap)
            return None
        self.run = None
        return self._end(run)

    def _abort(self, snap: Snapshot | None) -> None:
        """End a test that was taken but never began: put back what the loader touched."""
        try:
            if snap is not None:
                try:
                    snap.restore()  # only the loader was touched (its RNG draw); put that back
                except BaseException as e:
                    if not snap.restored:
                        with self.runs.lock:
                            self.runs.pending = snap
                        if isinstance(e, Exception):
                            raise RuntimeError(not_restored(e, None)) from e
                    raise
                snap.free()
        finally:
            self.runs.release()

    def _end(self, run: Run) -> RangeTestResult:
        snap = run.snapshot
        failed = late = None
        streams: list = []
        try:
            try:
                if run.moved_from is not None:
                    self.move_back(run.moved_from)
                snap.restore()
            except BaseException as e:  # noqa: BLE001 - raised below, once the views heard the end
                if snap.restored:
                    late = e  # restored, then a Ctrl-C held back during the restore
                else:
                    failed = e
            if failed is None:
                snap.free()
            result = self.runs.result = result_of(run, failed)
        finally:
            with self.runs.lock:
                if failed is not None:
                    self.runs.pending = snap  # kept for finder.restore()
                self.runs.active = None
                self.runs.claim = None
                streams = list(run.streams.values())
        ended = RunEnded(run.run_id, result.stop_reason, result, result.error, result.elapsed)
        for s in streams:
            s.finish(ended)
        if failed is not None:
            if isinstance(failed, Exception):
                raise RuntimeError(result.error) from failed
            raise failed
        if late is not None:
            raise late
        return result
