"""The job's side of the doctor across the socket (a part of
:class:`lrwidget.remote.job_link.Link`, rank 0): a watch's training batched for the link's
thread, and the notebook's ``scale_lr`` requests checked and handed to the watch.

* **The listener only enqueues** (it runs on the training thread, every ``watch.every``
  steps): a bounded deque; when it is full (the link's thread is stuck) the newest is dropped
  and counted, never waited for.
* **Batches** (:meth:`WatchStream.take`, the link's thread, one message an interval): the
  contiguous steps as two float64 buffers (at most ``wire.MAX_READINGS`` steps) and at most
  ``watch_wire.MAX_EVENTS`` events a message; what does not fit waits for the next interval.
* **Replay** (:meth:`WatchStream.resync`: the notebook synced, for the first time, after a
  restart or after the link lost it): its next batches carry the watch's last
  :data:`REPLAY_STEPS` steps (a bounded :class:`Backlog`, about 2 MiB) and last
  ``watch_wire.MAX_EVENTS`` verdict changes and actions again. A notebook that has them skips
  what it holds (:class:`lrwidget.remote.watch_source.RemoteWatch`); one that joins or comes
  back draws the stream so far, not only what comes after.
* **Requests** (:meth:`WatchStream.scale`, the link's thread): checked with the buttons' rule
  (``watch_wire.parse_scale``), then ``watch.scale_lr`` (thread-safe: applied at the watch's
  next ``record()``); the answer says accepted, or why not.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from typing import Any, Callable

import numpy as np

from ..engine.watch_events import ActionTaken, Chunk, VerdictChanged
from .fields import MAX_READINGS, Fields, WireError, int_field
from .transport import LogLimit
from .watch_wire import MAX_EVENTS, MAX_ID, WatchBatch, parse_scale

__all__ = ["Backlog", "WatchStream", "MAX_PENDING", "REPLAY_STEPS"]

log = logging.getLogger("lrwidget.remote")

#: most chunks and events waiting for the link's thread
MAX_PENDING = 4096
#: the watch's last steps a notebook that (re)syncs gets again (2 float64 each: 2 MiB)
REPLAY_STEPS = 1 << 17


class Backlog:
    """The last ``size`` steps of a watch (its loss and first group's lr), for a replay.

    Example
    -------
    >>> b = Backlog(4)
    >>> b.add(Chunk(0, np.arange(6.0), np.ones((6, 1)), np.ones(1)))
    >>> c = b.chunk(); c.start, c.losses.tolist()
    (2, [2.0, 3.0, 4.0, 5.0])
    """

    def __init__(self, size: int = REPLAY_STEPS) -> None:
        self._losses = np.full(size, np.nan)
        self._lrs = np.full(size, np.nan)
        self.lo = self.hi = 0  # the steps kept: [lo, hi)

    def add(self, chunk: Chunk) -> None:
        """The watch's next chunk (its steps follow the last: a watch's chunks are contiguous)."""
        size = self._losses.size
        losses, lrs = chunk.losses[-size:], _first_group(chunk)[-size:]
        start = chunk.start + chunk.count - losses.size
        if start != self.hi:  # not the next steps: start again from these
            self.lo = start
        at = np.arange(start, start + losses.size) % size
        self._losses[at], self._lrs[at] = losses, lrs
        self.hi = start + losses.size
        self.lo = max(self.lo, self.hi - size)

    def chunk(self) -> Chunk | None:
        """The steps kept, as one chunk (None: none)."""
        if self.hi == self.lo:
            return None
        at = np.arange(self.lo, self.hi) % self._losses.size
        lrs = self._lrs[at].reshape(-1, 1)
        return Chunk(self.lo, self._losses[at], lrs, np.full(1, np.nan))


class WatchStream:
    """The watch a link streams (the last one :meth:`attach` was given)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: deque[tuple[int, Any]] = deque()
        self._ids = itertools.count(1)
        self._watch: Any = None
        self._id = 0
        self._off: Callable[[], None] | None = None
        self._dropped = 0
        self._log = LogLimit(log, first=1)
        # what a notebook that (re)syncs gets again: the steps and the events (of watch _id)
        self._backlog = Backlog()
        self._recent: deque[VerdictChanged | ActionTaken] = deque(maxlen=MAX_EVENTS)
        self._resend = False
        # the steps sent so far (watch id, end): a chunk a replay already carried is not sent
        # again (it was in the backlog and still in line)
        self._sent: tuple[int, int] = (0, 0)

    @property
    def attached(self) -> bool:
        """Whether a watch is streamed (the link's thread then wakes every interval)."""
        return self._watch is not None

    def attach(self, watch: Any) -> Callable[[], None]:
        """Stream ``watch`` from now on (the one before is no longer heard); its detach."""
        if not (
            callable(getattr(watch, "listen", None)) and callable(getattr(watch, "scale_lr", None))
        ):
            raise TypeError(
                f"watch must be an lrwidget Watch (finder.watch(...)), got {type(watch).__name__}"
            )
        with self._lock:
            self.detach()
            wid = next(self._ids)
            self._watch, self._id = watch, wid
            self._backlog, self._recent = Backlog(), deque(maxlen=MAX_EVENTS)
            self._off = watch.listen(lambda ev: self._put(wid, ev))
        return self.detach

    def detach(self) -> None:
        """Stop hearing the watch (what it said so far is still sent)."""
        off, self._off = self._off, None
        if off is not None:
            off()
        self._watch = None

    def _put(self, wid: int, ev: Any) -> None:
        """The watch's listener, on the training thread: enqueue, never wait."""
        if not isinstance(ev, (Chunk, VerdictChanged, ActionTaken)):
            return
        with self._lock:
            if wid != self._id:
                return  # a watch replaced meanwhile
            if isinstance(ev, Chunk):
                self._backlog.add(ev)
            else:
                self._recent.append(ev)
        if len(self._pending) >= MAX_PENDING:
            self._dropped += 1
            return
        self._pending.append((wid, ev))

    # ------------------------------------------------------------------ the link's thread
    def resync(self) -> None:
        """The notebook was (re)synced: its next batches replay the watch's last steps and
        events (a notebook that joins a watch late, or comes back, draws it so far at once)."""
        self._resend = True

    def take(self) -> WatchBatch | None:
        """The next batch (None: nothing waits): one message an interval, so what does not fit
        in one waits for the next."""
        if self._dropped:
            self._log.warning(
                "the link fell behind: %d of the watch's events dropped", self._dropped
            )
            self._dropped = 0
        if self._resend:
            self._resend = False
            self._replay()
        return self._one() if self._pending else None

    def _replay(self) -> None:
        """Put the watch's kept steps and events first in line."""
        with self._lock:
            if self._watch is None:
                return
            wid, kept, events = self._id, self._backlog.chunk(), list(self._recent)
        for ev in reversed(events):
            self._pending.appendleft((wid, ev))
        if kept is not None:
            self._pending.appendleft((wid, kept))
            self._sent = (wid, kept.start)

    def _one(self) -> WatchBatch:
        """Take the longest run of one watch's contiguous chunks and events that fits."""
        wid = self._pending[0][0]
        start: int | None = None
        losses: list[np.ndarray] = []
        lrs: list[np.ndarray] = []
        events: list[Any] = []
        n = 0
        while self._pending and self._pending[0][0] == wid:
            ev = self._pending[0][1]
            if isinstance(ev, Chunk) and self._sent_already(wid, ev, start, n):
                self._pending.popleft()
                continue
            if isinstance(ev, Chunk):
                if start is not None and (ev.start != start + n or n + ev.count > MAX_READINGS):
                    break
                start = ev.start if start is None else start
                losses.append(np.asarray(ev.losses, dtype=np.float64)[:MAX_READINGS])
                lrs.append(_first_group(ev))
                n += losses[-1].size
            elif len(events) < MAX_EVENTS:
                events.append(ev)
            else:
                break
            self._pending.popleft()
        if start is not None:
            self._sent = (wid, start + n)
        return WatchBatch(
            wid,
            0 if start is None else start,
            np.concatenate(losses) if losses else np.empty(0),
            np.concatenate(lrs) if lrs else np.empty(0),
            tuple(events),
        )

    def _sent_already(self, wid: int, chunk: Chunk, start: int | None, n: int) -> bool:
        """Whether ``chunk``'s steps went out already (in this batch or an earlier one)."""
        upto = start + n if start is not None else (self._sent[1] if self._sent[0] == wid else 0)
        return chunk.start + chunk.count <= upto

    def scale(self, fields: Fields) -> Fields | None:
        """A ``scale_lr`` request from the notebook: the answer to send (None: it has no
        usable id, so nothing can be answered; logged)."""
        try:
            request = int_field(fields, "id", lo=1, hi=MAX_ID)
        except WireError as e:
            self._log.warning("dropped a scale_lr request from the notebook: %s", e)
            return None
        try:
            cmd = parse_scale(fields)
        except WireError as e:
            self._log.warning("refused a scale_lr request from the notebook: %s", e)
            return {"id": request, "error": str(e)}
        watch = self._watch
        if watch is None:
            return {"id": request, "error": "the job is not watching its training (link.watch)"}
        try:
            watch.scale_lr(cmd.factor, rollback=cmd.rollback)
        except (ValueError, TypeError, RuntimeError) as e:  # no snapshot, outside the block...
            return {"id": request, "error": f"{type(e).__name__}: {e}"}
        log.info("scale_lr(%g, rollback=%s) from the notebook", cmd.factor, cmd.rollback)
        return {"id": request, "accepted": True}


def _first_group(chunk: Chunk) -> np.ndarray:
    """The lr the first param group used at each step of ``chunk`` (NaN: not known)."""
    lrs = np.asarray(chunk.lrs, dtype=np.float64)
    n = chunk.count
    if lrs.size == 0 or lrs.size % max(n, 1):
        return np.full(n, np.nan)[:MAX_READINGS]
    return lrs.reshape(n, -1)[:MAX_READINGS, 0]
