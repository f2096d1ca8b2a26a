"""The notebook's requests to a job (an Apply, a watch's ``scale_lr``), from sent to answered
(a part of :class:`lrwidget.remote.source.RemoteSource`): each a Future, resolved by the job's
answer, failed when the job goes away, expired at its deadline. Any thread may add one; the
receiving thread resolves and expires them.

Example
-------
>>> requests = Requests(apply_timeout=30.0)
>>> request, future = requests.add(0.01)
>>> requests.resolve(request, lrs=[0.01])
>>> future.result()
[0.01]
"""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

__all__ = ["Requests"]


@dataclass
class _Pending:
    """An Apply sent to the job: its answer, and when to stop waiting for it."""

    future: Future
    what: str  # what was asked, as the errors name it ("lr=0.01", "scale_lr x0.1")
    where: str  # where the job takes it, for the timeout's message
    deadline: float


class Requests:
    """The Apply requests waiting for the job's answer.

    Parameters
    ----------
    apply_timeout : float
        Seconds a request waits for its answer before it fails with a TimeoutError.
    """

    def __init__(self, apply_timeout: float):
        self.apply_timeout = apply_timeout
        self._lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._closed = False

    def add(
        self, lr: float, what: str | None = None, where: str | None = None
    ) -> tuple[int, Future]:
        """A new request for ``lr``: its id (for the message to the job) and its Future.

        ``what`` names the request in its errors (default ``"lr=<lr>"``: an Apply), ``where``
        says where the job takes it (default: in ``link.wait_for_choice()``).

        Raises RuntimeError once :meth:`close` was called.
        """
        future: Future = Future()
        request = next(self._ids)
        deadline = time.monotonic() + self.apply_timeout
        with self._lock:
            if self._closed:
                raise RuntimeError("this listener was closed")
            self._pending[request] = _Pending(
                future,
                f"lr={lr:.6g}" if what is None else what,
                "link.wait_for_choice()" if where is None else where,
                deadline,
            )
        return request, future

    def resolve(self, request: int, lrs: list | None = None, error: str | None = None) -> None:
        """The job's answer to ``request``: the lrs it holds now, or why it did not apply."""
        with self._lock:
            p = self._pending.pop(request, None)
        if p is None:
            return  # answered already, or given up on: a late lr comes as an applied event
        if error is None:
            p.future.set_result(list(lrs or ()))
        elif error.startswith(("job disconnected", "no job")):
            p.future.set_exception(ConnectionError(error))
        else:
            p.future.set_exception(RuntimeError(f"the job did not apply {p.what}: {error}"))

    def fail_all(self, why: str) -> None:
        """Every waiting request fails with ``why`` (the job went away)."""
        with self._lock:
            requests = list(self._pending)
        for request in requests:
            self.resolve(request, error=why)

    def close(self, why: str) -> None:
        """No request is added from now on; the waiting ones fail with ``why``."""
        with self._lock:
            self._closed = True
        self.fail_all(why)

    def expire(self) -> None:
        """The requests past their deadline fail with a TimeoutError saying where the job
        applies a choice."""
        now = time.monotonic()
        with self._lock:
            late = [(r, p) for r, p in self._pending.items() if now >= p.deadline]
            for r, _ in late:
                del self._pending[r]
        for _, p in late:
            p.future.set_exception(
                TimeoutError(
                    f"the job did not apply {p.what} within {self.apply_timeout:g} s: it "
                    f"applies the notebook's choice in {p.where} (if it takes it "
                    "later, the widget shows it then)"
                )
            )
