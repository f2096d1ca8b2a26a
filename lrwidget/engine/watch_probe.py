"""The watch's opt-in reversible probe: is the lr too low? (``Watch.probe``)

A plateau and convergence look alike, so a slope alone never says "too low"; the probe asks the
loss. Between two steps it puts a snapshot in the ring (the state to come back to), notes the
:func:`lrwidget.pure.verdict.slope` of the last ``steps`` losses, scales the whole schedule by
``factor`` (:func:`lrwidget.engine.schedules.scale`, as ``scale_lr`` does) for ``steps`` steps,
then decides with :func:`lrwidget.pure.verdict.probe` at the sync point that ends them:

- the loss fell clearly faster: the higher lr is kept, the verdict is "too_low" (evidence
  "probe");
- else the probe's snapshot comes back, bit for bit (weights, optimizer, schedulers, RNG: so the
  lr and the schedule too), and the verdict says the lr in use is not too low.

Reversible means nothing the probe did stays unless it decided so: a probe the doctor finds
too_high during it, one an action (``scale_lr``) interrupts, or one the ``with`` block's end cuts
short is rolled back the same way (the action then applies to the state before the probe).

Its verdict stands while the doctor has nothing new to say ("watching"). The base stretch is
the losses since the last change of lr by hand (an action, a probe's end): fewer than ``steps``
of them and the probe is refused. No regular snapshot is taken while a probe runs (it could push
the probe's own out of the ring). Under torch.distributed it is collective
(:mod:`lrwidget.engine.watch_collective`): it starts on every rank after the same step (called
on every rank's training thread alike, or asked on one rank from another thread), and every
rank decides alike, on the ranks' mean losses (what every rank's doctor reads); the snapshot
each rank comes back to is its own, taken at the same step.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..pure.numbers import is_int, is_real
from ..pure.verdict import Diagnosis, probe, slope
from .schedules import base_lrs, scale
from .watch_events import Action, Event, ProbeEnded, ProbeStarted

if TYPE_CHECKING:
    import numpy as np

    from .watch import Watch
    from .watch_ring import Entry

__all__ = ["MAX_STEPS", "MIN_STEPS", "ProbeAsk", "Prober"]

log = logging.getLogger("lrwidget.watch")

#: the shortest probe: fewer steps give a slope that batch noise decides
MIN_STEPS = 8
#: the longest probe, and the recent losses the watch keeps for its base stretch
MAX_STEPS = 1024


@dataclass(frozen=True)
class ProbeAsk(Action):
    """An asked ``probe``, waiting in the watch's queue like a ``scale_lr`` (rollback False)."""

    steps: int = 32


@dataclass
class _Run:
    ask: ProbeAsk
    entry: Entry
    base: list[float]  # the losses before the probe: they are the history again after a rollback
    base_slope: float
    losses: list[float] = field(default_factory=list)


