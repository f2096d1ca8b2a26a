"""What a :class:`lrwidget.engine.watch.Watch` tells its listeners, and the actions it is asked.

Events, each a frozen dataclass, delivered in step order on the training thread at a sync
point (every ``every`` steps; an action at once):

- :class:`Chunk`: the readings of steps ``[start, start + count)``: the losses, the lr each
  param group actually used at each step, and the update/weight ratio of each group (log10 of
  std(update) / std(weight), measured on the chunk's last step; NaN when not measured, -inf
  when a sample of the group saw too few changes);
- :class:`VerdictChanged`: the doctor's verdict (or the group it names) changed;
- :class:`ActionTaken`: a ``scale_lr`` was applied (or refused, ``error`` says why);
- :class:`ProbeStarted`, :class:`ProbeEnded`: a ``probe`` began (or was refused) and how it
  ended (:mod:`lrwidget.engine.watch_probe`).

``watch.events`` keeps every event but the chunks (:data:`Event`); chunks go to listeners only.
:class:`Listeners` calls them and survives any of them failing.

Example
-------
>>> seen = []
>>> ls = Listeners(); off = ls.add(seen.append)
>>> ls.emit(ActionTaken(32, 0.1, None, (0.01,), None)); off(); ls.emit("dropped")
>>> [type(e).__name__ for e in seen]
['ActionTaken']
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from typing import Any, Callable, Union

import numpy as np
from numpy.typing import NDArray

from ..pure.numbers import is_real

__all__ = [
    "Action",
    "ActionTaken",
    "Chunk",
    "Event",
    "Listeners",
    "ProbeEnded",
    "ProbeStarted",
    "VerdictChanged",
    "check_factor",
    "describe_event",
]

log = logging.getLogger("lrwidget.watch")


@dataclass(frozen=True)
class Chunk:
    """Readings of steps ``[start, start + count)``: ``losses[i]`` (float64), ``lrs[i, g]`` the
    lr param group ``g`` used at that step, ``ratios[g]`` the group's log10 update/weight ratio
    on the chunk's last step (NaN: not measured; -inf: a sample of the group saw too few of
    its elements change, see :mod:`lrwidget.engine.watch_ratios`)."""

    start: int
    losses: NDArray[np.float64]
    lrs: NDArray[np.float64]
    ratios: NDArray[np.float64]

    @property
    def count(self) -> int:
        return int(self.losses.size)


@dataclass(frozen=True)
class VerdictChanged:
    """The doctor's verdict after step ``step``: ``verdict`` in ("watching", "healthy",
    "too_high", "too_low"), ``reason`` (one line), ``evidence`` ("loss", "curve", "probe"),
    ``since`` (the step the trouble began, or None)."""

    step: int
    verdict: str
    reason: str
    evidence: str
    since: int | None


@dataclass(frozen=True)
class ActionTaken:
    """``scale_lr(factor, rollback)`` applied after step ``step``: ``rolled_back_to`` is the
    step whose snapshot came back (None: no rollback), ``lrs`` what the groups hold after it;
    ``error`` says why it was refused (then nothing changed)."""

    step: int
    factor: float
    rolled_back_to: int | None
    lrs: tuple[float, ...]
    error: str | None


@dataclass(frozen=True)
class ProbeStarted:
    """``probe(steps, factor)`` began after step ``step``: ``snapshot`` is the step of the
    snapshot it comes back to, ``base_slope`` the :func:`lrwidget.pure.verdict.slope` of the
    ``steps`` losses before it, ``lrs`` what the groups hold now (x``factor``); ``error`` says
    why it was refused (then nothing changed and the other fields are None / NaN)."""

    step: int
    factor: float
    steps: int
    snapshot: int | None
    base_slope: float
    lrs: tuple[float, ...]
    error: str | None


@dataclass(frozen=True)
class ProbeEnded:
    """A probe ended after step ``step``: ``kept`` the higher lr (verdict "too_low"), else
    ``rolled_back_to`` the step of its snapshot (bit for bit, the lr and schedule too);
    ``verdict`` and ``reason`` say what it found (evidence "probe"); ``lrs`` what the groups
    hold now."""

    step: int
    factor: float
    kept: bool
    rolled_back_to: int | None
    base_slope: float
    probe_slope: float
    verdict: str
    reason: str
    lrs: tuple[float, ...]


#: what ``watch.events`` holds (every event but :class:`Chunk`)
Event = Union[VerdictChanged, ActionTaken, ProbeStarted, ProbeEnded]


@dataclass(frozen=True)
class Action:
    """An asked ``scale_lr``, waiting for the step boundary it is applied at."""

    factor: float
    rollback: bool


def check_factor(factor: Any) -> float:
    """``factor`` as a float, or ValueError naming it (a finite number > 0).

    Example
    -------
    >>> check_factor(0.1)
    0.1
    >>> check_factor(0)
    Traceback (most recent call last):
    ...
    ValueError: factor must be a finite number > 0 (0.1: cut the lr 10x), got 0
    """
    if not is_real(factor) or not (math.isfinite(float(factor)) and float(factor) > 0):
        raise ValueError(
            f"factor must be a finite number > 0 (0.1: cut the lr 10x), got {factor!r}"
        )
    return float(factor)


class Listeners:
    """Callbacks of a watch's events; one that raises is logged and the others still run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[Any], None]] = []

    def add(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Add ``callback``; returns the function that removes it."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {callback!r}")
        with self._lock:
            self._callbacks.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove

    def __bool__(self) -> bool:
        return bool(self._callbacks)

    def emit(self, event: Any) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for cb in callbacks:
            try:
                cb(event)
            except Exception:  # a view's bug must not end the training
                log.exception("a watch listener failed on %s", type(event).__name__)


def describe_event(event: Event) -> str:
    """One line for a terminal or a log: the step, the verdict and its reason, or the action."""
    if isinstance(event, VerdictChanged):
        return f"lrwidget watch: step {event.step}: {event.verdict}: {event.reason}"
    if isinstance(event, (ProbeStarted, ProbeEnded)):
        return _describe_probe(event)
    back = "" if event.rolled_back_to is None else f", rolled back to step {event.rolled_back_to}"
    lrs = ", ".join(f"{v:.3g}" for v in event.lrs)
    what = f"refused: {event.error}" if event.error else f"lr now {lrs}"
    return f"lrwidget watch: step {event.step}: lr x{event.factor:g}{back}: {what}"


def _describe_probe(event: ProbeStarted | ProbeEnded) -> str:
    head = f"lrwidget watch: step {event.step}: probe x{event.factor:g}"
    if isinstance(event, ProbeStarted):
        if event.error:
            return f"{head} refused: {event.error}"
        return f"{head} for {event.steps} steps (snapshot at step {event.snapshot})"
    back = "kept" if event.kept else f"rolled back to step {event.rolled_back_to}"
    return f"{head} {back}: {event.reason}"
