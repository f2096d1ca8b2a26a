"""The notebook side of a remote range test, its source: :class:`RemoteSource` receives a job
in another process (a script, a torchrun job, on this machine or one that can reach it), and
sends the lr chosen in the notebook back to the job. Its widget and :func:`listen` are in
:mod:`lrwidget.views.remote_widget`.

::

    job: lrwidget.connect(finder) --signed messages (remote.wire)--> RemoteSource --> Channel
                                  <--- stop, apply -----------------              --> widget

:class:`RemoteSource` is a source of runs (:class:`lrwidget.channel.core.Source`): the widget and
the channel treat it as they treat a local ``LRFinder``: live curve, suggestions, click, Apply,
Stop, ``w.wait()`` (the job's result), ``w.apply(lr)`` (the lrs the job's optimizer holds).

Design decisions (the issue leaves them open):

* **One ZeroMQ ROUTER socket, bound** (127.0.0.1 by default, port 0: a free one), read by a
  thread of its own that verifies every message (HMAC-SHA256 with the token, before the body
  is parsed) and turns the job's messages into events. A message with another token is dropped,
  logged on ``lrwidget.remote`` (a few lines a minute: ``transport.LogLimit``), and answered
  once a second at most with an unsigned "refused", which the job reports as "token refused by
  the notebook at ...". Frames over ``wire.MAX_FRAME`` are dropped by ZeroMQ unread, and at
  most ``RECEIVE_QUEUE`` messages wait per connection: a peer without the token cannot grow
  this process by more than a few frames per connection.
* **A second thread delivers the events** to the subscribers (the channel, whose callback only
  enqueues). Two threads, because the channel's callback waits for the channel after a run's end
  (so that ``range_test`` / ``wait`` return after every view showed it), and an Apply queued during
  the run is applied there, which needs the receiving thread free to get the job's answer.
* **The job is the one that said hello last.** A restarted job takes over at once; the one it
  replaces is told (and goes on without the notebook). Messages carry numbers: a gap (a message
  lost while a connection broke) makes the notebook ask for the job's whole state, and so does a
  job it has not met (the notebook restarted): it shows the whole run after a replay.
* **Liveness by heartbeats.** A job sends one every second; after ``liveness_timeout`` seconds
  without any message during a run, the run ends in the widget as an error saying "job
  disconnected" (and ``w.wait()`` raises ConnectionError); a job that comes back is shown whole
  again. A job that closes its link says goodbye: no error then.
* **Runs get local ids**: two jobs (or a job and its restart) both number their runs from 1.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import logging
import math
import queue
import threading
import time
import warnings
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable

from ..channel.run_state import RunState
from ..engine.stream import LrApplied, Readings, RunEnded, RunStarted
from . import wire
from .transport import (
    LogLimit,
    Waker,
    check_address,
    check_seconds,
    closed_at_exit,
    is_ipv6,
    zmq_module,
)

__all__ = ["RemoteSource", "DEFAULT_ADDRESS"]

log = logging.getLogger("lrwidget.remote")

#: where :func:`listen` binds by default: this machine only, a free port
DEFAULT_ADDRESS = "tcp://127.0.0.1:0"
#: messages a connection may have waiting in ZeroMQ for the receiving thread (``RCVHWM``):
#: with frames of at most ``wire.MAX_FRAME``, what a peer without the token can make this
#: process hold is bounded per connection (a job's messages are small and read at once)
RECEIVE_QUEUE = 2


@dataclass
class _Session:
    """A job as the receiving thread knows it."""

    ident: bytes  # the connection (ZeroMQ routing id) that speaks for the job
    session: str
    info: dict
    last_seen: float
    high: int  # the highest message number taken from it: a number not above is a replay
    synced: bool = False
    expect: int = 0
    asked: float = -math.inf  # when a state was last asked for
    gone: bool = False
    bye: bool = False


@dataclass
class _Sub:
    callback: Callable[[Any], None]
    live: bool = False  # False until the delivery thread replayed the state to it
    dead: bool = False


@dataclass
class _NewSub:
    sub: _Sub


@dataclass
class _Pending:
    """An Apply sent to the job: its answer, and when to stop waiting for it."""

    future: Future
    lr: float
    deadline: float


class RemoteSource:
    """A source of runs whose range tests run in another process (see the module docstring).

    Parameters
    ----------
    address : str
        ``"tcp://HOST:PORT"`` to listen at; port 0 picks a free one. 127.0.0.1 (the default)
        takes jobs of this machine only; for a job elsewhere, see the SSH tunnel in the README.
    token : str, optional
        The shared secret (>= 16 printable ASCII characters); None makes one.
    liveness_timeout : float
        Seconds without a message from a running job before it is shown as disconnected.
    apply_timeout : float
        Seconds :meth:`apply` waits for the job to apply the lr and answer.

    Attributes
    ----------
    address, token : str
        Where it listens (the port actually bound) and the token.
    result : RangeTestResult or None
        The last run the job finished.
    jobs : list of dict
        Every job that connected, oldest first: ``session``, ``pid``, ``host``, ``rank``,
        ``world``.
    """

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        token: str | None = None,
        *,
        liveness_timeout: float = 5.0,
        apply_timeout: float = 30.0,
    ):
        address = check_address(address, bind=True)
        self.token = wire.make_token() if token is None else token
        self._key = wire.check_token(self.token)
        self.liveness_timeout = check_seconds(liveness_timeout, "liveness_timeout", zero=False)
        self.apply_timeout = check_seconds(apply_timeout, "apply_timeout", zero=False)
        zmq = zmq_module()
        self._zmq = zmq
        self._ctx = zmq.Context()
        sock = self._ctx.socket(zmq.ROUTER)
        # Routing ids are ZeroMQ's own (no handover): a peer cannot claim a job's connection by
        # naming it; a job that reconnects is known again by a message only it could sign.
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)  # a send to a vanished job fails, not vanishes
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.MAXMSGSIZE, wire.MAX_FRAME)  # a bigger frame: dropped unread
        sock.setsockopt(zmq.RCVHWM, RECEIVE_QUEUE)
        if is_ipv6(address):
            sock.setsockopt(zmq.IPV6, 1)
        try:
            sock.bind(address)
        except zmq.ZMQError as e:
            sock.close(0)
            self._ctx.term()
            raise OSError(f"cannot listen at {address}: {e}") from None
        self._sock = sock
        self.address = sock.getsockopt_string(zmq.LAST_ENDPOINT)
        _warn_if_open(self.address)
        # shared: guarded by _cond
        self._cond = threading.Condition()
        self.result: Any = None
        self._running = False
        self._ended: RunEnded | None = None
        self._ends = 0
        self._connected = False
        self._subs: list[_Sub] = []
        self._pending: dict[int, _Pending] = {}
        self.jobs: list[dict] = []
        self._closed = False
        # the delivery thread alone
        self._runs = RunState()  # what a late subscriber is replayed
        # the receiving thread alone
        self._cur: _Session | None = None
        self._old: dict[str, bytes] = {}  # sessions replaced by a newer job
        self._refused_at: dict[bytes, float] = {}
        # lines that anyone who reaches the port can cause: limited
        self._refused_log = LogLimit(log)
        self._garbage_log = LogLimit(log)
        self._hostile_log = LogLimit(log)  # signed, yet not usable
        self._shown_key: tuple | None = None  # (session, the job's run id) shown now
        self._local = 0  # its local run id
        self._shown_open = False  # started and not ended in the views
        self._shown_lost = False  # ended by a disconnect
        self._shown_n = 0  # readings of it shown
        self._shown_applied: tuple | None = None
        self._seq = 0
        self._t0 = 0.0
        self._run_ids = itertools.count(1)
        self._request_ids = itertools.count(1)
        # between the threads
        self._out: queue.SimpleQueue = queue.SimpleQueue()
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._waker = Waker()
        self._receiver = threading.Thread(
            target=self._receive, name="lrwidget-remote-recv", daemon=True
        )
        self._deliverer = threading.Thread(
            target=self._deliver, name="lrwidget-remote-deliver", daemon=True
        )
        self._receiver.start()
        self._deliverer.start()
        _open_sources.add(self)
        log.info("listening for a job at %s", self.address)

    # ------------------------------------------------------------------ Source
    @property
    def running(self) -> bool:
        """Whether the job's range test is going (as far as its messages tell)."""
        return self._running

    @property
    def connected(self) -> bool:
        """Whether a job is connected and alive now."""
        return self._connected

    def subscribe(
        self, callback: Callable[[Any], None], interval: float = 0.05
    ) -> Callable[[], None]:
        """Receive the job's runs as events (:mod:`lrwidget.engine.stream`), on a delivery thread.

        A new subscriber gets the current run first (its start, its readings so far, and its
        end if it ended). ``interval`` is the job's business (see :func:`lrwidget.connect`).
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable(event), got {type(callback).__name__}")
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

    def stop(self) -> None:
        """Ask the job to end its range test (at its next step). Returns at once."""
        self._out.put(("stop", None, None))
        self._waker.wake()

    def apply(self, lr: float | None = None) -> list[float]:
        """Send ``lr`` to the job; it applies it in ``link.wait_for_choice()`` and answers.

        Parameters
        ----------
        lr : float, optional
            Default: the last result's suggested lr.

        Returns
        -------
        list of float
            The lrs the job's optimizer holds now, one per param group.

        Raises
        ------
        ConnectionError
            No job is connected, or it went away before answering.
        TimeoutError
            The job did not answer within ``apply_timeout`` seconds (it is not in
            ``wait_for_choice``).
        RuntimeError
            The job refused it (e.g. it already went on with another lr); the text says why.
        """
        # the receiving thread ends the wait at the deadline; the margin only guards a hang
        return self.apply_async(lr).result(timeout=self.apply_timeout + 10)  # type: ignore[operator]

    def apply_async(self, lr: float | None = None) -> Future:
        """:meth:`apply` without the wait: a Future of what it returns (or raises).

        The channel applies through this, so that its writer (every view of this source) never
        waits for a job. An lr the job takes after ``apply_timeout`` still reaches the views
        (the job's ``applied`` event).
        """
        if lr is None:
            lr = None if self.result is None else self.result.suggested_lr
            if lr is None:
                raise ValueError("lr is None and there is no suggested lr; pass an lr")
        if (
            isinstance(lr, bool)
            or not isinstance(lr, (int, float))
            or not (math.isfinite(lr) and lr > 0)
        ):
            raise ValueError(f"lr must be a positive finite number, got {lr!r}")
        future: Future = Future()
        request = next(self._request_ids)
        deadline = time.monotonic() + self.apply_timeout  # type: ignore[operator]
        with self._cond:
            if self._closed:
                raise RuntimeError("this listener was closed")
            self._pending[request] = _Pending(future, float(lr), deadline)
        self._out.put(("apply", request, float(lr)))
        self._waker.wake()
        return future

    def wait_for_run(self, timeout: float | None = None) -> Any:
        """Block until the job's range test ended (the current one, or the first one);
        return its result. ``LRFinderWidget.wait`` calls it.

        Raises
        ------
        TimeoutError
            Still running (or no run ended) after ``timeout`` seconds.
        ConnectionError
            The job disconnected before its range test ended.
        """
        deadline = None if timeout is None else time.monotonic() + float(timeout)
        with self._cond:
            target = self._ends + 1 if self._running or self._ended is None else self._ends
            while self._ends < target:
                if self._closed:
                    raise RuntimeError("this listener was closed")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    what = (
                        "the job's range test is still running"
                        if self._running
                        else f"no job ran a range test at {self.address}"
                    )
                    raise TimeoutError(f"{what} after {timeout} s")
                self._cond.wait(left)
            ended = self._ended
        if ended is not None and ended.result is None:
            raise ConnectionError(ended.error or "the job's range test ended without a result")
        return None if ended is None else ended.result

    def close(self) -> None:
        """Stop listening (the port is free again); a job goes on without the notebook."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        _open_sources.discard(self)
        self._fail_pending("no job: the listener was closed")
        self._waker.wake()
        self._receiver.join(5.0)
        self._events.put(None)
        if threading.current_thread() is not self._deliverer:
            self._deliverer.join(5.0)

    # ------------------------------------------------------------------ delivery thread
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
                self._running = True
            elif isinstance(ev, RunEnded):
                self._running = False
                self._ended = ev
                if ev.result is not None:
                    self.result = ev.result
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

    # ------------------------------------------------------------------ receiving thread
    def _receive(self) -> None:
        zmq = self._zmq
        poller = zmq.Poller()
        poller.register(self._sock, zmq.POLLIN)
        poller.register(self._waker.fd, zmq.POLLIN)
        try:
            while not self._closed:
                poller.poll(250)
                self._waker.drain()
                for _ in range(256):
                    try:
                        frames = self._sock.recv_multipart(zmq.NOBLOCK, copy=False)
                    except zmq.Again:
                        break
                    self._incoming_guarded(frames)
                self._commands()
                self._check_alive()
                self._expire_pending()
        except Exception:
            log.exception("the listener at %s stopped receiving", self.address)
        finally:
            self._sock.close(0)
            self._ctx.term()
            self._waker.close()

    def _send_to(self, ident: bytes, kind: str, fields: dict | None = None) -> bool:
        zmq = self._zmq
        try:
            self._sock.send_multipart([ident, *wire.pack(self._key, kind, fields)], zmq.NOBLOCK)
        except zmq.ZMQError as e:  # gone (EHOSTUNREACH) or not reading (EAGAIN)
            log.debug("could not send %s to the job: %s", kind, e)
            return False
        return True

    def _incoming_guarded(self, frames: list) -> None:
        """One message: whatever it holds, the receiving thread goes on with the next."""
        try:
            self._incoming(frames)
        except Exception as e:  # noqa: BLE001  # a check missed here: one message lost, not the thread
            self._hostile_log.warning("dropped a message that could not be used: %r", e)

    def _incoming(self, frames: list) -> None:  # noqa: C901 (to split: issue 17)
        ident = frames[0].bytes
        try:
            m = wire.unpack(self._key, frames[1:])
        except wire.BadSignature:
            self._refuse(ident, frames[1] if len(frames) > 1 else None)
            return
        except wire.WireError as e:
            self._garbage_log.warning(
                "dropped a message that is not lrwidget's (from %s): %s", _peer(frames), e
            )
            return
        session, n = m.fields.get("session"), m.fields.get("n")
        if not isinstance(session, str) or isinstance(n, bool) or not isinstance(n, int):
            self._hostile_log.warning("dropped a %r message without session and number", m.kind)
            return
        now = time.monotonic()
        cur = self._cur
        if cur is not None and session == cur.session:
            if n <= cur.high:
                # Signed, but not new: a replay (possibly from another connection, to take the
                # job's place for the next Apply). The job's own numbers only grow.
                self._hostile_log.warning(
                    "dropped a %r message numbered %d, not after %d: a replay", m.kind, n, cur.high
                )
                return
            cur.high = n
            cur.ident = ident  # only the job can sign a new number: it reconnected
        if m.kind == "hello":
            self._hello(ident, session, m.fields, n, now)
            return
        if cur is None or session != cur.session:
            if session in self._old:
                self._send_to(ident, "superseded")
                return
            # met a job mid-stream (this notebook restarted)
            self._adopt(ident, session, {}, n, now)
            return
        self._alive(cur, now)
        in_order = cur.synced and n == cur.expect
        if in_order:
            cur.expect = n + 1
        if m.kind == "answer":
            self._answer(m.fields)
        elif m.kind == "bye":
            cur.bye = True
            self._set_connected(False)
            log.info("the job (pid %s) closed its link", cur.info.get("pid", "?"))
            self._lose("the job closed its link before its range test ended")
        elif m.kind == "state":
            self._state(m, cur)
            cur.synced, cur.expect = True, n + 1
        elif m.kind == "heartbeat":
            pass
        elif not in_order:
            if cur.synced:
                log.info(
                    "a message from the job was lost (number %d, expected %d): asking for "
                    "its whole state",
                    n,
                    cur.expect,
                )
            cur.synced = False
            if now - cur.asked > 1.0:
                self._ask(cur, now)
        else:
            try:
                ev = wire.decode_event(m.kind, m.fields, m.buffers)
            except wire.WireError as e:
                self._hostile_log.warning("dropped a %r message from the job: %s", m.kind, e)
                return
            self._event(ev, cur)

    def _hello(self, ident: bytes, session: str, fields: dict, n: int, now: float) -> None:
        cur = self._cur
        if cur is not None and cur.session == session:
            # the job lost us (a send failed): it wants to be synced again
            self._alive(cur, now)
            cur.synced = False
            self._ask(cur, now)
            return
        if session in self._old:
            self._send_to(ident, "superseded")
            return
        self._adopt(ident, session, fields, n, now)

    def _adopt(self, ident: bytes, session: str, fields: dict, n: int, now: float) -> None:
        old = self._cur
        if old is not None:
            self._old[old.session] = old.ident
            while len(self._old) > 64:
                del self._old[next(iter(self._old))]
            if not (old.bye or old.gone):
                self._send_to(old.ident, "superseded")
                log.warning(
                    "a new job connected at %s and replaces the one before (pid %s)",
                    self.address,
                    old.info.get("pid", "?"),
                )
            self._lose("another job connected and replaced this one")
            self._fail_pending("no job: another job connected")
        info: dict[str, Any] = {"session": session}
        for k, kind in (
            ("pid", int),
            ("host", str),
            ("rank", int),
            ("world", int),
            ("version", str),
        ):
            v = fields.get(k)
            info[k] = v if isinstance(v, kind) and not isinstance(v, bool) else None
        self._cur = _Session(ident, session, info, now, high=n)
        with self._cond:
            self.jobs.append(info)
        self._set_connected(True)
        log.info(
            "a job connected at %s: pid %s on %s, rank %s of %s",
            self.address,
            info["pid"],
            info["host"],
            info["rank"],
            info["world"],
        )
        self._ask(self._cur, now)

    def _ask(self, cur: _Session, now: float) -> None:
        cur.asked = now
        self._send_to(cur.ident, "sync")

    def _alive(self, cur: _Session, now: float) -> None:
        cur.last_seen = now
        if cur.gone:
            cur.gone = False
            log.info("the job at %s is back", self.address)
        if not cur.bye:
            self._set_connected(True)

    def _set_connected(self, value: bool) -> None:
        self._connected = value

    def _refuse(self, ident: bytes, frame: Any) -> None:
        now = time.monotonic()
        if now - self._refused_at.get(ident, -math.inf) < 1.0:
            return  # at most one answer a second per peer: no amplification
        self._refused_at[ident] = now
        while len(self._refused_at) > 256:
            del self._refused_at[next(iter(self._refused_at))]
        self._refused_log.warning(
            "refused a message signed with another token (from %s); nothing of it is shown",
            _peer([None, frame]),
        )
        with contextlib.suppress(self._zmq.ZMQError):  # the peer left: nothing to tell
            self._sock.send_multipart([ident, *wire.refusal("wrong token")], self._zmq.NOBLOCK)

    # -- what the job sent, as events for the views
    def _emit(self, ev: Any) -> None:
        self._events.put(ev)

    def _start_shown(self, key: tuple, run: RunStarted) -> None:
        self._shown_key = key
        self._local = next(self._run_ids)
        self._shown_open, self._shown_lost = True, False
        self._shown_n = 0
        self._seq = 0
        self._t0 = run.t0
        self._emit(
            RunStarted(self._local, run.num_iter, run.start_lr, run.end_lr, run.step_mode, run.t0)
        )

    def _end_shown(self, ev: RunEnded) -> None:
        self._shown_open = False
        self._emit(RunEnded(self._local, ev.stop_reason, ev.result, ev.error, ev.elapsed))

    def _event(self, ev: Any, cur: _Session) -> None:
        if isinstance(ev, RunStarted):
            self._start_shown((cur.session, ev.run_id), ev)
        elif isinstance(ev, Readings):
            if self._shown_key == (cur.session, ev.run_id) and self._shown_open:
                if ev.start > self._shown_n:  # a job's readings follow on: this is no job's
                    self._hostile_log.warning(
                        "dropped readings from index %d (%d shown so far)", ev.start, self._shown_n
                    )
                    return
                self._shown_n = max(self._shown_n, ev.start + ev.lrs.size)
                self._seq += 1
                self._emit(
                    Readings(
                        self._local, self._seq, ev.start, ev.lrs, ev.losses, ev.smoothed, ev.elapsed
                    )
                )
        elif isinstance(ev, RunEnded):
            if self._shown_key == (cur.session, ev.run_id) and self._shown_open:
                self._end_shown(ev)
        elif isinstance(ev, LrApplied):
            self._shown_applied = tuple(ev.lrs)
            self._emit(ev)

    def _state(self, m: wire.Message, cur: _Session) -> None:
        try:
            st = wire.decode_state(m.fields, m.buffers)
        except wire.WireError as e:
            self._hostile_log.warning("dropped the job's state: %s", e)
            return
        if st.run is not None:
            key = (cur.session, st.run.run_id)
            fresh = key != self._shown_key or self._shown_lost
            if fresh:
                self._start_shown(key, st.run)
            if fresh or self._shown_open:
                if (
                    st.lrs is not None
                    and st.losses is not None
                    and st.smoothed is not None
                    and st.lrs.size
                ):
                    self._seq += 1
                    self._shown_n = int(st.lrs.size)
                    elapsed = (
                        st.ended.elapsed
                        if st.ended is not None
                        else max(0.0, time.time() - st.run.t0)
                    )
                    self._emit(
                        Readings(self._local, self._seq, 0, st.lrs, st.losses, st.smoothed, elapsed)
                    )
                if st.ended is not None:
                    self._end_shown(st.ended)
        if st.applied is not None and st.applied != self._shown_applied:
            self._shown_applied = st.applied
            self._emit(LrApplied(st.applied))

    def _lose(self, why: str) -> None:
        """The job is gone (or replaced) during a run: the run ends in the views, as an error."""
        if self._shown_open:
            self._shown_open, self._shown_lost = False, True
            self._emit(RunEnded(self._local, "error", None, why, max(0.0, time.time() - self._t0)))

    def _check_alive(self) -> None:
        cur = self._cur
        if cur is None or cur.bye or cur.gone:
            return
        quiet = time.monotonic() - cur.last_seen
        if quiet > self.liveness_timeout:  # type: ignore[operator]
            cur.gone, cur.synced = True, False
            self._set_connected(False)
            why = f"job disconnected: no message from the job for {quiet:.1f} s"
            if self._shown_open:
                log.warning("%s (at %s); its range test is shown as ended", why, self.address)
                self._lose(why)
            else:
                log.info("%s (at %s)", why, self.address)
            self._fail_pending(why)

    # -- commands to the job
    def _commands(self) -> None:
        while True:
            try:
                kind, request, lr = self._out.get_nowait()
            except queue.Empty:
                return
            cur = self._cur
            ident = cur.ident if cur is not None and not cur.bye and not cur.gone else None
            if kind == "stop":
                if ident is None or not self._send_to(ident, "stop"):
                    log.info("Stop: no job is connected at %s", self.address)
            elif ident is None or not self._send_to(ident, "apply", {"id": request, "lr": lr}):
                self._resolve(request, error=f"no job is connected at {self.address}")

    def _answer(self, fields: dict) -> None:
        request = fields.get("id")
        if not isinstance(request, int):
            return
        error = fields.get("error")
        if error is not None:
            self._resolve(request, error=str(error))
            return
        lrs = fields.get("lrs")
        try:
            held = list(wire.lrs_field({"lrs": lrs}, "lrs"))
        except wire.WireError as e:
            self._resolve(request, error=f"the job's answer is not usable: {e}")
            return
        self._resolve(request, lrs=held)

    def _resolve(self, request: int, lrs: list | None = None, error: str | None = None) -> None:
        with self._cond:
            p = self._pending.pop(request, None)
        if p is None:
            return  # answered already, or given up on: a late lr comes as an applied event
        if error is None:
            p.future.set_result(list(lrs or ()))
        elif error.startswith(("job disconnected", "no job")):
            p.future.set_exception(ConnectionError(error))
        else:
            p.future.set_exception(RuntimeError(f"the job did not apply lr={p.lr:.6g}: {error}"))

    def _fail_pending(self, why: str) -> None:
        with self._cond:
            requests = list(self._pending)
        for request in requests:
            self._resolve(request, error=why)

    def _expire_pending(self) -> None:
        now = time.monotonic()
        with self._cond:
            late = [(r, p) for r, p in self._pending.items() if now >= p.deadline]
            for r, _ in late:
                del self._pending[r]
        for _, p in late:
            p.future.set_exception(
                TimeoutError(
                    f"the job did not apply lr={p.lr:.6g} within {self.apply_timeout:g} s: it "
                    "applies the notebook's choice in link.wait_for_choice() (if it takes it "
                    "later, the widget shows it then)"
                )
            )


def _warn_if_open(address: str) -> None:
    """Warn when a listener takes more than this machine's connections."""
    host = address[len("tcp://") :].rsplit(":", 1)[0].strip("[]")
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name, not an address
        loopback = host == "localhost"
    if not loopback:
        warnings.warn(
            f"listening at {address}: every machine that can reach this one can connect (the "
            "token keeps them out, but messages are signed, not encrypted). Unless the network "
            "is trusted, listen at 127.0.0.1 and reach it through an SSH tunnel (README, "
            '"Distributed and remote")',
            UserWarning,
            stacklevel=4,  # listen()'s caller
        )


def _peer(frames: list) -> str:
    f = frames[1] if len(frames) > 1 else None
    try:
        return str(f.get("Peer-Address")) if f is not None else "?"
    except Exception:  # not every transport or platform tells the peer  # noqa: BLE001
        return "an unknown peer"


#: sources not closed yet: closed at exit, after views.remote_widget's widgets (that module
#: imports this one, so its registry is made later and closed earlier)
_open_sources = closed_at_exit()
