"""The doctor's messages between a job and a notebook (pure): a watch's training as ``watch``
messages, the notebook's buttons as ``scale_lr`` requests (issue 18).

* ``watch`` (job -> notebook), at most one per link interval (>= 0.05 s: <= 20 a second): the
  watch's id (a new id: a new chart), the steps ``[start, start + count)`` as two float64
  buffers (each step's loss, the lr the first param group used), and up to
  :data:`MAX_EVENTS` verdict changes and actions of the same interval, as fields.
* ``scale_lr`` (notebook -> job): ``{"id", "factor", "rollback"}``; the job checks it with the
  buttons' own rule (:func:`lrwidget.channel.protocol.parse_training_command`: a factor among
  ``SCALE_FACTORS``, a bool rollback) and answers ``{"id", "accepted": true}`` or
  ``{"id", "error"}`` (the ``answer`` kind an Apply's answer has).

Everything read is bounded and checked before use: :class:`WireError` names what is wrong.

Example
-------
>>> import numpy as np
>>> from lrwidget.engine.watch_events import ActionTaken
>>> act = ActionTaken(48, 0.5, None, (0.05,), None)
>>> b = WatchBatch(1, 32, np.ones(16), np.full(16, 0.1), (act,))
>>> fields, buffers = encode_batch(b)
>>> got = decode_batch(fields, buffers)
>>> got.watch, got.start, got.losses.size, got.events[0].factor
(1, 32, 16, 0.5)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..channel import protocol as P
from ..engine.watch_events import ActionTaken, VerdictChanged
from ..pure.verdict import EVIDENCE, VERDICTS
from .fields import (
    MAX_READINGS,
    Fields,
    WireError,
    array,
    float_field,
    int_field,
    need_buffers,
    opt_str_field,
    show,
    str_field,
    to_bytes,
)

__all__ = [
    "WATCH",
    "SCALE",
    "MAX_EVENTS",
    "MAX_TEXT",
    "MAX_STEP",
    "WatchBatch",
    "encode_batch",
    "decode_batch",
    "scale_fields",
    "parse_scale",
]

#: the kinds: a watch's batch (job -> notebook), a button's request (notebook -> job)
WATCH, SCALE = "watch", "scale_lr"
#: most events in one message (more wait for the next interval)
MAX_EVENTS = 64
#: longest reason / error text kept (characters)
MAX_TEXT = 500
#: most param groups an action's lrs may name
MAX_GROUPS = 1024
#: largest step number taken (a float64 counts steps exactly up to 2**53)
MAX_STEP = 2**53
#: largest request id
MAX_ID = 2**53

Event = VerdictChanged | ActionTaken


@dataclass(frozen=True)
class WatchBatch:
    """One interval of a watch: steps ``[start, start + losses.size)`` (the loss, the first
    group's lr of each) and the events of the interval, in order."""

    watch: int
    start: int
    losses: np.ndarray
    lrs: np.ndarray
    events: tuple[Event, ...]


# ---------------------------------------------------------------------------- events
def _event_fields(ev: Event) -> Fields:
    if isinstance(ev, VerdictChanged):
        return {
            "kind": "verdict",
            "step": int(ev.step),
            "verdict": str(ev.verdict),
            "reason": str(ev.reason)[:MAX_TEXT],
            "evidence": str(ev.evidence),
            "since": None if ev.since is None else int(ev.since),
        }
    return {
        "kind": "action",
        "step": int(ev.step),
        "factor": float(ev.factor),
        "rolled_back_to": None if ev.rolled_back_to is None else int(ev.rolled_back_to),
        "lrs": [float(x) for x in ev.lrs[:MAX_GROUPS]],
        "error": None if ev.error is None else str(ev.error)[:MAX_TEXT],
    }


def _opt_step(d: Fields, name: str) -> int | None:
    return None if d.get(name) is None else int_field(d, name, hi=MAX_STEP)


def _text(d: Fields, name: str) -> str | None:
    v = opt_str_field(d, name)
    return None if v is None else v[:MAX_TEXT]


def _lrs(d: Fields) -> tuple[float, ...]:
    v = d.get("lrs")
    if not isinstance(v, list) or len(v) > MAX_GROUPS:
        raise WireError(f"lrs must be a list of at most {MAX_GROUPS} numbers, got {show(v)}")
    return tuple(float_field({"lrs": x}, "lrs") for x in v)


def _event_from(d: Any) -> Event:
    if not isinstance(d, dict):
        raise WireError(f"an event must be an object, got {show(d)}")
    kind = str_field(d, "kind", ("verdict", "action"))
    step = int_field(d, "step", hi=MAX_STEP)
    if kind == "verdict":
        return VerdictChanged(
            step,
            str_field(d, "verdict", VERDICTS),
            _text(d, "reason") or "",
            str_field(d, "evidence", EVIDENCE),
            _opt_step(d, "since"),
        )
    return ActionTaken(
        step,
        float_field(d, "factor", positive=True),
        _opt_step(d, "rolled_back_to"),
        _lrs(d),
        _text(d, "error"),
    )


# ---------------------------------------------------------------------------- batches
def encode_batch(b: WatchBatch) -> tuple[Fields, list[bytes]]:
    """``(fields, buffers)`` of a ``watch`` message."""
    fields: Fields = {
        "watch": int(b.watch),
        "start": int(b.start),
        "count": int(b.losses.size),
        "events": [_event_fields(ev) for ev in b.events[:MAX_EVENTS]],
    }
    return fields, [to_bytes(b.losses), to_bytes(b.lrs)]


def decode_batch(fields: Fields, buffers: Sequence[Any]) -> WatchBatch:
    """:func:`encode_batch`'s inverse; WireError naming what is wrong (nothing is half-read)."""
    need_buffers(WATCH, buffers, 2)
    count = int_field(fields, "count", hi=MAX_READINGS)
    losses, lrs = array(buffers[0], "losses", count), array(buffers[1], "lrs", count)
    events = fields.get("events")
    if not isinstance(events, list) or len(events) > MAX_EVENTS:
        raise WireError(f"events must be a list of at most {MAX_EVENTS}, got {show(events)}")
    return WatchBatch(
        int_field(fields, "watch", lo=1, hi=MAX_ID),
        int_field(fields, "start", hi=MAX_STEP - count),
        losses,
        lrs,
        tuple(_event_from(d) for d in events),
    )


# ---------------------------------------------------------------------------- requests
def scale_fields(request: int, factor: float, rollback: bool) -> Fields:
    """The fields of a ``scale_lr`` request."""
    return {"id": int(request), "factor": float(factor), "rollback": bool(rollback)}


def parse_scale(fields: Fields) -> P.ScaleLr:
    """The button a ``scale_lr`` request asks for, checked by the buttons' own rule.

    Raises
    ------
    WireError
        A factor not among ``protocol.SCALE_FACTORS`` or a rollback that is not a bool (the
        text names both and what came).

    Example
    -------
    >>> parse_scale({"id": 1, "factor": 1e300, "rollback": "yes"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lrwidget.remote.fields.WireError: scale_lr: factor must be one of (0.1, 0.5, 2.0) and ...
    """
    content = {
        "type": "scale_lr",
        "factor": fields.get("factor"),
        "rollback": fields.get("rollback"),
    }
    try:
        cmd = P.parse_training_command(content)
    except P.BadCommand as e:
        raise WireError(str(e)) from None
    assert isinstance(cmd, P.ScaleLr)  # the type was ours
    return cmd
