"""scale_lr(..., rollback=True): the ring of snapshots and the way back, bit for bit.

Real training (digits, an MLP with BatchNorm and dropout, Adam, a LambdaLR): a rollback then
retraining gives the weights, optimizer state, schedule and RNG of a run that never went past
the snapshot; the ring holds no more than ``ring_bytes``; the rollback goes to the last
snapshot before the trouble began; with nothing to go back to it is refused, nothing changed.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from lrwidget import LRFinder
from lrwidget.engine.watch_ring import state_bytes
from tests.digits import digits_tensors

S, K = 32, 24  # the snapshot's step; steps trained after the rollback


def batches(n):
    X, y = digits_tensors()
    g = torch.Generator().manual_seed(1)
    out = []
    while len(out) < n:
        perm = torch.randperm(len(X), generator=g)
        out += [(X[perm[i : i + 64]], y[perm[i : i + 64]]) for i in range(0, len(X) - 63, 64)]
    return out[:n]


def setup(make_mlp):
    model = make_mlp(seed=0)  # Linear, BatchNorm1d, ReLU, Dropout(0.2), Linear
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.995**s)
    torch.manual_seed(123)  # the dropout masks come from here
    return model, opt, sched


def step(model, opt, sched, batch):
    x, y = batch
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    sched.step()
    opt.zero_grad()
    return loss


def test_rollback_then_retraining_is_bit_identical_to_never_going_past_the_snapshot(
    make_mlp, full_state, assert_same_state
):
    data = batches(S + K + 10)
    model, opt, sched = setup(make_mlp)
    for b in data[: S + K]:  # the run that never went astray
        step(model, opt, sched, b)
    want, want_sched = full_state(model, opt), sched.state_dict()

    model, opt, sched = setup(make_mlp)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    with finder.watch(sched, every=16, snapshot_every=S, progress=False) as watch:
        for b in data[:S]:
            watch.record(step(model, opt, sched, b))
        assert watch.ring.steps() == [0, S]
        for x, y in data[S : S + 10]:  # astray: 10 steps of bad batches
            watch.record(step(model, opt, sched, (x * 1000, y.flip(0))))
        event = watch.scale_lr(1.0, rollback=True)
        assert event is not None and event.rolled_back_to == S and event.error is None
        for b in data[S : S + K]:
            watch.record(step(model, opt, sched, b))
    assert_same_state(want, full_state(model, opt))
    assert sched.state_dict() == want_sched
    assert watch.step == S + 10 + K  # training time: a rollback does not rewind it


def test_the_rollback_goes_to_the_last_snapshot_before_the_trouble_began(make_mlp):
    data = batches(96)
    model, opt, sched = setup(make_mlp)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    with finder.watch(sched, every=16, snapshot_every=16, progress=False) as watch:
        for i, b in enumerate(data):
            loss = step(model, opt, sched, b)
            watch.record(math.nan if i == 70 else loss)  # the trouble: step 70
        assert watch.verdict == "too_high" and watch.since == 70, watch.reason
        # snapshots every 16 steps up to 64, none once the trouble was seen (at the sync of 80)
        assert watch.ring.steps() == [0, 16, 32, 48, 64]
        lr_before = opt.param_groups[0]["lr"]
        event = watch.scale_lr(0.1, rollback=True)
    assert event.rolled_back_to == 64 and event.step == 96
    # the lr of step 64's schedule, x0.1
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.995**64 * 0.1, rel=1e-12)
    assert opt.param_groups[0]["lr"] != lr_before
    assert watch.verdict == "watching"


def test_the_ring_never_holds_more_than_ring_bytes_dropping_the_oldest(make_mlp):
    data = batches(160)
    model, opt, sched = setup(make_mlp)
    step(model, opt, sched, data[0])  # Adam's moments exist: the snapshot's full size
    one = state_bytes(model, opt)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    cap = int(2.5 * one)
    with finder.watch(sched, every=16, snapshot_every=16, ring_bytes=cap, progress=False) as w:
        for b in data[1:]:
            w.record(step(model, opt, sched, b))
            assert w.ring.nbytes <= cap
        assert w.ring.steps() == [128, 144] and w.ring.nbytes == 2 * one
        assert "ring: 2 snapshots (steps [128, 144])" in repr(w)


def test_a_rollback_with_nothing_to_go_back_to_is_refused_and_nothing_changes(
    make_mlp, full_state, assert_same_state, caplog
):
    data = batches(20)
    model, opt, sched = setup(make_mlp)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    with finder.watch(sched, ring_bytes=1000, progress=False) as watch:  # smaller than one
        for b in data:
            watch.record(step(model, opt, sched, b))
        before, lr = full_state(model, opt), opt.param_groups[0]["lr"]
        with pytest.raises(RuntimeError, match=r"no snapshot to go back to.*nothing was changed"):
            watch.scale_lr(0.1, rollback=True)
        assert_same_state(before, full_state(model, opt))
        assert opt.param_groups[0]["lr"] == lr and watch.events == []
    assert "more than ring_bytes=1000" in caplog.text


def test_the_state_before_a_raise_of_the_lr_is_kept_and_a_rollback_goes_there(make_mlp):
    """A schedule that raises the lr 30x at step R: the ring holds the state of step R (before
    the first raised step), though the cadence (64) would have kept only step 0; a rollback soon
    after goes there, bit for bit, and the x0.1 scales the schedule from there on."""
    R = 40
    data = batches(R + 8)
    torch.manual_seed(0)
    model = make_mlp(seed=0, dropout=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 if s < R else 30.0)
    with LRFinder(model, opt, nn.CrossEntropyLoss()).watch(sched, progress=False) as watch:
        for b in data[:R]:
            watch.record(step(model, opt, sched, b))
        at_raise = {k: v.clone() for k, v in model.state_dict().items()}
        assert watch.ring.steps() == [0, R]
        for b in data[R:]:
            watch.record(step(model, opt, sched, b))
        assert watch.ring.steps() == [0, R], "a steady (raised) lr takes no more snapshots"
        event = watch.scale_lr(0.1, rollback=True)
        assert event is not None and event.rolled_back_to == R
        for k, v in model.state_dict().items():
            assert torch.equal(v, at_raise[k]), k
        assert opt.param_groups[0]["lr"] == pytest.approx(0.05 * 30 * 0.1, rel=1e-12)


def test_a_warmup_from_zero_takes_one_snapshot_per_doubling_not_one_per_step(make_mlp):
    data = batches(120)
    model = make_mlp(seed=0, dropout=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / 200))
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    with finder.watch(sched, snapshot_every=10**6, progress=False) as watch:
        for b in data:
            watch.record(step(model, opt, sched, b))
        steps = watch.ring.steps()
    assert steps[:3] == [0, 1, 2] and 7 <= len(steps) <= 9, steps
    assert all(b >= 2 * a for a, b in zip(steps[1:], steps[2:])), steps


def test_a_second_rollback_and_x01_to_the_same_snapshot_leaves_x001(make_mlp):
    """Actions compose: the snapshot's own lrs are not what a rollback brings back (pressing
    "Roll back and x0.1" twice would otherwise leave x0.1, and a raise would repeat forever)."""
    data = batches(40)
    model = make_mlp(seed=0, dropout=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.99**s)
    with LRFinder(model, opt, nn.CrossEntropyLoss()).watch(
        sched, snapshot_every=16, progress=False
    ) as watch:
        for b in data[:20]:
            watch.record(step(model, opt, sched, b))
        first = watch.scale_lr(0.1, rollback=True)
        for b in data[20:30]:
            watch.record(step(model, opt, sched, b))
        second = watch.scale_lr(0.1, rollback=True)
    assert first is not None and second is not None
    assert first.rolled_back_to == second.rolled_back_to == 16
    assert sched.base_lrs[0] == pytest.approx(0.05 * 0.01, rel=1e-12)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05 * 0.01 * 0.99**16, rel=1e-12)


def test_auto_act_rolls_back_and_cuts_the_lr_by_itself_until_the_loss_is_back(make_mlp):
    """watch(auto_act=True): the doctor acts at each too_high (roll back + x0.1), with no click;
    a raise of 30x needs two (x0.1 leaves 3x), and the loss ends below where it was before it."""
    R, N = 48, 160
    data = batches(N)
    model = make_mlp(seed=0, dropout=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 if s < R else 30.0)
    losses = []
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    with finder.watch(sched, progress=False, auto_act=True) as watch:
        for b in data:
            loss = step(model, opt, sched, b)
            watch.record(loss)
            losses.append(loss.item())
    acts = [e for e in watch.events if type(e).__name__ == "ActionTaken"]
    assert acts and all(a.factor == 0.1 and a.rolled_back_to == R for a in acts), acts
    assert sched.base_lrs[0] == pytest.approx(0.05 * 0.1 ** len(acts), rel=1e-12)
    before = sorted(losses[R - 16 : R])[8]
    assert sorted(losses[-16:])[8] <= before, (before, losses[-16:])
    with pytest.raises(TypeError, match="auto_act must be True or False"):
        finder.watch(sched, auto_act=1)
