"""LRFinderWidget: the live, clickable range-test widget (anywidget).

The widget is a *view* of a :class:`~lrwidget.channel.core.Channel`: the channel of its finder owns
the run's readings, the selection and the applied lr, and one writer thread that alone sets this
widget's traits and sends its messages (see :mod:`lrwidget.channel.core`). What the widget adds:
the synced traits, the public API, the range test in a background thread (while a cell's own loop
runs, the kernel does not process messages from the front end, so a click or Stop would wait until
the end; from a thread, streaming and clicks both work), and a static fallback for front ends
without widgets (:mod:`lrwidget.views.static_fallback`). :func:`lrwidget.find_lr`
(:mod:`lrwidget.views.find`) builds a finder and its widget in one call.

Example
-------
>>> import torch; from torch import nn
>>> from lrwidget import LRFinder, LRFinderWidget
>>> torch.manual_seed(0)  # doctest: +ELLIPSIS
<torch._C.Generator object at ...>
>>> model = nn.Linear(4, 3); opt = torch.optim.SGD(model.parameters(), lr=1e-4)
>>> data = [(torch.randn(16, 4), torch.randint(0, 3, (16,))) for _ in range(4)]
>>> w = LRFinderWidget(LRFinder(model, opt, nn.CrossEntropyLoss()))
>>> w.run(data, end_lr=1.0, num_iter=30)      # returns at once
>>> w.status
'running'
>>> result = w.wait()
>>> w.status in ("done", "diverged"), w.step == len(result)
(True, True)
>>> w.apply(1e-2)
[0.01]
>>> opt.param_groups[0]["lr"] == w.applied_lr == 0.01
True
>>> w.close()
"""

from __future__ import annotations

import os
import pathlib
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any

import anywidget

from ..channel import protocol as P
from ..channel.core import Channel, ChannelView, Source
from ..channel.protocol import encode_readings
from ..engine.finder import LRFinder
from ..engine.history import RangeTestResult
from ..engine.stream import RunStarted
from ..pure.rules import STATUS_OF_REASON, check_height
from . import report
from .owned import KernelOwned
from .schedule_feed import RangeSchedule
from .static_fallback import Bundle, Displays, with_static_fallback
from .training import TrainingFeed, TrainingRun, Watch

__all__ = ["LRFinderWidget", "check_run_args", "encode_readings", "STATUS_OF_REASON"]

_STATIC = pathlib.Path(__file__).parent / "static"
#: most view ids remembered per widget (views that vanish without saying "gone" are forgotten)
_MAX_VIEWS = 64


