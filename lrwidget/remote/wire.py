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

The events of a run and a job's state as fields and buffers are :mod:`lrwidget.remote.codec`'s,
the field parsers and the limits :mod:`lrwidget.remote.fields`'; their public names are
re-exported here, the protocol's one face.

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
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .codec import State, decode_event, decode_state, encode_event, encode_state
from .fields import (
    MAX_BODY,
    MAX_BUFFERS,
    MAX_DEPTH,
    MAX_FRAME,
    MAX_READINGS,
    Fields,
    WireError,
    lrs_field,
    show,
)

__all__ = [
    "TAG",
    "MIN_TOKEN",
    "MAX_BODY",
    "MAX_FRAME",
    "MAX_READINGS",
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


class BadSignature(WireError):
    """The signature does not match: the sender does not have this token."""


@dataclass(frozen=True)
class Message:
    """A verified message: its kind, its JSON fields and its buffers."""

    kind: str
    fields: Fields = field(repr=False)
    buffers: list[Any] = field(repr=False)


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
        raise WireError(f"body needs a 'kind' string, got {show(kind)}")
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
