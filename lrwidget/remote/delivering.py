"""A job's runs handed to the notebook's subscribers (a part of
:class:`lrwidget.remote.source.RemoteSource`): a thread of its own delivers the events the
receiving thread puts, keeps the current run for a late subscriber (replayed to it first), and
what ``wait_for_run`` waits for.

Its own thread, because the channel's callback waits for the channel after a run's end (so that
``wait`` returns after every view showed it), and an Apply queued during the run is applied
there, which needs the receiving thread free to get the job's answer.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from ..channel.run_state import RunState
from ..engine.stream import RunEnded, RunStarted

__all__ = ["Delivery"]

log = logging.getLogger("lrwidget.remote")


@dataclass
class _Sub:
    callback: Callable[[Any], None]
    live: bool = False  # False until the delivery thread replayed the state to it
    dead: bool = False


@dataclass
class _NewSub:
    sub: _Sub


class Delivery:
    """The delivering thread and what it knows of the job's runs.

    Parameters
    ----------
    address : str
        Where the source listens (for the messages).
    finished : callable
        Called with the result of each run that ended with one (before ``wait_for_run``
        returns it).

    Attributes
    ----------
    running : bool
        Whether the job's range test is going (as far as its messages tell).
    """

    def __init__(self, address: str, finished: Callable[[Any], None]):
        self.address = address
        self._finished = finished
        # shared: guarded by _cond
        self._cond = threading.Condition()
        self.running = False
        self._ended: RunEnded | None = None
        self._ends = 0
        self._subs: list[_Sub] = []
        self._closed = False
        # the delivery thread alone
        self._runs = RunState()  # what a late subscriber is replayed
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(
            target=self._deliver, name="lrwidget-remote-deliver", daemon=True
        )
        self.thread.start()

    def put(self, ev: Any) -> None:
        """Deliver ``ev`` (an event of :mod:`lrwidget.engine.stream`) to every subscriber."""
        self._events.put(ev)

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Add a subscriber (replayed the current run first); returns its unsubscribe."""
        sub = _Sub(callback)
        with self._cond:
            self._subs.append(sub)
        self._events.put(_NewSub(sub))

        def unsubscribe() -> None:
            sub.dead = True
            with self._cond:
                if sub in self._subs:
                    self._subs.remove(sub)

        return unsubscribe

    def wait_for_run(self, timeout: float | None) -> Any:
        """See :meth:`lrwidget.remote.source.RemoteSource.wait_for_run`."""
        deadline = None if timeout is None else time.monotonic() + float(timeout)
        with self._cond:
            target = self._ends + 1 if self.running or self._ended is None else self._ends
            while self._ends < target:
                if self._closed:
                    raise RuntimeError("this listener was closed")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    what = (
                        "the job's range test is still running"
                        if self.running
                        else f"no job ran a range test at {self.address}"
                    )
                    raise TimeoutError(f"{what} after {timeout} s")
                self._cond.wait(left)
            ended = self._ended
        if ended is not None and ended.result is None:
            raise ConnectionError(ended.error or "the job's range test ended without a result")
        return None if ended is None else ended.result

    def end_waits(self) -> bool:
        """Wake every ``wait_for_run`` (it raises: closed); False if that was done before."""
        with self._cond:
            if self._closed:
                return False
            self._closed = True
            self._cond.notify_all()
        return True

    def close(self) -> None:
        """End the delivering thread (after the events already put)."""
        self._events.put(None)
        if threading.current_thread() is not self.thread:
            self.thread.join(5.0)

    # ------------------------------------------------------------------ the delivery thread
    def _deliver(self) -> None:
        while True:
            ev = self._events.get()
            if ev is None:
                return
            try:
                self._deliver_one(ev)
            except Exception:  # one event lost, not every later one
                log.exception("the listener at %s could not deliver an event", self.address)

    def _deliver_one(self, ev: Any) -> None:
        if isinstance(ev, _NewSub):
            self._replay_to(ev.sub)
            return
        with self._cond:
            self._runs.update(ev)
            if isinstance(ev, RunStarted):
                self.running = True
            elif isinstance(ev, RunEnded):
                self.running = False
                self._ended = ev
                if ev.result is not None:
                    self._finished(ev.result)
                self._ends += 1
                self._cond.notify_all()
            subs = [s for s in self._subs if s.live and not s.dead]
        for s in subs:
            self._call(s, ev)

    def _replay_to(self, sub: _Sub) -> None:
        with self._cond:
            sub.live = True
            replay = self._runs.since(0)
        for ev in replay:
            self._call(sub, ev)

    def _call(self, sub: _Sub, ev: Any) -> None:
        if sub.dead:
            return
        try:
            sub.callback(ev)
        except Exception:  # a broken view must not end the delivery for the others
            log.exception("a subscriber of the remote job raised; delivery goes on")
