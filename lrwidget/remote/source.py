"""The notebook side of a remote range test, its source: :class:`RemoteSource` receives a job
in another process (a script, a torchrun job, on this machine or one that can reach it), and
sends the lr chosen in the notebook back to the job. Its widget and :func:`listen` are in
:mod:`lrwidget.views.remote_widget`.

::

    job: lrwidget.connect(finder) --signed messages (remote.wire)--> RemoteSource --> Channel
                                  <--- stop, apply, schedule -------              --> widget

:class:`RemoteSource` is a source of runs (:class:`lrwidget.channel.core.Source`): the widget and
the channel treat it as they treat a local ``LRFinder``: live curve, suggestions, click, Apply,
Stop, ``w.wait()`` (the job's result), ``w.apply(lr)`` (the lrs the job's optimizer holds).

Design decisions (the issue leaves them open):

* **One ZeroMQ ROUTER socket, bound** (127.0.0.1 by default, port 0: a free one), read by a
  thread of its own (:mod:`lrwidget.remote.receiving`: verifies, knows the jobs, liveness; the
  job's runs renumbered in :mod:`lrwidget.remote.shown`). A message with another token is
  dropped, logged on ``lrwidget.remote`` and answered with an unsigned "refused", which the job
  reports as "token refused by the notebook at ...".
* **A second thread delivers the events** to the subscribers (:mod:`lrwidget.remote.delivering`;
  the channel's callback only enqueues).
* **An Apply is a Future** (:mod:`lrwidget.remote.applying`), resolved by the job's answer, failed
  when the job goes away, expired after ``apply_timeout``: the channel's writer never waits.
* **Liveness by heartbeats.** A job sends one every second; after ``liveness_timeout`` seconds
  without any message during a run, the run ends in the widget as an error saying "job
  disconnected" (and ``w.wait()`` raises ConnectionError); a job that comes back is shown whole
  again. A job that closes its link says goodbye: no error then.
"""

from __future__ import annotations

import ipaddress
import logging
import warnings
from concurrent.futures import Future
from typing import Any, Callable

from ..engine.range_schedule import check_schedule
from . import wire
from .applying import Requests
from .delivering import Delivery
from .fields import is_lr
from .receiving import Receiver
from .schedule_wire import SCHEDULE, schedule_fields
from .transport import check_address, check_seconds, closed_at_exit
from .watch_source import RemoteWatch
from .watch_wire import SCALE, scale_fields

__all__ = ["RemoteSource", "DEFAULT_ADDRESS"]

log = logging.getLogger("lrwidget.remote")

#: where :func:`listen` binds by default: this machine only, a free port
DEFAULT_ADDRESS = "tcp://127.0.0.1:0"


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
    watch : RemoteWatch
        The training the job streams with ``link.watch(watch)`` (its verdict, events; its
        ``scale_lr`` asks the job).
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
        key = wire.check_token(self.token)
        self.liveness_timeout = check_seconds(liveness_timeout, "liveness_timeout", zero=False)
        self.apply_timeout = check_seconds(apply_timeout, "apply_timeout", zero=False)
        self._requests = Requests(self.apply_timeout)
        self.watch = RemoteWatch(self._scale)
        self._receiving = Receiver(
            address, key, self.liveness_timeout, self._requests, self._put_event, self.watch.take
        )
        self.address = self._receiving.address
        _warn_if_open(self.address)
        self.result: Any = None
        self._delivery = Delivery(self.address, self._finished)
        self._receiving.thread.start()
        _open_sources.add(self)
        log.info("listening for a job at %s", self.address)

    def _put_event(self, ev: Any) -> None:
        # the receiver is made first (a port in use starts no thread), and emits only once its
        # thread runs: after the delivery is made
        self._delivery.put(ev)

    def _finished(self, result: Any) -> None:
        self.result = result

    # ------------------------------------------------------------------ Source
    @property
    def running(self) -> bool:
        """Whether the job's range test is going (as far as its messages tell)."""
        return self._delivery.running

    @property
    def connected(self) -> bool:
        """Whether a job is connected and alive now."""
        return self._receiving.connected

    @property
    def jobs(self) -> list[dict]:
        """Every job that connected, oldest first."""
        return self._receiving.jobs

    def subscribe(
        self, callback: Callable[[Any], None], interval: float = 0.05
    ) -> Callable[[], None]:
        """Receive the job's runs as events (:mod:`lrwidget.engine.stream`), on a delivery thread.

        A new subscriber gets the current run first (its start, its readings so far, and its
        end if it ended). ``interval`` is the job's business (see :func:`lrwidget.connect`).
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable(event), got {type(callback).__name__}")
        return self._delivery.subscribe(callback)

    def stop(self) -> None:
        """Ask the job to end its range test (at its next step). Returns at once."""
        self._receiving.command("stop")

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
        # the receiving thread ends the wait at the deadline; the margin only guards a hang
        return self.apply_async(lr).result(timeout=self.apply_timeout + 10)

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
        if not is_lr(lr):
            raise ValueError(f"lr must be a positive finite number, got {lr!r}")
        request, future = self._requests.add(float(lr))
        self._receiving.command("apply", request, float(lr))
        return future

    def schedule(self, kind: str, lo: float, hi: float, total_steps: int) -> list[float]:
        """Ask the job for a schedule over ``lo .. hi``: it builds it with its finder's
        ``schedule`` (on every rank) in ``link.wait_for_choice()``, keeps it as
        ``link.scheduler``, and answers.

        Parameters
        ----------
        kind : str
            "one_cycle", "cyclic", "cosine" or "linear" (see ``LRFinder.schedule``).
        lo, hi : float
            The first param group's range; the job refuses one outside its tested lrs.
        total_steps : int
            Optimizer steps the schedule spans (2 to 1e9).

        Returns
        -------
        list of float
            The peak lr of each of the job's param groups under its new schedule.

        Raises
        ------
        ValueError
            A bad argument (named), before anything is sent.
        ConnectionError, TimeoutError, RuntimeError
            As :meth:`apply`: no job, no answer in ``apply_timeout`` s, or the job's refusal
            (the text says why).
        """
        return self.schedule_async(kind, lo, hi, total_steps).result(
            timeout=self.apply_timeout + 10
        )

    def schedule_async(self, kind: str, lo: float, hi: float, total_steps: int) -> Future:
        """:meth:`schedule` without the wait: a Future of what it returns (or raises)."""
        kind, lo, hi, n = check_schedule(kind, lo, hi, total_steps)
        request, future = self._requests.add(hi, f"a {kind} schedule ({lo:.6g} .. {hi:.6g})")
        self._receiving.request(SCHEDULE, request, schedule_fields(request, kind, lo, hi, n))
        return future

    def _scale(self, factor: float, rollback: bool) -> Future:
        """The job's watch's ``scale_lr`` as a request (what ``self.watch.scale_lr`` sends)."""
        request, future = self._requests.add(
            factor, f"scale_lr x{factor:g}", "its watch's next record()"
        )
        self._receiving.request(SCALE, request, scale_fields(request, factor, rollback))
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
        return self._delivery.wait_for_run(timeout)

    def close(self) -> None:
        """Stop listening (the port is free again); a job goes on without the notebook."""
        if not self._delivery.end_waits():
            return
        _open_sources.discard(self)
        self._requests.close("no job: the listener was closed")
        self._receiving.close()
        self._delivery.close()


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


#: sources not closed yet: closed at exit, after views.remote_widget's widgets (that module
#: imports this one, so its registry is made later and closed earlier)
_open_sources = closed_at_exit()