class LRFinderWidget(KernelOwned, RangeSchedule, anywidget.AnyWidget, ChannelView):
    """A live plot of an :class:`~lrwidget.LRFinder`'s range test; click a point, Apply it.

    Every run of ``finder`` streams into the widget: :meth:`run` (the range test in a
    background thread) or your own loop through ``finder.track(...)``. Several widgets of one
    finder show the same run, selection and applied lr. The attributes below are synced to the
    view and written by the channel only: a front end's state update is ignored (see
    :mod:`lrwidget.views.owned`); views send commands.

    Parameters
    ----------
    finder : LRFinder or Source
        The finder whose runs to show; or another source of runs
        (:class:`lrwidget.channel.core.Source`, e.g. a job in another process), whose runs are
        shown and whose choice is sent back.
    title : str
        Shown above the plot.
    height : int
        Plot height in pixels, 160 to 2000 (:data:`lrwidget.pure.rules.PLOT_HEIGHT`).

    Attributes
    ----------
    status : str
        "idle", "running", "done", "diverged", "stopped", "exhausted" (a ``finder.track``
        loop ended before ``num_iter``) or "error".
    step, num_iter : int
        Readings so far and readings asked for.
    elapsed, eta : float
        Seconds since the start, and estimated seconds left (None when unknown).
    start_lr, end_lr, step_mode
        The sweep of the current / last run.
    diverged_lr : float or None
        The lr of the reading where the test diverged.
    suggestions : list of dict
        JSON-ready for the view: ``{"name", "lr", "index", "reason", "default"}`` per rule,
        the default rule first. The same rules as ``result.suggestions`` (a dict of
        :class:`~lrwidget.pure.suggest.Suggestion` objects, in the same order).
    selected_lr, applied_lr : float or None
        The tested lr picked in a view (or by :meth:`select`), and the lr the optimizer's first
        param group holds since the last apply.
    pending_apply : bool
        An Apply is waiting for the running test to end.
    error : str
        Why the last run (or the last apply) failed ("" when it did not).
    hint : str
        What an empty plot says instead of "call widget.run(train_loader)" ("" for a local
        finder; :func:`lrwidget.listen`'s widget: how a job connects, without the token).
    saved_readings : bytes
        The last finished run and its line (without lag), kept in a saved notebook's widget
        state for a view with no kernel (``b""`` until a run ends); see decode_saved_readings.
    result : RangeTestResult or None
        The last finished run (not synced).

    Example
    -------
    >>> import torch; from torch import nn
    >>> m = nn.Linear(2, 2); opt = torch.optim.SGD(m.parameters(), lr=1e-3)
    >>> w = LRFinderWidget(LRFinder(m, opt), title="demo")
    >>> w.status, w.selected_lr
    ('idle', None)
    >>> w.close()
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    def __init__(
        self, finder: LRFinder | Source, title: str = "", height: int = 320, **kwargs: Any
    ) -> None:
        if not isinstance(finder, LRFinder) and not _is_source(finder):
            raise TypeError(
                "finder must be an lrwidget.LRFinder (or a source of runs, see "
                f"lrwidget.channel.core.Source), got {type(finder).__name__}"
            )
        if not isinstance(title, str):
            raise TypeError(f"title must be a str, got {type(title).__name__}")
        super().__init__(title=title, height=check_height(height), **kwargs)
        self.finder = finder
        #: what the last :meth:`run` raised in its thread (re-raised by :meth:`wait`)
        self.exception: BaseException | None = None
        self._runner: threading.Thread | None = None
        self._displays = Displays()  # refreshed when a run ends
        # the channel's writer alone touches these
        self._placements: dict[str, str] = {}  # view id -> "sidebar" | "hidden" | "inline"
        self._dormant = False
        self._closed = False
        self._channel = Channel.of(finder)
        self._training = TrainingFeed(self.send)  # the doctor's view of watch() (views/training.py)
        self.on_msg(self._on_msg)
        self._channel.attach(self)

    @property
    def result(self) -> RangeTestResult | None:
        """The last finished run of the finder (None before the first)."""
        return self._channel.result

    # ------------------------------------------------------------------ public API
    def run(self, train_loader: Iterable[Any], **range_test_kwargs: Any) -> None:
        """Start ``finder.range_test(train_loader, **range_test_kwargs)`` in a background thread.

        Returns at once, with ``status == "running"``; the plot fills as the test runs.
        Arguments are checked here, in the calling thread: bad input raises before any step.

        Parameters
        ----------
        train_loader : iterable
            As for :meth:`LRFinder.range_test`.
        **range_test_kwargs
            ``start_lr``, ``end_lr``, ``num_iter``, ``step_mode``, ``smooth_f``,
            ``diverge_th``, ``accumulation_steps``, ``val_loader``, ``step_fn``, ...

        Raises
        ------
        TypeError, ValueError
            For bad arguments (unknown names included).
        RuntimeError
            When a test is already running on this finder (from any widget or thread).

        Example
        -------
        >>> import torch; from torch import nn
        >>> m = nn.Linear(2, 2); opt = torch.optim.SGD(m.parameters(), lr=1e-3)
        >>> w = LRFinderWidget(LRFinder(m, opt, nn.CrossEntropyLoss()))
        >>> w.run([(torch.randn(4, 2), torch.tensor([0, 1, 0, 1]))], num_iter=1)
        Traceback (most recent call last):
        ...
        ValueError: num_iter must be an int >= 2, got 1
        >>> w.close()
        """
        self._check_open()
        self._local()
        if self._runner is not None and self._runner.is_alive():
            raise RuntimeError(
                "a range test is already running in this widget; call stop() or wait() first"
            )
        check_run_args(self._local(), train_loader, range_test_kwargs)
        self._channel.expect_run()
        self.exception = None
        self._runner = threading.Thread(
            target=self._run_thread,
            args=(train_loader, range_test_kwargs),
            name="lrwidget-range-test",
            daemon=True,
        )
        self._runner.start()

    def wait(self, timeout: float | None = None) -> RangeTestResult | None:
        """Block until the test ends and the widget has shown its end; return the result.

        Works for runs started with :meth:`run` and for ``finder.track`` loops (it then waits
        until the widget has handled every event delivered so far).

        Parameters
        ----------
        timeout : float, optional
            Seconds; None waits as long as it takes.

        Returns
        -------
        RangeTestResult or None
            The last finished run (None if none ended yet).

        Raises
        ------
        TimeoutError
            When the test is still running after ``timeout`` seconds.
        BaseException
            The exception that ended a :meth:`run` in its thread (also shown as
            ``status == "error"`` and the ``error`` trait).
        """
        deadline = None if timeout is None else time.monotonic() + float(timeout)

        def left() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        r = self._runner
        if r is not None:
            r.join(left())
            if r.is_alive():
                raise TimeoutError(f"the range test is still running after {timeout} s")
        elif hasattr(self.finder, "wait_for_run"):
            self.finder.wait_for_run(left())  # a source in another process: until its run ended
        self._channel.call(lambda: None, left())  # a barrier: everything before it is shown
        if self.exception is not None:
            raise self.exception
        return self.result

    def stop(self) -> None:
        """End the running test at the next step (status "stopped"); safe from any thread."""
        self._channel.command(self, {"type": "stop"})

    def select(self, lr: float | None) -> float | None:
        """Select the tested lr nearest to ``lr``, as a click on the curve does.

        Parameters
        ----------
        lr : float or None
            None clears the selection.

        Returns
        -------
        float or None
            The selected lr: one of the readings' lrs.

        Raises
        ------
        ValueError
            ``lr`` is not a positive finite number, there are no readings, or ``lr`` is
            outside the tested range.
        """
        v = None
        if lr is not None:
            cmd = P.parse_command({"type": "select", "lr": lr})
            assert isinstance(cmd, P.Select)  # for the type checker: a select parses to Select
            v = cmd.lr
        return self._channel.call(lambda: self._channel.select(v))

    def apply(self, lr: float | None = None) -> list[float] | None:
        """Write ``lr`` into the optimizer (other param groups keep their ratio to the first).

        Parameters
        ----------
        lr : float, optional
            Default: ``selected_lr``, else the default suggestion of the last run.

        Returns
        -------
        list of float or None
            The param groups' new lrs; None when a test is running: the apply is then queued
            (``pending_apply``) and done once the test ended and the model was restored.

        Raises
        ------
        ValueError
            When ``lr`` is None and nothing is selected or suggested, or ``lr`` is not a
            positive finite number.
        """
        if lr is None:
            lr = self.selected_lr
            if lr is None and self.result is not None:
                lr = self.result.suggested_lr
            if lr is None:
                raise ValueError(
                    "lr is None and no lr is selected or suggested: pass lr, or "
                    "select a point on the plot first"
                )
        try:
            cmd = P.parse_command({"type": "apply", "lr": lr})
        except P.BadCommand:
            raise ValueError(f"lr must be a positive finite number, got {lr!r}") from None
        # for the type checker: an apply with a number parses to an Apply with that lr
        assert isinstance(cmd, P.Apply) and cmd.lr is not None
        v = cmd.lr
        held = self._channel.call(lambda: self._channel.apply_now_or_later(v))
        # a remote job's answer is waited for here, not on the channel's writer
        return held.result() if isinstance(held, Future) else held

    def watch(self, scheduler: Any = None, **watch_kwargs: Any) -> Watch:
        """``finder.watch(scheduler, **watch_kwargs)``, drawn in this widget (:mod:`.training`)."""
        return self.show_watch(self._local().watch(scheduler, **watch_kwargs))

    def show_watch(self, watch: Watch) -> Watch:
        """Draw ``watch`` here from now on (e.g. a framework callback's, on training that follows
        this widget's find step); the buttons act on it. Returns ``watch``."""
        self._training.attach(watch)
        return watch

    def train(
        self, fn: Callable[[Watch], Any], scheduler: Any = None, **watch_kwargs: Any
    ) -> TrainingRun:
        """``fn(watch)`` on its own thread under :meth:`watch`: the cell returns, clicks act."""
        return TrainingRun(self.watch(scheduler, **watch_kwargs), fn)

    def to_svg(self, **kwargs: Any) -> str:
        """The last result as SVG (:func:`lrwidget.views.report.to_svg`), with the chosen lrs.

        ``kwargs`` are ``to_svg``'s ``width``, ``height`` and ``dark``.
        """
        if self.result is None:
            raise RuntimeError("no finished range test to draw yet")
        sel, applied = self.selected_lr, self.applied_lr  # the range with it: RangeSchedule.shown
        return report.to_svg(self.result, sel, applied, **self.shown(), **kwargs)

    def save_html(self, path: str | os.PathLike[str], **kwargs: Any) -> str:
        """Write a self-contained HTML report of the last result (:mod:`lrwidget.views.report`).

        ``kwargs`` are :func:`lrwidget.views.report.to_html`'s ``title`` and ``dark``; returns
        the path written.
        """
        if self.result is None:
            raise RuntimeError("no finished range test to report yet")
        sel, applied, shown = self.selected_lr, self.applied_lr, self.shown(preview=True)
        return report.save_html(self.result, path, sel, applied, **shown, **kwargs)

    def summary(self) -> str:
        """The one-line text summary used by the static fallback."""
        if self.status == "running":
            return (
                f"LR range test running: {self.step}/{self.num_iter} readings, {self.elapsed:.1f} s"
            )
        if self.result is None:
            return "LR range test: " + ("error: " + self.error if self.error else "no run yet")
        return report.summary_line(self.result, self.selected_lr, self.applied_lr)

    def close(self) -> None:
        """Leave the finder's channel (the last view to go ends its subscription) and close
        the comm. A running test goes on; :meth:`LRFinder.stop` ends it."""
        if not getattr(self, "_closed", True):
            self._closed = True
            self._training.close()
            self._channel.detach(self)
        super().close()

    # ------------------------------------------------------------------ static fallback
    def _repr_mimebundle_(self, **kwargs: Any) -> Bundle | None:
        """anywidget's bundle (the widget view) plus ``text/plain`` and ``image/svg+xml``, so
        front ends without widgets (GitHub, nbviewer, nbconvert, IPython) show the curve."""
        return with_static_fallback(
            super()._repr_mimebundle_(**kwargs),
            self.summary(),
            self.result,
            self.selected_lr,
            self.applied_lr,
            self.shown(preview=True),
        )

    def _ipython_display_(self) -> None:
        # Displayed with a display id so the saved notebook's static fallback is refreshed when
        # the run ends (the bundle at display time has no curve yet).
        self._displays.show(self._repr_mimebundle_())

    # ------------------------------------------------------------------ run thread
    def _run_thread(self, train_loader: Iterable[Any], kwargs: dict[str, Any]) -> None:
        error = None
        try:
            self._local().range_test(train_loader, **kwargs)
        except BaseException as e:  # shown by the channel and re-raised by wait()  # noqa: BLE001
            error = self.exception = e
        finally:
            self._channel.runner_done(error)

    def _local(self) -> LRFinder:
        if not isinstance(self.finder, LRFinder):
            raise TypeError(
                "this widget shows the runs of another source (e.g. a job in another process): "
                "start the range test there"
            )
        return self.finder

    def _on_msg(self, _widget: object, content: Any, buffers: object) -> None:
        """Comm handler: runs on the kernel's thread; hands the message to the channel."""
        # the doctor's commands are the feed's, the range's and schedule's RangeSchedule's
        if not self._training.on_msg(content) and not self.range_msg(content):
            self._channel.command(self, content)

    def call_on_writer(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the channel's writer thread (the one that writes traits); return its value.

        For code beside the widget (e.g. :func:`lrwidget.show_in_sidebar`) that sets a trait: the
        writer thread alone writes them.
        """
        self._check_open()
        return self._channel.call(fn)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this widget was closed")

    # ------------------------------------------------------------------ ChannelView (writer)
    @property
    def wants_readings(self) -> bool:  # type: ignore[override]
        return not self._dormant and not self._closed

    def channel_state(self, changes: dict[str, Any]) -> None:
        with self.hold_sync():
            for name, value in changes.items():
                setattr(self, name, value)

    def channel_run(self, run: RunStarted) -> None:
        self.range_run_started(run.run_id)
        if self.wants_readings:
            self.send(
                P.run_message(run.run_id, run.num_iter, run.start_lr, run.end_lr, run.step_mode)
            )

    def channel_readings(self, seq: int, start: int, stop: int, replay: bool) -> None:
        ch = self._channel
        assert ch.run is not None  # the channel announces a run before its readings
        content, buffers = encode_readings(
            ch.run.run_id, seq, start, *ch.readings.view(start, stop), replay=replay
        )
        self.send(content, buffers)

    def channel_line(self, run_id: int, line: Any) -> None:
        self.send(*P.encode_line(run_id, line))

    def channel_heartbeat(self, t: float) -> None:
        self.send(P.heartbeat_message(t))

    def channel_ended(self, result: RangeTestResult | None) -> None:
        self.range_run_ended(result)
        self.refresh_static()

    def channel_hello(self) -> None:
        self._dormant = False

    def channel_placement(self, view: str, where: str) -> None:
        places = self._placements
        places.pop(view, None)
        if where != "gone":
            places[view] = where  # newest last
            while len(places) > _MAX_VIEWS:
                del places[next(iter(places))]
        # every rendered copy is gone (a re-run cell replaced it): stop streaming to it
        self._dormant = not places
        n = sum(1 for w in places.values() if w == "sidebar")
        if self.sidebar_views != n:
            self.sidebar_views = n


def _is_source(obj: object) -> bool:
    return all(
        callable(getattr(obj, name, None)) for name in ("subscribe", "stop", "apply")
    ) and hasattr(obj, "running")


def check_run_args(finder: LRFinder, train_loader: Iterable[Any], kwargs: dict[str, Any]) -> None:
    """``finder.check_range_test_args``, its errors naming :meth:`LRFinderWidget.run`."""
    try:
        finder.check_range_test_args(train_loader, **kwargs)
    except TypeError as e:
        if not str(e).startswith("range_test()"):
            raise
        # name the method the user called, not the one it forwards to
        raise TypeError("run()" + str(e)[len("range_test()") :]) from None
