"""The messages between a training job and a listening notebook (pure: no sockets, no threads).

A message is a list of frames, as ZeroMQ carries a multipart message::

    [TAG, signature, body, *buffers]

* ``TAG`` names the protocol and its version (``b"lrwidget/1"``): a peer speaking something
  else (another program on the port) is told apart before anything is parsed.
* ``signature`` is the hex HMAC-SHA256 of the other frames, keyed by the token, as the Jupyter
  messaging protocol signs its messages with the connection file's key. Unlike Jupyter, each
  frame goes into the HMAC behind its length (8 bytes, big-endian), so no byte can be moved from
  one frame to the next without breaking the signature. It is checked (in constant time) before
  the body is parsed: without the token, nothing of a message is read.
* ``body`` is a JSON object: ``{"kind": ..., "nbytes": [size of each buffer], ...fields}``.
* ``buffers`` are readings as little-endian float64: bytes, not JSON, so NaN, +-inf, -0.0 and
  every bit of every float arrive as they left (and 8 bytes a number, not about 20).

The events of a run (:mod:`lrwidget.engine.stream`) map to kinds ``run`` (RunStarted), ``readings``
(Readings, three buffers), ``ended`` (RunEnded; the result's fields through
:meth:`RangeTestResult.to_dict` and back through :meth:`RangeTestResult.from_dict`, which checks
them, its arrays as three buffers) and ``applied`` (LrApplied). ``state`` carries everything a
notebook needs to show the current run from scratch (:class:`State`): sent when it (re)connects.

A message from the job that the notebook refuses (wrong token) is answered by
:func:`refusal`: unsigned, since the notebook cannot sign with a token it does not have; it says
no more than "refused", and a forged one can do no more than make a job stop streaming.

Example
-------
>>> token = "0123456789abcdef"
>>> frames = pack(token, "applied", {"lrs": [0.01]})
>>> m = unpack(token, frames)
>>> m.kind, m.fields["lrs"]
('applied', [0.01])
>>> unpack("another-token-16", frames)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
lrwidget...BadSignature: signature does not match: the message was not signed with this token
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine.history import STOP_REASONS, RangeTestResult
from ..engine.stream import LrApplied, Readings, RunEnded, RunStarted
from ..pure.schedule import STEP_MODES

Fields = dict[str, Any]  # a message's JSON fields

__all__ = [
    "TAG",
    "MIN_TOKEN",
    "WireError",
    "BadSignature",
    "Message",
    "State",
    "lrs_field",
    "make_token",
    "check_token",
    "sign",
    "pack",
    "unpack",
    "refusal",
    "read_refusal",
    "encode_event",
    "decode_event",
    "encode_state",
    "decode_state",
]

#: the first frame of every message: protocol name and version
TAG = b"lrwidget/1"
#: shortest token accepted (characters); :func:`make_token` makes 64
MIN_TOKEN = 16
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

_ARRAYS = ("lrs", "losses", "smoothed")


class WireError(ValueError):
    """A message that cannot be used (malformed, or signed wrongly); the text says why."""


class BadSignature(WireError):
    """The signature does not match: the sender does not have this token."""


@dataclass(frozen=True)
class Message:
    """A verified message: its kind, its JSON fields and its buffers."""

    kind: str
    fields: Fields = field(repr=False)
    buffers: list[Any] = field(repr=False)


@dataclass(frozen=True)
class State:
    """What a notebook needs to show a job's current (or last) run from scratch.

    ``run`` is None before the job's first run; the arrays are every reading of it so far;
    ``ended`` is its RunEnded once it ended; ``applied`` the lrs the job's optimizer holds since
    its last ``apply`` (None if none).
    """

    run: RunStarted | None
    lrs: np.ndarray | None
    losses: np.ndarray | None
    smoothed: np.ndarray | None
    ended: RunEnded | None
    applied: tuple[float, ...] | None


# ---------------------------------------------------------------------------- tokens
def make_token() -> str:
    """A new random token: 32 bytes from :mod:`secrets` as 64 hex characters."""
    return secrets.token_hex(32)


def check_token(token: Any, name: str = "token") -> bytes:
    """The token as the HMAC key; TypeError / ValueError naming ``name`` if it cannot be one.

    A token is a shared secret: a str of at least :data:`MIN_TOKEN` printable ASCII characters
    (no spaces), so it can travel in an environment variable and on a command line.

    Example
    -------
    >>> check_token("short")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: token must have at least 16 characters (a secret shared by the notebook ...
    """
    if not isinstance(token, str):
        raise TypeError(
            f"{name} must be a str (the secret lrwidget.listen() shows as "
            f"w.token), got {type(token).__name__}"
        )
    if len(token) < MIN_TOKEN:
        raise ValueError(
            f"{name} must have at least {MIN_TOKEN} characters (a secret shared "
            "by the notebook and the job; lrwidget.listen() makes one), got "
            f"{len(token)}"
        )
    if not all(33 <= ord(c) < 127 for c in token):
        raise ValueError(
            f"{name} must be printable ASCII without spaces (it travels in "
            "environment variables), got a character outside that"
        )
    return token.encode("ascii")


def _key(token: Any) -> bytes:
    return token if isinstance(token, bytes) else check_token(token)


# ---------------------------------------------------------------------------- frames
def sign(key: bytes, frames: Sequence[Any]) -> bytes:
    """Hex HMAC-SHA256 of ``frames`` (each behind its length), keyed by ``key``."""
    h = hmac.new(key, digestmod=hashlib.sha256)
    for f in frames:
        b = memoryview(f)
        h.update(b.nbytes.to_bytes(8, "big"))
        h.update(b)
    return h.hexdigest().encode("ascii")


def pack(
    token: Any, kind: str, fields: Fields | None = None, buffers: Sequence[bytes] = ()
) -> list[Any]:
    """A signed message: ``[TAG, signature, body, *buffers]``.

    ``fields`` must be JSON-able (NaN and inf allowed: both ends are Python).
    """
    body = dict(fields or ())
    body["kind"] = kind
    body["nbytes"] = [memoryview(b).nbytes for b in buffers]
    raw = json.dumps(body, separators=(",", ":")).encode("utf-8")
    frames = [TAG, b"", raw, *buffers]
    frames[1] = sign(_key(token), [TAG, raw, *buffers])
    return frames


def unpack(token: Any, frames: Sequence[Any]) -> Message:
    """Verify and parse a message (frames as bytes, or ZeroMQ frames).

    Raises
    ------
    BadSignature
        The signature does not match (wrong token, or the message was changed).
    WireError
        Not a message of this protocol, or a body that is not one.
    """
    frames = [f.bytes if hasattr(f, "bytes") else f for f in frames]
    if len(frames) < 3:
        raise WireError(f"a message has at least 3 frames, got {len(frames)}")
    if frames[0] != TAG:
        raise WireError(
            f"not an lrwidget message (first frame {bytes(frames[0][:20])!r}, expected {TAG!r})"
        )
    _check_sizes(frames)
    if not hmac.compare_digest(bytes(frames[1]), sign(_key(token), [frames[0], *frames[2:]])):
        raise BadSignature("signature does not match: the message was not signed with this token")
    return _parse(frames[2], frames[3:])


def _check_sizes(frames: Sequence[Any]) -> None:
    """Refuse what is too big before it is signed or parsed (the cheap checks first)."""
    if len(frames) - 3 > MAX_BUFFERS:
        raise WireError(f"too many frames ({len(frames)}, at most {3 + MAX_BUFFERS})")
    if memoryview(frames[2]).nbytes > MAX_BODY:
        raise WireError(f"body of {memoryview(frames[2]).nbytes} bytes (at most {MAX_BODY})")
    for f in frames[3:]:
        if memoryview(f).nbytes > MAX_FRAME:
            raise WireError(f"a buffer of {memoryview(f).nbytes} bytes (at most {MAX_FRAME})")


def _depth(raw: bytes) -> int:
    """How deep ``raw``'s JSON nests (brackets outside strings): checked before parsing, so
    no message can make the parser recurse, nor a later repr or walk of it."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return 0  # the usual small body: no scan
    depth = deepest = 0
    in_str = escaped = False
    for c in raw:
        if in_str:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:  # quote
                in_str = False
        elif c == 0x22:
            in_str = True
        elif c in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif c in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _parse(raw: Any, buffers: list[Any]) -> Message:
    raw = bytes(raw)
    if len(raw) > MAX_BODY:
        raise WireError(f"body of {len(raw)} bytes (at most {MAX_BODY})")
    if _depth(raw) > MAX_DEPTH:
        raise WireError(f"body nests deeper than {MAX_DEPTH} levels")
    try:
        body = json.loads(raw)
    except ValueError as e:  # also an int past Python's digit limit
        raise WireError(f"body is not JSON: {e}") from None
    if not isinstance(body, dict):
        raise WireError("body must be a JSON object")
    kind = body.pop("kind", None)
    if not isinstance(kind, str) or not kind:
        raise WireError(f"body needs a 'kind' string, got {_show(kind)}")
    nbytes = body.pop("nbytes", None)
    if nbytes != [memoryview(b).nbytes for b in buffers]:
        raise WireError(f"{kind}: buffers do not match their announced sizes")
    return Message(kind, body, list(buffers))


def refusal(reason: str) -> list[bytes]:
    """The unsigned answer to a message signed with another token."""
    body = json.dumps({"kind": "refused", "reason": str(reason)[:200], "nbytes": []})
    return [TAG, b"", body.encode("utf-8")]


def read_refusal(frames: Sequence[Any]) -> str | None:
    """The reason of an unsigned refusal (:func:`refusal`), None for any other message."""
    frames = [f.bytes if hasattr(f, "bytes") else f for f in frames]
    if len(frames) != 3 or frames[0] != TAG or frames[1] != b"" or len(frames[2]) > 1024:
        return None  # a refusal is short: anything longer is not read
    try:
        m = _parse(frames[2], [])
    except WireError:
        return None
    if m.kind != "refused":
        return None
    return str(m.fields.get("reason", ""))[:200]


# ---------------------------------------------------------------------------- fields
def _show(v: Any) -> str:
    """``repr(v)``, cut short: an error names a bad value without copying a megabyte of it."""
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _int(fields: Fields, name: str, lo: int = 0, hi: int = 2**63 - 1) -> int:
    v = fields.get(name)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise WireError(f"{name} must be an integer in [{lo}, {hi}], got {_show(v)}")
    return v


def _float(fields: Fields, name: str, positive: bool = False) -> float:
    v = fields.get(name)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise WireError(f"{name} must be a number, got {_show(v)}")
    try:
        v = float(v)
    except OverflowError:  # an int of hundreds of digits
        raise WireError(f"{name} must be a number a float can hold, got {_show(v)}") from None
    if positive and not (math.isfinite(v) and v > 0):
        raise WireError(f"{name} must be finite and > 0, got {_show(v)}")
    return v


def _str(fields: Fields, name: str, choices: Sequence[str] | None = None) -> str:
    v = fields.get(name)
    if not isinstance(v, str) or (choices is not None and v not in choices):
        want = f"one of {tuple(choices)}" if choices is not None else "a string"
        raise WireError(f"{name} must be {want}, got {_show(v)}")
    return v


def _opt_str(fields: Fields, name: str) -> str | None:
    return None if fields.get(name) is None else _str(fields, name)


def lrs_field(fields: Fields, name: str) -> tuple[float, ...]:
    """``fields[name]``: a non-empty list of positive finite lrs (WireError otherwise)."""
    v = fields.get(name)
    if not isinstance(v, list) or not v:
        raise WireError(f"{name} must be a non-empty list of numbers, got {_show(v)}")
    return tuple(_float({name: x}, name, positive=True) for x in v)


def _array(buf: Any, name: str, count: int | None = None) -> np.ndarray:
    b = memoryview(buf)
    if b.nbytes % 8:
        raise WireError(f"{name}: {b.nbytes} bytes is not a whole number of float64")
    a = np.frombuffer(b, dtype="<f8").astype(np.float64)  # a native, writable copy
    if count is not None and a.size != count:
        raise WireError(f"{name}: {a.size} numbers, count says {count}")
    return a


def _bytes(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a, dtype="<f8").tobytes()


def _need_buffers(kind: str, buffers: Sequence[Any], n: int) -> None:
    if len(buffers) != n:
        raise WireError(f"{kind}: {n} buffers expected, got {len(buffers)}")


# ---------------------------------------------------------------------------- events
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
        _int(fields, "run_id"),
        _int(fields, "num_iter"),
        _float(fields, "start_lr", positive=True),
        _float(fields, "end_lr", positive=True),
        _str(fields, "step_mode", tuple(STEP_MODES)),
        _float(fields, "t0"),
    )


