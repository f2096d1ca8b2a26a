"""The notebook's choice as a job takes it (a part of :class:`lrwidget.remote.job_link.Link`):
kept when it arrives, waited for in ``wait_for_choice``, refused once the job took its lr.

* **The choice is applied on the job's own thread**, in ``wait_for_choice``, never from the
  link's thread: the optimizer belongs to the training loop, and under torch.distributed every
  rank must apply the same lr at the same point. A choice that arrives before
  ``wait_for_choice`` is kept for it; one that arrives after the job took its lr and went on is
  refused at once, with the reason, in the notebook; one made on the last run's curve is
  refused when a new run starts.
* **torch.distributed**: rank 0 waits for the notebook and broadcasts, every ``AGREE_EVERY``
  seconds, whether it has the answer (so no rank sits in one collective for longer than the
  process group's timeout); the other ranks take part in each broadcast.
* **On timeout** the last range test's default suggestion is applied (a WARNING says so); with
  none, every rank raises the same RuntimeError.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from ..pure.numbers import is_int
from ..pure.ranges import check_range
from .fields import is_lr
from .schedule_wire import parse_schedule
from .transport import broadcast

__all__ = ["Choice", "AGREE_EVERY"]

log = logging.getLogger("lrwidget.remote")

#: seconds between a waiting rank 0's broadcasts to the other ranks (each a collective)
AGREE_EVERY = 5.0


def _request_id(fields: dict, what: str) -> int | None:
    """The request's id (None, logged: there is none, so nothing can be answered)."""
    request = fields.get("id")
    if not is_int(request):
        log.warning("dropped %s from the notebook without a request id", what)
        return None
    return int(request)


def apply_is_collective(finder: Any) -> bool:
    """Whether ``finder.apply`` broadcasts rank 0's lr itself (the collective finder)."""
    return bool(getattr(finder, "collective", False))


