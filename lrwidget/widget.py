"""LRFinderWidget: the live, clickable range-test widget (anywidget), and :func:`find_lr`.

Threads, and why
----------------
* The range test runs in a daemon thread started by :meth:`LRFinderWidget.run`: while a cell's
  own loop runs, the kernel does not process messages from the front end, so a click or Stop
  would wait until the end. From a thread, streaming and clicks both work.
* Every trait write and every ``send`` happens on ONE thread per widget, the *writer*
  (``lrwidget-writer``). The finder's stream thread only puts events on the writer's queue;
  the comm handler (kernel thread) only puts commands there (or calls ``finder.stop()``, a flag
  write). So no two threads ever build widget messages at once, and a slow front end never
  slows the training thread.
* The writer sends at most one ``readings`` message every :attr:`send_interval` seconds (the
  engine's 50 ms batches are merged), progress traits every :attr:`progress_interval` seconds
  (one ``update`` message for all of them) and a heartbeat every second while running: at most
  about 15 messages a second whatever the step rate.
* An Apply while a test runs is queued (``pending_apply``) and done by the writer when it
  handles the run's ``RunEnded`` event, which the finder delivers after it restored the model
  and optimizer. An Apply when idle is done by the writer at once; :meth:`apply` called from
  Python waits for it and returns the new lrs.

Example
-------
>>> import torch; from torch import nn
>>> from lrwidget import LRFinder, LRFinderWidget
>>> torch.manual_seed(0)  # doctest: +ELLIPSIS
<torch._C.Generator object at ...>
>>> model = nn.Linear(4, 3); opt = torch.optim.SGD(model.parameters(), lr=1e-4)
>>> data = [(torch.randn(16, 4), torch.randint(0, 3, (16,))) for _ in range(4)]
>>> w = LRFinderWidget(LRFinder(model, opt, nn.CrossEntropyLoss()))
>>> w.run(data, end_lr=1.0, num_iter=30)      # returns at once
>>> result = w.wait()
>>> w.status in ("done", "diverged"), w.step == len(result)
(True, True)
>>> w.apply(1e-2)
[0.01]
>>> opt.param_groups[0]["lr"] == w.applied_lr == 0.01
True
>>> w.close()
"""
from __future__ import annotations

import html
import math
import pathlib
import queue
import sys
import threading
import time
import traceback
from numbers import Real
from typing import Any, List, Optional

import anywidget
import numpy as np
import traitlets

from . import report
from .finder import LRFinder
from .history import RangeTestResult
from .stream import Readings, RunEnded, RunStarted

__all__ = ["LRFinderWidget", "find_lr", "encode_readings", "STATUS_OF_REASON"]

_STATIC = pathlib.Path(__file__).parent / "static"

#: widget ``status`` for each ``RangeTestResult.stop_reason``
STATUS_OF_REASON = {"completed": "done", "diverged": "diverged", "stopped": "stopped",
                    "error": "error"}


def encode_readings(run_id: int, seq: int, start: int, lrs, losses, smoothed,
                    replay: bool = False):
    """The ``readings`` message of the widget protocol: ``(content, buffers)``.

    Three buffers of ``count`` little-endian float64 each (lr, raw loss, smoothed loss); NaN
    and inf pass through as IEEE values.

    Example
    -------
    >>> c, b = encode_readings(1, 0, 0, [1e-3], [2.0], [2.0])
    >>> c["count"], [len(x) for x in b]
    (1, [8, 8, 8])
    """
    arrs = [np.ascontiguousarray(a, dtype="<f8") for a in (lrs, losses, smoothed)]
    n = int(arrs[0].size)
    if any(a.size != n for a in arrs):
        raise ValueError("lrs, losses and smoothed must have one length")
    content = {"type": "readings", "run_id": int(run_id), "seq": int(seq), "start": int(start),
               "count": n, "replay": bool(replay)}
    return content, [a.tobytes() for a in arrs]


def _positive_lr(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, Real):
        raise TypeError(f"{name} must be a positive finite number, got {v!r}")
    f = float(v)
    if not (f > 0 and math.isfinite(f)):
        raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    return f


class _Call:
    """A function the writer thread runs for another thread, with its outcome."""

    __slots__ = ("fn", "done", "value", "exc")

    def __init__(self, fn):
        self.fn = fn
        self.done = threading.Event()
        self.value = None
        self.exc = None