class Prober:
    """A watch's probe: its checks, its start, and its end at a sync point.

    Parameters
    ----------
    watch : Watch
        Read through its public attributes (step, verdict, every, comm, ring, optimizer,
        schedulers).
    tell : callable
        The watch's ``event -> None``: events list, listeners, terminal line.
    snapshot : callable
        Takes a snapshot of the state now into the watch's ring.
    restart : callable
        ``why -> None``: a new doctor (after a rollback its readings are of an abandoned future).
    """

    def __init__(
        self,
        watch: Watch,
        tell: Callable[[Event], None],
        snapshot: Callable[[], None],
        restart: Callable[[str], None],
    ) -> None:
        self.watch = watch
        self._tell, self._snapshot, self._restart = tell, snapshot, restart
        self.recent: deque[float] = deque(maxlen=MAX_STEPS)
        self.run: _Run | None = None
        self.asked = False  # a probe waits in the queue (asked from another thread)
        self.standing: Diagnosis | None = None  # the last probe's verdict, while nothing overrules
        self._ended_at = -1
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        """A probe runs or ended at this very step: no regular snapshot now."""
        return self.run is not None or self._ended_at == self.watch.step

    # ------------------------------------------------------------------ asking
    def check(self, steps: Any, factor: Any, is_open: bool, mark: bool = True) -> ProbeAsk:
        """The asked probe, or the error naming what is wrong (nothing is changed); ``mark``:
        note it as asked (it waits in the queue) until it starts."""
        w = self.watch
        if not is_int(steps) or not MIN_STEPS <= int(steps) <= MAX_STEPS or int(steps) % w.every:
            raise ValueError(
                f"steps must be an integer in [{MIN_STEPS}, {MAX_STEPS}] and a multiple of the "
                f"watch's every={w.every} (a probe is decided at a sync point), got {steps!r}"
            )
        if not is_real(factor) or not (math.isfinite(float(factor)) and float(factor) > 1):
            raise ValueError(
                f"factor must be a finite number > 1 (2.0: try the lr x2), got {factor!r}"
            )
        if not is_open:
            raise RuntimeError("probe() outside `with finder.watch(...) as watch:`")
        with self._lock:
            self._check_free()
            self.asked = mark
        return ProbeAsk(float(factor), False, int(steps))

    def _check_free(self) -> None:
        run = self.run
        if run is not None or self.asked:
            since = "" if run is None else f" since step {run.entry.step}"
            raise RuntimeError(
                f"a probe is already running{since} (or asked); nothing was changed: its outcome "
                "comes as a ProbeEnded in watch.events"
            )
        if self.watch.verdict == "too_high":
            raise RuntimeError(
                "the verdict is too_high: a probe asks whether the lr is too low; nothing was "
                "changed (cut the lr first: scale_lr(0.1, rollback=True))"
            )

    # ------------------------------------------------------------------ starting
    def start(self, ask: ProbeAsk, raises: bool) -> ProbeStarted:
        """Start ``ask`` now (between two steps): snapshot, base slope, schedule x factor.

        A refusal raises when ``raises`` (nothing changed, no event), else it is told as a
        :class:`ProbeStarted` with its ``error``.
        """
        w = self.watch
        try:
            with self._lock:
                self.asked = False
                self._check_free()
            base = self._base(ask.steps)
            entry = self._take_snapshot()
        except (RuntimeError, ValueError) as e:
            if raises:
                raise
            held = tuple(float(g["lr"]) for g in w.optimizer.param_groups)
            refused = ProbeStarted(w.step, ask.factor, ask.steps, None, math.nan, held, str(e))
            self._tell(refused)
            return refused
        lrs = scale(w.optimizer, w.schedulers, ask.factor)
        self.run = _Run(ask, entry, base, slope(base))
        started = ProbeStarted(
            w.step, ask.factor, ask.steps, entry.step, self.run.base_slope, tuple(lrs), None
        )
        self._tell(started)
        return started

    def _base(self, steps: int) -> list[float]:
        """The last ``steps`` losses at the lr in use (checked: enough, and lrs to scale)."""
        w = self.watch
        bases = base_lrs(w.optimizer, w.schedulers)
        if not all(b > 0 and math.isfinite(b) for b in bases):
            raise ValueError(f"probe needs positive base lrs to scale, the groups have {bases}")
        if len(self.recent) < steps:
            raise RuntimeError(
                f"the probe compares with the last {steps} losses at the lr in use, and "
                f"{len(self.recent)} were recorded since the lr last changed by hand; nothing was "
                "changed (probe later, or with fewer steps)"
            )
        return list(self.recent)[-steps:]

    def _take_snapshot(self) -> Entry:
        ring = self.watch.ring
        last = ring.entries[-1] if ring.entries else None
        self._snapshot()
        entry = ring.entries[-1] if ring.entries else None
        if entry is None or entry is last:
            raise RuntimeError(
                f"the probe's snapshot does not fit ring_bytes={ring.cap}: nothing to come back "
                "to, so no probe; nothing was changed (raise ring_bytes)"
            )
        return entry

    # ------------------------------------------------------------------ at each sync
    def judged(self, d: Diagnosis, losses: np.ndarray) -> Diagnosis:
        """The chunk's losses heard, the doctor's diagnosis ``d`` in: the verdict to show.

        Ends a probe whose steps are done (or that the doctor finds too_high); a probe's
        verdict stands while the doctor says "watching".
        """
        run = self.run
        if run is None:
            self.recent.extend(losses.tolist())
        else:
            run.losses.extend(losses.tolist())
            if d.verdict == "too_high" or len(run.losses) >= run.ask.steps:
                self.standing = self._end(run, d)
                return self.standing
        if self.standing is not None and d.verdict == "watching":
            return self.standing
        self.standing = None
        return d

    def _end(self, run: _Run, d: Diagnosis) -> Diagnosis:
        factor = run.ask.factor
        got = slope(run.losses[: run.ask.steps])
        found = probe(run.base_slope, got, factor, d.step)
        if d.verdict == "too_high":
            found = Diagnosis(
                "healthy",
                f"at x{factor:g} the lr the loss diverged: the lr is not too low, keep it",
                "probe",
            )
        if found.verdict == "too_low":
            self._finish(run, got, found, kept=True)
            self.recent = deque(run.losses, maxlen=MAX_STEPS)  # the stretch at the lr now in use
            return found
        self._roll_back(run, f"probe x{factor:g} rolled back: watching again")
        self._finish(run, got, found, kept=False)
        return Diagnosis(found.verdict, found.reason, "probe")  # the new doctor's step 0

    def _roll_back(self, run: _Run, why: str) -> None:
        self.run = None
        self._ended_at = self.watch.step
        run.entry.restore()
        self.watch.ring.drop_after(run.entry.step)
        self.recent = deque(run.base, maxlen=MAX_STEPS)
        self._restart(why)

    def _finish(self, run: _Run, got: float, found: Diagnosis, kept: bool) -> None:
        w = self.watch
        self.run = None
        self._ended_at = w.step
        lrs = tuple(float(g["lr"]) for g in w.optimizer.param_groups)
        back = None if kept else run.entry.step
        f = run.ask.factor
        self._tell(
            ProbeEnded(w.step, f, kept, back, run.base_slope, got, found.verdict, found.reason, lrs)
        )

    # ------------------------------------------------------------------ cut short
    def interrupt(self, why: str) -> None:
        """An action or the block's end comes during a probe: roll the probe back first (its
        outcome: undecided, "watching"). Either way the base stretch starts again."""
        run = self.run
        if run is not None:
            self._roll_back(run, f"probe cut short ({why}): watching again")
            cut = Diagnosis("watching", f"the probe was cut short by {why}: rolled back", "probe")
            self._finish(run, slope(run.losses), cut, kept=False)
        self.standing = None
        self.recent.clear()

    def close(self, failing: bool) -> None:
        """The ``with`` block ends: a probe still running is rolled back (``failing``: an
        exception is leaving the block; a failed rollback is then logged, not raised over it)."""
        try:
            self.interrupt("the end of the with block")
        except Exception:
            if not failing:
                raise
            log.exception("watch: rolling back the probe at the block's end failed")
