"""The widget protocol as data: messages to the front end, and commands from it (pure).

Python -> views: :func:`run_message`, :func:`encode_readings`, :func:`heartbeat_message`,
:func:`encode_line` (a finished run's line, drawn without lag), and the finished run in the
saved widget state (:func:`encode_saved_readings`).
Views -> Python: :func:`parse_command` turns whatever a view sent (untrusted JSON) into one of
the typed commands below, or raises :class:`BadCommand` with the reason. An lr that comes from
a view is then checked against the readings with :func:`snap_lr`, which only ever returns an lr
that was tested. See DESIGN.md, "Widget protocol".

Example
-------
>>> parse_command({"type": "select", "lr": 0.01, "index": 3})
Select(lr=0.01, index=3)
>>> parse_command({"type": "apply", "lr": 1e400})
Traceback (most recent call last):
...
lrwidget.channel.protocol.BadCommand: apply: lr must be a positive finite number or null, got inf
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike

from ..pure.numbers import is_int, is_real
from ..pure.ranges import nearest_reading, snap_lr  # the rules of a click, kept here too
from ..pure.rules import RULES_PATH

__all__ = [
    "PLACES",
    "VIEW_ID_MAX",
    "BadCommand",
    "Hello",
    "Select",
    "Apply",
    "Stop",
    "Placement",
    "Command",
    "parse_command",
    "snap_lr",
    "nearest_reading",
    "run_message",
    "encode_readings",
    "encode_line",
    "heartbeat_message",
    "encode_saved_readings",
    "decode_saved_readings",
    "SCALE_FACTORS",
    "ScaleLr",
    "TrainingZoom",
    "parse_training_command",
    "lr_field",
]

#: where a view can report being (the ``placement`` command)
PLACES = ("sidebar", "hidden", "inline", "gone")
#: longest view id a view may send
VIEW_ID_MAX = 64


class BadCommand(ValueError):
    """A message from a view that is not a valid command; the text says why."""


@dataclass(frozen=True)
class Hello:
    """A view was rendered (or saw a gap): it wants the whole history."""

    view: str | None = None


@dataclass(frozen=True)
class Select:
    """The user picked an lr (``None`` clears the selection)."""

    lr: float | None
    index: int | None = None


@dataclass(frozen=True)
class Apply:
    """Write an lr into the optimizer (``None``: the selected one)."""

    lr: float | None


@dataclass(frozen=True)
class Stop:
    """End the running test at the next step."""


@dataclass(frozen=True)
class Placement:
    """Where one view is now (one of :data:`PLACES`)."""

    view: str
    where: str


Command = Union[Hello, Select, Apply, Stop, Placement]


def lr_field(kind: str, content: dict[str, Any], field: str = "lr") -> float | None:
    """``content[field]``: None, or a positive finite float (else :class:`BadCommand` naming it)."""
    v = content.get(field)
    if v is None:
        return None
    ok = is_real(v)
    f = math.nan
    if ok:
        try:
            f = float(v)
        except OverflowError:  # an int like 10**400 arrives from JSON as a Python int
            f = math.inf
    if not (ok and math.isfinite(f) and f > 0):
        shown = f if ok else repr(v)[:60]
        raise BadCommand(f"{kind}: {field} must be a positive finite number or null, got {shown}")
    return f


def _index_field(content: dict[str, Any]) -> int | None:
    i = content.get("index")
    if i is None:
        return None
    if not is_int(i) or int(i) < 0:
        raise BadCommand(f"select: index must be an int >= 0 or null, got {i!r}")
    return int(i)


def parse_command(content: Any) -> Command:
    """The typed command for a message a view sent with ``model.send``.

    Parameters
    ----------
    content : object
        The message as it arrived (anything: it comes from outside the kernel).

    Returns
    -------
    Hello, Select, Apply, Stop or Placement

    Raises
    ------
    BadCommand
        Not a dict, an unknown ``type``, or a field out of range; the message names the field
        and the accepted values.

    Example
    -------
    >>> parse_command({"type": "placement", "view": "v1", "where": "sidebar"})
    Placement(view='v1', where='sidebar')
    >>> parse_command({"type": "select", "lr": "x"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lrwidget...BadCommand: select: lr must be a positive finite number or null, got 'x'
    """
    if not isinstance(content, dict):
        raise BadCommand(f"a command must be a dict, got {type(content).__name__}")
    kind = content.get("type")
    if kind == "hello":
        view = content.get("view")
        return Hello(view if isinstance(view, str) and 0 < len(view) <= VIEW_ID_MAX else None)
    if kind == "select":
        return Select(lr_field("select", content), _index_field(content))
    if kind == "apply":
        return Apply(lr_field("apply", content))
    if kind == "stop":
        return Stop()
    if kind == "placement":
        view, where = content.get("view"), content.get("where")
        if not isinstance(view, str) or not 0 < len(view) <= VIEW_ID_MAX or where not in PLACES:
            raise BadCommand(
                f"placement: view must be a str of 1-{VIEW_ID_MAX} characters and "
                f"where one of {PLACES}, got view={view!r}, where={where!r}"
            )
        return Placement(view, where)
    raise BadCommand(f"unknown command type {kind!r}; known: hello, select, apply, stop, placement")


def run_message(
    run_id: int, num_iter: int, start_lr: float, end_lr: float, step_mode: str
) -> dict[str, Any]:
    """The ``run`` message: a new run began, views clear their readings.

    Example
    -------
    >>> run_message(2, 100, 1e-5, 1.0, "exp")["type"]
    'run'
    """
    return {
        "type": "run",
        "run_id": int(run_id),
        "num_iter": int(num_iter),
        "start_lr": float(start_lr),
        "end_lr": float(end_lr),
        "step_mode": str(step_mode),
    }


def heartbeat_message(t: float) -> dict[str, Any]:
    """The ``heartbeat`` message (about once a second while a run goes on)."""
    return {"type": "heartbeat", "t": float(t)}


def encode_readings(
    run_id: int,
    seq: int,
    start: int,
    lrs: ArrayLike,
    losses: ArrayLike,
    smoothed: ArrayLike,
    replay: bool = False,
) -> tuple[dict[str, Any], list[bytes]]:
    """The ``readings`` message of the widget protocol: ``(content, buffers)``.

    Three buffers of ``count`` little-endian float64 each (lr, raw loss, smoothed loss); NaN
    and inf pass through as IEEE values.

    Example
    -------
    >>> c, b = encode_readings(1, 0, 0, [1e-3], [2.0], [2.0])
    >>> c["count"], [len(x) for x in b]
    (1, [8, 8, 8])
    """
    arrs = [np.ascontiguousarray(a, dtype="<f8") for a in (lrs, losses, smoothed)]
    n = int(arrs[0].size)
    if any(a.size != n for a in arrs):
        raise ValueError("lrs, losses and smoothed must have one length")
    content = {
        "type": "readings",
        "run_id": int(run_id),
        "seq": int(seq),
        "start": int(start),
        "count": n,
        "replay": bool(replay),
    }
    return content, [a.tobytes() for a in arrs]


def encode_line(run_id: int, line: ArrayLike) -> tuple[dict[str, Any], list[bytes]]:
    """The ``line`` message: the finished run's line, ``(content, buffers)``.

    One buffer of ``count`` little-endian float64, one value per reading (NaN: not drawn). It
    replaces the smoothed loss the readings carried (the live, lagging EMA) in the views' drawing
    of run ``run_id``; sent once when the run ends and after the readings of a replay.

    Example
    -------
    >>> c, b = encode_line(2, [1.5, 1.25, float("nan")])
    >>> c, [len(x) for x in b]
    ({'type': 'line', 'run_id': 2, 'count': 3}, [24])
    """
    a = np.ascontiguousarray(line, dtype="<f8")
    if a.ndim != 1:
        raise ValueError(f"line must be one-dimensional, got shape {a.shape}")
    return {"type": "line", "run_id": int(run_id), "count": int(a.size)}, [a.tobytes()]


#: first 4 bytes of the ``saved_readings`` trait (the layout's name and version)
SAVED_MAGIC = b"LRW1"
_SAVED_HEADER = struct.Struct("<4sIII")  # magic, run id, n, flags (0)


def encode_saved_readings(
    run_id: int, lrs: ArrayLike, losses: ArrayLike, smoothed: ArrayLike
) -> bytes:
    """A finished run's readings as the ``saved_readings`` trait: what a saved notebook keeps.

    16 bytes of header (``b"LRW1"``, uint32 run id, uint32 n, uint32 flags = 0), then n
    little-endian float64 lrs, n float32 raw losses, n float32 smoothed losses: 16 bytes per
    reading, about 21 once a notebook stores it in base64. The losses are only drawn from it
    (float32 keeps 7 digits; a loss beyond 3.4e38 becomes inf, as diverged); the lrs are kept
    exactly, so the view shows the lrs the test tried.

    Example
    -------
    >>> blob = encode_saved_readings(3, [1e-3, 1e-2], [2.0, 1.5], [2.0, 1.8])
    >>> len(blob), blob[:4]
    (48, b'LRW1')
    >>> run_id, lrs, losses, smoothed = decode_saved_readings(blob)
    >>> run_id, lrs.tolist(), losses.tolist()
    (3, [0.001, 0.01], [2.0, 1.5])
    """
    lr = np.ascontiguousarray(lrs, dtype="<f8")
    n = int(lr.size)
    rest = [np.ascontiguousarray(a, dtype=np.float64) for a in (losses, smoothed)]
    if any(a.size != n for a in rest):
        raise ValueError("lrs, losses and smoothed must have one length")
    with np.errstate(over="ignore"):  # a loss beyond float32 is inf, as the run saw it diverge
        loss32, smoothed32 = (a.astype("<f4") for a in rest)
    return b"".join(
        [
            # the run id only tells runs apart in a view: modulo 2**32 is enough
            _SAVED_HEADER.pack(SAVED_MAGIC, int(run_id) & 0xFFFFFFFF, n, 0),
            lr.tobytes(),
            loss32.tobytes(),
            smoothed32.tobytes(),
        ]
    )


def decode_saved_readings(
    blob: bytes,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """``(run_id, lrs, losses, smoothed)`` (float64 arrays) from :func:`encode_saved_readings`.

    Raises
    ------
    ValueError
        ``blob`` is not in that layout (another magic or version, or a wrong length).
    """
    if len(blob) < _SAVED_HEADER.size:
        raise ValueError(f"saved readings: {len(blob)} bytes is shorter than the header")
    magic, run_id, n, flags = _SAVED_HEADER.unpack_from(blob, 0)
    if magic != SAVED_MAGIC or flags != 0:
        raise ValueError(f"saved readings: unknown layout {magic!r} (flags {flags})")
    if len(blob) != _SAVED_HEADER.size + 16 * n:
        raise ValueError(f"saved readings: {len(blob)} bytes for n={n} readings")
    h = _SAVED_HEADER.size
    lrs = np.frombuffer(blob, "<f8", n, h).astype(np.float64)
    losses = np.frombuffer(blob, "<f4", n, h + 8 * n).astype(np.float64)
    smoothed = np.frombuffer(blob, "<f4", n, h + 12 * n).astype(np.float64)
    return int(run_id), lrs, losses, smoothed


# ---------------------------------------------------------------- the doctor's commands (issue 18)
#: the training view's rules (rules.json "doctor"): the buttons' factors, the column limits
DOCTOR: dict[str, Any] = json.loads(RULES_PATH.read_text(encoding="utf-8"))["doctor"]
#: the only factors a view may ask ``scale_lr`` for: the buttons'
SCALE_FACTORS: tuple[float, ...] = tuple(sorted({float(a["factor"]) for a in DOCTOR["actions"]}))
#: most columns a view may ask for (a zoomed range), and the id range of its requests
MAX_COLUMNS: int = int(DOCTOR["maxColumns"])
_MAX_REQ = 2**31


@dataclass(frozen=True)
class ScaleLr:
    """A button: ``watch.scale_lr(factor, rollback=rollback)`` (factor one of the buttons')."""

    factor: float
    rollback: bool


@dataclass(frozen=True)
class TrainingZoom:
    """A view asks for ``cols`` columns of steps ``[lo, hi)``; ``req`` comes back with them."""

    lo: int
    hi: int
    cols: int
    req: int


def _scale_lr(content: dict[str, Any]) -> ScaleLr:
    f, rollback = content.get("factor"), content.get("rollback", False)
    # compared as numbers, never converted first: an int like 10**400 does not fit a float
    if not is_real(f) or f not in SCALE_FACTORS or not isinstance(rollback, bool):
        raise BadCommand(
            f"scale_lr: factor must be one of {SCALE_FACTORS} and rollback a bool, "
            f"got factor={f!r}, rollback={rollback!r}"
        )
    return ScaleLr(float(f), rollback)


def _training_zoom(content: dict[str, Any]) -> TrainingZoom:
    raw = [content.get(k) for k in ("lo", "hi", "cols", "req")]
    ints = [int(v) for v in raw if is_int(v)]
    if len(ints) == 4:
        lo, hi, cols, req = ints
        if 0 <= lo < hi and 1 <= cols <= MAX_COLUMNS and 0 < req < _MAX_REQ:
            return TrainingZoom(lo, hi, cols, req)
    raise BadCommand(
        f"training_zoom: lo, hi, cols and req must be ints with 0 <= lo < hi, "
        f"1 <= cols <= {MAX_COLUMNS}, 0 < req < 2**31, got lo={raw[0]!r}, hi={raw[1]!r}, "
        f"cols={raw[2]!r}, req={raw[3]!r}"
    )


def parse_training_command(content: Any) -> ScaleLr | TrainingZoom | None:
    """The doctor's command in a message a view sent, or None when it is not one of them.

    Parameters
    ----------
    content : object
        The message as it arrived (untrusted).

    Returns
    -------
    ScaleLr, TrainingZoom or None
        None: not a ``scale_lr`` / ``training_zoom`` message (:func:`parse_command` judges it).

    Raises
    ------
    BadCommand
        A ``scale_lr`` with a factor not among :data:`SCALE_FACTORS` or a rollback that is not a
        bool; a ``training_zoom`` out of range.

    Example
    -------
    >>> parse_training_command({"type": "scale_lr", "factor": 0.1, "rollback": True})
    ScaleLr(factor=0.1, rollback=True)
    >>> parse_training_command({"type": "scale_lr", "factor": 1e9})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lrwidget...BadCommand: scale_lr: factor must be one of (0.1, 0.5, 2.0) and rollback a bool, ...
    >>> parse_training_command({"type": "hello"}) is None
    True
    """
    kind = content.get("type") if isinstance(content, dict) else None
    if kind == "scale_lr":
        return _scale_lr(content)
    if kind == "training_zoom":
        return _training_zoom(content)
    return None
