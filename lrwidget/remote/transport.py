"""What the two ends of a remote link share: ZeroMQ, addresses, a waker, torch.distributed.

ZeroMQ (pyzmq) carries the messages of :mod:`lrwidget.remote.wire`. Why it and not plain sockets: it
comes with every Jupyter kernel (jupyter_client and ipykernel are built on it), it frames
multipart messages (the signature, the body and each float64 buffer arrive as separate frames,
no length parsing of our own), and a DEALER socket reconnects by itself with a back-off when the
notebook restarts, which is the case this link must survive. Non-blocking sends with a bounded
queue (``SNDHWM``) and ``IMMEDIATE`` (nothing queued for a peer that is not there) keep a job
from ever waiting on its notebook.

Example
-------
>>> check_address("tcp://127.0.0.1:5555")
'tcp://127.0.0.1:5555'
>>> check_address("localhost:5555")
Traceback (most recent call last):
...
ValueError: address must be "tcp://HOST:PORT" (e.g. "tcp://127.0.0.1:5555"), got 'localhost:5555'
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import re
import socket
import threading
import time
import weakref
from typing import Any, Callable, Literal, overload

from ..pure.numbers import is_real

__all__ = [
    "ENV_ADDRESS",
    "ENV_TOKEN",
    "check_address",
    "check_seconds",
    "zmq_module",
    "open_socket",
    "read_waiting",
    "SocketThread",
    "Waker",
    "LogLimit",
    "dist_info",
    "broadcast",
    "closed_at_exit",
]

#: environment variables a job reads when ``connect`` is given no address / token
ENV_ADDRESS = "LRWIDGET_ADDRESS"
ENV_TOKEN = "LRWIDGET_TOKEN"

log = logging.getLogger("lrwidget.remote")

_ADDRESS = re.compile(r"tcp://(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):(?P<port>\d{1,5})")


def zmq_module() -> Any:
    """``import zmq``, or an ImportError that says how to install it."""
    try:
        import zmq
    except ImportError as e:  # pragma: no cover - pyzmq is in every Jupyter install
        raise ImportError(
            'lrwidget.listen() and lrwidget.connect() need pyzmq: pip install "lrwidget[remote]" '
            "(every Jupyter kernel already has it)"
        ) from e
    return zmq


def open_socket(kind: int, address: str, options: dict[int, int], bind: bool) -> tuple:
    """``(context, socket)``: a ZeroMQ socket of ``kind`` with ``options``, bound to or connected
    to ``address``; OSError (bind) / ValueError (connect) naming the address if that fails."""
    zmq = zmq_module()
    ctx = zmq.Context()
    sock = ctx.socket(kind)
    for option, value in options.items():
        sock.setsockopt(option, value)
    if is_ipv6(address):
        sock.setsockopt(zmq.IPV6, 1)
    try:
        sock.bind(address) if bind else sock.connect(address)
    except zmq.ZMQError as e:
        sock.close(0)
        ctx.term()
        if bind:
            raise OSError(f"cannot listen at {address}: {e}") from None
        raise ValueError(f"cannot connect to {address}: {e}") from None
    return ctx, sock


def read_waiting(sock: Any, handle: Callable[[list], None], dropped: LogLimit, most: int) -> None:
    """Up to ``most`` messages waiting on ``sock``, each through ``handle``. Whatever one holds,
    the reading thread goes on with the next: one that ``handle`` cannot use (a check missed) is
    logged through ``dropped`` and lost alone."""
    zmq = zmq_module()
    for _ in range(most):
        try:
            frames = sock.recv_multipart(zmq.NOBLOCK, copy=False)
        except zmq.Again:
            return
        try:
            handle(frames)
        except Exception as e:  # noqa: BLE001  # one message lost, not the thread
            dropped.warning("dropped a message that could not be used: %r", e)


class SocketThread:
    """A ZeroMQ socket that a thread of its own polls, reads, sends on and closes; any other
    thread only wakes it (the notebook's receiving thread and the job's link thread are each
    one). A subclass writes ``_loop(poller)``, which returns when :meth:`close` was called (it
    sets ``_stopping``); whatever it raises ends the thread with one log line, never silently.

    Parameters
    ----------
    kind, address, options, bind
        As for :func:`open_socket`.
    name : str
        The thread's name.
    """

    #: the log line when ``_loop`` raised (``%s``: the address)
    stopped = "the thread of the socket at %s stopped"

    def __init__(self, kind: int, address: str, options: dict[int, int], bind: bool, name: str):
        self._zmq = zmq_module()
        self._ctx, self._sock = open_socket(kind, address, options, bind)
        self.address = address
        self._waker = Waker()
        self._stopping = False
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def close(self) -> None:
        """End the thread (5 s at most); it closes the socket."""
        self._stopping = True
        self._waker.wake()
        self.thread.join(5.0)

    def _loop(self, poller: Any) -> None:
        raise NotImplementedError

    def _linger(self) -> int:
        """Milliseconds the socket may keep sending after it is closed."""
        return 0

    def _ended(self) -> None:
        """The thread ends (before the socket is closed)."""

    def _run(self) -> None:
        poller = self._zmq.Poller()
        poller.register(self._sock, self._zmq.POLLIN)
        poller.register(self._waker.fd, self._zmq.POLLIN)
        try:
            self._loop(poller)
        except Exception:
            log.exception(self.stopped, self.address)
        finally:
            self._ended()
            self._sock.close(linger=self._linger())
            self._ctx.term()
            self._waker.close()


def check_address(address: Any, name: str = "address", bind: bool = False) -> str:
    """``address`` if it is ``"tcp://HOST:PORT"``; TypeError / ValueError naming ``name``.

    Port 0 (pick a free port) only for an address to listen at (``bind``). IPv6 hosts go in
    brackets: ``"tcp://[::1]:5555"``.
    """
    if not isinstance(address, str):
        raise TypeError(f'{name} must be a str "tcp://HOST:PORT", got {type(address).__name__}')
    m = _ADDRESS.fullmatch(address.strip())
    if m is None:
        raise ValueError(
            f'{name} must be "tcp://HOST:PORT" (e.g. "tcp://127.0.0.1:5555"), got {address!r}'
        )
    port, lo = int(m.group("port")), 0 if bind else 1
    if not lo <= port <= 65535:
        raise ValueError(
            f"{name}: port must be {lo}..65535, got {port}"
            + ("" if bind else " (a job connects to the port the notebook shows)")
        )
    return address.strip()


def is_ipv6(address: str) -> bool:
    return address.startswith("tcp://[")


@overload
def check_seconds(
    value: Any, name: str, none: Literal[False] = False, zero: bool = True
) -> float: ...
@overload
def check_seconds(value: Any, name: str, none: bool, zero: bool = True) -> float | None: ...
def check_seconds(value: Any, name: str, none: bool = False, zero: bool = True) -> float | None:
    """A number of seconds (finite, >= 0, or > 0 when not ``zero``); None if ``none`` allows."""
    if value is None and none:
        return None
    what = (
        ("None or " if none else "") + ("a number >= 0" if zero else "a number > 0") + " of seconds"
    )
    if not is_real(value):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not zero):
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return v


class Waker:
    """Wakes a thread that polls ZeroMQ sockets, from any other thread, at once.

    A socket pair: ``wake()`` writes a byte (a full buffer means a wake is already pending),
    the polling thread registers :attr:`fd` and calls :meth:`drain`. (A plain file descriptor
    can be polled with ZeroMQ's sockets; a socket pair also works on Windows, a pipe does not.)
    """

    def __init__(self) -> None:
        self._r, self._w = socket.socketpair()
        self._r.setblocking(False)
        self._w.setblocking(False)
        self.fd = self._r.fileno()
        self._closed = False

    def wake(self) -> None:
        if self._closed:
            return
        # full: a wake is already pending; closed under us: the poller is ending anyway
        with contextlib.suppress(BlockingIOError, OSError):
            self._w.send(b"\0")

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):  # empty: nothing more to read
            while self._r.recv(4096):
                pass

    def close(self) -> None:
        self._closed = True
        self._r.close()
        self._w.close()


class LogLimit:
    """A log line that anyone can trigger (a peer without the token, garbage on the port),
    written at most ``first`` times per ``every`` seconds; the rest are counted, and the next
    line after the interval says how many were left out. The one place such lines are limited.

    Example
    -------
    >>> import logging
    >>> limit = LogLimit(logging.getLogger("doc"), first=2, every=60.0)
    >>> [limit.warning("refused %s", i) for i in range(5)]
    [True, True, False, False, False]
    >>> limit.dropped
    3
    """

    def __init__(self, logger: logging.Logger, first: int = 3, every: float = 60.0):
        self.logger, self.first, self.every = logger, first, every
        self._lock = threading.Lock()
        self._t0 = -math.inf
        self._said = 0
        self.dropped = 0  # held back in the current interval

    def warning(self, msg: str, *args: Any) -> bool:
        """Log ``msg % args`` at WARNING unless over the limit; whether it was logged."""
        return self.log(logging.WARNING, msg, *args)

    def log(self, level: int, msg: str, *args: Any) -> bool:
        now = time.monotonic()
        with self._lock:
            dropped = 0
            if now - self._t0 >= self.every:
                self._t0, self._said, dropped, self.dropped = now, 0, self.dropped, 0
            if self._said >= self.first:
                self.dropped += 1
                return False
            self._said += 1
        if dropped:
            msg += " (and %d more like it in the last %g s, not logged)"
            args = (*args, dropped, self.every)
        self.logger.log(level, msg, *args)
        return True


def dist_info(process_group: Any = None) -> tuple:
    """``(group, rank, world, src)``: this process's rank in the group, its size, and the global
    rank of the group's rank 0 (the source of broadcasts). ``(None, 0, 1, 0)`` when
    torch.distributed is not in use."""
    import torch.distributed as dist

    up = dist.is_available() and dist.is_initialized()
    if process_group is None and not up:
        return None, 0, 1, 0
    if not up:
        raise ValueError(
            "process_group was given but torch.distributed is not initialized; "
            "call torch.distributed.init_process_group() first"
        )
    rank = dist.get_rank(process_group)
    if rank < 0:
        raise ValueError("this process is not a member of process_group")
    world = dist.get_world_size(process_group)
    src = 0 if process_group is None else dist.get_global_rank(process_group, 0)
    return process_group, rank, world, src


def broadcast(value: Any, group: Any, src: int) -> Any:
    """Rank ``src``'s ``value`` on every rank of ``group`` (a collective: every rank calls it)."""
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=src, group=group)
    return box[0]


def closed_at_exit() -> weakref.WeakSet[Any]:
    """A registry whose members (anything with ``close()``) are closed when Python exits.

    A job or a notebook that ends without ``close()`` still says goodbye, so its peer need not
    wait for its liveness timeout. ``atexit`` runs last in, first out: a module that imports
    another makes its registry after that one's, so its members are closed first (the
    notebook's widgets before their sources, while threads can still start).

    Example
    -------
    >>> links = closed_at_exit()  # at module level, e.g. ``_open_links = closed_at_exit()``
    >>> len(links)  # a member added is held weakly: one garbage-collected needs no close
    0
    """
    registry: weakref.WeakSet[Any] = weakref.WeakSet()

    def close_all() -> None:
        for obj in list(registry):
            with contextlib.suppress(Exception):  # at exit, nothing more can be done about it
                obj.close()

    atexit.register(close_all)
    return registry
