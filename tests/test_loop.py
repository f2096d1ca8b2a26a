"""The hot loop on its own (lrwidget.engine.loop): the CPU loop and the staged (accelerator) loop
agree, reading for reading, on where a test ends and what it keeps."""

import math

import numpy as np
import pytest
import torch

from lrwidget.engine.history import History
from lrwidget.engine.loop import Recorder, StopRule, loop_cpu, loop_staged, lr_writer
from lrwidget.pure.schedule import Sweep


def _losses_step(losses):
    it = iter(losses)
    return lambda: torch.tensor(next(it))


def _run(loop, losses, num_iter, groups=1, rule=None, **kw):
    params = [torch.nn.Parameter(torch.ones(1)) for _ in range(groups)]
    opt = torch.optim.SGD([{"params": [p]} for p in params], lr=1e-3)
    seen = []
    step = _losses_step(losses)

    def recording_step():
        seen.append([g["lr"] for g in opt.param_groups])
        return step()

    sweep = Sweep([1e-3 * 10**-k for k in range(groups)], 1.0, num_iter)
    readings = History(num_iter)
    rule = rule or StopRule(num_iter, 5.0)
    reason = loop(sweep, readings, rule, opt, recording_step, **kw)
    return reason, readings, np.array(seen), sweep


@pytest.mark.parametrize("fetch_every", [1, 3, 4, 16])
def test_staged_loop_matches_the_cpu_loop_through_a_divergence(fetch_every):
    # diverges at the 7th reading, inside a fetched chunk for most fetch_every
    losses = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 50.0, 60.0, 70.0, 80.0]
    a = _run(loop_cpu, losses, 10)
    b = _run(loop_staged, losses, 10, fetch_every=fetch_every, device="cpu")
    assert a[0] == b[0] == "diverged"
    assert a[1].n == b[1].n == 7  # readings after the one that ended the test are dropped
    for x, y in zip(a[1].view(), b[1].view()):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize(
    "loop, kw", [(loop_cpu, {}), (loop_staged, {"fetch_every": 4, "device": "cpu"})]
)
def test_every_group_gets_its_lr_of_the_sweep(loop, kw):
    reason, readings, seen, sweep = _run(loop, [1.0] * 6, 6, groups=2, **kw)
    assert reason == "completed" and readings.n == 6
    np.testing.assert_allclose(seen, sweep.rows(0, 6), rtol=0, atol=0)
    np.testing.assert_array_equal(readings.lrs[:6], sweep.rows(0, 6)[:, 0])


@pytest.mark.parametrize(
    "loop, kw", [(loop_cpu, {}), (loop_staged, {"fetch_every": 16, "device": "cpu"})]
)
def test_a_stop_request_ends_at_the_next_step(loop, kw):
    rule = StopRule(20, 5.0)
    count = [0]

    def step():
        count[0] += 1
        if count[0] == 3:
            rule.requested = True  # as finder.stop() does, from another thread
        return torch.tensor(1.0)

    opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=1e-3)
    readings = History(20)
    assert loop(Sweep([1e-3], 1.0, 20), readings, rule, opt, step, **kw) == "stopped"
    assert count[0] == 3


def test_tensor_lrs_are_written_in_place():
    p = torch.nn.Parameter(torch.ones(1))
    lr = torch.tensor(1e-3)
    opt = torch.optim.Adam([p], lr=lr)
    group0, write = lr_writer(opt)
    assert group0 is None  # a tensor lr is never replaced by a float
    write([0.25])
    assert opt.param_groups[0]["lr"] is lr and float(lr) == 0.25


def test_a_number_after_staged_tensors_keeps_the_order():
    rec = Recorder(History(4), StopRule(4, 5.0), fetch_every=4, device="cpu")
    assert rec.add(0, 0.1, torch.tensor(1.0)) is None
    assert rec.add(1, 0.2, torch.tensor(2.0)) is None
    assert rec.add(2, 0.3, 3.0) is None  # the staged ones are fetched first
    assert rec.add(3, 0.4, torch.tensor(4.0)) == "completed"
    np.testing.assert_array_equal(rec.readings.losses, [1.0, 2.0, 3.0, 4.0])
    assert not math.isnan(rec.readings.smoothed[3])
