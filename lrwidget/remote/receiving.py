"""The notebook's receiving thread (a part of :class:`lrwidget.remote.source.RemoteSource`): one
ZeroMQ ROUTER socket, bound, read by a thread of its own that verifies every message, knows the
jobs (hello, adopt, replays, gaps), watches their liveness and sends them the notebook's
commands.

* Every message is verified (HMAC-SHA256 with the token, before the body is parsed). A message
  with another token is dropped, logged (a few lines a minute: ``transport.LogLimit``), and
  answered once a second at most with an unsigned "refused". Frames over ``wire.MAX_FRAME`` are
  dropped by ZeroMQ unread, and at most ``RECEIVE_QUEUE`` messages wait per connection.
* **The job is the one that said hello last.** A restarted job takes over at once; the one it
  replaces is told (and goes on without the notebook). Messages carry numbers: a gap makes the
  notebook ask for the job's whole state, and so does a job it has not met (the notebook
  restarted). A number not above the last one taken is a replay, dropped.
* **Liveness by heartbeats**: after ``liveness_timeout`` seconds without any message during a
  run, the run ends in the views as an error saying "job disconnected".
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import time
from dataclasses import dataclass
from typing import Any, Callable

from ..pure.numbers import is_int
from . import wire
from .applying import Requests
from .shown import Shown
from .transport import LogLimit, SocketThread, read_waiting, zmq_module
from .watch_wire import WATCH, WatchBatch, decode_batch

__all__ = ["Receiver", "RECEIVE_QUEUE"]

log = logging.getLogger("lrwidget.remote")

#: messages a connection may have waiting in ZeroMQ for the receiving thread (``RCVHWM``):
#: with frames of at most ``wire.MAX_FRAME``, what a peer without the token can make this
#: process hold is bounded per connection (a job's messages are small and read at once)
RECEIVE_QUEUE = 2
#: the facts of a job's hello kept in ``jobs``, and their types
_INFO = (("pid", int), ("host", str), ("rank", int), ("world", int), ("version", str))


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


class Receiver(SocketThread):
    """The bound socket and the thread that reads it (see the module docstring).

    Parameters
    ----------
    address : str
        A checked ``"tcp://HOST:PORT"`` to bind; OSError if it cannot be.
    key : bytes
        The token as the HMAC key.
    liveness_timeout : float
        Seconds without a message from a job before it is gone.
    requests : Requests
        The Apply requests the job's answers resolve.
    emit : callable
        Takes each event for the views.
    watched : callable, optional
        Takes each checked ``watch`` message of the job (:class:`WatchBatch`).

    Attributes
    ----------
    address : str
        Where it listens (the port actually bound).
    connected : bool
        Whether a job is connected and alive now.
    jobs : list of dict
        Every job that connected, oldest first.
    """

    def __init__(
        self,
        address: str,
        key: bytes,
        liveness_timeout: float,
        requests: Requests,
        emit: Callable[[Any], None],
        watched: Callable[[WatchBatch], None] | None = None,
    ):
        zmq = zmq_module()
        # Routing ids are ZeroMQ's own (no handover): a peer cannot claim a job's connection by
        # naming it; a job that reconnects is known again by a message only it could sign.
        options = {
            zmq.ROUTER_MANDATORY: 1,  # a send to a vanished job fails, not vanishes
            zmq.LINGER: 0,
            zmq.MAXMSGSIZE: wire.MAX_FRAME,  # a bigger frame: dropped unread
            zmq.RCVHWM: RECEIVE_QUEUE,
        }
        super().__init__(zmq.ROUTER, address, options, bind=True, name="lrwidget-remote-recv")
        self.address = self._sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self._key = key
        self.liveness_timeout = liveness_timeout
        self._requests = requests
        self.connected = False
        self.jobs: list[dict] = []
        # the receiving thread alone
        self._cur: _Session | None = None
        self._old: dict[str, bytes] = {}  # sessions replaced by a newer job
        self._refused_at: dict[bytes, float] = {}
        # lines that anyone who reaches the port can cause: limited
        self._refused_log = LogLimit(log)
        self._garbage_log = LogLimit(log)
        self._hostile_log = LogLimit(log)  # signed, yet not usable
        self._shown = Shown(emit, self._hostile_log)
        self._watched = watched
        # from the other threads
        self._out: queue.SimpleQueue = queue.SimpleQueue()

    def command(self, kind: str, request: int | None = None, lr: float | None = None) -> None:
        """Send the job "stop", or "apply" (``request``'s ``lr``), from any thread."""
        fields = None if kind == "stop" else {"id": request, "lr": lr}
        self.request(kind, request, fields)

    def request(self, kind: str, request: int | None, fields: dict | None) -> None:
        """Send the job a ``kind`` message with ``fields`` (any thread); with no job there,
        ``request`` (if any) fails at once."""
        self._out.put((kind, request, fields))
        self._waker.wake()

    # ------------------------------------------------------------------ the thread
    stopped = "the listener at %s stopped receiving"

    def _loop(self, poller: Any) -> None:
        while not self._stopping:
            poller.poll(250)
            self._waker.drain()
            read_waiting(self._sock, self._incoming, self._hostile_log, most=256)
            self._commands()
            self._check_alive()
            self._requests.expire()

    def _send_to(self, ident: bytes, kind: str, fields: dict | None = None) -> bool:
        zmq = self._zmq
        try:
            self._sock.send_multipart([ident, *wire.pack(self._key, kind, fields)], zmq.NOBLOCK)
        except zmq.ZMQError as e:  # gone (EHOSTUNREACH) or not reading (EAGAIN)
            log.debug("could not send %s to the job: %s", kind, e)
            return False
        return True

    # -- a message in
    def _incoming(self, frames: list) -> None:
        ident = frames[0].bytes
        m = self._verified(ident, frames)
        if m is None:
            return
        session, n = m.fields.get("session"), m.fields.get("n")
        if not isinstance(session, str) or not is_int(n):
            self._hostile_log.warning("dropped a %r message without session and number", m.kind)
            return
        n, now = int(n), time.monotonic()
        if not self._fresh(ident, session, n, m.kind):
            return
        if m.kind == "hello":
            self._hello(ident, session, m.fields, n, now)
            return
        cur = self._cur
        if cur is None or session != cur.session:
            if session in self._old:
                self._send_to(ident, "superseded")
            else:  # met a job mid-stream (this notebook restarted)
                self._adopt(ident, session, {}, n, now)
            return
        self._from_job(m, cur, n, now)

    def _verified(self, ident: bytes, frames: list) -> wire.Message | None:
        """The message, or None when it is not signed with the token (refused) or not one."""
        try:
            return wire.unpack(self._key, frames[1:])
        except wire.BadSignature:
            self._refuse(ident, frames[1] if len(frames) > 1 else None)
        except wire.WireError as e:
            self._garbage_log.warning(
                "dropped a message that is not lrwidget's (from %s): %s", _peer(frames), e
            )
        return None

    def _fresh(self, ident: bytes, session: str, n: int, kind: str) -> bool:
        """Whether message ``n`` of ``session`` is new; the current job's connection is the one
        that sent its latest number."""
        cur = self._cur
        if cur is None or session != cur.session:
            return True
        if n <= cur.high:
            # Signed, but not new: a replay (possibly from another connection, to take the
            # job's place for the next Apply). The job's own numbers only grow.
            self._hostile_log.warning(
                "dropped a %r message numbered %d, not after %d: a replay", kind, n, cur.high
            )
            return False
        cur.high = n
        cur.ident = ident  # only the job can sign a new number: it reconnected
        return True

    def _from_job(self, m: wire.Message, cur: _Session, n: int, now: float) -> None:
        """A new message of the current job."""
        self._alive(cur, now)
        in_order = cur.synced and n == cur.expect
        if in_order:
            cur.expect = n + 1
        if m.kind == "answer":
            self._answer(m.fields)
        elif m.kind == "bye":
            self._bye(cur)
        elif m.kind == "state":
            self._state(m, cur)
            cur.synced, cur.expect = True, n + 1
        elif m.kind == "heartbeat":
            pass
        elif m.kind == WATCH:  # apart from the runs: a lost one costs its steps, no replay
            self._watch(m)
        elif not in_order:
            self._gap(cur, n, now)
        else:
            self._event(m, cur)

    def _event(self, m: wire.Message, cur: _Session) -> None:
        try:
            ev = wire.decode_event(m.kind, m.fields, m.buffers)
        except wire.WireError as e:
            self._hostile_log.warning("dropped a %r message from the job: %s", m.kind, e)
            return
        self._shown.event(ev, cur.session)

    def _watch(self, m: wire.Message) -> None:
        try:
            batch = decode_batch(m.fields, m.buffers)
        except wire.WireError as e:
            self._hostile_log.warning("dropped a watch message from the job: %s", e)
            return
        if self._watched is not None:
            self._watched(batch)

    def _state(self, m: wire.Message, cur: _Session) -> None:
        try:
            st = wire.decode_state(m.fields, m.buffers)
        except wire.WireError as e:
            self._hostile_log.warning("dropped the job's state: %s", e)
            return
        self._shown.state(st, cur.session)

    def _gap(self, cur: _Session, n: int, now: float) -> None:
        if cur.synced:
            log.info(
                "a message from the job was lost (number %d, expected %d): asking for its "
                "whole state",
                n,
                cur.expect,
            )
        cur.synced = False
        if now - cur.asked > 1.0:
            self._ask(cur, now)

    def _bye(self, cur: _Session) -> None:
        cur.bye = True
        self.connected = False
        log.info("the job (pid %s) closed its link", cur.info.get("pid", "?"))
        self._shown.lose("the job closed its link before its range test ended")

    # -- the jobs
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
        if self._cur is not None:
            self._replace(self._cur)
        info: dict[str, Any] = {"session": session}
        for k, kind in _INFO:
            v = fields.get(k)
            ok = is_int(v) if kind is int else isinstance(v, kind)
            info[k] = v if ok else None
        self._cur = _Session(ident, session, info, now, high=n)
        self.jobs.append(info)
        self.connected = True
        log.info(
            "a job connected at %s: pid %s on %s, rank %s of %s",
            self.address,
            info["pid"],
            info["host"],
            info["rank"],
            info["world"],
        )
        self._ask(self._cur, now)

    def _replace(self, old: _Session) -> None:
        """A new job takes ``old``'s place: it is told, its run ends, its requests fail."""
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
        self._shown.lose("another job connected and replaced this one")
        self._requests.fail_all("no job: another job connected")

    def _ask(self, cur: _Session, now: float) -> None:
        cur.asked = now
        self._send_to(cur.ident, "sync")

    def _alive(self, cur: _Session, now: float) -> None:
        cur.last_seen = now
        if cur.gone:
            cur.gone = False
            log.info("the job at %s is back", self.address)
        if not cur.bye:
            self.connected = True

    def _check_alive(self) -> None:
        cur = self._cur
        if cur is None or cur.bye or cur.gone:
            return
        quiet = time.monotonic() - cur.last_seen
        if quiet > self.liveness_timeout:
            cur.gone, cur.synced = True, False
            self.connected = False
            why = f"job disconnected: no message from the job for {quiet:.1f} s"
            if self._shown.open:
                log.warning("%s (at %s); its range test is shown as ended", why, self.address)
                self._shown.lose(why)
            else:
                log.info("%s (at %s)", why, self.address)
            self._requests.fail_all(why)

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

    # -- commands to the job, and its answers
    def _commands(self) -> None:
        while True:
            try:
                kind, request, fields = self._out.get_nowait()
            except queue.Empty:
                return
            cur = self._cur
            ident = cur.ident if cur is not None and not cur.bye and not cur.gone else None
            if ident is not None and self._send_to(ident, kind, fields):
                continue
            if request is not None:
                self._requests.resolve(request, error=f"no job is connected at {self.address}")
            else:
                log.info("%s: no job is connected at %s", kind.capitalize(), self.address)

    def _answer(self, fields: dict) -> None:
        request = fields.get("id")
        if not is_int(request):
            return
        request = int(request)
        error = fields.get("error")
        if error is not None:
            self._requests.resolve(request, error=str(error)[:500])
            return
        if fields.get("accepted") is True:  # a scale_lr: applied at the job's next step
            self._requests.resolve(request, lrs=[])
            return
        try:
            held = list(wire.lrs_field(fields, "lrs"))
        except wire.WireError as e:
            self._requests.resolve(request, error=f"the job's answer is not usable: {e}")
            return
        self._requests.resolve(request, lrs=held)


def _peer(frames: list) -> str:
    f = frames[1] if len(frames) > 1 else None
    try:
        return str(f.get("Peer-Address")) if f is not None else "?"
    except Exception:  # not every transport or platform tells the peer  # noqa: BLE001
        return "an unknown peer"
