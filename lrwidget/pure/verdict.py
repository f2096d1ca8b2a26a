"""The training doctor's rules: a loss stream in, a verdict out (pure numpy, streaming).

The seed's lesson as rules: *watch the first few hundred steps; if the loss diverges or
oscillates, the lr is too high (cut it 10x); if it barely moves, it is too low; if it decreases
smoothly, continue.* :class:`Doctor` is fed the steps in chunks (16 at a time in practice) and
keeps O(1) memory however long the run: the medians of fixed blocks of steps (a median ignores
one bad batch), the running best, and a few counters.

- too high: a non-finite loss (at once); a sustained rise over the running best (block medians
  above it, not falling back, for 2 blocks within 32 steps of the lr growing 2x, blamed on that
  raise, 1 if it took the lr near the range test's minimum; ``patience`` blocks, or ``settled``
  at an lr the loss was already falling under: one bad batch's kick); oscillation; no progress
  at an lr near the range test's minimum (:meth:`RangeCurve.near_min`).
- too low, never from a slope alone (a plateau and convergence look alike): the lr in use sits in
  the range test's flat region, left of the descent (:class:`RangeCurve`), or a probe (the lr x2
  for k steps) made the loss fall clearly faster (:func:`probe`).
- healthy: enough steps, and the loss clearly below where it started, with no alarm.
- watching: not enough evidence yet.

Example
-------
>>> import numpy as np
>>> d = Doctor()
>>> falls = 2.3 * np.exp(-np.arange(96) / 40) + 0.1
>>> [d.update(falls[i : i + 16], np.full(16, 1e-2)).verdict for i in range(0, 96, 16)][-1]
'healthy'
>>> d.update(np.array([np.nan]), np.array([1e-2])).verdict
'too_high'
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .rules import format_lr

__all__ = [
    "VERDICTS",
    "EVIDENCE",
    "Diagnosis",
    "RangeCurve",
    "Doctor",
    "slope",
    "probe",
    "GroupOutlier",
    "group_ratios",
]

VERDICTS = ("watching", "healthy", "too_high", "too_low")
EVIDENCE = ("loss", "curve", "probe")


@dataclass(frozen=True)
class Diagnosis:
    """What the doctor says after a chunk.

    Attributes
    ----------
    verdict : str
        One of :data:`VERDICTS`.
    reason : str
        One line in the seed's words: what in the loss (or the curve, or the probe) decided.
    evidence : str
        One of :data:`EVIDENCE`: what decided.
    since : int or None
        The step the trouble began (roll back to the last snapshot before it); None when there
        is no trouble.
    step : int
        Steps seen when this was decided.
    stalled : bool
        The loss barely moves and nothing else decides: a probe (x2 for k steps) would tell
        whether the lr is too low.
    """

    verdict: str
    reason: str
    evidence: str = "loss"
    since: int | None = None
    step: int = 0
    stalled: bool = False


def _median(v: list[float]) -> float:
    # np.median of a few finite floats, bit for bit (numpy's mean of two is (a + b) / 2), at a
    # tenth of its cost: the doctor takes one per block of 4 steps
    s, h = sorted(v), len(v) // 2
    return s[h] if len(s) % 2 else (s[h - 1] + s[h]) / 2


def _top(v: list[float]) -> float:
    """``np.max`` of a few floats: NaN if any is NaN."""
    return math.nan if any(a != a for a in v) else max(v)


@dataclass(frozen=True)
class RangeCurve:
    """A range test's curve as the doctor reads it: where the flat region left of the descent ends.

    Attributes
    ----------
    descent_lr : float or None
        The lowest lr from which the smoothed loss has fallen by ``DESCENT`` of its whole drop
        (start level to minimum); below it the curve is flat. None when the curve never falls.
    """

    descent_lr: float | None
    #: the lowest lr past the minimum where the loss is back above its start (None: never)
    turn_lr: float | None = None
    #: the lr of the curve's minimum (None: the curve never falls)
    min_lr: float | None = None
    #: the fraction of the curve's whole drop that marks the start of the descent
    DESCENT = 0.1
    #: how far below the descent's start an lr must be to count as in the flat region
    MARGIN = 3.0
    #: how close to the curve's minimum an lr counts as at the edge (:meth:`near_min`)
    NEAR = 3.0

    @classmethod
    def of(cls, curve: Any) -> RangeCurve:
        """From ``(lrs, losses)``, an object with ``lrs`` and ``smoothed`` (a range test's
        result), or a :class:`RangeCurve` (returned as is).

        Example
        -------
        >>> lrs = np.logspace(-6, 0, 60)
        >>> losses = 2 / (1 + np.exp(3 * (np.log10(lrs) + 3))) + 0.1
        >>> 1e-5 < RangeCurve.of((lrs, losses)).descent_lr < 1e-3
        True
        """
        if isinstance(curve, RangeCurve):
            return curve
        if hasattr(curve, "smoothed") and hasattr(curve, "lrs"):
            curve = (curve.lrs, curve.smoothed)
        lrs, losses = (np.asarray(a, dtype=np.float64).reshape(-1) for a in curve)
        if lrs.shape != losses.shape:
            raise ValueError(f"curve: lrs and losses differ in length ({lrs.size}, {losses.size})")
        ok = np.isfinite(lrs) & (lrs > 0) & np.isfinite(losses)
        lrs, losses = lrs[ok], losses[ok]
        if lrs.size < 5:
            return cls(None)
        # the start level: the median of the first tenth (the smoothing warms up there)
        start = float(np.median(losses[: max(1, lrs.size // 10)]))
        low = int(np.argmin(losses))
        drop = start - float(losses[low])
        if not drop > 0:
            return cls(None)
        below = np.flatnonzero(losses[: low + 1] <= start - cls.DESCENT * drop)
        above = low + np.flatnonzero(losses[low:] >= start)
        return cls(
            float(lrs[below[0]]) if below.size else None,
            float(lrs[above[0]]) if above.size else None,
            float(lrs[low]),
        )

    def flat(self, lr: float) -> bool:
        """Whether ``lr`` sits well inside the flat region left of the descent (``MARGIN`` x
        below its start: where the descent starts is read off a noisy curve)."""
        return self.descent_lr is not None and lr * self.MARGIN < self.descent_lr

    def near_min(self, lr: float) -> bool:
        """Whether ``lr`` is within ``NEAR`` x of the curve's minimum or past it: above where
        any finder's suggestion lies (fastai's is the minimum / 10), at the edge of stability."""
        return self.min_lr is not None and lr * self.NEAR >= self.min_lr


def slope(losses: ArrayLike) -> float:
    """The trend of a loss stretch: least-squares slope of log(loss) per step (negative: falling).

    The one way the engine measures the two stretches of a probe, so both are read alike.

    Example
    -------
    >>> round(slope(np.exp(-0.01 * np.arange(50))), 4)
    -0.01
    """
    y = np.asarray(losses, dtype=np.float64).reshape(-1)
    y = y[np.isfinite(y) & (y > 0)]
    if y.size < 2:
        return math.nan
    return float(np.polyfit(np.arange(y.size, dtype=np.float64), np.log(y), 1)[0])


def probe(base_slope: float, probe_slope: float, factor: float = 2.0, step: int = 0) -> Diagnosis:
    """Decide from a probe: the lr times ``factor`` for k steps against the k steps before it.

    Parameters
    ----------
    base_slope, probe_slope : float
        :func:`slope` of the stretch before the probe and of the probe's own stretch.
    factor : float
        The probe's lr factor (the engine's x2).
    step : int
        The step the probe ended at.

    Returns
    -------
    Diagnosis
        ``too_low`` (keep the higher lr) when the loss fell at least 1.5x as fast under the probe;
        else ``healthy`` (roll the probe back: the lr in use is not too low).

    Example
    -------
    >>> probe(-0.001, -0.004).verdict, probe(-0.01, -0.009).verdict
    ('too_low', 'healthy')
    """
    times = f"x{factor:g}"
    if not (math.isfinite(base_slope) and math.isfinite(probe_slope)):
        return Diagnosis("watching", f"the {times} probe gave no usable loss", "probe", step=step)
    if probe_slope < 0 and probe_slope <= 1.5 * min(base_slope, 0.0) - 1e-12:
        gain = probe_slope / base_slope if base_slope < 0 else math.inf
        fast = f"{gain:.1f}x faster" if math.isfinite(gain) else "where it had stalled"
        why = f"at {times} the lr the loss fell {fast}: the lr is too low, keep {times}"
        return Diagnosis("too_low", why, "probe", step=step)
    why = f"at {times} the lr the loss fell no faster: the lr is not too low, keep it"
    return Diagnosis("healthy", why, "probe", step=step)


@dataclass(frozen=True)
class GroupOutlier:
    """A param group whose update/weight ratio is far off the others'."""

    group: str
    decades: float
    reason: str


