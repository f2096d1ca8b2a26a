"""The job side of a remote range test: stream a finder's runs to a listening notebook and take
the lr chosen there.

::

    # in the notebook                       # in the job (a script, a torchrun job)
    w = lrwidget.listen()                   link = lrwidget.connect(finder)   # LRWIDGET_ADDRESS,
    w.address, w.token  ---- env ---->                                        # LRWIDGET_TOKEN
                                            finder.range_test(loader, ...)    # live in w
    (click, Apply in w)  <--- choice ---    lr = link.wait_for_choice(timeout=600)

Design decisions (the issue leaves them open):

* **Off the training thread, bounded, never blocking.** The finder's own stream thread calls
  :meth:`Link._on_event`, which only keeps the run's state (RunStarted, every reading, RunEnded:
  what a replay needs) and puts the event on a bounded queue (``put_nowait``; when full, the
  notebook gets the whole state instead of the events lost). The link's thread sends with
  ``NOBLOCK`` on a socket with ``IMMEDIATE`` and a send high-water mark: a slow, absent or
  restarting notebook costs the job a failed send, never a wait.
* **Replay by state, not by log.** Whenever the notebook asks (``sync``: it met this job for
  the first time, it restarted, or it saw a gap in the message numbers ``n``), the link sends
  one ``state`` message: the current or last run, all its readings, its end and the lrs last
  applied. Individual events follow only after that; no event is ever re-sent.
* **The choice is applied on the job's own thread**, in :meth:`Link.wait_for_choice`, never from
  the link's thread: the optimizer belongs to the training loop, and under torch.distributed every
  rank must apply the same lr at the same point. A choice that arrives before
  ``wait_for_choice`` is kept for it; one that arrives after the job took its lr and went on is
  refused at once, with the reason, in the notebook.
* **torch.distributed: only rank 0 opens a socket.** :func:`connect` and
  :meth:`Link.wait_for_choice` are collective when a process group is initialized: every rank
  calls them. Rank 0 waits for the notebook and broadcasts, every few seconds, whether it has
  the answer (so no rank sits in one collective for longer than the process group's timeout);
  then rank 0's lr reaches every rank's optimizer in one place, :meth:`Link._apply_everywhere`:
  through this module's broadcast, or, when the finder's ``apply`` is itself collective
  (``finder.collective`` is true), through ``finder.apply`` alone, so the lr is never
  broadcast twice.
* **A wrong token** is refused by the notebook; :func:`connect` waits up to ``timeout`` seconds
  for the notebook's answer and raises ``PermissionError("token refused by the notebook at
  ...")``. Without an answer it returns: the job goes on, and the notebook gets the whole run
  when it listens.

Security: the token is a bearer secret. Whoever can reach the notebook's port and knows the
token can send it readings and receive the choice; whoever knows it can also answer a job as
its notebook. Messages are signed (HMAC-SHA256), not encrypted: on a network you do not trust,
carry the link through an SSH tunnel (README, "Distributed and remote").

Example
-------
>>> import torch; from torch import nn; import lrwidget
>>> m = nn.Linear(2, 1); opt = torch.optim.SGD(m.parameters(), lr=1e-3)
>>> finder = lrwidget.LRFinder(m, opt)
>>> w = lrwidget.listen(display=False)                      # the notebook, here in one process
>>> link = lrwidget.connect(finder, w.address, w.token)
>>> link.connected
True
>>> r = finder.range_test([(torch.ones(4, 2), torch.ones(4, 1))], end_lr=0.1, num_iter=20,
...                       step_fn=lambda m, b: (m(b[0]) - b[1]).pow(2).mean())
>>> len(w.wait(timeout=30)) == len(r)
True
>>> link.wait_for_choice(timeout=0.1) == r.suggested_lr     # nobody chose: the default
True
>>> link.close(); w.close()
"""

from __future__ import annotations

import logging
import math
import os
import queue
import secrets
import socket
import threading
import time
from typing import Any, Callable