class Choice:
    """The notebook's choice on the job's side.

    Parameters
    ----------
    finder : LRFinder
        The job's finder (its result is the timeout's default).
    address : str
        The notebook's (for the messages).
    dist : tuple
        ``(group, world, src)`` of the broadcasts (``(None, 1, 0)`` without torch.distributed).
    answer : callable
        ``answer(request, lrs=None, error=None)``: tells the notebook.
    run_id : callable
        The job's current run id (None before its first run).
    closed : callable
        Whether the link was closed.
    """

    def __init__(
        self,
        finder: Any,
        address: str,
        dist: tuple,
        answer: Callable[..., None],
        run_id: Callable[[], int | None],
        closed: Callable[[], bool],
    ):
        self.finder, self.address = finder, address
        self._group, self._world, self._src = dist
        self._answer, self._run_id, self._closed = answer, run_id, closed
        # written by the link's thread, taken by wait_for_choice
        self._lock = threading.Lock()
        # (request id, ("lr", lr) or ("schedule", (kind, lo, hi, total_steps)))
        self._choice: tuple | None = None
        self._evt = threading.Event()
        self._waiting = False
        self._taken: tuple | None = None  # (job run id, lr) of the last choice taken

    def wake(self) -> None:
        """End a wait at once (the link is closing)."""
        self._evt.set()

    def new_run(self) -> tuple | None:
        """A run started: a choice made on the last run's curve is not for it (returned, to be
        refused)."""
        with self._lock:
            stale, self._choice = self._choice, None
            self._evt.clear()
        return stale

    def took(self, lr: float) -> None:
        """The job took ``lr`` for its current run (``wait_for_choice`` returned it)."""
        with self._lock:
            self._taken = (self._run_id(), lr)

    def offer(self, fields: dict) -> None:
        """An apply from the notebook (the link's thread): kept, or refused with the reason."""
        request, lr = _request_id(fields, "an apply"), fields.get("lr")
        if request is None:
            return
        if not is_lr(lr):
            self._answer(request, error=f"lr must be a positive finite number, got {lr!r}")
            return
        v = float(lr)  # type: ignore[arg-type]
        self._keep(request, ("lr", v), f"lr={v:.6g}")

    def offer_schedule(self, fields: dict) -> None:
        """A schedule from the notebook (the link's thread): checked (the rules, and the job's
        own tested lrs), then kept; or refused with the reason."""
        request = _request_id(fields, "a schedule")
        if request is None:
            return
        try:
            args = parse_schedule(fields)
            r = getattr(self.finder, "result", None)
            check_range(r.lrs if r is not None and len(r) else None, args[1], args[2])
        except ValueError as e:
            log.warning("refused a schedule from the notebook: %s", e)
            self._answer(request, error=str(e))
            return
        self._keep(request, ("schedule", args), f"a {args[0]} schedule")

    def _keep(self, request: int, decision: tuple, what: str) -> None:
        """Keep the notebook's ``decision`` for ``wait_for_choice`` (one before it is
        replaced), unless the job already took one for this run and went on."""
        with self._lock:
            taken, run = self._taken, self._run_id()
            if taken is not None and not self._waiting and run is not None and taken[0] == run:
                self._answer(
                    request,
                    error=f"the job already took lr={taken[1]:.6g} for this range test and went "
                    "on (its wait_for_choice returned); it takes a new choice after its next "
                    "range test",
                )
                return
            old, self._choice = self._choice, (request, decision)
            self._evt.set()
        if old is not None:
            self._answer(old[0], error="replaced by a newer choice")
        log.info("the notebook chose %s", what)

    def decide(self, timeout: float | None) -> tuple[tuple, int | None]:
        """Rank 0: wait for the notebook's choice (or the timeout); tell the other ranks.

        Returns the decision (``("lr", lr)``, ``("schedule", (kind, lo, hi, total_steps))``,
        ``("default", lr)`` or ``("error", why)``) and the notebook's request id of a choice
        (None for the others).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        self._waiting = True
        try:
            while True:
                decision, request = self._next(timeout, deadline)
                if self._world > 1:
                    broadcast(self._shared(decision), self._group, self._src)
                if decision[0] != "wait":
                    return decision, request
        finally:
            self._waiting = False

    def _next(self, timeout: float | None, deadline: float | None) -> tuple[tuple, int | None]:
        """One wait: a choice, the link closed, the timeout's default, or ``("wait",)``."""
        if self._evt.wait(self._wait_for(deadline)) and not self._closed():
            with self._lock:
                request, decision = self._choice  # type: ignore[misc]
                self._choice = None
                self._evt.clear()
            log.info("taking the notebook's choice: %s", decision)
            return decision, request
        if self._closed():
            return ("error", "this link was closed while waiting for a choice"), None
        if deadline is not None and time.monotonic() >= deadline:
            return self._default(timeout), None  # type: ignore[arg-type]
        return ("wait",), None

    def _wait_for(self, deadline: float | None) -> float | None:
        """How long one wait lasts: to the deadline, and no longer than ``AGREE_EVERY`` while
        other ranks wait in a broadcast."""
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if self._world == 1:
            return left
        return AGREE_EVERY if left is None else min(AGREE_EVERY, left)

    def _shared(self, decision: tuple) -> tuple:
        # the lr travels here unless finder.apply broadcasts it itself
        if decision[0] != "lr" or not apply_is_collective(self.finder):
            return decision
        return ("lr", None)

    def _default(self, timeout: float) -> tuple:
        from ..pure.suggest import DEFAULT

        address = self.address
        r = getattr(self.finder, "result", None)
        if r is None:
            return (
                "error",
                f"no lr was applied in the notebook at {address} within "
                f"{timeout:g} s, and no range test ran to fall back on",
            )
        lr = r.suggested_lr
        if lr is None:
            s = r.suggestions.get(DEFAULT)
            why = s.reason if s is not None else "no rule answered"
            return (
                "error",
                f"no lr was applied in the notebook at {address} within "
                f"{timeout:g} s, and the range test suggests none ({why}); "
                "call finder.apply(lr) with an lr of your own",
            )
        log.warning(
            "no lr was applied in the notebook at %s within %g s: applying the "
            "default suggestion (%s) lr=%.6g",
            address,
            timeout,
            DEFAULT,
            lr,
        )
        return ("default", lr)
