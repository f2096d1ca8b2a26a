"""RunState: the one replicated copy of a run (pure; no threads)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lrwidget import LRFinder
from lrwidget.channel.run_state import RunState
from lrwidget.engine.stream import LrApplied, Readings, RunEnded, RunStarted
from lrwidget.pure.smooth import centered


def _readings(run_id: int, start: int, n: int) -> Readings:
    lrs = np.arange(start, start + n, dtype=float) + 1.0
    return Readings(run_id, 0, start, lrs, lrs * 2, lrs * 3, 0.5)


def _replayed(events: list) -> RunState:
    copy = RunState()
    for ev in events:
        assert copy.update(ev)
    return copy


def test_since_zero_replays_everything():
    s = RunState()
    s.update(RunStarted(3, 10, 1e-5, 1.0, "exp", 0.0))
    s.update(_readings(3, 0, 4))
    s.update(_readings(3, 4, 2))
    s.update(RunEnded(3, "completed", None, None, 1.0))
    s.update(LrApplied((0.1, 0.2)))
    kinds = [type(e).__name__ for e in s.since(0)]
    assert kinds == ["RunStarted", "Readings", "RunEnded", "LrApplied"]
    copy = _replayed(s.since(0))
    assert copy.readings.lrs.tolist() == s.readings.lrs.tolist() == [1, 2, 3, 4, 5, 6]
    assert copy.readings.smoothed.tolist() == s.readings.smoothed.tolist()
    assert copy.ended == s.ended and copy.applied == (0.1, 0.2)
    assert s.since(s.version) == []
    started = LrApplied((0.01, 0.02), ("cyclic", 1e-3, 0.1, 40), (0.1, 0.2))  # its first lrs
    s.update(started)
    assert s.since(0)[-1] == started, "a replay says a schedule is attached, not one lr"


def test_since_gives_only_what_is_new():
    s = RunState()
    s.update(RunStarted(1, 10, 1e-5, 1.0, "exp", 0.0))
    s.update(_readings(1, 0, 3))
    v = s.version
    s.update(_readings(1, 3, 2))
    (new,) = s.since(v)
    assert isinstance(new, Readings) and new.start == 3 and new.lrs.tolist() == [4.0, 5.0]
    new.lrs[0] = -1  # a copy: the state's readings are not changed by a consumer
    assert s.readings.lrs[3] == 4.0


def test_a_new_run_replaces_the_old_and_stale_events_are_refused():
    s = RunState()
    s.update(RunStarted(1, 10, 1e-5, 1.0, "exp", 0.0))
    s.update(_readings(1, 0, 5))
    s.update(RunEnded(1, "completed", None, None, 1.0))
    v = s.version
    s.update(RunStarted(2, 10, 1e-5, 1.0, "exp", 0.0))
    assert s.readings.n == 0 and s.ended is None
    assert not s.update(_readings(1, 5, 1))  # the old run's late batch
    assert not s.update(RunEnded(1, "completed", None, None, 1.0))
    assert s.readings.n == 0 and s.ended is None
    assert [type(e).__name__ for e in s.since(v)] == ["RunStarted"]
    assert s.n_at(v) == 0


def test_readings_of_a_run_never_started_are_refused():
    s = RunState()
    assert not s.update(_readings(0, 0, 2))
    assert s.version == 0 and s.since(0) == []


def test_seed_from_a_finished_result():
    torch.manual_seed(0)
    m = nn.Linear(2, 1)
    finder = LRFinder(m, torch.optim.SGD(m.parameters(), lr=1e-3), nn.MSELoss())
    x, y = torch.randn(64, 2), torch.randn(64, 1)
    r = finder.range_test([(x, y)] * 4, num_iter=12)
    s = RunState()
    s.seed(r)
    assert s.readings.lrs.tolist() == list(r.lrs)
    assert s.ended is not None and s.ended.result is r
    assert [type(e).__name__ for e in s.since(0)] == ["RunStarted", "Readings", "RunEnded"]


def test_a_finished_run_has_its_line_without_lag_and_a_new_run_has_none():
    # issue 21: the line the views draw once a run is over is a pure function of its readings
    lrs = np.logspace(-6, 0, 60)
    losses = 1 + (np.log10(lrs) + 2) ** 2 + 0.05 * np.random.default_rng(0).standard_normal(60)
    s = RunState()
    s.update(RunStarted(4, 60, 1e-6, 1.0, "exp", 0.0))
    s.update(Readings(4, 0, 0, lrs[:40], losses[:40], losses[:40] * 0 + 1, 0.1))
    assert s.line() is None, "while the run goes on the views draw the live EMA"
    s.update(Readings(4, 1, 40, lrs[40:], losses[40:], losses[40:] * 0 + 1, 0.1))
    s.update(RunEnded(4, "completed", None, None, 1.0))
    line = s.line()
    assert line is not None and line.shape == (60,)
    np.testing.assert_array_equal(line, centered(lrs, losses))
    assert s.line() is line, "computed once"
    s.update(LrApplied((0.1,)))
    assert s.line() is line, "an apply changes no reading"
    s.update(RunStarted(5, 10, 1e-5, 1.0, "exp", 0.0))
    assert s.line() is None
    s.update(RunEnded(5, "error", None, "boom", 0.1))
    assert s.line() is None, "a run that ended without readings has no line"
