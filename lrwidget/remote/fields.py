"""The parts of a remote message, checked one by one (pure): the limits a message is held to,
:class:`WireError`, and the parsers of its JSON fields and float64 buffers. Every parser raises
WireError naming the field and what it must be; :mod:`lrwidget.remote.codec` builds the events
from them, :mod:`lrwidget.remote.wire` the frames.

Example
-------
>>> lrs_field({"lrs": [0.1, 0.01]}, "lrs")
(0.1, 0.01)
>>> lrs_field({"lrs": [0.1, True]}, "lrs")
Traceback (most recent call last):
...
lrwidget.remote.fields.WireError: lrs must be a number, got True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..pure.numbers import is_int, is_real

Fields = dict[str, Any]  # a message's JSON fields

__all__ = [
    "Fields",
    "WireError",
    "MAX_BODY",
    "MAX_FRAME",
    "MAX_READINGS",
    "MAX_DEPTH",
    "MAX_BUFFERS",
    "ARRAYS",
    "is_lr",
    "show",
    "int_field",
    "float_field",
    "str_field",
    "opt_str_field",
    "obj_field",
    "lrs_field",
    "array",
    "to_bytes",
    "need_buffers",
]

#: largest JSON body accepted (bytes); readings travel in buffers, so bodies stay small
MAX_BODY = 1 << 20
#: largest frame either end takes (bytes), enforced by ZeroMQ before a frame is read
#: (``MAXMSGSIZE``): a buffer of 2**18 readings. Without the token, a peer can make the other
#: end hold no more than a few frames of this size per connection, not gigabytes.
MAX_FRAME = 8 << 18
#: most readings one run can show remotely (a state carries them in one frame per array)
MAX_READINGS = MAX_FRAME // 8
#: deepest JSON nesting accepted (a message's bodies are two levels deep)
MAX_DEPTH = 8
#: most buffers in one message (a state: readings and a differing result)
MAX_BUFFERS = 6

#: the three arrays of readings, in the order they travel
ARRAYS = ("lrs", "losses", "smoothed")


class WireError(ValueError):
    """A message that cannot be used (malformed, or signed wrongly); the text says why."""


def is_lr(v: object) -> bool:
    """Whether ``v`` can be an lr: a positive finite number (not a bool)."""
    return is_real(v) and math.isfinite(v) and float(v) > 0


def show(v: Any) -> str:
    """``repr(v)``, cut short: an error names a bad value without copying a megabyte of it."""
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def int_field(fields: Fields, name: str, lo: int = 0, hi: int = 2**63 - 1) -> int:
    """``fields[name]``: an integer in ``[lo, hi]``."""
    v = fields.get(name)
    if not is_int(v) or not lo <= int(v) <= hi:
        raise WireError(f"{name} must be an integer in [{lo}, {hi}], got {show(v)}")
    return int(v)


def float_field(fields: Fields, name: str, positive: bool = False) -> float:
    """``fields[name]``: a number a float holds (finite and > 0 when ``positive``)."""
    v = fields.get(name)
    if not is_real(v):
        raise WireError(f"{name} must be a number, got {show(v)}")
    try:
        f = float(v)
    except OverflowError:  # an int of hundreds of digits
        raise WireError(f"{name} must be a number a float can hold, got {show(v)}") from None
    if positive and not is_lr(f):
        raise WireError(f"{name} must be finite and > 0, got {show(f)}")
    return f


def str_field(fields: Fields, name: str, choices: Sequence[str] | None = None) -> str:
    """``fields[name]``: a string (one of ``choices`` if given)."""
    v = fields.get(name)
    if not isinstance(v, str) or (choices is not None and v not in choices):
        want = f"one of {tuple(choices)}" if choices is not None else "a string"
        raise WireError(f"{name} must be {want}, got {show(v)}")
    return v


def opt_str_field(fields: Fields, name: str) -> str | None:
    """``fields[name]``: None or a string."""
    return None if fields.get(name) is None else str_field(fields, name)


def obj_field(fields: Fields, name: str) -> Fields:
    """``fields[name]``: a JSON object."""
    v = fields.get(name)
    if not isinstance(v, dict):
        raise WireError(f"{name} must be an object, got {show(v)}")
    return v


def lrs_field(fields: Fields, name: str) -> tuple[float, ...]:
    """``fields[name]``: a non-empty list of positive finite lrs (WireError otherwise)."""
    v = fields.get(name)
    if not isinstance(v, list) or not v:
        raise WireError(f"{name} must be a non-empty list of numbers, got {show(v)}")
    return tuple(float_field({name: x}, name, positive=True) for x in v)


def array(buf: Any, name: str, count: int | None = None) -> np.ndarray:
    """A buffer as float64 numbers (a native, writable copy); ``count`` of them if given."""
    b = memoryview(buf)
    if b.nbytes % 8:
        raise WireError(f"{name}: {b.nbytes} bytes is not a whole number of float64")
    a = np.frombuffer(b, dtype="<f8").astype(np.float64)
    if count is not None and a.size != count:
        raise WireError(f"{name}: {a.size} numbers, count says {count}")
    return a


def to_bytes(a: np.ndarray) -> bytes:
    """``a`` as the little-endian float64 bytes a buffer carries."""
    return np.ascontiguousarray(a, dtype="<f8").tobytes()


def need_buffers(kind: str, buffers: Sequence[Any], n: int) -> None:
    """WireError unless a ``kind`` message came with ``n`` buffers."""
    if len(buffers) != n:
        raise WireError(f"{kind}: {n} buffers expected, got {len(buffers)}")
