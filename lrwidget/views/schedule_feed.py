"""The range and its schedule in the widget (issue 19): :class:`RangeSchedule`, a mixin of
:class:`~lrwidget.views.widget.LRFinderWidget`.

A view proposes a range (a drag, Shift + arrows), a kind and total steps, and asks to apply; the
kernel decides everything: the ends snapped to tested lrs (:func:`lrwidget.pure.ranges.snap_range`),
the preview computed by the real torch scheduler
(:func:`lrwidget.engine.range_schedule.schedule_preview`, ``previewColumns`` columns), the
schedule built by the source (``source.schedule(kind, lo, hi, total_steps)``: an LRFinder, or a
job through :class:`~lrwidget.remote.source.RemoteSource`; the widget never builds one). What is
decided is in synced traits (``selected_range``, ``suggested_range``, ``schedule_kind``,
``total_steps``, ``preview``, ``schedule_applied``, ``schedule_error``): every view and a view
rendered later show it, and a notebook saved with widget state keeps it. The traits are written on
the channel's writer thread only; a view's message is parsed on the kernel's thread
(:func:`lrwidget.channel.range_protocol.parse_range_command`) and only enqueued there. Apply
schedule from a view runs on a thread of its own (a job's answer is waited for there, never on the
writer), one at a time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..channel.core import Channel
from ..channel.protocol import BadCommand
from ..channel.range_protocol import ScheduleCommand, SelectRange, parse_range_command
from ..channel.writer import Call
from ..engine.range_schedule import schedule_preview
from ..engine.schedules import base_lrs
from ..pure.ranges import schedule_shown, snap_range, suggest_range
from ..pure.rules import SCHEDULE
from .static_fallback import Displays, Settled
from .view_state import ViewState

__all__ = ["RangeSchedule", "peak_lrs"]

log = logging.getLogger("lrwidget.views")

#: columns of the preview (its steps: each column's ends and the turning points)
PREVIEW_COLUMNS = int(SCHEDULE["previewColumns"])


def peak_lrs(built: Any) -> list[float]:
    """The highest lr of each param group a schedule reaches (what the view says was attached).

    ``built``: a torch scheduler as :func:`~lrwidget.engine.range_schedule.build_schedule` makes
    them (CyclicLR: ``max_lrs``; OneCycleLR: the groups' ``max_lr``; a warmup + decay LambdaLR:
    its ``base_lrs``, the peak), or a job's answer (a sequence of lrs).
    """
    if isinstance(built, Sequence):
        return [float(v) for v in built]
    return base_lrs(built.optimizer, [built])  # what the engine tells the views (LrApplied)


class RangeSchedule(ViewState):
    """The widget's range, preview and schedule (a mixin: the widget's traits and channel)."""

    _channel: Channel
    _displays: Displays  # the widget's static fallback (views/static_fallback.py)
    _training: Any  # the widget's TrainingFeed (views/training.py): the doctor shown
    finder: Any

    #: seconds a brushed range stays unchanged before the static fallback shows it (a refresh
    #: re-renders the live view: once the range settled, not at every drag or key press)
    static_quiet = 2.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._applying = threading.Lock()  # one Apply schedule from the views at a time
        self._range_run: int | None = None  # the run the range belongs to (writer)
        settled = Settled(lambda: self._channel.post(Call(self._range_settled)), self._quiet)
        # the kernel's range is the trigger (a view's drag, Shift + arrows, select_range)
        self.observe(lambda _change: settled.poke(), names=["selected_range"])

    def _quiet(self) -> float:
        return self.static_quiet

    def _range_settled(self) -> None:
        """Writer: the brushed range stopped changing; a run's start clears it, and the run's
        end refreshes the picture itself (not re-rendered while it streams)."""
        if self.status != "running":
            self.refresh_static()

    def channel_state(self, changes: dict[str, Any]) -> None:
        raise NotImplementedError  # the widget's: set its traits (writer thread)

    def refresh_static(self) -> None:
        """Refresh the widget's static fallback (what a saved notebook shows without widgets)."""
        if not getattr(self, "_closed", False):  # a settled range's refresh may come after close
            self._displays.refresh(self._repr_mimebundle_)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ public API
    def select_range(self, lo: float | None, hi: float | None) -> tuple[float, float] | None:
        """Select the range ``lo .. hi``, each end snapped to the nearest tested lr (as a drag).

        Parameters
        ----------
        lo, hi : float or None
            Positive finite, ``lo < hi``, within the tested lrs; both None clear the range.

        Returns
        -------
        (float, float) or None
            The range selected: two tested lrs.

        Raises
        ------
        ValueError
            An end not a positive finite number, ``lo >= hi``, outside the tested lrs, or both
            ends snapping to one reading; the selection is then unchanged.
        """
        cmd = self._parsed({"type": "select_range", "lo": lo, "hi": hi})
        assert isinstance(cmd, SelectRange)  # for the type checker: it parses to one
        return self._channel.call(lambda: self._select_range(cmd))

    def schedule(self, kind: str, total_steps: int | None = None) -> Any:
        """Attach a ``kind`` schedule over the selected range (else the suggested one).

        The source builds it: ``finder.schedule(kind, lo, hi, total_steps)`` (see
        :meth:`lrwidget.LRFinder.schedule` for the mapping of each kind); the views show what
        was attached (``schedule_applied``) and its preview.

        Parameters
        ----------
        kind : str
            "one_cycle", "cyclic", "cosine" or "linear" (rules.json ``schedule.kinds``).
        total_steps : int, optional
            Optimizer steps the schedule spans; default: the views' ``total_steps``.

        Returns
        -------
        torch.optim.lr_scheduler.LRScheduler
            What the source returned (a job's source: the lrs it attached).

        Raises
        ------
        ValueError
            A bad kind or total_steps (named, with the accepted values), or no range selected
            nor suggested; nothing is attached.
        RuntimeError
            A loop trains under the doctor shown here (:meth:`train`, :meth:`show_watch`): it
            steps its own scheduler, so nothing is attached under it.
        """
        n = self.total_steps if total_steps is None else total_steps
        cmd = self._parsed({"type": "apply_schedule", "kind": kind, "total_steps": n})
        assert isinstance(cmd, ScheduleCommand)
        return self._attach_schedule(cmd)

    @property
    def schedule_preview(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(steps, lrs)`` as the views draw them: the steps the preview evaluated (int64) and
        the first param group's lr there (float64), from the real scheduler; None: no preview."""
        p = self.preview
        if not p:
            return None
        return np.asarray(p["steps"], dtype=np.int64), np.asarray(p["lrs"], dtype=np.float64)

    def shown(self, preview: bool = False) -> dict[str, Any]:
        """What the static pictures draw of the range (:mod:`lrwidget.views.report_schedule`):
        ``brushed`` (the selected range, else the suggested one), ``suggested`` and, with
        ``preview``, the schedule's ``preview``."""
        rng = self._range_in_use()
        out: dict[str, Any] = {"brushed": rng, "suggested": self.selected_range is None}
        return {**out, "preview": dict(self.preview)} if preview else out

    # ------------------------------------------------------------------ from the views
    def range_msg(self, content: Any) -> bool:
        """A view's message, on the kernel's thread: True when it was the range's (handled).

        Only parsed here (a bad one is logged on ``lrwidget.views`` and dropped); a range or a
        preview is enqueued for the writer, an apply runs on its own thread.
        """
        try:
            cmd = parse_range_command(content)
        except BadCommand as e:
            log.warning("ignored a message from the front end: %s", e)
            return True
        if cmd is None:
            return False
        if isinstance(cmd, ScheduleCommand) and cmd.apply:
            self._apply_from_view(cmd)
        else:
            self._channel.post(Call(lambda: self._from_view(cmd)))
        return True

    def _from_view(self, cmd: SelectRange | ScheduleCommand) -> None:
        """Writer: a view's range or preview; a refusal is shown in the views, not raised."""
        try:
            if isinstance(cmd, SelectRange):
                self._select_range(cmd)
            else:
                self.channel_state({"schedule_kind": cmd.kind, "total_steps": cmd.total_steps})
                self._refresh_preview()
        except ValueError as e:
            log.warning("a view's %s refused: %s", type(cmd).__name__, e)
            self.channel_state({"schedule_error": str(e)})

    def _apply_from_view(self, cmd: ScheduleCommand) -> None:
        if not self._applying.acquire(blocking=False):
            log.warning("ignored an Apply schedule from the front end: one is under way")
            return

        def run() -> None:
            try:
                self._attach_schedule(cmd)
            except Exception as e:  # shown in the views: no caller to raise to  # noqa: BLE001
                log.warning("Apply schedule refused: %s", e)
                shown = {"schedule_error": str(e)}
                self._channel.call(lambda: self.channel_state(shown))
            finally:
                self._applying.release()

        threading.Thread(target=run, name="lrwidget-schedule", daemon=True).start()

    # ------------------------------------------------------------------ the writer's
    def _parsed(self, content: dict[str, Any]) -> SelectRange | ScheduleCommand:
        try:
            cmd = parse_range_command(content)
        except BadCommand as e:
            raise ValueError(str(e)) from None
        assert cmd is not None  # for the type checker: the types above are parsed
        return cmd

    def _select_range(self, cmd: SelectRange) -> tuple[float, float] | None:
        """Writer: snap and show ``cmd``'s range (both ends None: clear); the preview follows."""
        snapped = None
        if cmd.lo is not None:
            snapped = snap_range(self._channel.readings.view()[0], cmd.lo, cmd.hi)
        self.channel_state({"selected_range": snapped, "schedule_error": ""})
        self._refresh_preview()
        return snapped

    def _range_in_use(self) -> tuple[float, float] | None:
        return self.selected_range or self.suggested_range

    def _refresh_preview(self) -> None:
        """Writer: the preview of the kind and steps shown over the range in use (none: empty;
        one the engine will not preview: empty, and the reason in ``schedule_error``)."""
        rng = self._range_in_use()
        preview: dict[str, Any] = {}
        if rng is not None:
            lo, hi = rng
            kind, n = self.schedule_kind, self.total_steps
            try:
                steps, lrs = schedule_preview(kind, lo, hi, n, columns=PREVIEW_COLUMNS)
            except ValueError as e:  # e.g. a cyclic schedule with too many turns to preview
                self.channel_state({"preview": {}, "schedule_error": str(e)})
                return
            preview = {"kind": kind, "lo": lo, "hi": hi, "total_steps": n}
            preview.update(steps=steps.tolist(), lrs=lrs.tolist())
        self.channel_state({"preview": preview})

    def _attach_schedule(self, cmd: ScheduleCommand) -> Any:
        if getattr(self._training.watch, "training", False):
            raise RuntimeError(
                "a loop is training under the doctor (widget.train / show_watch): it steps its "
                "own scheduler, so a schedule attached now would only set one lr under it; "
                "attach the schedule before training (widget.schedule returns it: step it in "
                "the loop and pass it to widget.train(fn, scheduler)), or use the doctor's buttons"
            )
        rng = self._channel.call(self._range_in_use)
        if rng is None:
            raise ValueError(
                "no range: select one (select_range(lo, hi), or drag across the curve) or run a "
                "range test, whose suggested range is used when none is selected"
            )
        lo, hi = rng
        built = self.finder.schedule(cmd.kind, lo, hi, cmd.total_steps)
        applied = schedule_shown((cmd.kind, lo, hi, cmd.total_steps), peak_lrs(built))

        def show() -> None:
            kind, n = cmd.kind, cmd.total_steps
            self.channel_state({"schedule_kind": kind, "total_steps": n, "schedule_error": ""})
            self._channel.show_schedule(applied)  # every view of the source, until an lr Apply
            self._refresh_preview()
            # at once (a brush waits until it settled): a refresh re-renders the live view
            self.refresh_static()

        self._channel.call(show)
        return built

    # ------------------------------------------------------------------ the run (writer)
    def range_run_started(self, run_id: int) -> None:
        """A run announced (a new one, or the current one replayed to a view that said hello):
        a new run's readings are not the range's any more."""
        if run_id != self._range_run:
            self._range_run = run_id
            self.channel_state({"selected_range": None, "suggested_range": None, "preview": {}})

    def range_run_ended(self, result: Any) -> None:
        """A run ended: its suggested range, and the preview over it when none is brushed."""
        self.channel_state(
            {"suggested_range": suggest_range(result) if result is not None else None}
        )
        self._refresh_preview()

    def channel_attached(self) -> None:
        """Made after the source's run ended: show its suggested range at once."""
        ch = self._channel
        if ch.run is not None:
            self._range_run = ch.run.run_id  # its replay to a view (hello) keeps the range
        if ch.result is not None and not self.finder.running:
            self.range_run_ended(ch.result)
