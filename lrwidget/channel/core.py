"""The channel: the one place where a source's events, the views and their commands meet.

::

    source (LRFinder, or a remote job) --events--> Channel --state, readings--> views
    views --commands (select, apply, stop, hello, placement)--> Channel --> source.apply / stop

One :class:`Channel` per source (:meth:`Channel.of`). It owns every piece of state that more
than one thread could touch, and one *writer* thread that alone changes it, sets view traits
and sends messages. Everything else only puts typed items on its queue: the source's stream
thread (events), the kernel's comm handler (commands), callers of the public API
(:meth:`Channel.call`). So

* every view of a source shows the same run, the same selection and the lr the optimizer
  actually holds;
* the writer exists only while there is work: no thread while no run is going, one for any
  number of views (a cell re-run twenty times means one writer, not twenty);
* what comes from a view is validated here, once (:mod:`lrwidget.channel.protocol`): an lr must
be one
  the test tried, anything else is logged and never reaches the optimizer.

Views implement :class:`ChannelView` (the anywidget, the bqplot view); sources implement
:class:`Source` (``LRFinder`` does).

Example
-------
>>> import torch; from torch import nn
>>> from lrwidget import LRFinder
>>> m = nn.Linear(2, 1); finder = LRFinder(m, torch.optim.SGD(m.parameters(), lr=1e-3))
>>> Channel.of(finder) is Channel.of(finder)
True
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..engine.stream import LrApplied, Readings, RunEnded, RunStarted
from ..pure.readings import ReadingsBuffer
from ..pure.rules import STATUS_OF_REASON
from . import protocol as P
from .applying import ApplyDone, Applying
from .interfaces import INITIAL_STATE, ChannelView, Source
from .run_state import RunState
from .writer import Call, Writer

__all__ = ["Channel", "ChannelView", "Source", "STATUS_OF_REASON"]

log = logging.getLogger("lrwidget.channel")


@dataclass(frozen=True)
class _Command:
    view: ChannelView
    command: P.Command


@dataclass(frozen=True)
class _RunnerDone:
    error: str | None


@dataclass(frozen=True)
class _Saved:
    """The source's result from before the channel was made (shown as a finished run)."""

    result: Any


_registry_lock = threading.Lock()
#: where a source keeps its channel (an attribute of the source: the channel lives as long as it)
_CHANNEL_ATTR = "_lrwidget_channel"


