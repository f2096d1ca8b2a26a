"""lrwidget.remote.wire: framing, HMAC-SHA256 signing with the token, and the events as bytes.

Everything here is pure (no sockets): a message is a list of frames, as ZeroMQ carries it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math

import numpy as np
import pytest

from lrwidget.engine.history import RangeTestResult
from lrwidget.engine.stream import LrApplied, Readings, RunEnded, RunStarted
from lrwidget.remote import wire

KEY = "k" * 32
OTHER = "o" * 32


def bits(a):
    return np.asarray(a, dtype="<f8").tobytes()


def readings(n=7, start=3):
    lrs = np.geomspace(1e-5, 1.0, n)
    losses = np.array([2.0, np.nan, np.inf, -np.inf, -0.0, 1e-300, 5e300][:n])
    smoothed = np.array([2.0, 1.5, np.nan, 1.25, 0.0, -0.0, np.inf][:n])
    return Readings(4, 9, start, lrs, losses, smoothed, 1.25)


# ---------------------------------------------------------------------------- signing
def test_a_signed_message_verifies_and_keeps_its_content():
    frames = wire.pack(KEY, "readings", {"a": 1, "b": [1.5, "x"]}, [b"\x00\x01", b""])
    assert frames[0] == wire.TAG
    m = wire.unpack(KEY, frames)
    assert m.kind == "readings" and m.fields["a"] == 1 and m.fields["b"] == [1.5, "x"]
    assert [bytes(b) for b in m.buffers] == [b"\x00\x01", b""]


def test_the_signature_is_hmac_sha256_of_every_frame_keyed_by_the_token():
    frames = wire.pack(KEY, "hello", {"x": 1}, [b"abc"])
    h = hmac.new(KEY.encode(), digestmod=hashlib.sha256)
    for f in [frames[0], *frames[2:]]:
        h.update(len(f).to_bytes(8, "big"))
        h.update(f)
    assert frames[1] == h.hexdigest().encode()


def test_a_wrong_token_is_refused():
    frames = wire.pack(OTHER, "readings", {"a": 1})
    with pytest.raises(wire.BadSignature, match="token"):
        wire.unpack(KEY, frames)


@pytest.mark.parametrize("where", ["tag", "body", "buffer", "signature", "move", "drop", "extra"])
def test_a_tampered_message_is_refused(where):
    frames = wire.pack(KEY, "readings", {"count": 2}, [b"12345678", b"abcdefgh"])
    if where == "tag":
        frames[0] = b"lrwidget/9"
    elif where == "body":
        frames[2] = frames[2].replace(b'"count":2', b'"count":3')
    elif where == "buffer":
        frames[3] = b"12345679"
    elif where == "signature":
        frames[1] = frames[1][:-1] + (b"0" if frames[1][-1:] != b"0" else b"1")
    elif where == "move":  # bytes moved from one frame to the next: same concatenation
        frames[3], frames[4] = frames[3] + frames[4][:1], frames[4][1:]
    elif where == "drop":
        frames = frames[:-1]
    else:
        frames = [*frames, b"more"]
    with pytest.raises(wire.WireError):
        wire.unpack(KEY, frames)


def test_garbage_is_refused_with_a_reason():
    for frames in ([], [b"x"], [wire.TAG], [wire.TAG, b"", b"{}"]):
        with pytest.raises(wire.WireError):
            wire.unpack(KEY, frames)


def test_a_signed_body_that_is_not_a_message_is_refused():
    def signed(body):
        frames = [wire.TAG, b"", body]
        frames[1] = wire.sign(KEY.encode(), [frames[0], body])
        return frames

    for body in (
        b"[1, 2]",
        b"not json",
        b'{"no": "kind"}',
        b'{"kind": 3, "nbytes": []}',
        b'{"kind": "x"}',
    ):
        with pytest.raises(wire.WireError):
            wire.unpack(KEY, signed(body))


def test_refusal_is_unsigned_and_read_as_such():
    frames = wire.refusal("wrong token")
    assert frames[1] == b""
    assert wire.read_refusal(frames) == "wrong token"
    assert wire.read_refusal(wire.pack(KEY, "refused", {"reason": "x"})) is None  # signed
    assert wire.read_refusal(wire.pack(KEY, "sync")) is None
    with pytest.raises(wire.BadSignature):
        wire.unpack(KEY, frames)


@pytest.mark.parametrize(
    "token, msg",
    [
        (None, "token must be a str"),
        (123, "token must be a str"),
        ("", "at least 16"),
        ("short", "at least 16"),
        ("x" * 15, "at least 16"),
        ("é" * 20, "ASCII"),
        ("a b" * 8, "ASCII"),
    ],
)
def test_bad_tokens_are_refused_naming_the_parameter(token, msg):
    with pytest.raises((TypeError, ValueError), match=msg) as e:
        wire.check_token(token)
    assert "token" in str(e.value)


def test_make_token_is_long_and_random():
    a, b = wire.make_token(), wire.make_token()
    assert a != b and len(a) == 64 and wire.check_token(a) == a.encode()


# ---------------------------------------------------------------------------- events
def roundtrip(ev):
    kind, fields, buffers = wire.encode_event(ev)
    m = wire.unpack(KEY, wire.pack(KEY, kind, fields, buffers))
    return wire.decode_event(m.kind, m.fields, m.buffers)


def test_run_started_round_trips():
    ev = RunStarted(3, 150, 1e-7, 10.0, "linear", 1.7e9 + 0.123)
    assert roundtrip(ev) == ev


def test_readings_round_trip_bit_for_bit_with_nan_and_inf():
    ev = readings()
    back = roundtrip(ev)
    assert isinstance(back, Readings)
    assert (back.run_id, back.seq, back.start, back.elapsed) == (4, 9, 3, 1.25)
    for a, b in ((ev.lrs, back.lrs), (ev.losses, back.losses), (ev.smoothed, back.smoothed)):
        assert bits(a) == bits(b)
        assert b.dtype == np.float64 and b.flags.writeable


def test_readings_travel_as_raw_float64_not_json():
    ev = readings(n=5)
    kind, fields, buffers = wire.encode_event(ev)
    assert [len(b) for b in buffers] == [40, 40, 40]
    assert "nan" not in json.dumps(fields).lower()


def test_run_ended_round_trips_its_result():
    r = RangeTestResult(
        np.geomspace(1e-4, 1, 6),
        [2.0, 1.0, 0.5, np.nan, np.inf, 9.0],
        [2.0, 1.5, 1.0, 1.0, np.inf, np.inf],
        "diverged",
        "exp",
        1e-4,
        1.0,
        10,
        0.5,
        None,
    )
    back = roundtrip(RunEnded(2, "diverged", r, None, 0.5))
    assert isinstance(back, RunEnded)
    assert (back.run_id, back.stop_reason, back.error, back.elapsed) == (2, "diverged", None, 0.5)
    assert isinstance(back.result, RangeTestResult)
    for name in ("lrs", "losses", "smoothed"):
        assert bits(getattr(r, name)) == bits(getattr(back.result, name))
    assert back.result.to_dict() == r.to_dict()  # suggestions recomputed alike


def test_run_ended_without_result_and_with_error_round_trips():
    back = roundtrip(RunEnded(2, "error", None, "RuntimeError: boom", math.inf))
    assert back.result is None and back.error == "RuntimeError: boom"
    assert back.elapsed == math.inf


def test_lr_applied_round_trips():
    assert roundtrip(LrApplied((0.01, 0.001))) == LrApplied((0.01, 0.001))
    # a schedule's first lrs and its peaks, bit for bit (views show the scheduler's own numbers)
    started = LrApplied((0.01, 0.001), ("one_cycle", 1e-3, 0.1, 500), (0.1, 0.1 / 3))
    assert roundtrip(started) == started
    with pytest.raises(ValueError, match="peaks"):
        LrApplied((0.01,), ("one_cycle", 1e-3, 0.1, 500))


@pytest.mark.parametrize(
    "extra, msg",
    [
        ({"peaks": [0.1]}, "1 peaks for 2 param groups"),
        ({"peaks": [0.1, -1.0]}, "peaks"),
        ({"peaks": "0.1"}, "peaks"),
        ({}, "peaks"),
    ],
)
def test_an_applied_schedules_peaks_are_checked(extra, msg):
    fields = {"lrs": [0.01, 0.001], "schedule_kind": "cyclic", "lo": 1e-3, "hi": 0.1}
    with pytest.raises(wire.WireError, match=msg):
        wire.decode_event("applied", {**fields, "total_steps": 9, **extra}, [])
    with pytest.raises(wire.WireError, match="peaks without a schedule"):
        wire.decode_event("applied", {"lrs": [0.01], "peaks": [0.1]}, [])


@pytest.mark.parametrize(
    "schedule, msg",
    [
        ({"schedule_kind": "step", "lo": 1e-3, "hi": 0.1, "total_steps": 9}, "kind"),
        ({"schedule_kind": "cyclic", "lo": 0.1, "hi": 1e-3, "total_steps": 9}, "below hi"),
        ({"schedule_kind": "cyclic", "lo": 1e-3, "hi": 0.1, "total_steps": 1}, "total_steps"),
        ({"schedule_kind": "cyclic", "lo": 1e-3, "total_steps": 9}, "hi"),
    ],
)
def test_an_applied_schedule_is_checked_as_a_schedule_request(schedule, msg):
    with pytest.raises(wire.WireError, match=msg):
        wire.decode_event("applied", {"lrs": [0.01], "peaks": [0.1], **schedule}, [])


def test_an_unknown_event_is_refused():
    with pytest.raises(TypeError, match="event"):
        wire.encode_event(object())


@pytest.mark.parametrize(
    "kind, fields, nbuf, msg",
    [
        (
            "run",
            {
                "run_id": "1",
                "num_iter": 5,
                "start_lr": 1e-3,
                "end_lr": 1.0,
                "step_mode": "exp",
                "t0": 0.0,
            },
            0,
            "run_id",
        ),
        (
            "run",
            {
                "run_id": 1,
                "num_iter": True,
                "start_lr": 1e-3,
                "end_lr": 1.0,
                "step_mode": "exp",
                "t0": 0.0,
            },
            0,
            "num_iter",
        ),
        (
            "run",
            {
                "run_id": 1,
                "num_iter": 5,
                "start_lr": 1e-3,
                "end_lr": 1.0,
                "step_mode": "cubic",
                "t0": 0.0,
            },
            0,
            "step_mode",
        ),
        ("readings", {"run_id": 1, "seq": 0, "start": -1, "count": 1, "elapsed": 0.0}, 3, "start"),
        ("readings", {"run_id": 1, "seq": 0, "start": 0, "count": 2, "elapsed": 0.0}, 3, "count"),
        ("readings", {"run_id": 1, "seq": 0, "start": 0, "count": 1, "elapsed": 0.0}, 2, "buffers"),
        (
            "ended",
            {"run_id": 1, "stop_reason": "meh", "error": None, "elapsed": 0.0, "result": None},
            0,
            "stop_reason",
        ),
        ("applied", {"lrs": ["x"]}, 0, "lrs"),
        ("nonsense", {}, 0, "kind"),
    ],
)
def test_malformed_events_are_refused_naming_the_field(kind, fields, nbuf, msg):
    buffers = [np.zeros(1).tobytes()] * nbuf
    with pytest.raises(wire.WireError, match=msg):
        wire.decode_event(kind, fields, buffers)


def test_a_result_that_is_not_valid_is_refused():
    r = RangeTestResult(
        [1e-3, 1e-2], [1.0, 2.0], [1.0, 1.5], "completed", "exp", 1e-3, 1e-2, 2, 0.1
    )
    kind, fields, buffers = wire.encode_event(RunEnded(1, "completed", r, None, 0.1))
    buffers = [np.array([1e-3, -1.0]).tobytes(), *buffers[1:]]
    with pytest.raises(wire.WireError, match=r"lrs\[1\]"):
        wire.decode_event(kind, fields, buffers)


# ---------------------------------------------------------------------------- state
def test_state_round_trips_run_readings_end_and_applied():
    run = RunStarted(5, 10, 1e-4, 1.0, "exp", 123.0)
    ev = readings(n=6, start=0)
    r = RangeTestResult(ev.lrs, ev.losses, ev.smoothed, "stopped", "exp", 1e-4, 1.0, 10, 2.0)
    st = wire.State(
        run, ev.lrs, ev.losses, ev.smoothed, RunEnded(5, "stopped", r, None, 2.0), (0.01, 0.1)
    )
    fields, buffers = wire.encode_state(st)
    assert len(buffers) == 3  # the result's arrays are the readings: not sent twice
    m = wire.unpack(KEY, wire.pack(KEY, "state", fields, buffers))
    back = wire.decode_state(m.fields, m.buffers)
    assert back.run == run and back.applied == (0.01, 0.1)
    for a, b in ((ev.lrs, back.lrs), (ev.losses, back.losses), (ev.smoothed, back.smoothed)):
        assert bits(a) == bits(b)
    assert back.ended.stop_reason == "stopped"
    assert bits(back.ended.result.losses) == bits(ev.losses)


def test_state_carries_the_schedule_its_lrs_start():
    # a notebook that comes back must show the schedule the job holds, not only its lrs
    sched = ("one_cycle", 1e-3, 0.1, 500)
    st = wire.State(None, None, None, None, None, (0.01, 0.001), sched, (0.1, 0.1 / 3))
    fields, buffers = wire.encode_state(st)
    m = wire.unpack(KEY, wire.pack(KEY, "state", fields, buffers))
    back = wire.decode_state(m.fields, m.buffers)
    assert back.applied == (0.01, 0.001) and back.applied_schedule == sched
    assert back.applied_peaks == (0.1, 0.1 / 3)
    plain = wire.decode_state(*wire.encode_state(wire.State(None, None, None, None, None, (0.1,))))
    assert plain.applied_schedule is None and plain.applied_peaks is None
    bad = dict(fields, applied={**fields["applied"], "total_steps": -5})
    with pytest.raises(wire.WireError, match="total_steps"):
        wire.decode_state(bad, buffers)
    with pytest.raises(wire.WireError, match="applied"):
        wire.decode_state(dict(fields, applied=[1, 2]), buffers)


def test_state_with_a_result_that_differs_from_the_readings_carries_both():
    run = RunStarted(5, 10, 1e-4, 1.0, "exp", 123.0)
    lrs = np.geomspace(1e-4, 1e-2, 3)
    r = RangeTestResult(
        np.geomspace(1e-4, 1e-1, 4),
        [1.0, 2, 3, 4],
        [1.0, 2, 3, 4],
        "completed",
        "exp",
        1e-4,
        1.0,
        10,
        2.0,
    )
    st = wire.State(run, lrs, np.ones(3), np.ones(3), RunEnded(5, "completed", r, None, 2.0), None)
    fields, buffers = wire.encode_state(st)
    assert len(buffers) == 6
    back = wire.decode_state(fields, buffers)
    assert bits(back.lrs) == bits(lrs) and bits(back.ended.result.lrs) == bits(r.lrs)


def test_empty_state_round_trips():
    fields, buffers = wire.encode_state(wire.State(None, None, None, None, None, None))
    back = wire.decode_state(fields, buffers)
    assert back.run is None and back.ended is None and back.lrs.size == 0


# ---------------------------------------------------------------------------- hostile messages
def _signed_raw(body: bytes, buffers=()) -> list:
    frames = [wire.TAG, b"", body, *buffers]
    frames[1] = wire.sign(KEY.encode(), [wire.TAG, body, *buffers])
    return frames


BIG = "9" * 400  # an int no float holds


@pytest.mark.parametrize(
    "body, buffers",
    [
        # each of these ended a thread with OverflowError / RecursionError / MemoryError
        (f'{{"kind":"applied","nbytes":[],"lrs":[{BIG}]}}', 0),
        (
            f'{{"kind":"run","nbytes":[],"run_id":1,"num_iter":5,"start_lr":{BIG},'
            '"end_lr":1,"step_mode":"exp","t0":0}',
            0,
        ),
        (
            '{"kind":"readings","nbytes":[8,8,8],"run_id":1,"seq":0,"start":4611686018427387904,'
            '"count":1,"elapsed":0}',
            3,
        ),
        ('{"kind":"applied","nbytes":[],"lrs":' + "[" * 100_000 + "]" * 100_000 + "}", 0),
        ('{"kind":"applied","nbytes":[],"lrs":[1],"x":' + "{" * 50 + "}" * 50 + "}", 0),
    ],
)
def test_a_signed_hostile_message_is_a_wire_error_not_a_crash(body, buffers):
    with pytest.raises(wire.WireError):
        m = wire.unpack(KEY, _signed_raw(body.encode(), [np.zeros(1).tobytes()] * buffers))
        wire.decode_event(m.kind, m.fields, m.buffers)


def test_a_nested_unsigned_refusal_is_not_read():
    deep = b'{"kind":"refused","reason":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert wire.read_refusal([wire.TAG, b"", deep]) is None
    assert wire.read_refusal([wire.TAG, b"", b'{"kind":"refused","reason":' + b"[" * 500]) is None


def test_a_state_count_past_the_limit_is_refused():
    fields, buffers = wire.encode_state(wire.State(None, None, None, None, None, None))
    fields["count"] = wire.MAX_READINGS + 1
    with pytest.raises(wire.WireError, match="count"):
        wire.decode_state(fields, buffers)


def test_oversized_frames_are_refused_before_the_signature_is_checked():
    # the signatures here are wrong: a size error (not BadSignature) shows the order
    big = bytes(wire.MAX_FRAME + 8)
    with pytest.raises(wire.WireError, match="buffer of"):
        wire.unpack(KEY, [wire.TAG, b"0" * 64, b"{}", big])
    with pytest.raises(wire.WireError, match="body of"):
        wire.unpack(KEY, [wire.TAG, b"0" * 64, bytes(wire.MAX_BODY + 1)])
    assert wire.MAX_READINGS * 8 == wire.MAX_FRAME


def test_an_error_names_a_bad_value_without_copying_all_of_it():
    with pytest.raises(wire.WireError) as e:
        wire.decode_event("applied", {"lrs": ["x" * 1_000_000]}, [])
    assert len(str(e.value)) < 200


def test_numbers_follow_the_one_rule_a_bool_is_none_a_numpy_scalar_is_one():
    # lrwidget.pure.numbers: the remote checks count numpy's scalars and refuse bools
    from lrwidget.remote.fields import is_lr
    from lrwidget.remote.transport import check_seconds

    assert is_lr(np.float32(0.01)) and is_lr(1) and is_lr(0.5)
    assert not any(is_lr(v) for v in (True, 0, -1.0, math.inf, math.nan, "0.1", None))
    assert check_seconds(np.float32(2.0), "timeout") == 2.0
    with pytest.raises(TypeError, match="timeout must be a number >= 0 of seconds"):
        check_seconds(True, "timeout")
    fields = {"run_id": np.int64(3), "num_iter": 10, "start_lr": np.float32(1e-4)}
    fields.update(end_lr=1.0, step_mode="exp", t0=0.0)
    assert wire.decode_event("run", fields, []).run_id == 3
    with pytest.raises(wire.WireError, match="run_id"):
        wire.decode_event("run", dict(fields, run_id=True), [])