from .. import __version__
from ..channel.run_state import RunState
from ..engine.stream import RunStarted
from . import wire
from .transport import (
    ENV_ADDRESS,
    ENV_TOKEN,
    LogLimit,
    Waker,
    broadcast,
    check_address,
    check_seconds,
    closed_at_exit,
    dist_info,
    is_ipv6,
    zmq_module,
)

__all__ = ["connect", "Link"]

log = logging.getLogger("lrwidget.remote")

#: seconds between a waiting rank 0's broadcasts to the other ranks (each a collective)
AGREE_EVERY = 5.0
#: shortest ``interval`` of :func:`connect`: batches more often than this cost the job time
#: (a message each, 2.2x slower at 1e-4 s), not the curve anything (a view draws ~10 a second)
MIN_INTERVAL = 0.01


def _apply_is_collective(finder: Any) -> bool:
    # The collective finder (torch.distributed) broadcasts rank 0's lr inside apply() itself.
    return bool(getattr(finder, "collective", False))


class Link:
    """A finder's runs, streaming to a notebook's :func:`lrwidget.listen`; made by
    :func:`connect`.

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
        self._key = wire.check_token(token)
        self.opened = rank == 0
        self._closed = False
        # the notebook's choice: written by the link's thread, taken by wait_for_choice
        self._choice_lock = threading.Lock()
        self._choice: tuple | None = None  # (request id, lr)
        self._choice_evt = threading.Event()
        self._waiting = False
        self._taken: tuple | None = None  # (job run id, lr) of the last choice taken
        #: where the lr of the last :meth:`wait_for_choice` came from: "click" (applied in the
        #: notebook) or "default" (the timeout's default suggestion); None before
        self.chosen_by: str | None = None
        if not self.opened:
            return
        zmq = zmq_module()
        self._zmq = zmq
        self._session = secrets.token_hex(8)
        self._ctx = zmq.Context()
        sock = self._ctx.socket(zmq.DEALER)
        # no IDENTITY: the notebook tells this job by what it signs, not by a name (a name can
        # be claimed by anyone who reads it off the network)
        sock.setsockopt(zmq.IMMEDIATE, 1)  # queue nothing for a notebook not there
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, 1000)
        sock.setsockopt(zmq.RECONNECT_IVL, 100)
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, 1000)
        sock.setsockopt(zmq.MAXMSGSIZE, wire.MAX_BODY)  # the notebook only sends commands
        if is_ipv6(address):
            sock.setsockopt(zmq.IPV6, 1)
        try:
            sock.connect(address)
        except zmq.ZMQError as e:
            sock.close(0)
            self._ctx.term()
            raise ValueError(f"cannot connect to {address}: {e}") from None
        self._sock = sock
        # what a replay needs (the finder's stream thread writes, the link's thread reads)
        self._rlock = threading.Lock()
        self._runs = RunState()
        self._q: queue.Queue = queue.Queue(maxsize=self.queue_size)
        self._overflow = False
        self._answers: queue.SimpleQueue = queue.SimpleQueue()
        self._waker = Waker()
        # the link's thread alone
        self._n = 0
        self._synced = False
        self._state_ver = 0
        self._want_state = False
        self._superseded = False
        self._said_streaming = False
        self._signature_log = LogLimit(log, first=1)
        self._garbage_log = LogLimit(log)
        self._too_long_log = LogLimit(log, first=1, every=3600.0)
        self._closing = False
        # read by connect()
        self._answered = threading.Event()
        self.refused: str | None = None
        self._seed(finder)
        self._unsubscribe: Callable[[], None] | None = finder.subscribe(
            self._on_event, interval=interval
        )
        self._thread = threading.Thread(target=self._loop, name="lrwidget-link", daemon=True)
        self._thread.start()
        _open_links.add(self)

    # ------------------------------------------------------------------ public
    @property
    def connected(self) -> bool:
        return self.opened and self._synced and not self._closed

    def wait_for_choice(self, timeout: float | None = None) -> float:
        """Block until an lr is applied in the notebook; it is then in the optimizer.

        Under torch.distributed every rank calls this: rank 0's choice is applied on every
        rank (the other ranks take part in broadcasts meanwhile).

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
            The lr now in the optimizer's first param group (the others keep their ratio).

        Raises
        ------
        RuntimeError
            Nothing was chosen and there is nothing to fall back on (no range test ran, or its
            rules suggest no lr), or the link was closed; on every rank alike.
        """
        t = check_seconds(timeout, "timeout", none=True)
        if self._closed:
            raise RuntimeError("this link was closed")
        if self.opened:
            decision, request = self._decide(t)
        else:
            while True:
                decision = broadcast(None, self._group, self._src)
                if decision[0] != "wait":
                    break
            request = None
        if decision[0] == "error":
            raise RuntimeError(decision[1])
        try:
            held = self._apply_everywhere(decision[1])
        except Exception as e:
            if request is not None:  # the notebook shows why
                self._answer(request, error=f"{type(e).__name__}: {e}")
            raise
        # on every rank: the decision's kind was broadcast with it
        self.chosen_by = "click" if decision[0] == "lr" else "default"
        if self.opened:
            with self._choice_lock:
                run = self._runs.run
                self._taken = (None if run is None else run.run_id, float(held[0]))
            if request is not None:
                self._answer(request, lrs=held)
        return float(held[0])

    def close(self) -> None:
        """Send what is left and say goodbye to the notebook; stop streaming. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._choice_evt.set()
        if not self.opened:
            return
        _open_links.discard(self)
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        self._closing = True
        self._waker.wake()
        self._thread.join(5.0)
        if self._thread.is_alive():
            log.warning("the link to %s did not close within 5 s", self.address)

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
    def _decide(self, timeout: float | None) -> tuple:
        """Rank 0: wait for the notebook's choice (or the timeout); tell the other ranks."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self._waiting = True
        try:
            while True:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                wait = (
                    left
                    if self.world == 1
                    else AGREE_EVERY
                    if left is None
                    else min(AGREE_EVERY, left)
                )
                request = None
                if self._choice_evt.wait(wait) and not self._closed:
                    with self._choice_lock:
                        request, lr = self._choice  # type: ignore[misc]
                        self._choice = None
                        self._choice_evt.clear()
                    log.info("applying lr=%.6g, chosen in the notebook", lr)
                    decision: tuple = ("lr", lr)
                elif self._closed:
                    decision = ("error", "this link was closed while waiting for a choice")
                elif deadline is not None and time.monotonic() >= deadline:
                    decision = self._default(timeout)  # type: ignore[arg-type]
                else:
                    decision = ("wait",)
                if self.world > 1:
                    # the lr travels here unless finder.apply broadcasts it itself
                    shared = (
                        decision
                        if decision[0] != "lr" or not _apply_is_collective(self.finder)
                        else ("lr", None)
                    )
                    broadcast(shared, self._group, self._src)
                if decision[0] != "wait":
                    return decision, request
        finally:
            self._waiting = False

    def _default(self, timeout: float) -> tuple:
        from ..pure.suggest import DEFAULT

        r = getattr(self.finder, "result", None)
        if r is None:
            return (
                "error",
                f"no lr was applied in the notebook at {self.address} within "
                f"{timeout:g} s, and no range test ran to fall back on",
            )
        lr = r.suggested_lr
        if lr is None:
            s = r.suggestions.get(DEFAULT)
            why = s.reason if s is not None else "no rule answered"
            return (
                "error",
                f"no lr was applied in the notebook at {self.address} within "
                f"{timeout:g} s, and the range test suggests none ({why}); "
                "call finder.apply(lr) with an lr of your own",
            )
        log.warning(
            "no lr was applied in the notebook at %s within %g s: applying the "
            "default suggestion (%s) lr=%.6g",
            self.address,
            timeout,
            DEFAULT,
            lr,
        )
        return ("default", lr)

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
        self._answers.put(fields)
        self._waker.wake()

    def _on_apply(self, fields: dict) -> None:
        """A choice from the notebook (the link's thread)."""
        request, lr = fields.get("id"), fields.get("lr")
        if isinstance(request, bool) or not isinstance(request, int):
            log.warning("dropped an apply from the notebook without a request id")
            return
        if (
            isinstance(lr, bool)
            or not isinstance(lr, (int, float))
            or not (math.isfinite(lr) and lr > 0)
        ):
            self._answer(request, error=f"lr must be a positive finite number, got {lr!r}")
            return
        with self._choice_lock:
            run = self._runs.run
            taken = self._taken
            if (
                taken is not None
                and not self._waiting
                and run is not None
                and taken[0] == run.run_id
            ):
                self._answer(
                    request,
                    error=f"the job already took lr={taken[1]:.6g} for this "
                    "range test and went on (its wait_for_choice "
                    "returned); it takes a new choice after its next "
                    "range test",
                )
                return
            old, self._choice = self._choice, (request, float(lr))
            self._choice_evt.set()
        if old is not None:
            self._answer(old[0], error="replaced by a newer choice")
        log.info("the notebook chose lr=%.6g", lr)

    # ------------------------------------------------------------------ the finder's events
    def _seed(self, finder: Any) -> None:
        """A test that ended before connect(): the notebook shows it (and chooses from it)."""
        r = getattr(finder, "result", None)
        if r is None or getattr(finder, "running", False):
            return
        self._runs.seed(r, t0=time.time())

    def _on_event(self, ev: Any) -> None:
        """The finder's stream thread (or the thread that applied an lr): never blocks."""
        stale = None
        with self._rlock:
            self._runs.update(ev)  # an event of a run not current changes nothing
            ver = self._runs.version
        if isinstance(ev, RunStarted):
            with self._choice_lock:  # a choice made on the last run's curve is not for this one
                stale, self._choice = self._choice, None
                self._choice_evt.clear()
        if stale is not None:
            self._answer(stale[0], error="the job started a new range test")
        try:
            self._q.put_nowait((ver, ev))
        except queue.Full:
            self._overflow = True  # the notebook gets the whole state instead
        self._waker.wake()

    # ------------------------------------------------------------------ the link's thread
    def _loop(self) -> None:  # noqa: C901 (to split: issue 17)
        zmq = self._zmq
        poller = zmq.Poller()
        poller.register(self._sock, zmq.POLLIN)
        poller.register(self._waker.fd, zmq.POLLIN)
        next_beat = 0.0
        try:
            while True:
                closing = self._closing
                now = time.monotonic()
                poller.poll(0 if closing else max(0.0, next_beat - now) * 1000)
                self._waker.drain()
                for _ in range(64):
                    try:
                        frames = self._sock.recv_multipart(zmq.NOBLOCK, copy=False)
                    except zmq.Again:
                        break
                    self._incoming_guarded(frames)
                if self._overflow:
                    self._overflow = False
                    self._want_state = self._synced
                if self._want_state and not self._superseded:
                    self._send_state()
                self._send_events()
                while True:
                    try:
                        fields = self._answers.get_nowait()
                    except queue.Empty:
                        break
                    self._send("answer", fields)
                now = time.monotonic()
                if now >= next_beat and not self._superseded:
                    self._send("heartbeat" if self._synced else "hello", self._hello())
                    next_beat = now + (
                        self.heartbeat_interval if self._synced else self.hello_interval
                    )
                if closing:
                    self._send("bye", {})
                    break
        except Exception:
            log.exception(
                "the link to the notebook at %s stopped; the job goes on without it", self.address
            )
        finally:
            self._synced = False
            self._sock.close(linger=500 if self._closing else 0)  # let the goodbye out
            self._ctx.term()
            self._waker.close()

    def _hello(self) -> dict:
        return {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "rank": self.rank,
            "world": self.world,
            "version": __version__,
        }

    def _send(self, kind: str, fields: dict, buffers: Any = ()) -> bool:
        if any(memoryview(b).nbytes > wire.MAX_FRAME for b in buffers):
            # the notebook would drop it unread (and this link's connection with it)
            self._too_long_log.log(
                logging.ERROR,
                "this range test has more than %d readings: the notebook at %s cannot show "
                "it whole (the job goes on)",
                wire.MAX_READINGS,
                self.address,
            )
            return False
        body = dict(fields, session=self._session, n=self._n)
        frames = wire.pack(self._key, kind, body, buffers)
        try:
            self._sock.send_multipart(frames, self._zmq.NOBLOCK, copy=False)
        except self._zmq.Again:
            self._synced = False  # the notebook is not there (or not reading): say hello later
            return False
        self._n += 1
        return True

    def _send_state(self) -> None:
        self._want_state = False
        with self._rlock:
            runs = self._runs
            ver = runs.version
            lrs, losses, smoothed = (a.copy() for a in runs.readings.view())
            st = wire.State(runs.run, lrs, losses, smoothed, runs.ended, runs.applied)
        fields, buffers = wire.encode_state(st)
        if self._send("state", fields, buffers):
            self._synced = True
            self._state_ver = ver
            self._answered.set()
            if not self._said_streaming:
                self._said_streaming = True
                log.info("streaming to the notebook at %s", self.address)

    def _send_events(self) -> None:
        while True:
            try:
                ver, ev = self._q.get_nowait()
            except queue.Empty:
                return
            if not self._synced or ver <= self._state_ver:
                continue  # the next (or the last) state holds it
            kind, fields, buffers = wire.encode_event(ev)
            self._send(kind, fields, buffers)

    def _incoming_guarded(self, frames: list) -> None:
        """One message: whatever it holds, the link goes on with the next."""
        try:
            self._incoming(frames)
        except Exception as e:  # noqa: BLE001  # a check missed here: one message lost, not the link
            self._garbage_log.warning("dropped a message that could not be used: %r", e)

    def _incoming(self, frames: list) -> None:
        reason = wire.read_refusal(frames)
        if reason is not None:
            if self.refused is None:
                log.error(
                    "token refused by the notebook at %s (%s): nothing of this job is "
                    "shown there; use the notebook's token (w.token, e.g. through %s)",
                    self.address,
                    reason,
                    ENV_TOKEN,
                )
            self.refused = reason
            self._synced = False
            self._answered.set()
            return
        try:
            m = wire.unpack(self._key, frames)
        except wire.BadSignature:
            self._signature_log.warning(
                "dropped a message from %s that was not signed with this job's token",
                self.address,
            )
            return
        except wire.WireError as e:
            self._garbage_log.warning(
                "dropped a message from the notebook at %s: %s", self.address, e
            )
            return
        if m.kind == "sync":
            self.refused = None
            self._superseded = False
            self._want_state = True
        elif m.kind == "stop":
            log.info("Stop from the notebook at %s", self.address)
            self.finder.stop()
        elif m.kind == "apply":
            self._on_apply(m.fields)
        elif m.kind == "superseded":
            if not self._superseded:
                log.warning(
                    "another job now streams to the notebook at %s; this one goes on without it",
                    self.address,
                )
            self._superseded = True
            self._synced = False
        else:
            log.debug("ignored a %r message from the notebook", m.kind)

    def handshake(self, timeout: float) -> tuple:
        """Wait up to ``timeout`` s: ("accepted",), ("refused", why) or ("none",)."""
        if timeout > 0:
            self._answered.wait(timeout)
        if self.refused is not None:
            return ("refused", self.refused)
        return ("accepted",) if self._synced else ("none",)


#: links not closed yet: closed at exit (a job that ends without close() still says goodbye)
_open_links = closed_at_exit()


def connect(
    finder: Any,
    address: str | None = None,
    token: str | None = None,
    *,
    timeout: float = 2.0,
    interval: float = 0.05,
    process_group: Any = None,
) -> Link:
    """Stream ``finder``'s range tests to the notebook that :func:`lrwidget.listen` at
    ``address``, and take the lr chosen there with :meth:`Link.wait_for_choice`.

    Under torch.distributed (a process group is initialized, or ``process_group`` is given)
    every rank calls ``connect``: only rank 0 opens a socket; the others return a link that
    takes part in the choice's broadcast.

    Parameters
    ----------
    finder : LRFinder
        The job's finder; its runs (the current one too) stream from a thread of the link's
        own, never from the training thread.
    address : str, optional
        ``"tcp://HOST:PORT"`` as the notebook's ``w.address`` shows; default: the environment
        variable ``LRWIDGET_ADDRESS``.
    token : str, optional
        The notebook's ``w.token``; default: ``LRWIDGET_TOKEN``.
    timeout : float
        Seconds to wait for the notebook's answer (0: do not wait). Without an answer the job
        goes on and the notebook gets the whole run when it listens.
    interval : float
        Seconds between batches of readings (>= ``MIN_INTERVAL``, 0.01: more often only slows
        the job).
    process_group : torch.distributed.ProcessGroup, optional
        The group whose rank 0 connects (default: the default group, if initialized).

    Returns
    -------
    Link
        Also a context manager (``close()`` on exit).

    Raises
    ------
    PermissionError
        "token refused by the notebook at ...": the notebook answered that the token is wrong.
    TypeError, ValueError
        For bad arguments, or when ``address`` / ``token`` are None and their environment
        variables are not set (the message names them).

    Example
    -------
    >>> import torch; from torch import nn; import lrwidget
    >>> m = nn.Linear(2, 1)
    >>> finder = lrwidget.LRFinder(m, torch.optim.SGD(m.parameters(), lr=1e-3))
    >>> lrwidget.connect(finder, "tcp://127.0.0.1:5555", token="short")
    Traceback (most recent call last):
    ...
    ValueError: token must have at least 16 characters (a secret shared by the notebook and the job; lrwidget.listen() makes one), got 5
    """  # noqa: E501
    if not all(callable(getattr(finder, n, None)) for n in ("subscribe", "apply", "stop")):
        raise TypeError(
            "finder must be an lrwidget.LRFinder (something with subscribe, apply "
            f"and stop), got {type(finder).__name__}"
        )
    a_name, t_name = "address", "token"
    if address is None:
        address, a_name = os.environ.get(ENV_ADDRESS), ENV_ADDRESS
        if address is None:
            raise ValueError(
                f"address is None and {ENV_ADDRESS} is not set: pass the address "
                f"the notebook's lrwidget.listen() shows (w.address), or set "
                f"{ENV_ADDRESS} (and {ENV_TOKEN}) in the job's environment"
            )
    if token is None:
        token, t_name = os.environ.get(ENV_TOKEN), ENV_TOKEN
        if token is None:
            raise ValueError(
                f"token is None and {ENV_TOKEN} is not set: pass the token the "
                f"notebook's lrwidget.listen() shows (w.token), or set {ENV_TOKEN} "
                "in the job's environment"
            )
    address = check_address(address, a_name)
    wire.check_token(token, t_name)
    t = check_seconds(timeout, "timeout")
    iv = check_seconds(interval, "interval", zero=False)
    if iv < MIN_INTERVAL:  # type: ignore[operator]
        raise ValueError(
            f"interval must be >= {MIN_INTERVAL} seconds (more often only slows the job: a "
            f"message a batch), got {interval!r}"
        )
    group, rank, world, src = dist_info(process_group)
    link = Link(finder, address, token, group=group, rank=rank, world=world, src=src, interval=iv)  # type: ignore[arg-type]
    outcome = link.handshake(t) if link.opened else None  # type: ignore[arg-type]
    if world > 1:
        outcome = broadcast(outcome, group, src)
    if outcome[0] == "refused":  # type: ignore[index]
        link.close()
        raise PermissionError(
            f"token refused by the notebook at {address}: use the token its "
            f"lrwidget.listen() shows (w.token), e.g. through {ENV_TOKEN}"
        )
    if outcome[0] == "none" and link.opened:  # type: ignore[index]
        log.info(
            "no notebook answered at %s within %g s; the job goes on, and the notebook "
            "gets the whole run when it listens there",
            address,
            t,
        )
    return link