def group_ratios(ratios: Mapping[str, float], decades: float = 2.0) -> GroupOutlier | None:
    """Name the param group whose update/weight ratio is ``decades`` or more off the others.

    Parameters
    ----------
    ratios : mapping
        Group name -> log10(std(update) / std(weight)) (healthy around -3); non-finite values
        are skipped.
    decades : float
        How far from the other groups' median counts as off (2 decades: a 100x lr).

    Returns
    -------
    GroupOutlier or None
        The group furthest off, if any is ``decades`` or more from the median of the others.

    Example
    -------
    >>> group_ratios({"body": -3.1, "head": -0.9, "norm": -3.0}).reason
    "group head's updates are 141x faster than the other groups' (2.1 decades): its lr is too high"
    >>> group_ratios({"a": -3.0, "b": -3.2}) is None
    True
    """
    named = {k: float(v) for k, v in ratios.items() if math.isfinite(float(v))}
    worst: GroupOutlier | None = None
    for name, r in named.items():
        others = [v for k, v in named.items() if k != name]
        if not others:
            break
        off = r - _median(others)
        if abs(off) >= decades and (worst is None or abs(off) > abs(worst.decades)):
            worst = GroupOutlier(name, off, _group_reason(name, off))
    return worst


def _group_reason(name: str, off: float) -> str:
    how, what = ("faster", "too high") if off > 0 else ("slower", "too low")
    return (
        f"group {name}'s updates are {10 ** abs(off):.0f}x {how} than the other groups' "
        f"({abs(off):.1f} decades): its lr is {what}"
    )


