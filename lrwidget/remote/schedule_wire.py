"""The notebook's schedule request to a job (issue 19), pure: a brushed range's schedule, built
by the job's own finder (``finder.schedule``) in ``link.wait_for_choice()``.

* ``schedule`` (notebook -> job): ``{"id", "schedule_kind", "lo", "hi", "total_steps"}`` (a
  message's own ``kind`` is "schedule"); the job checks
  it with the engine's own rule (:func:`lrwidget.engine.range_schedule.check_schedule`: a kind
  of the rules, ``0 < lo < hi`` finite, ``total_steps`` an int within the rules' bounds) and
  against its own tested lrs, on the link's thread, before it keeps it.
* The answer (the ``answer`` kind an Apply's has): ``{"id", "lrs"}``, the peak lr of each param
  group the job's schedule now has, or ``{"id", "error"}`` with the reason.

Every value read is bounded before it is shown: :class:`WireError` names what is wrong.

Example
-------
>>> parse_schedule(schedule_fields(1, "cyclic", 1e-3, 1e-1, 1000))
('cyclic', 0.001, 0.1, 1000)
>>> parse_schedule({"schedule_kind": "cyclic", "lo": 1e-1, "hi": 1e-3, "total_steps": 9})
Traceback (most recent call last):
...
lrwidget.remote.fields.WireError: schedule: lo must be below hi, got lo=0.1, hi=0.001
"""

from __future__ import annotations

from ..engine.range_schedule import KINDS, check_schedule
from ..pure.rules import SCHEDULE as RULES
from .fields import Fields, WireError, float_field, int_field, str_field

__all__ = ["SCHEDULE", "schedule_fields", "parse_schedule"]

#: the request's kind
SCHEDULE = "schedule"


def schedule_fields(request: int, kind: str, lo: float, hi: float, total_steps: int) -> Fields:
    """The fields of a ``schedule`` request."""
    return {
        "id": int(request),
        "schedule_kind": str(kind),
        "lo": float(lo),
        "hi": float(hi),
        "total_steps": int(total_steps),
    }


def parse_schedule(fields: Fields) -> tuple[str, float, float, int]:
    """``(kind, lo, hi, total_steps)`` of a ``schedule`` request, checked; WireError naming
    the parameter (``kind``: the ``schedule_kind`` field) and the accepted values otherwise."""
    try:
        kind = str_field({"kind": fields.get("schedule_kind")}, "kind", KINDS)
        lo = float_field(fields, "lo", positive=True)
        hi = float_field(fields, "hi", positive=True)
        bounds = int(RULES["minTotalSteps"]), int(RULES["maxTotalSteps"])
        n = int_field(fields, "total_steps", *bounds)
        return check_schedule(kind, lo, hi, n)
    except ValueError as e:  # a WireError is one too
        raise WireError(f"schedule: {e}") from None
