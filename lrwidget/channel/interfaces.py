"""The two ends a channel connects: :class:`Source` (what it needs from a source of runs) and
:class:`ChannelView` (what it calls on a view), and the state every view shows before any run.

Views implement :class:`ChannelView` (the anywidget, the bqplot view); sources implement
:class:`Source` (``LRFinder`` does, and the notebook side of a remote job).
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

import numpy as np

from ..engine.stream import RunStarted

__all__ = ["ChannelView", "INITIAL_STATE", "Source"]


#: the state every view shows, with its value before any run (the synced traits of the widget)
INITIAL_STATE: dict[str, Any] = {
    "status": "idle",
    "step": 0,
    "num_iter": 0,
    "elapsed": 0.0,
    "eta": None,
    "start_lr": None,
    "end_lr": None,
    "step_mode": "exp",
    "diverged_lr": None,
    "suggestions": [],
    "selected_lr": None,
    "applied_lr": None,
    "pending_apply": False,
    "error": "",
    # the last finished run's readings (protocol.encode_saved_readings; the line drawn, without
    # lag, as its smoothed loss): written once when it ends, empty while a run goes on, so a
    # saved notebook keeps the curve
    "saved_readings": b"",
    # what Apply schedule attached (views/schedule_feed.py), until an lr Apply detaches it
    "schedule_applied": None,
}


class Source(Protocol):
    """What a channel needs from a source of runs (``LRFinder`` is one)."""

    result: Any

    @property
    def running(self) -> bool: ...

    def subscribe(
        self, callback: Callable[[Any], None], interval: float = 0.05
    ) -> Callable[[], None]: ...

    def stop(self) -> None: ...

    def apply(self, lr: float | None = None) -> list[float]: ...


class ChannelView:
    """A consumer of a channel. Every method runs on the channel's writer thread.

    The channel's :attr:`Channel.readings` and :attr:`Channel.state` may be read from these
    methods (and only from them, or through :meth:`Channel.call`).
    """

    #: False while no one looks at this view (every rendered copy reported "gone"): readings
    #: and heartbeats are then not sent; a view that comes back says hello and gets a replay
    wants_readings = True

    def channel_attached(self) -> None:
        """The view was added; :attr:`Channel.run` and the readings so far are there to draw.

        (A widget's front end asks for them itself, with hello, once it is rendered.)"""

    def channel_state(self, changes: dict[str, Any]) -> None:
        """Some of :attr:`Channel.state` changed (the whole state when the view attaches)."""

    def channel_run(self, run: RunStarted) -> None:
        """A new run began (or is being replayed): forget the readings shown."""

    def channel_readings(self, seq: int, start: int, stop: int, replay: bool) -> None:
        """Readings ``[start, stop)`` of :attr:`Channel.readings` are new (or replayed)."""

    def channel_line(self, run_id: int, line: np.ndarray) -> None:
        """Run ``run_id`` ended: draw ``line`` (one value per reading, its loss smoothed without
        lag) in place of the smoothed loss its readings carried. Also after a replay's readings."""

    def channel_heartbeat(self, t: float) -> None:
        """The run is alive (about once a second)."""

    def channel_ended(self, result: Any) -> None:
        """The run ended; the source restored the model (``result`` may be None)."""

    def channel_placement(self, view: str, where: str) -> None:
        """One rendered copy of this view reported where it is."""

    def channel_hello(self) -> None:
        """A rendered copy of this view asked for the whole history (a replay follows)."""
