"""The range's and the schedule's commands from a view (issue 19), parsed as untrusted (pure).

A view sends ``{"type": "select_range", "lo", "hi"}`` (a drag or Shift + arrows; both null:
cleared), ``{"type": "schedule_preview", "kind", "total_steps"}`` (the picker, the steps field)
and ``{"type": "apply_schedule", "kind", "total_steps"}`` (the button). :func:`parse_range_command`
turns each into a typed command or raises :class:`~lrwidget.channel.protocol.BadCommand` naming the
field and the accepted values; the ends are then snapped to tested lrs by the widget
(:func:`lrwidget.pure.ranges.snap_range`), never trusted as sent.

Example
-------
>>> parse_range_command({"type": "apply_schedule", "kind": "one_cycle", "total_steps": 1000})
ScheduleCommand(apply=True, kind='one_cycle', total_steps=1000)
>>> parse_range_command({"type": "hello"}) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..pure.ranges import check_total_steps
from ..pure.rules import SCHEDULE, SCHEDULE_KINDS
from .protocol import BadCommand, lr_field

__all__ = ["SelectRange", "ScheduleCommand", "parse_range_command"]

_SHOWN = 60  # characters of a refused value in the reason (a 10 MB string is not logged whole)


@dataclass(frozen=True)
class SelectRange:
    """A range dragged or keyed on the curve (``lo < hi``; both None: cleared), not yet snapped."""

    lo: float | None
    hi: float | None


@dataclass(frozen=True)
class ScheduleCommand:
    """The picker or the steps field (``apply`` False: a preview) or Apply schedule (True)."""

    apply: bool
    kind: str
    total_steps: int


def _schedule_command(kind: str, content: dict[str, Any]) -> ScheduleCommand:
    name, n = content.get("kind"), content.get("total_steps")
    try:
        steps = check_total_steps(n)  # the rule the engine checks too
    except ValueError:
        steps = None
    if isinstance(name, str) and name in SCHEDULE_KINDS and steps is not None:
        return ScheduleCommand(kind == "apply_schedule", name, steps)
    raise BadCommand(
        f"{kind}: kind must be one of {tuple(SCHEDULE_KINDS)} and total_steps an int in "
        f"[{SCHEDULE['minTotalSteps']}, {SCHEDULE['maxTotalSteps']}], "
        f"got kind={repr(name)[:_SHOWN]}, total_steps={repr(n)[:_SHOWN]}"
    )


def parse_range_command(content: Any) -> SelectRange | ScheduleCommand | None:
    """The range's or the schedule's command in a message a view sent; None when not one of them.

    Parameters
    ----------
    content : object
        The message as it arrived (untrusted).

    Returns
    -------
    SelectRange, ScheduleCommand or None
        None: not a ``select_range`` / ``schedule_preview`` / ``apply_schedule`` message.

    Raises
    ------
    BadCommand
        An end that is not a positive finite number, ``lo >= hi``, one end null; a kind not
        among rules.json's ``schedule.kinds``, total steps not an int in its bounds.

    Example
    -------
    >>> parse_range_command({"type": "select_range", "lo": 1e-3, "hi": 0.1})
    SelectRange(lo=0.001, hi=0.1)
    >>> parse_range_command({"type": "select_range", "lo": 0.1, "hi": 1e-3})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lrwidget...BadCommand: select_range: lo must be below hi (both null: clear), got lo=0.1, ...
    """
    kind = content.get("type") if isinstance(content, dict) else None
    if kind in ("schedule_preview", "apply_schedule"):
        return _schedule_command(kind, content)
    if kind != "select_range":
        return None
    lo, hi = lr_field(kind, content, "lo"), lr_field(kind, content, "hi")
    if (lo is None) != (hi is None) or (lo is not None and hi is not None and lo >= hi):
        raise BadCommand(f"{kind}: lo must be below hi (both null: clear), got lo={lo}, hi={hi}")
    return SelectRange(lo, hi)
