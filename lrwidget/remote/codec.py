"""The events of a run and a job's whole state as remote messages (pure): ``(kind, fields,
buffers)`` out, checked events back in. The frames around them are :mod:`lrwidget.remote.wire`'s.

The events of :mod:`lrwidget.engine.stream` map to kinds ``run`` (RunStarted), ``readings``
(Readings, three buffers), ``ended`` (RunEnded; the result's fields through
:meth:`RangeTestResult.to_dict` and back through :meth:`RangeTestResult.from_dict`, which checks
them, its arrays as three buffers) and ``applied`` (LrApplied; a schedule's numbers as the
schedule request's fields, :mod:`lrwidget.remote.schedule_wire`, checked alike, and its peaks).
``state`` carries everything a notebook needs to show the current run from scratch
(:class:`State`): sent when it (re)connects.

Example
-------
>>> from lrwidget.engine.stream import LrApplied
>>> kind, fields, buffers = encode_event(LrApplied((0.01,)))
>>> kind, decode_event(kind, fields, buffers)
('applied', LrApplied(lrs=(0.01,), schedule=None, peaks=None))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine.history import STOP_REASONS, RangeTestResult
from ..engine.stream import LrApplied, Readings, RunEnded, RunStarted
from ..pure.schedule import STEP_MODES
from .fields import (
    ARRAYS,
    MAX_READINGS,
    Fields,
    WireError,
    array,
    float_field,
    int_field,
    lrs_field,
    need_buffers,
    obj_field,
    opt_str_field,
    show,
    str_field,
    to_bytes,
)
from .schedule_wire import parse_schedule, schedule_fields

__all__ = ["State", "encode_event", "decode_event", "encode_state", "decode_state"]


@dataclass(frozen=True)
class State:
    """What a notebook needs to show a job's current (or last) run from scratch.

    ``run`` is None before the job's first run; the arrays are every reading of it so far;
    ``ended`` is its RunEnded once it ended; ``applied`` the lrs the job's optimizer holds since
    its last ``apply`` (None if none), ``applied_schedule`` the ``(kind, lo, hi,
    total_steps)`` of the schedule they start (None: one lr was applied) and ``applied_peaks``
    that schedule's peak lr of each group.
    """

    run: RunStarted | None
    lrs: np.ndarray | None
    losses: np.ndarray | None
    smoothed: np.ndarray | None
    ended: RunEnded | None
    applied: tuple[float, ...] | None
    applied_schedule: tuple[str, float, float, int] | None = None
    applied_peaks: tuple[float, ...] | None = None


def _run_fields(ev: RunStarted) -> Fields:
    return {
        "run_id": int(ev.run_id),
        "num_iter": int(ev.num_iter),
        "start_lr": float(ev.start_lr),
        "end_lr": float(ev.end_lr),
        "step_mode": str(ev.step_mode),
        "t0": float(ev.t0),
    }


def _run_from(fields: Fields) -> RunStarted:
    return RunStarted(
        int_field(fields, "run_id"),
        int_field(fields, "num_iter"),
        float_field(fields, "start_lr", positive=True),
        float_field(fields, "end_lr", positive=True),
        str_field(fields, "step_mode", tuple(STEP_MODES)),
        float_field(fields, "t0"),
    )


def _result_meta(result: Any) -> Fields:
    d: Fields = {}
    d.update(result.to_dict())
    for k in (*ARRAYS, "suggestions"):  # arrays go as buffers; suggestions are recomputed
        d.pop(k, None)
    return d


def _result_from(meta: Any, arrays: Sequence[np.ndarray]) -> RangeTestResult:
    if not isinstance(meta, dict):
        raise WireError(f"result must be an object, got {type(meta).__name__}")
    d = dict(meta)
    for k, a in zip(ARRAYS, arrays):
        d[k] = a.tolist()
    try:
        return RangeTestResult.from_dict(d)
    except (ValueError, TypeError, OverflowError) as e:  # whatever its checks let through
        raise WireError(f"result: {e}") from None


def _ended_fields(ev: RunEnded) -> Fields:
    return {
        "run_id": int(ev.run_id),
        "stop_reason": str(ev.stop_reason),
        "error": None if ev.error is None else str(ev.error),
        "elapsed": float(ev.elapsed),
        "result": None if ev.result is None else _result_meta(ev.result),
    }


def _applied_fields(lrs: Sequence[float], schedule: tuple | None, peaks: Any) -> Fields:
    fields = {} if schedule is None else schedule_fields(0, *schedule)
    if peaks is not None:
        fields["peaks"] = [float(x) for x in peaks]
    return {**fields, "lrs": [float(x) for x in lrs]}


def _applied_from(fields: Fields) -> tuple[tuple[float, ...], Any, Any]:
    """``(lrs, schedule, peaks)`` of an ``applied`` event (or a state's ``applied``): a schedule
    is checked as a schedule request, and comes with one peak lr per group."""
    lrs = lrs_field(fields, "lrs")
    if "schedule_kind" not in fields:
        if "peaks" in fields:
            raise WireError("applied: peaks without a schedule")
        return lrs, None, None
    schedule = parse_schedule(fields)
    peaks = lrs_field(fields, "peaks")
    if len(peaks) != len(lrs):
        raise WireError(f"applied: {len(peaks)} peaks for {len(lrs)} param groups")
    return lrs, schedule, peaks


def _ended_from(fields: Fields, arrays: Sequence[np.ndarray] | None) -> RunEnded:
    run_id = int_field(fields, "run_id")
    reason = str_field(fields, "stop_reason", STOP_REASONS)
    error = opt_str_field(fields, "error")
    elapsed = float_field(fields, "elapsed")
    meta = fields.get("result")
    if (meta is None) != (arrays is None):
        raise WireError("ended: a result needs its three arrays and arrays need a result")
    result = None if meta is None or arrays is None else _result_from(meta, arrays)
    return RunEnded(run_id, reason, result, error, elapsed)


def encode_event(ev: Any) -> tuple[str, Fields, list[bytes]]:
    """``(kind, fields, buffers)`` of a RunStarted, Readings, RunEnded or LrApplied."""
    if isinstance(ev, RunStarted):
        return "run", _run_fields(ev), []
    if isinstance(ev, Readings):
        return (
            "readings",
            {
                "run_id": int(ev.run_id),
                "seq": int(ev.seq),
                "start": int(ev.start),
                "count": int(ev.lrs.size),
                "elapsed": float(ev.elapsed),
            },
            [to_bytes(ev.lrs), to_bytes(ev.losses), to_bytes(ev.smoothed)],
        )
    if isinstance(ev, RunEnded):
        bufs = [] if ev.result is None else [to_bytes(getattr(ev.result, k)) for k in ARRAYS]
        return "ended", _ended_fields(ev), bufs
    if isinstance(ev, LrApplied):
        return "applied", _applied_fields(ev.lrs, ev.schedule, ev.peaks), []
    raise TypeError(f"not an event of lrwidget.engine.stream: {type(ev).__name__}")


def decode_event(kind: str, fields: Fields, buffers: Sequence[Any]) -> Any:
    """The event of a verified message (:func:`encode_event`'s inverse).

    Raises
    ------
    WireError
        A field is missing or not what the event needs; the message names it.
    """
    if kind == "run":
        need_buffers(kind, buffers, 0)
        return _run_from(fields)
    if kind == "readings":
        need_buffers(kind, buffers, 3)
        count = int_field(fields, "count", hi=MAX_READINGS)
        lrs, losses, smoothed = (array(b, k, count) for b, k in zip(buffers, ARRAYS))
        return Readings(
            int_field(fields, "run_id"),
            int_field(fields, "seq"),
            int_field(fields, "start", hi=MAX_READINGS - count),
            lrs,
            losses,
            smoothed,
            float_field(fields, "elapsed"),
        )
    if kind == "ended":
        if fields.get("result") is None:
            need_buffers(kind, buffers, 0)
            return _ended_from(fields, None)
        need_buffers(kind, buffers, 3)
        return _ended_from(fields, [array(b, k) for b, k in zip(buffers, ARRAYS)])
    if kind == "applied":
        need_buffers(kind, buffers, 0)
        return LrApplied(*_applied_from(fields))
    raise WireError(f"kind {show(kind)} is not an event (run, readings, ended, applied)")


# ---------------------------------------------------------------------------- state
def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and to_bytes(a) == to_bytes(b)


def encode_state(st: State) -> tuple[Fields, list[bytes]]:
    """``(fields, buffers)`` of a :class:`State`: the readings, and the result's arrays only
    when they differ from the readings (usually they are the same numbers)."""
    empty = np.empty(0)
    arrays = [
        empty if a is None else np.asarray(a, dtype=np.float64)
        for a in (st.lrs, st.losses, st.smoothed)
    ]
    fields: Fields = {
        "run": None if st.run is None else _run_fields(st.run),
        "count": int(arrays[0].size),
        "ended": None,
        "result_is_readings": False,
        "applied": None
        if st.applied is None
        else _applied_fields(st.applied, st.applied_schedule, st.applied_peaks),
    }
    buffers = [to_bytes(a) for a in arrays]
    if st.ended is not None:
        fields["ended"] = _ended_fields(st.ended)
        r = st.ended.result
        if r is not None:
            if all(_same(getattr(r, k), a) for k, a in zip(ARRAYS, arrays)):
                fields["result_is_readings"] = True
            else:
                buffers += [to_bytes(getattr(r, k)) for k in ARRAYS]
    return fields, buffers


def decode_state(fields: Fields, buffers: Sequence[Any]) -> State:
    """:func:`encode_state`'s inverse; WireError naming what is wrong."""
    run = None if fields.get("run") is None else _run_from(obj_field(fields, "run"))
    count = int_field(fields, "count", hi=MAX_READINGS)
    ended_f = fields.get("ended")
    has_result = ended_f is not None and obj_field(fields, "ended").get("result") is not None
    own = has_result and fields.get("result_is_readings") is not True
    need_buffers("state", buffers, 6 if own else 3)
    arrays = [array(b, k, count) for b, k in zip(buffers[:3], ARRAYS)]
    ended = None
    if ended_f is not None:
        if not has_result:
            ended = _ended_from(ended_f, None)
        else:
            ra = [array(b, k) for b, k in zip(buffers[3:], ARRAYS)] if own else arrays
            ended = _ended_from(ended_f, ra)
    if fields.get("applied") is None:
        return State(run, arrays[0], arrays[1], arrays[2], ended, None)
    applied = _applied_from(obj_field(fields, "applied"))
    return State(run, arrays[0], arrays[1], arrays[2], ended, *applied)
