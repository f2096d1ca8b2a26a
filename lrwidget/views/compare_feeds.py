"""The runs of a compare chart (issue 20): what each input is (a live widget, a result, a saved
file), its curve so far, its optimizer and how an lr is applied to it, and the live feed that
follows a widget's channel.

A live :class:`~lrwidget.views.widget.LRFinderWidget` is followed the way every view follows a
source: :class:`LiveFeed` is a :class:`~lrwidget.channel.interfaces.ChannelView` of the
widget's channel; its methods run on that channel's writer thread and keep a copy of the
readings (so the compare widget never reads another thread's buffer).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from ..channel.core import Channel, ChannelView
from ..engine.finder import LRFinder
from ..engine.history import RangeTestResult
from ..engine.loop import write_lr
from ..engine.range_schedule import group_lrs
from ..engine.stream import RunStarted
from ..pure.readings import ReadingsBuffer
from ..pure.smooth import centered
from ..pure.suggest import DEFAULT
from .widget import LRFinderWidget

__all__ = ["CompareRun", "LiveFeed", "Curve", "make_run"]

#: (lrs, raw losses, smoothed losses), float64
Curve = tuple[np.ndarray, np.ndarray, np.ndarray]


class LiveFeed(ChannelView):
    """A live widget's runs as one curve of the chart: readings copied as they come.

    ``notify(kind, start, stop)`` is told "run" (a new run began: forget the curve), "readings"
    (``[start, stop)`` are new) and "ended"; it runs on the channel's writer thread.
    """

    def __init__(self, channel: Channel, notify: Callable[[str, int, int], None]) -> None:
        self._channel = channel
        self._notify = notify
        self._lock = threading.Lock()
        self.readings = ReadingsBuffer()
        self.running = False
        self.result: RangeTestResult | None = channel.result

    def snapshot(self) -> tuple[bool, Curve]:
        """(running, a copy of the readings so far), from any thread."""
        with self._lock:
            lrs, losses, smoothed = (a.copy() for a in self.readings.view())
            return self.running, (lrs, losses, smoothed)

    # ChannelView (the channel's writer thread)
    def channel_attached(self) -> None:
        ch = self._channel
        if ch.run is not None and ch.readings.n:
            with self._lock:
                self.readings.write(0, *ch.drawn())  # a finished run's line, without lag
                self.running = ch.source.running
        self._notify("attached", 0, 0)

    def channel_run(self, run: RunStarted) -> None:
        with self._lock:
            self.readings.clear()
            self.running = True
            self.result = None
        self._notify("run", 0, 0)

    def channel_readings(self, seq: int, start: int, stop: int, replay: bool) -> None:
        with self._lock:
            self.readings.write(start, *self._channel.readings.view(start, stop))
        self._notify("readings", start, stop)

    def channel_line(self, run_id: int, line: np.ndarray) -> None:
        """The finished run's line (no lag) replaces the live EMA of its readings."""
        with self._lock:
            self.readings.write(0, *self._channel.drawn())

    def channel_ended(self, result: Any) -> None:
        with self._lock:
            self.running = False
            self.result = result if isinstance(result, RangeTestResult) else None
        self._notify("ended", 0, 0)

    def channel_state(self, changes: dict[str, Any]) -> None:
        if "applied_lr" in changes:
            self._notify("applied", 0, 0)  # the warning reads the optimizer's lr again


class CompareRun:
    """One run of the chart: its label, where its readings come from, and its optimizer."""

    def __init__(
        self,
        label: str,
        widget: LRFinderWidget | None,
        result: RangeTestResult | None,
        optimizer: Any,
    ) -> None:
        self.label = label
        self.widget = widget
        self.result = result
        self.optimizer = optimizer
        self.feed: LiveFeed | None = None
        # a result is drawn, like every finished run, with its loss smoothed without lag
        self._line = None if result is None else centered(result.lrs, result.losses)

    @property
    def live(self) -> bool:
        return self.widget is not None

    def curve(self) -> tuple[bool, Curve, RangeTestResult | None]:
        """(running, the readings so far, the finished result or None)."""
        if self.feed is not None:
            running, curve = self.feed.snapshot()
            return running, curve, None if running else self.feed.result
        r = self.result
        assert r is not None and self._line is not None  # a run that is not live is a result
        return False, (r.lrs, r.losses, self._line), r

    def suggestion(self) -> tuple[float | None, int | None]:
        """The default suggestion of the finished curve: (lr, reading index), or Nones."""
        _, _, result = self.curve()
        s = None if result is None else result.suggestions.get(DEFAULT)
        if s is None or s.lr is None or not np.isfinite(s.lr):
            return None, None
        return float(s.lr), s.index

    def optimizer_lr(self) -> float | None:
        """The first param group's lr now (None while a live test sweeps it, or no optimizer)."""
        opt = self.optimizer
        if opt is None or (self.feed is not None and self.feed.snapshot()[0]):
            return None
        try:
            lr = float(opt.param_groups[0]["lr"])
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            return None
        return lr if np.isfinite(lr) else None  # a synced trait is JSON: no NaN, no inf

    def target(self) -> str:
        """Which optimizer Apply writes to, in words."""
        if self.optimizer is None:
            if self.widget is not None:
                return "the job's optimizer"  # a widget of a source in another process
            return "none (pass optimizers=[...] to apply)"
        return f"{self.label}'s {type(self.optimizer).__name__} optimizer"

    def apply(self, lr: float) -> None:
        """Write ``lr`` into this run's optimizer (the groups keep their ratio to the first)."""
        if self.widget is not None:
            self.widget.apply(lr)  # the finder's one lr writer, through its channel: views agree
            return
        if self.optimizer is None:
            raise ValueError(
                f"run {self.label!r} has no optimizer to apply to: pass optimizers=[...] to "
                "compare() with one for this run"
            )
        for g, v in zip(self.optimizer.param_groups, group_lrs(self.optimizer, lr)):
            write_lr(g, "lr", v)


def make_run(obj: Any, optimizer: Any, i: int) -> tuple[CompareRun, str]:
    """Run ``i`` from compare()'s input: (the run, its default label or "")."""
    if optimizer is not None and not isinstance(getattr(optimizer, "param_groups", None), list):
        raise TypeError(
            f"optimizers[{i}] must be a torch.optim.Optimizer (or None), "
            f"got {type(optimizer).__name__}"
        )
    if isinstance(obj, LRFinderWidget):
        own = obj.finder.optimizer if isinstance(obj.finder, LRFinder) else None
        if optimizer is not None and optimizer is not own:
            raise ValueError(
                f"optimizers[{i}]: run {i} is a live LRFinderWidget; its Apply writes to its "
                "finder's optimizer (pass None for it)"
            )
        return CompareRun("", obj, None, own), obj.title
    if isinstance(obj, (str, os.PathLike)):
        obj = RangeTestResult.load(obj)
    if isinstance(obj, RangeTestResult):
        if not len(obj):
            raise ValueError(f"runs[{i}]: the result has no readings to draw")
        return CompareRun("", None, obj, optimizer), ""
    raise TypeError(
        f"runs[{i}] must be an LRFinderWidget, a RangeTestResult or a path to a saved result, "
        f"got {type(obj).__name__}"
    )