_CLOSE = object()
#: where a view can report being (the ``placement`` message)
_PLACES = ("sidebar", "hidden", "inline", "gone")


class LRFinderWidget(anywidget.AnyWidget):
    """A live plot of an :class:`~lrwidget.LRFinder`'s range test; click a point, Apply it.

    Every run of ``finder`` streams into the widget: :meth:`run` (the range test in a
    background thread) or your own loop through ``finder.track(...)``.

    Parameters
    ----------
    finder : LRFinder
    title : str
        Shown above the plot.
    height : int
        Plot height in pixels (>= 160).

    Attributes (synced to the view; written by the widget only)
    ----------------------------------------------------------
    status : str
        "idle", "running", "done", "diverged", "stopped" or "error".
    step, num_iter : int
        Readings so far and readings asked for.
    elapsed, eta : float
        Seconds since the start, and estimated seconds left (None when unknown).
    start_lr, end_lr, step_mode
        The sweep of the current / last run.
    diverged_lr : float or None
        The lr of the reading where the test diverged.
    suggestions : list of dict
        ``{"name", "lr", "index", "reason", "default"}`` per rule, the default rule first.
    selected_lr, applied_lr : float or None
        The lr picked in the view (or by Python), and the lr last written to the optimizer.
    pending_apply : bool
        An Apply is waiting for the running test to end.
    error : str
        Why the last run failed ("" when it did not).
    result : RangeTestResult or None
        The last finished run (not synced).

    Example
    -------
    >>> import torch; from torch import nn
    >>> m = nn.Linear(2, 2); opt = torch.optim.SGD(m.parameters(), lr=1e-3)
    >>> w = LRFinderWidget(LRFinder(m, opt), title="demo")
    >>> w.status, w.selected_lr
    ('idle', None)
    >>> w.close()
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    status = traitlets.Unicode("idle").tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    num_iter = traitlets.Int(0).tag(sync=True)
    elapsed = traitlets.Float(0.0).tag(sync=True)
    eta = traitlets.Float(None, allow_none=True).tag(sync=True)
    start_lr = traitlets.Float(None, allow_none=True).tag(sync=True)
    end_lr = traitlets.Float(None, allow_none=True).tag(sync=True)
    step_mode = traitlets.Unicode("exp").tag(sync=True)
    diverged_lr = traitlets.Float(None, allow_none=True).tag(sync=True)
    suggestions = traitlets.List([]).tag(sync=True)
    selected_lr = traitlets.Float(None, allow_none=True).tag(sync=True)
    applied_lr = traitlets.Float(None, allow_none=True).tag(sync=True)
    pending_apply = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Int(320).tag(sync=True)
    #: views that report being in the (visible) right sidebar; see :func:`lrwidget.show_in_sidebar`
    sidebar_views = traitlets.Int(0).tag(sync=True)
    #: set by show_in_sidebar: inline views fold to a note while ``sidebar_views > 0``
    sidebar_fallback = traitlets.Bool(False).tag(sync=True)

    #: seconds between ``readings`` messages (the engine's batches are merged to this)
    send_interval = 0.1
    #: seconds between progress trait updates (step, elapsed, eta) while running
    progress_interval = 0.25
    #: seconds between heartbeats while running
    heartbeat_interval = 1.0

    def __init__(self, finder: LRFinder, title: str = "", height: int = 320, **kwargs):
        if not isinstance(finder, LRFinder):
            raise TypeError(f"finder must be an lrwidget.LRFinder, got {type(finder).__name__}")
        if not isinstance(title, str):
            raise TypeError(f"title must be a str, got {type(title).__name__}")
        if isinstance(height, bool) or not isinstance(height, int) or height < 160:
            raise ValueError(f"height must be an int >= 160 (pixels), got {height!r}")
        super().__init__(title=title, height=height, **kwargs)
        self.finder = finder
        self.result: Optional[RangeTestResult] = None
        self.exception: Optional[BaseException] = None
        self._q: "queue.Queue[Any]" = queue.Queue()
        # the writer's own copy of the current run (only the writer touches these)
        self._run_id: Optional[int] = None
        self._run_info: Optional[RunStarted] = None
        self._lr = self._loss = self._sm = np.empty(0)
        self._n = 0            # readings held
        self._sent = 0         # readings sent in regular (non-replay) messages
        self._seq = 0          # next seq of this run
        self._running = False
        self._elapsed = 0.0
        self._t_readings = -math.inf
        self._t_progress = -math.inf
        self._t_heartbeat = -math.inf
        self._progress_dirty = False
        self._pending_lr: Optional[float] = None
        self._stop_requested = False
        self._saw_end = True
        self._handles: list = []  # IPython display handles, refreshed when a run ends
        self._placements: dict = {}  # view id -> "sidebar" | "hidden" | "inline" (writer only)
        self._runner: Optional[threading.Thread] = None
        self._closed = False
        #: messages sent: (content, buffers); tests and benchmarks read these counters
        self.sent_messages = 0
        self.sent_bytes = 0
        self._writer = threading.Thread(target=self._loop, name="lrwidget-writer", daemon=True)
        self._writer.start()
        self.on_msg(self._on_msg)
        if finder.result is not None and not finder.running:
            self._q.put(("result", finder.result))
        self._unsubscribe = finder.subscribe(self._q.put)

    # ------------------------------------------------------------------ public API
    def run(self, train_loader, **range_test_kwargs) -> None:
        """Start ``finder.range_test(train_loader, **range_test_kwargs)`` in a background thread.

        Returns at once; the plot fills as the test runs. Arguments are checked here, in the
        calling thread: bad input raises before any training step.

        Parameters
        ----------
        train_loader : iterable
            As for :meth:`LRFinder.range_test`.
        **range_test_kwargs
            ``start_lr``, ``end_lr``, ``num_iter``, ``step_mode``, ``smooth_f``,
            ``diverge_th``, ``accumulation_steps``, ``val_loader``, ``step_fn``, ...

        Raises
        ------
        TypeError, ValueError
            For bad arguments (unknown names included).
        RuntimeError
            When a test is already running on this widget or finder.

        Example
        -------
        >>> import torch; from torch import nn
        >>> m = nn.Linear(2, 2); opt = torch.optim.SGD(m.parameters(), lr=1e-3)
        >>> w = LRFinderWidget(LRFinder(m, opt, nn.CrossEntropyLoss()))
        >>> w.run([(torch.randn(4, 2), torch.tensor([0, 1, 0, 1]))], num_iter=1)
        Traceback (most recent call last):
        ...
        ValueError: num_iter must be an int >= 2, got 1
        >>> w.close()
        """
        self._check_open()
        if self._runner is not None and self._runner.is_alive():
            raise RuntimeError("a range test is already running in this widget; call stop() "
                               "or wait() first")
        self._validate_run(train_loader, range_test_kwargs)
        self.exception = None
        self._stop_requested = False
        self._q.put(("mark",))  # lets the writer tell whether this run got as far as RunEnded
        self._runner = threading.Thread(target=self._run_thread,
                                        args=(train_loader, range_test_kwargs),
                                        name="lrwidget-range-test", daemon=True)
        self._runner.start()

    def wait(self, timeout: Optional[float] = None) -> Optional[RangeTestResult]:
        """Block until the test ends and the widget has shown its end; return the result.

        Works for runs started with :meth:`run` and for ``finder.track`` loops (it then waits
        until the widget has handled every event delivered so far).

        Parameters
        ----------
        timeout : float, optional
            Seconds; None waits as long as it takes.

        Returns
        -------
        RangeTestResult or None
            The last finished run (None if none ended yet).

        Raises
        ------
        TimeoutError
            When the test is still running after ``timeout`` seconds.
        BaseException
            The exception that ended a :meth:`run` in its thread (also shown as
            ``status == "error"`` and the ``error`` trait).
        """
        deadline = None if timeout is None else time.monotonic() + float(timeout)

        def left():
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        r = self._runner
        if r is not None:
            r.join(left())
            if r.is_alive():
                raise TimeoutError(f"the range test is still running after {timeout} s")
        if self._writer.is_alive() and threading.current_thread() is not self._writer:
            c = _Call(lambda: None)  # a barrier: everything queued before it is handled
            self._q.put(c)
            if not c.done.wait(left()):
                raise TimeoutError(f"the widget did not catch up within {timeout} s")
        if self.exception is not None:
            raise self.exception
        return self.result

    def stop(self) -> None:
        """End the running test at the next step (status "stopped"); safe from any thread."""
        if self._runner is not None and self._runner.is_alive():
            self._stop_requested = True  # the thread may not have begun the test yet
        self.finder.stop()

    def select(self, lr: Optional[float]) -> None:
        """Set ``selected_lr`` as a click in the view would (None clears it)."""
        v = None if lr is None else _positive_lr("lr", lr)
        self._call(lambda: setattr(self, "selected_lr", v))

    def apply(self, lr: Optional[float] = None) -> Optional[List[float]]:
        """Write ``lr`` into the optimizer (other param groups keep their ratio to the first).

        Parameters
        ----------
        lr : float, optional
            Default: ``selected_lr``, else the default suggestion of the last run.

        Returns
        -------
        list of float or None
            The param groups' new lrs; None when a test is running: the apply is then queued
            (``pending_apply``) and done once the test ended and the model was restored.

        Raises
        ------
        ValueError
            When ``lr`` is None and nothing is selected or suggested, or ``lr`` is not a
            positive finite number.
        """
        if lr is None:
            lr = self.selected_lr
            if lr is None and self.result is not None:
                lr = self.result.suggested_lr
            if lr is None:
                raise ValueError("lr is None and no lr is selected or suggested: pass lr, or "
                                 "select a point on the plot first")
        v = _positive_lr("lr", lr)
        return self._call(lambda: self._apply_now_or_later(v))

    def to_svg(self, **kwargs) -> str:
        """The last result as SVG (:func:`lrwidget.report.to_svg`), with the chosen lrs."""
        if self.result is None:
            raise RuntimeError("no finished range test to draw yet")
        return report.to_svg(self.result, self.selected_lr, self.applied_lr, **kwargs)

    def save_html(self, path, **kwargs) -> str:
        """Write a self-contained HTML report of the last result (:mod:`lrwidget.report`)."""
        if self.result is None:
            raise RuntimeError("no finished range test to report yet")
        return report.save_html(self.result, path, self.selected_lr, self.applied_lr, **kwargs)

    def summary(self) -> str:
        """The one-line text summary used by the static fallback."""
        if self.status == "running":
            return (f"LR range test running: {self.step}/{self.num_iter} readings, "
                    f"{self.elapsed:.1f} s")
        if self.result is None:
            return "LR range test: " + ("failed: " + self.error if self.error else "no run yet")
        return report.summary_line(self.result, self.selected_lr, self.applied_lr)

    def close(self) -> None:
        """Unsubscribe from the finder, end the writer thread and close the comm."""
        if not getattr(self, "_closed", True):
            self._closed = True
            try:
                self._unsubscribe()
            finally:
                self._q.put(_CLOSE)
                if threading.current_thread() is not self._writer:
                    self._writer.join(5)
        super().close()

    # ------------------------------------------------------------------ static fallback
    def _repr_mimebundle_(self, **kwargs):
        """anywidget's bundle (the widget view) plus ``text/plain`` and ``image/svg+xml``, so
        front ends without widgets (GitHub, nbviewer, nbconvert, IPython) show the curve."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        data = dict(data)
        data["text/plain"] = self.summary()
        if self.result is not None and len(self.result):
            svg = report.to_svg(self.result, self.selected_lr, self.applied_lr)
            data["image/svg+xml"] = svg
            # nbconvert and nbviewer show ONE representation per output: text/html carries the
            # curve and the summary line together (widget front ends still pick the view).
            data["text/html"] = (f'<div class="lrwidget-static">{svg}'
                                 f'<p>{html.escape(data["text/plain"])}</p></div>')
        return data, metadata

    def _ipython_display_(self):
        # Displayed with a display id so the saved notebook's static fallback is refreshed when
        # the run ends (the bundle at display time has no curve yet).
        from IPython.display import display
        data, md = self._repr_mimebundle_()
        h = display(data, metadata=md, raw=True, display_id=True)
        if h is not None:
            self._handles.append(h)

    def _refresh_displays(self):
        if not self._handles:
            return
        data, md = self._repr_mimebundle_()
        for h in list(self._handles):
            try:
                h.update(data, metadata=md, raw=True)
            except Exception:  # a closed front end must not break the widget
                pass

    # ------------------------------------------------------------------ run thread
    def _validate_run(self, train_loader, kwargs) -> None:
        try:
            self.finder.check_range_test_args(train_loader, **kwargs)
        except TypeError as e:
            if not str(e).startswith("range_test()"):
                raise
            # name the method the user called, not the one it forwards to
            raise TypeError("run()" + str(e)[len("range_test()"):]) from None

    def _run_thread(self, train_loader, kwargs) -> None:
        try:
            self.finder.range_test(train_loader, **kwargs)
        except BaseException as e:  # shown by the widget (RunEnded error) and re-raised by wait()
            self.exception = e
            # queued after every event of the run, so the writer knows whether RunEnded came
            self._q.put(("failed", type(e).__name__ + (f": {e}" if str(e) else "")))

    # ------------------------------------------------------------------ commands (any thread)
    def _on_msg(self, _widget, content, buffers) -> None:
        """Comm handler: runs on the kernel's thread; only enqueues (and sets the stop flag)."""
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "stop":
            self.stop()
        elif kind in ("hello", "select", "apply", "placement"):
            self._q.put(("cmd", content))
        # other messages (anywidget's own commands) are not ours

    def _call(self, fn):
        """Run ``fn`` on the writer thread and return its value (directly when already there)."""
        self._check_open()
        if threading.current_thread() is self._writer:
            return fn()
        c = _Call(fn)
        self._q.put(c)
        c.done.wait()
        if c.exc is not None:
            raise c.exc
        return c.value

    def _check_open(self):
        if self._closed:
            raise RuntimeError("this widget was closed")

    # ------------------------------------------------------------------ the writer thread
    def _loop(self) -> None:
        q = self._q
        while True:
            try:
                item = q.get(timeout=self._timeout())
            except queue.Empty:
                item = None
            try:
                if item is _CLOSE:
                    self._send_readings()
                    return
                if isinstance(item, Readings):
                    self._take_readings(item)
                elif item is not None:
                    # everything else is ordered after the readings that came before it
                    self._send_readings()
                    self._handle(item)
                self._tick()
            except Exception:
                print("lrwidget: the widget writer hit an error and goes on:", file=sys.stderr)
                traceback.print_exc()

    def _timeout(self) -> Optional[float]:
        now = time.monotonic()
        due = []
        if self._sent < self._n:
            due.append(self._t_readings + self.send_interval)
        if self._running:
            if self._progress_dirty:
                due.append(self._t_progress + self.progress_interval)
            due.append(self._t_heartbeat + self.heartbeat_interval)
        return max(0.0, min(due) - now) if due else None

    def _tick(self) -> None:
        now = time.monotonic()
        if self._sent < self._n and now - self._t_readings >= self.send_interval:
            self._send_readings()
        if self._running:
            if self._progress_dirty and now - self._t_progress >= self.progress_interval:
                self._set_progress()
            if now - self._t_heartbeat >= self.heartbeat_interval:
                self._t_heartbeat = now
                self._emit({"type": "heartbeat", "t": time.time()})

    def _emit(self, content, buffers=None) -> None:
        self.sent_messages += 1
        self.sent_bytes += sum(len(b) for b in buffers) if buffers else 0
        self.send(content, buffers)

    def _handle(self, item) -> None:
        if isinstance(item, _Call):
            try:
                item.value = item.fn()
            except BaseException as e:
                item.exc = e
            finally:
                item.done.set()
        elif isinstance(item, RunStarted):
            self._start_run(item)
        elif isinstance(item, RunEnded):
            self._end_run(item.run_id, item.result, item.error, item.elapsed)
        elif isinstance(item, tuple) and item[0] == "cmd":
            self._command(item[1])
        elif isinstance(item, tuple) and item[0] == "result":
            r = item[1]
            self._start_run(RunStarted(0, r.num_iter, r.start_lr, r.end_lr, r.step_mode, 0.0),
                            quiet=True)
            self._append(0, r.lrs, r.losses, r.smoothed)
            self._end_run(0, r, r.error, r.elapsed)
        elif isinstance(item, tuple) and item[0] == "mark":
            self._saw_end = False
        elif isinstance(item, tuple) and item[0] == "failed":
            if self._saw_end:
                return  # the run began: RunEnded already showed the error
            self._running = False
            with self.hold_sync():
                self.status = "error"
                self.error = item[1]
                self.pending_apply = False
            self._pending_lr = None

    # -- runs
    def _start_run(self, ev: RunStarted, quiet: bool = False) -> None:
        self._run_id = ev.run_id
        self._run_info = ev
        cap = max(int(ev.num_iter), 1)
        self._lr, self._loss, self._sm = (np.full(cap, np.nan) for _ in range(3))
        self._n = self._sent = self._seq = 0
        self._elapsed = 0.0
        self._running = not quiet
        self._t_readings = self._t_progress = -math.inf
        self._t_heartbeat = time.monotonic()
        self._progress_dirty = False
        with self.hold_sync():
            self.status = "running"
            self.step = 0
            self.num_iter = int(ev.num_iter)
            self.elapsed = 0.0
            self.eta = None
            self.start_lr = float(ev.start_lr)
            self.end_lr = float(ev.end_lr)
            self.step_mode = ev.step_mode
            self.diverged_lr = None
            self.suggestions = []
            self.selected_lr = None
            self.error = ""
        self._send_run()
        if self._stop_requested and not quiet:
            self.finder.stop()  # stop() came between run() and the start of the test
        self._stop_requested = False

    def _send_run(self) -> None:
        ev = self._run_info
        self._emit({"type": "run", "run_id": ev.run_id, "num_iter": int(ev.num_iter),
                    "start_lr": float(ev.start_lr), "end_lr": float(ev.end_lr),
                    "step_mode": ev.step_mode})

    def _append(self, start, lrs, losses, smoothed) -> None:
        end = start + len(lrs)
        if end > self._lr.size:  # more readings than announced: grow, never drop
            cap = max(end, 2 * self._lr.size)
            for name in ("_lr", "_loss", "_sm"):
                old = getattr(self, name)
                new = np.full(cap, np.nan)
                new[: old.size] = old
                setattr(self, name, new)
        self._lr[start:end] = lrs
        self._loss[start:end] = losses
        self._sm[start:end] = smoothed
        self._n = max(self._n, end)

    def _take_readings(self, ev: Readings) -> None:
        if ev.run_id != self._run_id:
            return  # a run this widget never saw start (cannot happen with subscribe)
        self._append(ev.start, ev.lrs, ev.losses, ev.smoothed)
        self._elapsed = float(ev.elapsed)
        self._progress_dirty = True

    def _send_readings(self) -> None:
        if self._sent >= self._n or self._run_id is None:
            return
        s, e = self._sent, self._n
        content, buffers = encode_readings(self._run_id, self._seq, s, self._lr[s:e],
                                           self._loss[s:e], self._sm[s:e])
        self._seq += 1
        self._sent = e
        self._t_readings = time.monotonic()
        self._emit(content, buffers)

    def _set_progress(self) -> None:
        n, total = self._n, self.num_iter
        eta = None
        if n > 0 and total > n:
            eta = self._elapsed / n * (total - n)
        with self.hold_sync():
            self.step = n
            self.elapsed = round(self._elapsed, 3)
            self.eta = None if eta is None else round(eta, 2)
        self._progress_dirty = False
        self._t_progress = time.monotonic()

    def _end_run(self, run_id, result, error, elapsed) -> None:
        if run_id != self._run_id:
            return
        self._running = False
        self._saw_end = True
        if result is not None and len(result) != self._n:
            # trust the result (the engine's own arrays) over what the stream delivered
            self._append(0, result.lrs, result.losses, result.smoothed)
        self._send_readings()
        self.result = result
        sugg = []
        if result is not None:
            from .suggest import DEFAULT
            for name, s in result.suggestions.items():
                sugg.append({"name": name, "lr": _json_num(s.lr), "index": s.index,
                             "reason": s.reason, "default": name == DEFAULT})
        reason = result.stop_reason if result is not None else "error"
        with self.hold_sync():
            self.step = self._n
            self.elapsed = round(float(elapsed), 3)
            self.eta = None
            self.suggestions = sugg
            self.diverged_lr = (float(self._lr[self._n - 1])
                                if reason == "diverged" and self._n else None)
            self.error = error or ""
            self.status = STATUS_OF_REASON.get(reason, "error")
        self._progress_dirty = False
        if self._pending_lr is not None:
            lr, self._pending_lr = self._pending_lr, None
            try:
                self._apply_now(lr)
            except Exception as e:
                with self.hold_sync():
                    self.pending_apply = False
                    self.error = f"apply({lr}) failed: {e}"
        self._refresh_displays()

    # -- commands
    def _command(self, content: dict) -> None:
        kind = content.get("type")
        if kind == "hello":
            self._replay()
        elif kind == "placement":
            self._place(content.get("view"), content.get("where"))
        elif kind == "select":
            lr = content.get("lr")
            if lr is None:
                self.selected_lr = None
                return
            try:
                self.selected_lr = _positive_lr("lr", lr)
            except (TypeError, ValueError) as e:
                print(f"lrwidget: ignored select: {e}", file=sys.stderr)
        elif kind == "apply":
            lr = content.get("lr")
            if lr is None:
                lr = self.selected_lr
            if lr is None:
                print("lrwidget: ignored apply: nothing selected", file=sys.stderr)
                return
            try:
                self._apply_now_or_later(_positive_lr("lr", lr))
            except Exception as e:  # shown in the view rather than lost on a kernel thread
                self.error = f"apply({lr}) failed: {e}"

    def _place(self, view, where) -> None:
        if not isinstance(view, str) or not 0 < len(view) <= 64 or where not in _PLACES:
            print(f"lrwidget: ignored placement {where!r} of view {view!r}", file=sys.stderr)
            return
        if where == "gone":
            self._placements.pop(view, None)
        else:
            self._placements[view] = where
        n = sum(1 for w in self._placements.values() if w == "sidebar")
        if self.sidebar_views != n:
            self.sidebar_views = n

    def _replay(self) -> None:
        if self._run_id is None:
            return
        self._send_run()
        n = self._n
        content, buffers = encode_readings(self._run_id, self._seq - 1, 0, self._lr[:n],
                                           self._loss[:n], self._sm[:n], replay=True)
        self._emit(content, buffers)

    def _apply_now_or_later(self, lr: float) -> Optional[List[float]]:
        if self._running or self.finder.running or (self._runner is not None
                                                    and self._runner.is_alive()):
            self._pending_lr = lr
            self.pending_apply = True
            return None
        return self._apply_now(lr)

    def _apply_now(self, lr: float) -> List[float]:
        new = self.finder.apply(lr)
        with self.hold_sync():
            self.applied_lr = float(new[0])
            self.selected_lr = self.selected_lr if self.selected_lr is not None else lr
            self.pending_apply = False
        # no display refresh here: it would re-render the view under the user's pointer
        return new


