"""lrwidget.channel.protocol (pure): hostile front-end messages become a clear BadCommand, never
a crash; an lr from a view is always one that was tested. lrwidget.pure.readings: the consumers'
buffer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrwidget.channel import protocol as P
from lrwidget.pure.readings import ReadingsBuffer


@pytest.mark.parametrize(
    "content, words",
    [
        (None, "must be a dict"),
        ([1, 2], "must be a dict"),
        ({"type": "rm -rf"}, "unknown command type"),
        ({"type": "select", "lr": 1e308 * 10}, "positive finite"),
        ({"type": "select", "lr": 10**400}, "positive finite"),
        ({"type": "apply", "lr": -1}, "positive finite"),
        ({"type": "apply", "lr": 0}, "positive finite"),
        ({"type": "apply", "lr": True}, "positive finite"),
        ({"type": "apply", "lr": "0.1"}, "positive finite"),
        ({"type": "apply", "lr": float("nan")}, "positive finite"),
        ({"type": "select", "lr": 0.1, "index": -3}, "index"),
        ({"type": "select", "lr": 0.1, "index": 1.5}, "index"),
        ({"type": "placement", "view": "v", "where": "moon"}, "where one of"),
        ({"type": "placement", "view": "x" * 65, "where": "inline"}, "1-64"),
    ],
)
def test_hostile_commands_are_refused_with_a_reason(content, words):
    with pytest.raises(P.BadCommand, match=words):
        P.parse_command(content)


def test_valid_commands_are_typed():
    assert P.parse_command({"type": "hello"}) == P.Hello()
    assert P.parse_command({"type": "stop", "extra": 1}) == P.Stop()
    assert P.parse_command({"type": "apply", "lr": None}) == P.Apply(None)
    assert P.parse_command({"type": "apply", "lr": 3}) == P.Apply(3.0)
    assert P.parse_command({"type": "select", "lr": 0.5, "index": 2}) == P.Select(0.5, 2)
    assert P.parse_command({"type": "select", "lr": None}) == P.Select(None)


def test_snap_lr_answers_only_tested_lrs():
    lrs = np.geomspace(1e-5, 1.0, 50)
    for want in (1e-5, 3.3e-4, 0.0123, 0.9, 1.0):
        lr, i = P.snap_lr(want, lrs)
        assert lr == lrs[i]
        assert i == int(np.argmin(np.abs(np.log(lrs) - math.log(want))))
    # the index a click sends is used when it matches
    assert P.snap_lr(float(lrs[7]), lrs, 7) == (float(lrs[7]), 7)
    # a wrong index is not trusted
    assert P.snap_lr(float(lrs[7]), lrs, 30) == (float(lrs[7]), 7)
    with pytest.raises(ValueError, match="outside the tested range"):
        P.snap_lr(1e6, lrs)
    with pytest.raises(ValueError, match="outside the tested range"):
        P.snap_lr(1e-9, lrs)
    with pytest.raises(ValueError, match="no readings"):
        P.snap_lr(0.1, np.array([]))
    # non-finite lrs in the readings are never chosen
    odd = np.array([1e-3, np.nan, 1e-1])
    assert P.snap_lr(1e-2, odd)[0] in (1e-3, 1e-1)


def test_readings_buffer_grows_and_is_idempotent():
    b = ReadingsBuffer(capacity=2)
    lrs = np.geomspace(1e-4, 1, 1000)
    for s in range(0, 1000, 7):
        e = min(s + 7, 1000)
        b.write(s, lrs[s:e], lrs[s:e] * 2, lrs[s:e] * 3)
    b.write(0, lrs[:500], lrs[:500] * 2, lrs[:500] * 3)  # a replay of the first half
    assert b.n == 1000
    assert np.array_equal(b.lrs, lrs) and np.array_equal(b.losses, lrs * 2)
    assert np.array_equal(b.smoothed, lrs * 3)
    b.clear()
    assert b.n == 0 and b.lrs.size == 0


def test_messages_round_trip_through_json():
    import json

    msg = P.run_message(3, 100, 1e-6, 10.0, "exp")
    assert json.loads(json.dumps(msg)) == msg
    c, bufs = P.encode_readings(3, 0, 0, [1e-6], [np.inf], [np.nan])
    assert json.loads(json.dumps(c)) == c and np.frombuffer(bufs[1], "<f8")[0] == np.inf