def _result_meta(result: Any) -> Fields:
    d: Fields = {}
    d.update(result.to_dict())
    for k in (*_ARRAYS, "suggestions"):  # arrays go as buffers; suggestions are recomputed
        d.pop(k, None)
    return d


def _result_from(meta: Any, arrays: Sequence[np.ndarray]) -> RangeTestResult:
    if not isinstance(meta, dict):
        raise WireError(f"result must be an object, got {type(meta).__name__}")
    d = dict(meta)
    for k, a in zip(_ARRAYS, arrays):
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


def _ended_from(fields: Fields, arrays: Sequence[np.ndarray] | None) -> RunEnded:
    run_id = _int(fields, "run_id")
    reason = _str(fields, "stop_reason", STOP_REASONS)
    error = _opt_str(fields, "error")
    elapsed = _float(fields, "elapsed")
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
            [_bytes(ev.lrs), _bytes(ev.losses), _bytes(ev.smoothed)],
        )
    if isinstance(ev, RunEnded):
        bufs = [] if ev.result is None else [_bytes(getattr(ev.result, k)) for k in _ARRAYS]
        return "ended", _ended_fields(ev), bufs
    if isinstance(ev, LrApplied):
        return "applied", {"lrs": [float(x) for x in ev.lrs]}, []
    raise TypeError(f"not an event of lrwidget.engine.stream: {type(ev).__name__}")


