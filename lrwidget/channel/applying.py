"""Choosing and applying an lr on a channel: :class:`Applying`, a mixin of
:class:`lrwidget.channel.core.Channel` (every method runs on its writer thread).

An lr a view sends is snapped to a tested one (or a suggestion's) or refused; an Apply during a
run waits for its end; a source in another process answers later (``apply_async``: a Future);
every view shows the lr the optimizer holds, and an apply's error until one succeeds; a
schedule attached (:meth:`Applying.show_schedule`) is shown until an lr Apply detaches it.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from ..engine.stream import LrApplied
from ..pure.ranges import schedule_shown
from ..pure.readings import ReadingsBuffer
from . import protocol as P
from .interfaces import Source
from .run_state import RunState

__all__ = ["ApplyDone", "Applying"]

log = logging.getLogger("lrwidget.channel")


@dataclass(frozen=True)
class ApplyDone:
    """A source's ``apply_async`` answered (a remote job applied the lr, or did not)."""

    lr: float
    future: Future  # the source's
    shown: Future  # the caller's: resolved once the views show the outcome


class Applying:
    """select / apply of a channel, and the outcome every view shows."""

    source: Source
    state: dict[str, Any]
    runs: RunState
    _phase: str
    _pending_lr: float | None
    _error_from: str | None  # "run" | "apply": what set state["error"]

    @property
    def readings(self) -> ReadingsBuffer:
        raise NotImplementedError

    def post(self, item: Any) -> None:
        raise NotImplementedError

    def _set(self, **changes: Any) -> None:
        raise NotImplementedError

    def select(self, lr: float | None) -> float | None:
        """Select the tested lr nearest to ``lr`` (writer thread); returns it."""
        if lr is None:
            self._set(selected_lr=None)
            return None
        snapped = self._tested(lr)
        self._set(selected_lr=snapped)
        return snapped

    def apply_now_or_later(self, lr: float) -> list[float] | Future | None:
        """Apply ``lr`` now, or after the running test ended (writer thread).

        Returns the param groups' new lrs, None when queued (``pending_apply``), or, for a
        source in another process (``apply_async``), a Future of them: the caller waits for it,
        never the writer.
        """
        if self._later(lr):
            return None
        return self._apply_now(lr)

    def _tested(self, lr: float, index: int | None = None) -> float:
        """``lr`` if it is a suggestion's, else the nearest tested lr (ValueError if none)."""
        if any(s["lr"] == lr for s in self.state["suggestions"]):
            return lr
        return P.snap_lr(lr, self.readings.lrs, index)[0]

    def _later(self, lr: float) -> bool:
        """Queue ``lr`` for the end of the run when one is going (and say so)."""
        if self._phase == "idle" and not self.source.running:
            return False
        self._pending_lr = lr
        self._set(pending_apply=True)
        return True

    def _apply_now(self, lr: float) -> list[float] | Future:
        start = getattr(self.source, "apply_async", None)
        if start is None:
            new = self.source.apply(lr)
            self._applied(lr, new)
            return new
        # a remote job answers when it takes the lr: the views go on updating meanwhile
        future, shown = start(lr), Future[list]()
        self._set(pending_apply=True)
        future.add_done_callback(lambda f: self.post(ApplyDone(lr, f, shown)))
        return shown

    def show_schedule(self, applied: dict[str, Any]) -> None:
        """A schedule was attached (writer thread): every view shows ``applied`` (its kind,
        range, steps and peaks) until an lr is applied (:meth:`_held`)."""
        self._set(schedule_applied=dict(applied))

    def _held(self, lrs: Any, schedule: tuple | None = None, peaks: Any = None) -> dict[str, Any]:
        """What every view shows of the lrs the optimizer holds now, whoever wrote them.

        One lr applied (``schedule`` None) detaches the schedule shown: the optimizer holds that
        lr, and a scheduler stepped again would overwrite it (a job drops ``link.scheduler``);
        lrs that start a schedule show it, with its built scheduler's ``peaks`` (the numbers
        :meth:`show_schedule` shows too, whichever of the two arrives first).
        """
        changes: dict[str, Any] = {"applied_lr": float(lrs[0])}
        if schedule is None:
            changes["schedule_applied"] = None
        else:
            changes["schedule_applied"] = schedule_shown(schedule, peaks)
        if self._error_from == "apply":  # the last apply failed; this one did not
            self._error_from = None
            changes["error"] = ""
        return changes

    def _applied(self, lr: float, new: list[float]) -> None:
        changes = {**self._held(new), "pending_apply": False}
        if self.state["selected_lr"] is None:
            changes["selected_lr"] = float(lr)
        self._set(**changes)

    def _apply_logged(self, lr: float) -> None:
        try:
            self._apply_now(lr)
        except Exception as e:  # shown in the views rather than lost on the writer  # noqa: BLE001
            self._apply_failed(lr, e)

    def _apply_failed(self, lr: float, e: BaseException) -> None:
        log.warning("apply(%s) failed: %s", lr, e)
        self._error_from = "apply"
        self._set(pending_apply=False, error=f"apply({lr}) failed: {e}")

    def _apply_pending(self) -> None:
        """The run ended: the Apply that waited for it, if any."""
        if self._pending_lr is not None:
            lr, self._pending_lr = self._pending_lr, None
            self._apply_logged(lr)

    # -- items on the writer's queue
    def _lr_applied(self, item: LrApplied) -> None:
        self.runs.update(item)
        # e.g. a job that took the lr after the timeout: its error goes (_held)
        self._set(
            **self._held(item.lrs, item.schedule, item.peaks),
            pending_apply=self._pending_lr is not None,
        )

    def _apply_done(self, item: ApplyDone) -> None:
        error = item.future.exception()
        if error is None:
            self._applied(item.lr, item.future.result())
            item.shown.set_result(item.future.result())
        else:
            self._apply_failed(item.lr, error)
            item.shown.set_exception(error)

    # -- commands from a view
    def _select_command(self, cmd: P.Select) -> None:
        if cmd.lr is None:
            self._set(selected_lr=None)
            return
        try:
            self._set(selected_lr=self._tested(cmd.lr, cmd.index))
        except ValueError as e:
            log.warning("ignored select from the front end: %s", e)

    def _apply_command(self, cmd: P.Apply) -> None:
        lr = cmd.lr if cmd.lr is not None else self.state["selected_lr"]
        if lr is None:
            log.warning("ignored apply from the front end: nothing is selected")
            return
        try:
            lr = self._tested(lr)
        except ValueError as e:
            log.warning("ignored apply from the front end: %s", e)
            return
        if not self._later(lr):
            self._apply_logged(lr)
