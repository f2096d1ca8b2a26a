"""The job's end of a remote link, :class:`Link` (made by :func:`lrwidget.remote.link.connect`):
a finder's runs kept for a replay and handed to the link's thread
(:mod:`lrwidget.remote.link_thread`, rank 0 only), and :meth:`Link.wait_for_choice`, which
takes the notebook's choice (:mod:`lrwidget.remote.choosing`) and applies it on every rank.

Under torch.distributed only rank 0 opens a socket; rank 0's lr reaches every rank's optimizer
in one place, :meth:`Link._apply_everywhere`: through the choice's broadcast, or, when the
finder's ``apply`` is itself collective (``finder.collective`` is true), through
``finder.apply`` alone, so the lr is never broadcast twice.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, TypeVar

from ..channel.run_state import RunState
from ..engine.schedules import base_lrs
from ..engine.stream import RunStarted
from . import wire
from .choosing import Choice
from .link_thread import LinkThread
from .transport import broadcast, check_seconds, closed_at_exit

__all__ = ["Link"]

log = logging.getLogger("lrwidget.remote")

W = TypeVar("W")  # a Watch (typed loosely: the engine's class is not needed here)


class Link:
    """A finder's runs, streaming to a notebook's :func:`lrwidget.listen`; made by
    :func:`lrwidget.connect`.

    Attributes
    ----------
    address : str
        The notebook's address.
    rank, world : int
        This process's rank and the number of ranks (0 and 1 without torch.distributed).
    opened : bool
        Whether this process opened a socket (rank 0 only).
    connected : bool
        Whether the notebook has this job's state now (it answered, and no send failed since).
    chosen_by : str or None
        Where the lr of the last :meth:`wait_for_choice` came from: "click" (applied in the
        notebook), "schedule" (a schedule applied in the notebook: :attr:`scheduler`) or
        "default" (the timeout's default suggestion); None before.
    scheduler : torch.optim.lr_scheduler.LRScheduler or None
        The schedule the notebook chose (a brushed range's, built here by
        ``finder.schedule`` on every rank) when the last :meth:`wait_for_choice` took one;
        None when it took an lr. Step it after each ``optimizer.step()``.
    schedule_args : tuple or None
        Its numbers, ``(kind, lo, hi, total_steps)`` (the framework callbacks build their
        framework's schedule from them); None with :attr:`scheduler`.

    :meth:`watch` streams a ``finder.watch()``'s training there too, and obeys its buttons.
    """

    #: seconds between hellos while the notebook has not answered
    hello_interval = 0.25
    #: seconds between heartbeats while it has
    heartbeat_interval = 1.0
    #: most events waiting to be sent; beyond, the notebook gets the whole state instead
    queue_size = 256

    def __init__(
        self,
        finder: Any,
        address: str,
        token: str,
        *,
        group: Any = None,
        rank: int = 0,
        world: int = 1,
        src: int = 0,
        interval: float = 0.05,
    ):
        self.finder = finder
        self.address = address
        self.rank, self.world = rank, world
        self._group, self._src = group, src
        key = wire.check_token(token)
        self.opened = rank == 0
        self._closed = False
        self.chosen_by: str | None = None
        self.scheduler: Any = None
        self.schedule_args: tuple | None = None
        # what a replay needs (the finder's stream thread writes, the link's thread reads)
        self._rlock = threading.Lock()
        self._runs = RunState()
        self._choice = Choice(
            finder,
            address,
            (group, world, src),
            self._answer,
            self._run_id,
            lambda: self._closed,
        )
        if self.opened:
            self._open(key, interval)

    def _open(self, key: bytes, interval: float) -> None:
        """Rank 0: the socket and the link's thread; the finder's runs (the last one too)."""
        self._sending = LinkThread(
            self.address,
            key,
            self.rank,
            self.world,
            self._state,
            {
                "stop": self.finder.stop,
                "apply": self._choice.offer,
                "schedule": self._choice.offer_schedule,
            },
            (self.hello_interval, self.heartbeat_interval),
            self.queue_size,
        )
        self._seed(self.finder)
        self._unsubscribe: Callable[[], None] | None = self.finder.subscribe(
            self._on_event, interval=interval
        )
        self._sending.thread.start()
        _open_links.add(self)

    # ------------------------------------------------------------------ public
    @property
    def connected(self) -> bool:
        return self.opened and self._sending.synced and not self._closed

    @property
    def refused(self) -> str | None:
        """Why the notebook refused this job's token (None: it did not, or not rank 0)."""
        return self._sending.refused if self.opened else None

    def wait_for_choice(self, timeout: float | None = None) -> float:
        """Block until an lr (or a schedule) is applied in the notebook; it is then in the
        optimizer.

        Under torch.distributed every rank calls this: rank 0's choice is applied on every
        rank (the other ranks take part in broadcasts meanwhile).

        A schedule chosen in the notebook (``RemoteSource.schedule``: a brushed range) is
        built here with ``finder.schedule`` (on every rank) and kept as :attr:`scheduler`
        (``chosen_by`` is then "schedule"); the notebook is told each group's peak lr.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait. On timeout (the notebook is slow, absent or gone) the default
            suggestion of the last range test (``finder.result.suggested_lr``) is applied and a
            log line (logger ``lrwidget.remote``, WARNING) says so. None waits as long as it
            takes.

        Returns
        -------
        float
            The lr now in the optimizer's first param group (the others keep their ratio); a
            schedule's first step's.

        Raises
        ------
        RuntimeError
            Nothing was chosen and there is nothing to fall back on (no range test ran, or its
            rules suggest no lr), or the link was closed; on every rank alike.
        """
        t = check_seconds(timeout, "timeout", none=True)
        if self._closed:
            raise RuntimeError("this link was closed")
        decision, request = self._decide(t)
        if decision[0] == "error":
            raise RuntimeError(decision[1])
        try:
            held, told = self._take(decision)
        except Exception as e:
            if request is not None:  # the notebook shows why
                self._answer(request, error=f"{type(e).__name__}: {e}")
            raise
        # on every rank: the decision's kind was broadcast with it
        self.chosen_by = {"lr": "click", "schedule": "schedule"}.get(decision[0], "default")
        if self.opened:
            self._choice.took(float(held[0]))
            if request is not None:
                self._answer(request, lrs=told)
        return float(held[0])

    def watch(self, watch: W) -> W:
        """Stream ``watch``'s training to the notebook's ``listen()`` widget, and obey its
        buttons; returns ``watch``, so ``with link.watch(finder.watch(scheduler)) as watch:``.

        The watch's listener only enqueues (it runs on the training thread); the link's thread
        sends what the watch said (its losses, the lr in use, verdict changes, actions) at most
        20 times a second. A button in the notebook (``scale_lr``: a factor among the buttons',
        a bool rollback, signed with the token) is checked here and handed to
        ``watch.scale_lr``, which applies it at the watch's next ``record()``; the notebook is
        told whether it was accepted, or why not. One watch at a time: a later call replaces
        the earlier one (a new chart in the notebook).

        Under torch.distributed every rank may call it: only rank 0 streams; an action is
        collective through the watch itself (every rank applies it after the same step).

        Parameters
        ----------
        watch : Watch
            ``finder.watch(...)`` (of this link's finder or another).

        Returns
        -------
        Watch
            ``watch`` itself.

        Raises
        ------
        TypeError
            ``watch`` is not a Watch (no ``listen`` / ``scale_lr``).
        RuntimeError
            The link was closed.

        Example
        -------
        >>> with link.watch(finder.watch(scheduler)) as watch:  # doctest: +SKIP
        ...     for x, y in loader:
        ...         loss = step(x, y); watch.record(loss)
        """
        if self._closed:
            raise RuntimeError("this link was closed")
        if self.opened:
            self._sending.watching.attach(watch)
        elif not callable(getattr(watch, "listen", None)):
            raise TypeError(f"watch must be an lrwidget Watch, got {type(watch).__name__}")
        return watch

    def close(self) -> None:
        """Send what is left and say goodbye to the notebook; stop streaming. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._choice.wake()
        if not self.opened:
            return
        _open_links.discard(self)
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        self._sending.watching.detach()
        self._sending.close()

    def handshake(self, timeout: float) -> tuple:
        """Rank 0: wait up to ``timeout`` s: ("accepted",), ("refused", why) or ("none",)."""
        return self._sending.handshake(timeout)

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = (
            "closed"
            if self._closed
            else "connected"
            if self.connected
            else "no socket (rank != 0)"
            if not self.opened
            else "waiting for the notebook"
        )
        return f"<lrwidget Link to {self.address}, rank {self.rank}/{self.world}, {state}>"

    # ------------------------------------------------------------------ the choice
    def _decide(self, timeout: float | None) -> tuple[tuple, int | None]:
        """Rank 0 waits for the choice and broadcasts it; the other ranks take part."""
        if self.opened:
            return self._choice.decide(timeout)
        while True:
            decision = broadcast(None, self._group, self._src)
            if decision[0] != "wait":
                return decision, None

    def _take(self, decision: tuple) -> tuple[list, list]:
        """The decision taken on every rank: (the lrs the groups hold now, what the notebook is
        told: those, or a schedule's peak lr of each group)."""
        self.scheduler = self.schedule_args = None
        if decision[0] != "schedule":
            held = self._apply_everywhere(decision[1])
            return held, held
        # every rank has rank 0's numbers (broadcast); a collective finder agrees on them again
        sched = self.finder.schedule(*decision[1])
        self.scheduler, self.schedule_args = sched, tuple(decision[1])
        held = [float(g["lr"]) for g in self.finder.optimizer.param_groups]
        return held, base_lrs(self.finder.optimizer, [sched])

    def _apply_everywhere(self, lr: float | None) -> list:
        """The one place where rank 0's lr reaches every rank's optimizer.

        ``lr`` is rank 0's on every rank here (broadcast by :meth:`_decide`), except when the
        finder's apply is collective: then the other ranks pass None and ``finder.apply``
        broadcasts rank 0's value itself.
        """
        return list(self.finder.apply(lr))

    def _answer(self, request: int, lrs: list | None = None, error: str | None = None) -> None:
        fields: dict = {"id": request}
        if error is not None:
            fields["error"] = error
        else:
            fields["lrs"] = [float(x) for x in lrs or ()]
        self._sending.answer(fields)

    def _run_id(self) -> int | None:
        run = self._runs.run
        return None if run is None else run.run_id

    # ------------------------------------------------------------------ the finder's events
    def _seed(self, finder: Any) -> None:
        """A test that ended before connect(): the notebook shows it (and chooses from it)."""
        r = getattr(finder, "result", None)
        if r is None or getattr(finder, "running", False):
            return
        self._runs.seed(r, t0=time.time())

    def _on_event(self, ev: Any) -> None:
        """The finder's stream thread (or the thread that applied an lr): never blocks."""
        with self._rlock:
            self._runs.update(ev)  # an event of a run not current changes nothing
            ver = self._runs.version
        if isinstance(ev, RunStarted):  # a choice made on the last run's curve is not for this one
            stale = self._choice.new_run()
            if stale is not None:
                self._answer(stale[0], error="the job started a new range test")
        self._sending.put(ver, ev)

    def _state(self) -> tuple[int, wire.State]:
        """The job's whole state now (the link's thread, for a ``state`` message)."""
        with self._rlock:
            runs = self._runs
            ver = runs.version
            lrs, losses, smoothed = (a.copy() for a in runs.readings.view())
            st = wire.State(
                runs.run,
                lrs,
                losses,
                smoothed,
                runs.ended,
                runs.applied,
                runs.applied_schedule,
                runs.applied_peaks,
            )
        return ver, st


#: links not closed yet: closed at exit (a job that ends without close() still says goodbye)
_open_links = closed_at_exit()