def decode_event(kind: str, fields: Fields, buffers: Sequence[Any]) -> Any:
    """The event of a verified message (:func:`encode_event`'s inverse).

    Raises
    ------
    WireError
        A field is missing or not what the event needs; the message names it.
    """
    if kind == "run":
        _need_buffers(kind, buffers, 0)
        return _run_from(fields)
    if kind == "readings":
        _need_buffers(kind, buffers, 3)
        count = _int(fields, "count", hi=MAX_READINGS)
        lrs, losses, smoothed = (_array(b, k, count) for b, k in zip(buffers, _ARRAYS))
        return Readings(
            _int(fields, "run_id"),
            _int(fields, "seq"),
            _int(fields, "start", hi=MAX_READINGS - count),
            lrs,
            losses,
            smoothed,
            _float(fields, "elapsed"),
        )
    if kind == "ended":
        if fields.get("result") is None:
            _need_buffers(kind, buffers, 0)
            return _ended_from(fields, None)
        _need_buffers(kind, buffers, 3)
        return _ended_from(fields, [_array(b, k) for b, k in zip(buffers, _ARRAYS)])
    if kind == "applied":
        _need_buffers(kind, buffers, 0)
        return LrApplied(lrs_field(fields, "lrs"))
    raise WireError(f"kind {_show(kind)} is not an event (run, readings, ended, applied)")