class Channel(Applying):
    """Between one source and its views; see the module docstring.

    Parameters
    ----------
    source : Source
        Use :meth:`of` rather than the constructor, so that a source has one channel.
    """

    #: seconds between ``readings`` messages (the source's batches are merged to this)
    send_interval = 0.1
    #: seconds between progress updates (step, elapsed, eta) while running
    progress_interval = 0.25
    #: seconds between heartbeats while running
    heartbeat_interval = 1.0

    @classmethod
    def of(cls, source: Source) -> Channel:
        """The channel of ``source``, made on first use."""
        with _registry_lock:
            ch = getattr(source, _CHANNEL_ATTR, None)
            if ch is None:
                ch = cls(source)
                setattr(source, _CHANNEL_ATTR, ch)
            return ch

    def __init__(self, source: Source):
        self.source = source
        self._writer = Writer(self._handle, self._timeout, self._tick, self._busy)
        self._lock = threading.Lock()  # guards _unsubscribe only
        self._unsubscribe: Callable[[], None] | None = None
        # ---- below: the writer's alone
        self.views: list[ChannelView] = []
        self.state: dict[str, Any] = dict(INITIAL_STATE)
        self.runs = RunState()  # the run the views show, for a replay
        self.result: Any = None
        self._phase = "idle"  # "idle" | "expected" | "running"
        self._stop_pending = False
        self._pending_lr: float | None = None
        self._error_from: str | None = None
        self._sent = 0  # readings sent in regular messages
        self._seq = 0
        self._elapsed = 0.0
        self._progress_dirty = False
        self._t_readings = self._t_progress = self._t_heartbeat = -math.inf
        if getattr(source, "result", None) is not None and not source.running:
            self.post(_Saved(source.result))

    @property
    def run(self) -> RunStarted | None:
        """The current (or last) run (writer thread)."""
        return self.runs.run

    @property
    def readings(self) -> ReadingsBuffer:
        """Its readings so far (writer thread)."""
        return self.runs.readings

    def drawn(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(lrs, losses, line)`` as the views draw the run (writer thread; views, not copies):
        a finished run's line is its loss smoothed without lag (``RunState.line``), a running
        one's the live EMA its readings carry."""
        lrs, losses, smoothed = self.readings.view()
        line = self.runs.line()
        return lrs, losses, smoothed if line is None else line

    # ------------------------------------------------------------------ any thread
    def post(self, item: Any) -> None:
        """Queue an event or command for the writer (starts it when needed)."""
        self._writer.post(item)

    def command(self, view: ChannelView, content: Any) -> None:
        """A message a view's front end sent: parsed here, handled on the writer.

        A malformed message is logged (logger ``lrwidget.channel``) and dropped.
        """
        try:
            cmd = P.parse_command(content)
        except P.BadCommand as e:
            log.warning("ignored a message from the front end: %s", e)
            return
        if isinstance(cmd, P.Stop):
            self.source.stop()  # a flag write, safe from any thread; the writer need not wait
        self.post(_Command(view, cmd))

    def call(self, fn: Callable[[], Any], timeout: float | None = None) -> Any:
        """Run ``fn()`` on the writer and return its value (raise its exception).

        Everything queued before is handled first, so ``call(lambda: None)`` is a barrier.
        """
        return self._writer.call(fn, timeout)

    def attach(self, view: ChannelView) -> None:
        """Add a view: it gets the whole state now, and everything from here on."""
        self._subscribe()
        self.call(lambda: self._attach(view))

    def detach(self, view: ChannelView) -> None:
        """Remove a view; the last one to go ends the subscription to the source."""
        last = self.call(lambda: self._detach(view), timeout=10)
        if last:
            with self._lock:
                unsubscribe, self._unsubscribe = self._unsubscribe, None
            if unsubscribe is not None:
                unsubscribe()

    def expect_run(self) -> None:
        """A run is about to start in another thread: views say "running" from now on.

        Raises
        ------
        RuntimeError
            A run is already going (or expected) on this source.
        """
        self.call(self._expect)

    def runner_done(self, error: BaseException | None) -> None:
        """The thread that ran the test is done; ``error`` is what it raised, if anything."""
        text = (
            None if error is None else type(error).__name__ + (f": {error}" if str(error) else "")
        )
        self.post(_RunnerDone(text))

    def _subscribe(self) -> None:
        with self._lock:
            if self._unsubscribe is None:
                self._unsubscribe = self.source.subscribe(self._from_source, interval=0.05)

    def _from_source(self, event: Any) -> None:
        # runs on the source's delivery thread
        self.post(event)
        if isinstance(event, RunEnded):
            # the source returns only after this: once range_test() returns, every view shows
            # the end of the run (and a queued Apply is done)
            self.call(lambda: None, timeout=30)

    # ------------------------------------------------------------------ the writer
    def _busy(self) -> bool:
        return self._phase != "idle" or self._sent < self.readings.n

    def _timeout(self) -> float | None:
        due = []
        if self._sent < self.readings.n:
            due.append(self._t_readings + self.send_interval)
        if self._phase == "running":
            if self._progress_dirty:
                due.append(self._t_progress + self.progress_interval)
            due.append(self._t_heartbeat + self.heartbeat_interval)
        return max(0.0, min(due) - time.monotonic()) if due else 0.5

    def _tick(self) -> None:
        now = time.monotonic()
        if self._sent < self.readings.n and now - self._t_readings >= self.send_interval:
            self._send_readings()
        if self._phase == "running":
            if self._progress_dirty and now - self._t_progress >= self.progress_interval:
                self._set_progress()
            if now - self._t_heartbeat >= self.heartbeat_interval:
                self._t_heartbeat = now
                t = time.time()
                for v in self._live():
                    v.channel_heartbeat(t)

    def _handle(self, item: Any) -> None:
        if isinstance(item, Readings):
            self._take_readings(item)
            return
        self._send_readings()  # what came before an item is sent before it
        for kind, handler in self._handlers():
            if isinstance(item, kind):
                handler(item)
                return

    def _handlers(self) -> tuple[tuple[type, Callable[[Any], None]], ...]:
        return (
            (Call, Call.run),
            (_Command, self._command),
            (RunStarted, self._start_run),
            (RunEnded, self._end_run),
            (LrApplied, self._lr_applied),
            (ApplyDone, self._apply_done),
            (_RunnerDone, self._runner_done),
            (_Saved, self._saved),
        )

    def _runner_done(self, item: _RunnerDone) -> None:
        if self._phase != "expected":
            return
        self._phase = "idle"
        if item.error is not None:  # it failed before the test began: no RunEnded comes
            self._pending_lr = None
            self._error_from = "run"
            self._set(status="error", error=item.error, pending_apply=False)

    def _saved(self, item: _Saved) -> None:
        r = item.result
        self._start_run(
            RunStarted(0, r.num_iter, r.start_lr, r.end_lr, r.step_mode, 0.0), quiet=True
        )
        self.runs.write(0, r.lrs, r.losses, r.smoothed)
        self._end_run(RunEnded(0, r.stop_reason, r, r.error, r.elapsed))

    def _live(self) -> list[ChannelView]:
        return [v for v in self.views if v.wants_readings]

    def _set(self, **changes: Any) -> None:
        changed = {
            k: v
            for k, v in changes.items()
            if self.state.get(k) != v or type(self.state.get(k)) is not type(v)
        }
        if not changed:
            return
        self.state.update(changed)
        for v in self.views:
            v.channel_state(changed)

    def _attach(self, view: ChannelView) -> None:
        if view in self.views:
            return
        self.views.append(view)
        view.channel_attached()
        view.channel_state(dict(self.state))

    def _detach(self, view: ChannelView) -> bool:
        if view in self.views:
            self.views.remove(view)
        return not self.views

    def _expect(self) -> None:
        if self._phase != "idle" or self.source.running:
            raise RuntimeError(
                "a range test is already running on this LRFinder; call stop() or wait() first"
            )
        self._phase = "expected"
        self._stop_pending = False
        self._error_from = None
        self._set(status="running", error="", step=0, eta=None, diverged_lr=None)

    # -- runs
    def _start_run(self, ev: RunStarted, quiet: bool = False) -> None:
        self.runs.update(ev)
        self._sent = self._seq = 0
        self._elapsed = 0.0
        self._phase = "idle" if quiet else "running"
        self._t_readings = self._t_progress = -math.inf
        self._t_heartbeat = time.monotonic()
        self._progress_dirty = False
        self._error_from = None
        self._set(
            status="running",
            step=0,
            num_iter=int(ev.num_iter),
            elapsed=0.0,
            eta=None,
            start_lr=float(ev.start_lr),
            end_lr=float(ev.end_lr),
            step_mode=ev.step_mode,
            diverged_lr=None,
            suggestions=[],
            selected_lr=None,
            error="",
            saved_readings=b"",
        )
        for v in self.views:
            v.channel_run(ev)
        if self._stop_pending and not quiet:
            self.source.stop()  # Stop came between run() and the start of the test
        self._stop_pending = False

    def _take_readings(self, ev: Readings) -> None:
        if not self.runs.update(ev):
            return  # a run whose start this channel never saw
        self._elapsed = float(ev.elapsed)
        self._progress_dirty = True

    def _send_readings(self) -> None:
        n = self.readings.n
        if self._sent >= n or self.run is None:
            return
        start, self._sent = self._sent, n
        seq, self._seq = self._seq, self._seq + 1
        self._t_readings = time.monotonic()
        for v in self._live():
            v.channel_readings(seq, start, n, False)

    def _set_progress(self) -> None:
        n, total = self.readings.n, self.state["num_iter"]
        eta = round(self._elapsed / n * (total - n), 2) if 0 < n < total else None
        self._set(step=n, elapsed=round(self._elapsed, 3), eta=eta)
        self._progress_dirty = False
        self._t_progress = time.monotonic()

    def _end_run(self, ev: RunEnded) -> None:
        if not self.runs.update(ev):
            return
        result, error, elapsed = ev.result, ev.error, ev.elapsed
        self._phase = "idle"
        if result is not None and len(result) != self.readings.n:
            # trust the result (the engine's own arrays) over what the stream delivered
            self.runs.write(0, result.lrs, result.losses, result.smoothed)
        self._send_readings()
        self._send_line(self._live())
        self.result = result
        n = self.readings.n
        reason = result.stop_reason if result is not None else "error"
        self._error_from = "run" if error else None
        self._set(
            step=n,
            elapsed=round(float(elapsed), 3),
            eta=None,
            suggestions=_suggestion_dicts(result),
            diverged_lr=float(self.readings.lrs[n - 1]) if reason == "diverged" and n else None,
            error=error or "",
            status=STATUS_OF_REASON.get(reason, "error"),
            saved_readings=P.encode_saved_readings(ev.run_id, *self.drawn()),
        )
        self._progress_dirty = False
        self._apply_pending()
        for v in self.views:
            v.channel_ended(result)

    def _send_line(self, views: list[ChannelView]) -> None:
        """The finished run's line (after its readings), to ``views``; nothing while it runs."""
        line = self.runs.line()
        if line is not None and self.run is not None:
            for v in views:
                v.channel_line(self.run.run_id, line)

    # -- commands
    def _command(self, item: _Command) -> None:
        view, cmd = item.view, item.command
        if isinstance(cmd, P.Hello):
            self._replay(view)
        elif isinstance(cmd, P.Placement):
            view.channel_placement(cmd.view, cmd.where)
        elif isinstance(cmd, P.Stop):
            if self._phase == "expected":
                self._stop_pending = True  # the test has not begun: stop it when it does
        elif isinstance(cmd, P.Select):
            self._select_command(cmd)
        elif isinstance(cmd, P.Apply):
            self._apply_command(cmd)

    def _replay(self, view: ChannelView) -> None:
        view.channel_hello()
        if self.run is None:
            return
        view.channel_run(self.run)
        view.channel_readings(self._seq - 1, 0, self.readings.n, True)
        self._send_line([view])


def _suggestion_dicts(result: Any) -> list[dict[str, Any]]:
    """``result.suggestions`` as the JSON-ready list the views show, the default rule first."""
    if result is None:
        return []
    from ..pure.suggest import DEFAULT

    out = []
    for name, s in result.suggestions.items():
        lr = None if s.lr is None or not math.isfinite(float(s.lr)) else float(s.lr)
        out.append(
            {
                "name": name,
                "lr": lr,
                "index": s.index,
                "reason": s.reason,
                "default": name == DEFAULT,
            }
        )
    return out