class Doctor:
    """The streaming verdict: feed it chunks of (loss, lr), read a :class:`Diagnosis`.

    Parameters
    ----------
    curve : optional
        The range test's curve (see :meth:`RangeCurve.of`): the evidence a too-low lr needs.
    block : int
        Steps per block; the doctor reads block medians, so one bad batch moves nothing.
    patience, settled : int
        Blocks in a row above ``rise`` x the best (not falling back) before a rise is divergence;
        ``settled`` where the loss was already falling healthily at this lr (2 after a raise).
    rise : float
        How far above its best a block median must be to count as a rise.
    min_steps : int
        Steps before anything but a rise or a non-finite loss is decided.
    window : int
        Blocks read for oscillation and progress (the last half 10% below the first).

    Notes
    -----
    Work per update is O(chunk); memory is O(window) whatever the run's length. Once
    ``too_high``, the verdict stays: the engine acts, then starts a new Doctor.
    """

    def __init__(
        self,
        curve: Any = None,
        *,
        block: int = 4,
        patience: int = 3,
        settled: int = 8,
        rise: float = 2.0,
        min_steps: int = 64,
        window: int = 16,
    ) -> None:
        self.curve = None if curve is None else RangeCurve.of(curve)
        self.block, self.patience, self.settled, self.rise = block, patience, settled, rise
        self.min_steps = min_steps
        self.step = 0
        self._pending: list[float] = []
        self._first = math.nan
        self._top, self._top_step = -math.inf, 0
        self._best = math.inf
        self._streak: list[float] = []
        self._streak_since = 0
        self._needed = patience
        self._pending_lr = 0.0
        #: the lr of the block with the best median
        self._best_lr = math.nan
        #: the last ``window`` block medians
        self._medians: deque[float] = deque(maxlen=window)
        #: the step the lr last moved (grew) 2x or more: where trouble from the lr can begin
        self._lr_moved, self._lr_raised = 0, -(2**62)
        #: block medians that jumped up (1.5x, and by 5% of the first loss) among the last ones
        self._jumps: deque[bool] = deque(maxlen=window)
        self._lr = math.nan
        self.diagnosis = Diagnosis("watching", "not enough steps yet", step=0)

    def update(self, losses: ArrayLike, lrs: ArrayLike) -> Diagnosis:
        """Read the next chunk of steps: one loss and the lr used for each.

        Parameters
        ----------
        losses, lrs : array_like
            One value per step, same length.

        Returns
        -------
        Diagnosis
        """
        y = np.asarray(losses, dtype=np.float64).reshape(-1)
        x = np.asarray(lrs, dtype=np.float64).reshape(-1)
        if y.shape != x.shape:
            raise ValueError(f"losses and lrs must have the same length, got {y.size} and {x.size}")
        if self.diagnosis.verdict == "too_high" or y.size == 0:
            return self.diagnosis
        self._note_lr(x)
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            at = self.step + int(bad[0])
            self.step += y.size
            since = self._streak_since if self._streak else at
            self.diagnosis = self._too_high(f"the loss is {y[bad[0]]} at step {at}", since)
            return self.diagnosis
        if math.isnan(self._first):
            self._first = float(y[0])
        top = int(np.argmax(y))
        # a jump at an lr the loss was already falling healthily under is one bad batch's kick
        if y[top] > self._top and self.diagnosis.verdict != "healthy":
            self._top, self._top_step = float(y[top]), self.step + top
        self._read_blocks(y, x)
        if self.diagnosis.verdict != "too_high":
            self.diagnosis = self._judge()
        return self.diagnosis

    def _note_lr(self, x: NDArray[np.float64]) -> None:
        xs = x.tolist()
        prev = [xs[0] if math.isnan(self._lr) else self._lr, *xs[:-1]]
        # a step ratio in [0.6, 1.6] moved nothing whatever log2's last bits: numpy only past it
        if not all(b and 0.6 <= a / b <= 1.6 for a, b in zip(xs, prev)):
            with np.errstate(all="ignore"):
                octaves = np.log2(x / np.array(prev))
            moved, up = np.flatnonzero(np.abs(octaves) >= 1), np.flatnonzero(octaves >= 1)
            self._lr_moved = self.step + int(moved[-1]) if moved.size else self._lr_moved
            self._lr_raised = self.step + int(up[-1]) if up.size else self._lr_raised
        self._lr = xs[-1]

    def _read_blocks(self, y: NDArray[np.float64], x: NDArray[np.float64]) -> None:
        # plain floats: a block is a few values, where numpy's per-call cost is all there is
        ys, xs = y.tolist(), x.tolist()
        i = 0
        while i < len(ys) and self.diagnosis.verdict != "too_high":
            take = min(self.block - len(self._pending), len(ys) - i)
            self._pending += ys[i : i + take]
            self._pending_lr = max(self._pending_lr, _top(xs[i : i + take]))
            self.step += take
            i += take
            if len(self._pending) == self.block:
                self._close_block(_median(self._pending), self._pending_lr)
                self._pending.clear()
                self._pending_lr = 0.0

    def _close_block(self, m: float, lr: float) -> None:
        ref = min(self._best, self._first)
        prev = self._medians[-1] if self._medians else m
        self._jumps.append(m > 1.5 * prev and m - prev >= 0.05 * self._first)
        self._medians.append(m)
        if m < self._best:
            self._best, self._best_lr = m, lr
        raised = self._lr_raised if self.step - self._lr_raised <= 32 else None
        strong = raised is not None and self.curve is not None and self.curve.near_min(lr)
        # a rise counts when it is large against the best and against the progress made (half
        # when the lr just grew near the curve's minimum): a loss near zero wobbles 2x
        if m > self.rise * ref and m - ref > (0.05 if strong else 0.1) * (self._first - ref):
            if not self._streak:
                # the trouble began where the lr grew, if it grew just before: roll back there
                self._streak_since = self.step - self.block if raised is None else raised
                self._needed = 1 if strong else self._patience_for(lr, raised is not None)
            self._streak.append(m)
        else:
            self._streak.clear()
        # fallen back from the streak's peak: one bad batch's kick recovering, not a rise (a
        # loss stuck high after a jump is the no-progress rule's)
        recovering = len(self._streak) > 1 and m < 0.9 * max(self._streak[:-1])
        if len(self._streak) >= self._needed and not recovering:
            steps = self.step - self._streak_since
            self.diagnosis = self._too_high(
                f"loss rose {m / ref:.1f}x over its best in {steps} steps", self._streak_since
            )

    def _patience_for(self, lr: float, raised: bool) -> int:
        """Blocks a rise starting now must last: 2 when the lr grew 2x since the best or just
        before (act fast); ``settled`` when the loss was already falling healthily at this lr (a
        real CNN's SGD bad-batch kick sits at chance 25 steps before it recovers); ``patience``."""
        if raised or lr >= 2 * self._best_lr:
            return min(2, self.patience)
        if self.diagnosis.verdict == "healthy":
            return max(self.settled, self.patience)
        return self.patience

    def _too_high(self, what: str, since: int) -> Diagnosis:
        why = f"{what}: the lr is too high, cut it 10x"
        return Diagnosis("too_high", why, "loss", since, self.step)

    def _judge(self) -> Diagnosis:
        if self.step < self.min_steps or len(self._medians) < 2:
            return Diagnosis("watching", "not enough steps yet", step=self.step)
        now = (self._medians[-2] + self._medians[-1]) / 2  # np.median of the last two
        fell = 1.0 - now / self._first if self._first > 0 else 0.0
        stuck = self._stuck(fell)
        if stuck is not None:
            return stuck
        if self.curve is not None and self.curve.flat(self._lr) and fell < 0.5:
            return self._too_low()
        if fell >= 0.1:
            why = f"loss fell {fell:.0%} from its start: continue"
            return Diagnosis("healthy", why, step=self.step)
        why = f"loss barely moves ({-fell:+.0%} in {self.step} steps): a x2 probe would tell "
        return Diagnosis(
            "watching", why + "whether the lr is too low", step=self.step, stalled=True
        )

    def _stuck(self, fell: float) -> Diagnosis | None:
        """Too high without a sustained rise: blew up then stuck, or swinging without progress."""
        if fell < 0.1 and self._top >= 3 * self._first:
            return self._too_high(
                f"loss jumped to {self._top:.3g} at step {self._top_step} and made no progress "
                "since",
                max(self._top_step - 1, 0),
            )
        jumps = sum(self._jumps)
        if jumps >= 3:
            steps = len(self._jumps) * self.block
            return self._too_high(
                f"loss oscillates: it jumped 1.5x or more {jumps} times in {steps} steps",
                self.step - steps,
            )
        if self.curve is not None and self._stalled(fell) and self.curve.near_min(self._lr):
            why = (
                f"loss makes no progress and lr {format_lr(self._lr)} is at the edge of the range "
                f"test's curve (its minimum is at {format_lr(self.curve.min_lr)}): the lr is too "
                "high, cut it 10x"
            )
            return Diagnosis("too_high", why, "curve", self._lr_moved, self.step)
        return None

    def _stalled(self, fell: float) -> bool:
        """No progress: barely below the start, or the last half of the window not 10% below
        its first half."""
        m = list(self._medians)
        if fell < 0.1:
            return True
        half = len(m) // 2
        full = len(m) == self._medians.maxlen
        return full and _median(m[half:]) >= 0.9 * _median(m[:half])

    def _too_low(self) -> Diagnosis:
        edge = self.curve.descent_lr if self.curve is not None else None
        why = (
            f"lr {format_lr(self._lr)} sits in the range test's flat region (the loss starts "
            f"falling at {format_lr(edge)}): the lr is too low, raise it"
        )
        return Diagnosis("too_low", why, "curve", step=self.step)
