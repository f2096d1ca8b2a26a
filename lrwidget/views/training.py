"""The doctor in the widget (issue 18): a watch's training streamed to the widget's views.

The kernel owns the stream: a :class:`~lrwidget.pure.trace.Trace` (bounded memory however long the
run) fed by the watch's chunks on the training thread. One sender thread per widget sends the views
a ``training`` message at most every ``rules.doctor.sendInterval`` seconds while something changed:
the verdict, the events and ONE binary buffer of column snapshots (six float64 series of at most
``rules.doctor.overviewColumns`` columns: loss min / max / mean, lr min / max / mean), and at most
one answer to a view's zoom request per interval, so a view gets at most 20 messages a second
(Jupyter Server drops a comm past 1000 a second). A view rendered late says ``hello`` and gets the
snapshot again.

A view's buttons send ``scale_lr`` commands: parsed in
:func:`lrwidget.channel.protocol.parse_training_command` (untrusted: a factor among the buttons', a
bool rollback) and then handed to ``watch.scale_lr``, which applies it between two steps.
:class:`TrainingRun` is ``widget.train(fn)``: the user's loop on a thread of its own, so the cell
returns and the kernel reads the clicks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from ..channel import protocol as P
from ..engine.watch import Watch
from ..engine.watch_events import ActionTaken, Chunk, VerdictChanged
from ..pure.trace import Trace

__all__ = ["TrainingFeed", "TrainingRun", "Watched", "event_dict"]

log = logging.getLogger("lrwidget.views")

_DOCTOR = P.DOCTOR
_SERIES = 6  # loss min, max, mean; lr min, max, mean


class Watched(Protocol):
    """What a feed shows: a :class:`Watch`, or a job's (:class:`lrwidget.remote.RemoteWatch`)."""

    def listen(self, callback: Callable[[Any], None]) -> Callable[[], None]: ...

    def scale_lr(self, factor: float, rollback: bool = False) -> Any: ...


def event_dict(event: VerdictChanged | ActionTaken) -> dict[str, Any]:
    """An event as the view draws it: ``{"step", "kind", "text", ...}`` (JSON-ready).

    Example
    -------
    >>> event_dict(ActionTaken(32, 0.1, 16, (0.001,), None))["text"]
    'x0.1, rolled back to step 16'
    """
    if isinstance(event, ActionTaken):
        back = (
            "" if event.rolled_back_to is None else f", rolled back to step {event.rolled_back_to}"
        )
        text = f"x{event.factor:g}{back}" + (f" refused: {event.error}" if event.error else "")
        return {
            "step": int(event.step),
            "kind": "action",
            "factor": float(event.factor),
            "rollback": event.rolled_back_to is not None,
            "text": text,
        }
    return {
        "step": int(event.step),
        "kind": "verdict",
        "verdict": event.verdict,
        "text": event.reason,
    }


def _columns(trace: Trace, lo: int, hi: int, n: int) -> np.ndarray:
    """The trace's ``n`` columns of steps ``[lo, hi)`` as the six rows the view reads.

    A column with a non-finite loss gets an infinite max (the view draws it up to the top edge);
    the lr's middle is the geometric mean of its min and max (the lr axis is logarithmic).
    """
    c = trace.columns(lo, hi, n)
    loss_max = np.where(c.nonfinite > 0, np.inf, c.loss_max)
    with np.errstate(invalid="ignore"):
        lr_mid = np.sqrt(c.lr_min * c.lr_max)
    return np.stack([c.loss_min, loss_max, c.loss_mean, c.lr_min, c.lr_max, lr_mid])


