"""The channel's one writer thread: a queue, a thread that exists only while there is work, and
:meth:`Writer.call` (run a function there and wait).

The channel decides what an item means (``handle``), when the thread must wake without one
(``timeout``: its timers, run by ``tick``) and whether it still has work with the queue empty
(``busy``); the writer only runs them, one item at a time, and survives any item that raises.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
from typing import Any, Callable

__all__ = ["Call", "Writer"]

log = logging.getLogger("lrwidget.channel")


class Call:
    """A function the writer runs for another thread, with its outcome."""

    __slots__ = ("fn", "done", "value", "exc")

    def __init__(self, fn: Callable[[], Any]):
        self.fn = fn
        self.done = threading.Event()
        self.value: Any = None
        self.exc: BaseException | None = None

    def run(self) -> None:
        """Run the function (on the writer) and hand its value or exception to the caller."""
        try:
            self.value = self.fn()
        except BaseException as e:  # handed to the caller, who raises it  # noqa: BLE001
            self.exc = e
        finally:
            self.done.set()


class Writer:
    """One thread at most, started by :meth:`post`, ending when the queue is empty and
    ``busy()`` is False (``post`` starts a new one when work comes).

    Parameters
    ----------
    handle : callable
        ``handle(item)``: one queued item (a :class:`Call` among them).
    timeout : callable
        Seconds until the next timer is due (None: none).
    tick : callable
        The timers: run after each item, and when the queue stayed empty for ``timeout()``.
    busy : callable
        Whether work is left with the queue empty (the thread then stays).
    """

    def __init__(
        self,
        handle: Callable[[Any], None],
        timeout: Callable[[], float | None],
        tick: Callable[[], None],
        busy: Callable[[], bool],
        name: str = "lrwidget-channel",
    ):
        self._handle, self._timeout, self._tick, self._busy = handle, timeout, tick, busy
        self._name = name
        self._q: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()  # guards _thread
        self._thread: threading.Thread | None = None

    def on_thread(self) -> bool:
        """Whether the caller runs on the writer thread."""
        return threading.current_thread() is self._thread

    def post(self, item: Any) -> None:
        """Queue ``item`` for the writer (starts it when needed); any thread."""
        self._q.put(item)
        if sys.is_finalizing():
            return  # no thread can start or run now; what is queued dies with the process
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()

    def call(self, fn: Callable[[], Any], timeout: float | None = None) -> Any:
        """Run ``fn()`` on the writer and return its value (raise its exception).

        Everything queued before is handled first, so ``call(lambda: None)`` is a barrier.
        """
        if self.on_thread():
            return fn()
        if sys.is_finalizing():
            # at exit (ipywidgets' __del__ closes every widget): no writer would ever answer
            return None
        c = Call(fn)
        self.post(c)
        if not c.done.wait(timeout):
            raise TimeoutError(f"the widget did not catch up within {timeout} s")
        if c.exc is not None:
            raise c.exc
        return c.value

    def _loop(self) -> None:
        q = self._q
        while True:
            try:
                item = q.get(timeout=self._timeout())
            except queue.Empty:
                item = None
            try:
                if item is not None:
                    self._handle(item)
                self._tick()
            except Exception:  # a broken view must not end the channel
                log.exception("the channel's writer hit an error and goes on")
            if item is None or q.empty():
                with self._lock:
                    if q.empty() and not self._busy():
                        self._thread = None
                        return
