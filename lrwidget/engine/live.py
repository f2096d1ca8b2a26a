"""A finder's runs seen from outside: :meth:`stop`, :attr:`running`, :meth:`subscribe`,
:meth:`restore` and :meth:`reset` of :class:`lrwidget.LRFinder` (a mixin; the state is the
finder's :class:`lrwidget.engine.session.Runs`)."""

from __future__ import annotations

import math
from typing import Callable

from .checks import real
from .session import Runs, Sub


class LiveHooks:
    """stop / running / subscribe / restore / reset of LRFinder."""

    _runs: Runs

    def reset(self) -> None:
        """Kept for torch-lr-finder code. The model and optimizer are already restored when a
        test ends, so there is usually nothing left to undo; the readings stay for :meth:`plot`.
        After a test whose restore failed it retries that restore (:meth:`restore`)."""
        if self._runs.claim is not None:
            raise RuntimeError("reset() called while a range test is running; call stop()")
        if self._runs.pending is not None:
            self.restore()

    def restore(self, discard: bool = False) -> bool:
        """Write back the state saved before a test whose own restore failed.

        A range test restores the model, optimizer (and criterion, GradScaler) when it ends. If
        that restore raises (a step registered a new buffer on the model, the snapshot file in
        ``cache_dir`` was deleted), the test ends as an error saying so, and the saved state is
        kept here. Remove the cause and call ``restore()``; until it succeeds (or is discarded)
        no new test starts. ``reset()`` does the same.

        Parameters
        ----------
        discard : bool
            Drop the kept state without writing it back: the model and optimizer stay as they
            are now.

        Returns
        -------
        bool
            True when the saved state was written back; False when there was nothing to
            restore or it was discarded.

        Raises
        ------
        RuntimeError
            The restore failed again (chained from the cause; the state stays kept for another
            try), or a range test is running.

        Example
        -------
        >>> import torch; from torch import nn; from lrwidget import LRFinder
        >>> m = nn.Linear(2, 1); opt = torch.optim.SGD(m.parameters(), lr=1e-3)
        >>> finder = LRFinder(m, opt)
        >>> def step(model, x):
        ...     if not hasattr(model, "seen"):     # changes the model: it cannot be restored
        ...         model.register_buffer("seen", torch.zeros(1))
        ...     return model(x).pow(2).mean()
        >>> try:
        ...     finder.range_test([torch.ones(4, 2)], end_lr=0.1, num_iter=3, step_fn=step)
        ... except RuntimeError as e:
        ...     print(str(e)[:44])
        the model and optimizer were NOT restored af
        >>> del m._buffers["seen"]                     # remove the cause, then retry
        >>> finder.restore(), opt.param_groups[0]["lr"]
        (True, 0.001)
        >>> finder.restore()                           # nothing left to restore
        False
        """
        return self._runs.restore(discard)

    def stop(self) -> None:
        """End the running test at the next step boundary (stop_reason "stopped").

        Safe from any thread; does nothing when no test is running.
        """
        rule = self._runs.claim  # one read: set from the moment a test takes the finder
        if rule is not None:
            rule.requested = True

    @property
    def running(self) -> bool:
        """Whether a test is running now (from the moment it took the finder until it ended)."""
        return self._runs.claim is not None

    def subscribe(self, callback: Callable, interval: float = 0.05) -> Callable[[], None]:
        """Receive each run's events (:mod:`lrwidget.engine.stream`) on a delivery thread.

        Parameters
        ----------
        callback : callable
            ``callback(event)`` with a ``RunStarted``, ``Readings`` (batched, about every
            ``interval`` seconds) or ``RunEnded``. All of a run's events are delivered before
            ``range_test`` returns. :meth:`apply` delivers ``LrApplied`` from its own thread.
            Subscribing during a run starts with that run's ``RunStarted`` and all its readings
            so far.
        interval : float
            Seconds between batches (> 0).

        Returns
        -------
        callable
            ``unsubscribe()``.

        Example
        -------
        >>> import torch; from torch import nn; from lrwidget import LRFinder
        >>> m = nn.Linear(2, 1); finder = LRFinder(m, torch.optim.SGD(m.parameters(), lr=1e-3))
        >>> events = []; unsubscribe = finder.subscribe(events.append)
        >>> _ = finder.range_test([(torch.ones(2, 2), torch.ones(2, 1))], end_lr=0.01,
        ...                       num_iter=5, step_fn=lambda m, b: (m(b[0]) - b[1]).pow(2).mean())
        >>> type(events[0]).__name__, type(events[-1]).__name__
        ('RunStarted', 'RunEnded')
        >>> unsubscribe()
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable(event), got {type(callback).__name__}")
        iv = real("interval", interval, "a positive number of seconds")
        if not (iv > 0 and math.isfinite(iv)):
            raise ValueError(f"interval must be a positive number of seconds, got {interval}")
        sub = Sub(callback, iv)
        with self._runs.lock:
            self._runs.subs.append(sub)
            run = self._runs.active
            if run is not None:
                run.stream(id(sub), callback, iv)

        def unsubscribe() -> None:
            with self._runs.lock:
                if sub in self._runs.subs:
                    self._runs.subs.remove(sub)
                active = self._runs.active
                s = active.streams.pop(id(sub), None) if active is not None else None
            if s is not None:
                s.cancel()

        return unsubscribe