def _json_num(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def find_lr(model, optimizer, train_loader, criterion=None, *, display: bool = True,
            title: str = "", height: int = 320, **range_test_kwargs) -> LRFinderWidget:
    """Build an :class:`LRFinder` and a widget, show the widget and start the range test.

    Parameters
    ----------
    model : torch.nn.Module
    optimizer : torch.optim.Optimizer
    train_loader : iterable
        ``(inputs, labels)`` batches, or anything ``step_fn`` understands.
    criterion : callable, optional
        Loss function; may be None with ``step_fn=``.
    display : bool
        Show the widget (``IPython.display``) before starting.
    title, height
        Passed to :class:`LRFinderWidget`.
    **range_test_kwargs
        ``start_lr``, ``end_lr``, ``num_iter``, ``step_mode``, ``step_fn``, ... as for
        :meth:`LRFinder.range_test`.

    Returns
    -------
    LRFinderWidget
        Running; ``widget.wait()`` returns the result, ``widget.apply()`` the chosen lr.

    Example
    -------
    >>> import torch; from torch import nn
    >>> m = nn.Linear(4, 3); opt = torch.optim.SGD(m.parameters(), lr=1e-4)
    >>> data = [(torch.randn(16, 4), torch.randint(0, 3, (16,)))] * 4
    >>> w = find_lr(m, opt, data, nn.CrossEntropyLoss(), display=False, num_iter=20)
    >>> len(w.wait()) > 0
    True
    >>> w.close()
    """
    finder = LRFinder(model, optimizer, criterion)
    w = LRFinderWidget(finder, title=title, height=height)
    try:
        w._validate_run(train_loader, range_test_kwargs)
    except BaseException:
        w.close()
        raise
    if display:
        from IPython.display import display as _display
        _display(w)
    w.run(train_loader, **range_test_kwargs)
    return w