class TrainingFeed:
    """One widget's side of the watches it shows: the trace, the snapshots, the commands.

    Parameters
    ----------
    send : callable
        ``send(content, buffers)``: the widget's custom message to every view.
    """

    def __init__(self, send: Callable[[dict[str, Any], list[bytes]], None]):
        self._send = send
        self._lock = threading.Lock()  # the trace and the fields below: training thread vs sender
        self._wake = threading.Event()
        self._watch: Watched | None = None
        self._watch_id = 0
        self._trace = Trace()
        self._state: dict[str, Any] = self._fresh_state()
        self._events: deque[dict[str, Any]] = deque(maxlen=int(_DOCTOR["maxEvents"]))
        self._dirty = False
        self._zoom: P.TrainingZoom | None = None
        self._off: Callable[[], None] | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    @staticmethod
    def _fresh_state() -> dict[str, Any]:
        return {"verdict": "watching", "reason": "", "lr_now": None, "error": "", "steps": 0}

    @property
    def watch(self) -> Watched | None:
        """The watch shown now (the last attached)."""
        return self._watch

    def attach(self, watch: Watched) -> None:
        """Show ``watch``: its chunks, verdicts and actions from now on (a new chart)."""
        with self._lock:
            if self._off is not None:
                self._off()
            self._watch, self._watch_id = watch, self._watch_id + 1
            self._trace = Trace()
            self._state = self._fresh_state()
            self._events.clear()
            self._zoom, self._dirty = None, True
            self._off = watch.listen(self.on_event)
        self._start()

    def close(self) -> None:
        """Stop listening and end the sender thread (the widget closed)."""
        with self._lock:
            self._closed = True
            if self._off is not None:
                self._off()
                self._off = None
        self._wake.set()

    # ------------------------------------------------------------------ from the watch
    def on_event(self, event: Any) -> None:
        """A watch's listener: on the training thread, at a sync point (every ``every`` steps)."""
        with self._lock:
            if isinstance(event, Chunk):
                self._take_chunk(event)
            elif isinstance(event, VerdictChanged):
                self._state.update(verdict=event.verdict, reason=event.reason)
                self._events.append(event_dict(event))
            elif isinstance(event, ActionTaken):
                self._take_action(event)
            else:
                return
            self._dirty = True
        self._wake.set()

    def _take_chunk(self, chunk: Chunk) -> None:
        lrs = np.asarray(chunk.lrs, dtype=np.float64)
        n = chunk.count
        first = lrs.reshape(n, -1)[:, 0] if lrs.size else np.full(n, np.nan)  # the first group's
        self._trace.skip(chunk.start - self._trace.n)  # steps never heard (a job's, joined late)
        self._trace.append(chunk.losses, first)  # the watch's chunks are contiguous steps
        self._state["steps"] = max(self._state["steps"], chunk.start + chunk.count)
        if first.size and np.isfinite(first[-1]):  # JSON has no NaN
            self._state["lr_now"] = float(first[-1])

    def _take_action(self, event: ActionTaken) -> None:
        self._events.append(event_dict(event))
        self._state["error"] = event.error or ""
        if event.error is None and event.lrs:
            self._state["lr_now"] = float(event.lrs[0])

    # ------------------------------------------------------------------ from the views
    def on_msg(self, content: Any) -> bool:
        """A view's message, on the kernel's thread: True when it was the doctor's (handled here).

        A ``hello`` (a view rendered) is not ours, but the next interval replays the snapshot to it.
        A bad command is logged on ``lrwidget.views`` and dropped; nothing reaches the watch.
        """
        if isinstance(content, dict) and content.get("type") == "hello":
            self._mark_dirty()
            return False
        try:
            cmd = P.parse_training_command(content)
        except P.BadCommand as e:
            log.warning("ignored a message from the front end: %s", e)
            return True
        if cmd is None:
            return False
        if isinstance(cmd, P.TrainingZoom):
            with self._lock:
                self._zoom = cmd
            self._wake.set()
        else:
            self._scale(cmd)
        return True

    def _scale(self, cmd: P.ScaleLr) -> None:
        watch = self._watch
        if watch is None:
            log.warning("ignored a scale_lr from the front end: no watch is shown")
            return
        try:
            watch.scale_lr(cmd.factor, rollback=cmd.rollback)
        except (ValueError, TypeError, RuntimeError) as e:  # e.g. no snapshot: shown in the view
            log.warning("scale_lr(%g, rollback=%s) refused: %s", cmd.factor, cmd.rollback, e)
            with self._lock:
                self._state["error"] = str(e)
                self._dirty = True
            self._wake.set()

    def _mark_dirty(self) -> None:
        with self._lock:
            self._dirty = self._watch is not None
        self._wake.set()

    # ------------------------------------------------------------------ the sender thread
    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._loop, name="lrwidget-training", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        interval = float(_DOCTOR["sendInterval"])
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            try:
                self._send_due()
            except Exception:  # a closed comm must not end the sender
                log.exception("could not send the training view")
            time.sleep(interval)  # at most one round per interval: <= 2 messages

    def _send_due(self) -> None:
        with self._lock:
            overview = self.snapshot() if self._dirty else None
            zoom, self._zoom, self._dirty = self._zoom, None, False
            answer = self.snapshot(zoom) if zoom is not None else None
        for msg in (overview, answer):
            if msg is not None:
                self._send(*msg)

    def snapshot(self, zoom: P.TrainingZoom | None = None) -> tuple[dict[str, Any], list[bytes]]:
        """The ``training`` message: the whole run (``zoom`` None) or a zoomed range's columns."""
        steps = int(self._state["steps"])
        if zoom is None:
            lo, hi, n, req = 0, steps, min(int(_DOCTOR["overviewColumns"]), steps), 0
        else:
            lo, hi, req = zoom.lo, max(zoom.lo + 1, min(zoom.hi, steps)), zoom.req
            n = min(zoom.cols, hi - lo) if lo < steps else 0
        cols = _columns(self._trace, lo, hi, n) if n > 0 else np.empty((_SERIES, 0))
        content = {
            "type": "training",
            "watch_id": self._watch_id,
            "zoom": req,
            "lo": lo,
            "hi": hi,
            "cols": int(n),
            "events": list(self._events),
            **self._state,
        }
        return content, [np.ascontiguousarray(cols, dtype="<f8").tobytes()]


class TrainingRun:
    """``widget.train(fn)``: ``fn(watch)`` on a thread of its own, inside ``with watch:``.

    While a cell runs a loop the kernel reads no message from the front end (the buttons would
    act after the cell ended); from a thread the cell returns and every click is read at once.
    """

    def __init__(self, watch: Watch, fn: Callable[[Watch], Any]):
        if not callable(fn):
            raise TypeError(f"fn must be callable (a function taking the watch), got {fn!r}")
        self.watch = watch
        #: what ``fn`` returned, and what it raised (re-raised by :meth:`wait`)
        self.result: Any = None
        self.exception: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), name="lrwidget-train")
        self._thread.daemon = True
        self._thread.start()

    def _run(self, fn: Callable[[Watch], Any]) -> None:
        try:
            with self.watch:
                self.result = fn(self.watch)
        except BaseException as e:  # re-raised by wait()  # noqa: BLE001
            self.exception = e
            log.warning("widget.train: the training loop raised %s: %s", type(e).__name__, e)

    @property
    def running(self) -> bool:
        """The loop is still going."""
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the loop ends; return what ``fn`` returned (re-raise what it raised).

        Raises
        ------
        TimeoutError
            Still running after ``timeout`` seconds.
        """
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the training loop is still running after {timeout} s")
        if self.exception is not None:
            raise self.exception
        return self.result