# ---------------------------------------------------------------------------- state
def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and _bytes(a) == _bytes(b)


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
        "applied": None if st.applied is None else [float(x) for x in st.applied],
    }
    buffers = [_bytes(a) for a in arrays]
    if st.ended is not None:
        fields["ended"] = _ended_fields(st.ended)
        r = st.ended.result
        if r is not None:
            if all(_same(getattr(r, k), a) for k, a in zip(_ARRAYS, arrays)):
                fields["result_is_readings"] = True
            else:
                buffers += [_bytes(getattr(r, k)) for k in _ARRAYS]
    return fields, buffers


def decode_state(fields: Fields, buffers: Sequence[Any]) -> State:
    """:func:`encode_state`'s inverse; WireError naming what is wrong."""
    run = None if fields.get("run") is None else _run_from(_obj(fields, "run"))
    count = _int(fields, "count", hi=MAX_READINGS)
    ended_f = fields.get("ended")
    has_result = ended_f is not None and _obj(fields, "ended").get("result") is not None
    own = has_result and fields.get("result_is_readings") is not True
    _need_buffers("state", buffers, 6 if own else 3)
    arrays = [_array(b, k, count) for b, k in zip(buffers[:3], _ARRAYS)]
    ended = None
    if ended_f is not None:
        if not has_result:
            ended = _ended_from(ended_f, None)
        else:
            ra = [_array(b, k) for b, k in zip(buffers[3:], _ARRAYS)] if own else arrays
            ended = _ended_from(ended_f, ra)
    applied = None if fields.get("applied") is None else lrs_field(fields, "applied")
    return State(run, arrays[0], arrays[1], arrays[2], ended, applied)


def _obj(fields: Fields, name: str) -> Fields:
    v = fields.get(name)
    if not isinstance(v, dict):
        raise WireError(f"{name} must be an object, got {_show(v)}")
    return v
