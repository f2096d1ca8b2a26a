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
        watch.scale_lr(1000.0)  # astray: 10 steps at a far too high lr
        for b in data[S : S + 10]:
            watch.record(step(model, opt, sched, b))
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
