"""The link's thread on the job's side (a part of :class:`lrwidget.remote.job_link.Link`, rank 0
only): one ZeroMQ DEALER socket to the notebook, the events to send, the notebook's commands.

* **Off the training thread, bounded, never blocking.** The finder's stream thread only puts
  events on a bounded queue (``put_nowait``; when full, the notebook gets the whole state
  instead of the events lost). This thread sends with ``NOBLOCK`` on a socket with
  ``IMMEDIATE`` and a send high-water mark: a slow, absent or restarting notebook costs the job
  a failed send, never a wait.
* **Replay by state, not by log.** Whenever the notebook asks (``sync``: it met this job for the
  first time, it restarted, or it saw a gap in the message numbers ``n``), the link sends one
  ``state`` message: the current or last run, all its readings, its end and the lrs last
  applied. Individual events follow only after that; no event is ever re-sent.
* Hellos every ``hello_interval`` until the notebook answers, heartbeats every
  ``heartbeat_interval`` after; a goodbye when the link closes.
* **A watch** (``link.watch``, :mod:`lrwidget.remote.watch_link`): while one is streamed the
  thread wakes every ``watch_interval`` (>= 0.05 s: <= 20 messages a second) and sends one
  ``watch`` message of what the watch said meanwhile; ``scale_lr`` requests go to it.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
import time
from typing import Any, Callable

from .. import __version__
from . import wire
from .schedule_wire import SCHEDULE
from .transport import ENV_TOKEN, LogLimit, SocketThread, read_waiting, zmq_module
from .watch_link import WatchStream
from .watch_wire import SCALE, WATCH, encode_batch

__all__ = ["LinkThread", "WATCH_INTERVAL"]

log = logging.getLogger("lrwidget.remote")

#: shortest time between two ``watch`` messages (seconds): <= 20 messages a second
WATCH_INTERVAL = 0.05


class LinkThread(SocketThread):
    """The socket and the thread that sends the job's runs (see the module docstring).

    Parameters
    ----------
    address : str
        The notebook's (checked); ValueError if it cannot be connected to.
    key : bytes
        The token as the HMAC key.
    rank, world : int
        What the hellos say of this job.
    state : callable
        ``state() -> (version, wire.State)``: the job's whole state now.
    commands : dict
        ``{"stop": callable(), "apply": callable(fields), "schedule": callable(fields)}``: what
        the notebook's commands do.
    intervals : tuple of float
        ``(hello_interval, heartbeat_interval)`` in seconds.
    queue_size : int
        Most events waiting to be sent.

    Attributes
    ----------
    refused : str or None
        Why the notebook refused this job's token (None: it did not).
    """

    def __init__(
        self,
        address: str,
        key: bytes,
        rank: int,
        world: int,
        state: Callable[[], tuple[int, wire.State]],
        commands: dict[str, Callable[..., None]],
        intervals: tuple[float, float],
        queue_size: int,
    ):
        zmq = zmq_module()
        # no IDENTITY: the notebook tells this job by what it signs, not by a name (a name can
        # be claimed by anyone who reads it off the network)
        options = {
            zmq.IMMEDIATE: 1,  # queue nothing for a notebook not there
            zmq.LINGER: 0,
            zmq.SNDHWM: 1000,
            zmq.RECONNECT_IVL: 100,
            zmq.RECONNECT_IVL_MAX: 1000,
            zmq.MAXMSGSIZE: wire.MAX_BODY,  # the notebook only sends commands
        }
        super().__init__(zmq.DEALER, address, options, bind=False, name="lrwidget-link")
        self._key = key
        self.rank, self.world = rank, world
        self.session = secrets.token_hex(8)
        self._state, self._commands = state, commands
        self._hello_interval, self._heartbeat_interval = intervals
        self.queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._overflow = False
        self._answers: queue.SimpleQueue = queue.SimpleQueue()
        # the thread alone
        self._n = 0
        self.synced = False
        self._state_ver = 0
        self._want_state = False
        self._replay_watch = False
        self._superseded = False
        self._said_streaming = False
        self._signature_log = LogLimit(log, first=1)
        self._garbage_log = LogLimit(log)
        self._too_long_log = LogLimit(log, first=1, every=3600.0)
        # read by handshake()
        self._answered = threading.Event()
        self.refused: str | None = None
        #: the watch streamed (``link.watch``) and how often its batches go
        self.watching = WatchStream()
        self.watch_interval = WATCH_INTERVAL

    # ------------------------------------------------------------------ other threads
    def put(self, ver: int, ev: Any) -> None:
        """An event of the job's state ``ver`` to send (any thread; never blocks)."""
        try:
            self.queue.put_nowait((ver, ev))
        except queue.Full:
            self._overflow = True  # the notebook gets the whole state instead
        self._waker.wake()

    def answer(self, fields: dict) -> None:
        """The job's answer to an apply, to send."""
        self._answers.put(fields)
        self._waker.wake()

    def handshake(self, timeout: float) -> tuple:
        """Wait up to ``timeout`` s: ("accepted",), ("refused", why) or ("none",)."""
        if timeout > 0:
            self._answered.wait(timeout)
        if self.refused is not None:
            return ("refused", self.refused)
        return ("accepted",) if self.synced else ("none",)

    def close(self) -> None:
        """Send what is left and a goodbye, then end the thread (5 s at most)."""
        super().close()
        if self.thread.is_alive():
            log.warning("the link to %s did not close within 5 s", self.address)

    def hello(self) -> dict:
        """What a hello (and a heartbeat) says of this job."""
        return {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "rank": self.rank,
            "world": self.world,
            "version": __version__,
        }

    # ------------------------------------------------------------------ the thread
    stopped = "the link to the notebook at %s stopped; the job goes on without it"

    def _loop(self, poller: Any) -> None:
        next_beat = next_watch = 0.0
        while True:
            closing = self._stopping
            due = min(next_beat, next_watch) if self.watching.attached else next_beat
            poller.poll(0 if closing else max(0.0, due - time.monotonic()) * 1000)
            self._waker.drain()
            read_waiting(self._sock, self._incoming, self._garbage_log, most=64)
            self._send_waiting()
            next_watch = self._send_watch(next_watch, closing)
            next_beat = self._beat(next_beat)
            if closing:
                self._send("bye", {})
                return

    def _linger(self) -> int:
        return 500 if self._stopping else 0  # let the goodbye out

    def _ended(self) -> None:
        self.synced = False

    def _send_waiting(self) -> None:
        """The state if the notebook needs it, then the events and answers waiting."""
        if self._overflow:
            self._overflow = False
            self._want_state = self.synced
        if self._want_state and not self._superseded:
            self._send_state()
        self._send_events()
        while True:
            try:
                fields = self._answers.get_nowait()
            except queue.Empty:
                break
            self._send("answer", fields)

    def _send_watch(self, next_watch: float, closing: bool) -> float:
        """One ``watch`` message when one is due (all that waits when closing); the next time."""
        now = time.monotonic()
        if now < next_watch and not closing:
            return next_watch
        while True:
            batch = self.watching.take()
            if batch is None:
                break
            if self.synced and not self._superseded:  # else no notebook hears it
                self._send(WATCH, *encode_batch(batch))
            if not closing:
                break
        return now + self.watch_interval

    def _beat(self, next_beat: float) -> float:
        """A hello or a heartbeat when one is due; when the next one is."""
        now = time.monotonic()
        if now < next_beat or self._superseded:
            return next_beat
        self._send("heartbeat" if self.synced else "hello", self.hello())
        return now + (self._heartbeat_interval if self.synced else self._hello_interval)

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
        body = dict(fields, session=self.session, n=self._n)
        frames = wire.pack(self._key, kind, body, buffers)
        try:
            self._sock.send_multipart(frames, self._zmq.NOBLOCK, copy=False)
        except self._zmq.Again:
            self.synced = False  # the notebook is not there (or not reading): say hello later
            return False
        self._n += 1
        return True

    def _send_state(self) -> None:
        self._want_state = False
        ver, st = self._state()
        fields, buffers = wire.encode_state(st)
        if self._send("state", fields, buffers):
            self.synced = True
            if self._replay_watch:  # not a state resent after an overflow: that notebook has it
                self._replay_watch = False
                self.watching.resync()
            self._state_ver = ver
            self._answered.set()
            if not self._said_streaming:
                self._said_streaming = True
                log.info("streaming to the notebook at %s", self.address)

    def _send_events(self) -> None:
        while True:
            try:
                ver, ev = self.queue.get_nowait()
            except queue.Empty:
                return
            if not self.synced or ver <= self._state_ver:
                continue  # the next (or the last) state holds it
            kind, fields, buffers = wire.encode_event(ev)
            self._send(kind, fields, buffers)

    def _incoming(self, frames: list) -> None:
        reason = wire.read_refusal(frames)
        if reason is not None:
            self._refused(reason)
            return
        m = self._verified(frames)
        if m is None:
            return
        if m.kind == "sync":
            self.refused = None
            self._superseded = False
            self._want_state = True
            self._replay_watch = True  # a notebook that (re)synced draws the watch so far
        elif m.kind == "stop":
            log.info("Stop from the notebook at %s", self.address)
            self._commands["stop"]()
        elif m.kind in ("apply", SCHEDULE):
            self._commands[m.kind](m.fields)
        elif m.kind == SCALE:
            answer = self.watching.scale(m.fields)
            if answer is not None:
                self._send("answer", answer)
        elif m.kind == "superseded":
            if not self._superseded:
                log.warning(
                    "another job now streams to the notebook at %s; this one goes on without it",
                    self.address,
                )
            self._superseded = True
            self.synced = False
        else:
            log.debug("ignored a %r message from the notebook", m.kind)

    def _verified(self, frames: list) -> wire.Message | None:
        """The notebook's message, or None when it is not signed with the token or not one."""
        try:
            return wire.unpack(self._key, frames)
        except wire.BadSignature:
            self._signature_log.warning(
                "dropped a message from %s that was not signed with this job's token",
                self.address,
            )
        except wire.WireError as e:
            self._garbage_log.warning(
                "dropped a message from the notebook at %s: %s", self.address, e
            )
        return None

    def _refused(self, reason: str) -> None:
        if self.refused is None:
            log.error(
                "token refused by the notebook at %s (%s): nothing of this job is "
                "shown there; use the notebook's token (w.token, e.g. through %s)",
                self.address,
                reason,
                ENV_TOKEN,
            )
        self.refused = reason
        self.synced = False
        self._answered.set()
