"""watch.probe(): the opt-in reversible x2 probe on real training (digits, seeded, one thread).

An lr 300x too low: the probe keeps x2 and says too_low (evidence "probe"). A healthy lr: the
probe rolls back to its own snapshot and a run that then trains on is bit-identical (weights,
optimizer, schedule, RNG, the lrs it uses) to one that never probed. A probe cut short (an
action, the block's end, too_high during it) is rolled back too. Every bad input is refused
with nothing changed. Under torch.distributed: tests/test_watch_dist_calls.py.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch
from torch import nn

from lrwidget import LRFinder
from lrwidget.engine.watch_events import (
    Chunk,
    ProbeEnded,
    ProbeStarted,
    VerdictChanged,
    describe_event,
)
from tests.digits import digits_tensors

GOOD = 0.05  # SGD momentum 0.9 on digits: the loss falls steadily (tests/test_watch.py)


def batches(n, size=64, seed=1):
    X, y = digits_tensors()
    g = torch.Generator().manual_seed(seed)
    out = []
    while len(out) < n:
        perm = torch.randperm(len(X), generator=g)
        out += [
            (X[perm[i : i + size]], y[perm[i : i + size]])
            for i in range(0, len(X) - size + 1, size)
        ]
    return out[:n]


def step(model, opt, batch, sched=None):
    x, y = batch
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    if sched is not None:
        sched.step()
    opt.zero_grad()
    return loss


def mlp_sgd(lr, dropout=False):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    layers = [nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU()]
    layers += (
        [nn.Dropout(0.2)] if dropout else []
    )  # its masks come from the RNG a rollback restores
    model = nn.Sequential(*layers, nn.Linear(32, 10))
    return model, torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def probe_events(watch):
    return [e for e in watch.events if isinstance(e, (ProbeStarted, ProbeEnded))]


def test_an_lr_300x_too_low_keeps_x2_and_says_too_low_from_the_probe():
    lr = GOOD / 300
    model, opt = mlp_sgd(lr)
    data = batches(96, size=1797)  # the whole set each step: the slopes carry no batch noise
    heard = []
    with LRFinder(model, opt).watch(progress=False) as watch:
        watch.listen(heard.append)
        for b in data[:64]:
            watch.record(step(model, opt, b))
        started = watch.probe()  # x2 for 32 steps, from the training thread: at once
        assert started.error is None and started.snapshot == 64 and started.steps == 32
        assert started.lrs == (2 * lr,) and opt.param_groups[0]["lr"] == 2 * lr
        assert started.base_slope < 0
        for b in data[64:96]:
            watch.record(step(model, opt, b))
        assert watch.verdict == "too_low", watch.reason
        assert watch.diagnosis.evidence == "probe" and "too low, keep x2" in watch.reason
    ended = [e for e in watch.events if isinstance(e, ProbeEnded)]
    assert len(ended) == 1 and ended[0].kept and ended[0].rolled_back_to is None
    assert ended[0].step == 96 and ended[0].verdict == "too_low" and ended[0].lrs == (2 * lr,)
    # the loss fell about twice as fast at x2 (the rule asks 1.5x)
    assert ended[0].probe_slope < 1.5 * ended[0].base_slope < 0
    lrs = np.concatenate([c.lrs[:, 0] for c in heard if isinstance(c, Chunk)])
    assert (lrs[:64] == lr).all() and (lrs[64:] == 2 * lr).all()  # kept
    verdicts = [e for e in watch.events if isinstance(e, VerdictChanged)]
    assert (verdicts[-1].step, verdicts[-1].verdict, verdicts[-1].evidence) == (
        96,
        "too_low",
        "probe",
    )
    assert 64 in watch.ring.steps() or not watch.ring.steps()  # kept as a regular snapshot


def test_a_healthy_lr_is_rolled_back_bit_for_bit_as_if_never_probed(full_state, assert_same_state):
    S, K = 128, 40
    data = batches(S + K)

    def setup():
        model, opt = mlp_sgd(GOOD, dropout=True)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.998**s)
        torch.manual_seed(123)
        return model, opt, sched

    model, opt, sched = setup()  # the reference: never probed
    want_lrs = []
    for b in data:
        want_lrs.append(opt.param_groups[0]["lr"])
        step(model, opt, b, sched)
    want, want_sched = full_state(model, opt), sched.state_dict()

    model, opt, sched = setup()
    heard = []
    with LRFinder(model, opt).watch(sched, progress=False) as watch:
        watch.listen(heard.append)
        for b in data[:S]:
            watch.record(step(model, opt, b, sched))
        assert watch.probe(32, 2.0).snapshot == S
        for b in data[S : S + 32]:  # 32 steps at x2 the schedule
            watch.record(step(model, opt, b, sched))
        assert watch.verdict == "healthy" and watch.diagnosis.evidence == "probe", watch.reason
        assert "not too low" in watch.reason
        assert watch.ring.steps()[-1] == S  # the probe's future is dropped
        for b in data[S : S + K]:  # training goes on from the probe's snapshot
            watch.record(step(model, opt, b, sched))
        # the new doctor has nothing to say yet ("watching"): the probe's verdict stands
        assert watch.verdict == "healthy" and watch.diagnosis.evidence == "probe"
    assert_same_state(want, full_state(model, opt))
    assert sched.state_dict() == want_sched
    ended = [e for e in watch.events if isinstance(e, ProbeEnded)]
    assert [(e.kept, e.rolled_back_to, e.step, e.verdict) for e in ended] == [
        (False, S, S + 32, "healthy")
    ]
    assert ended[0].lrs == (want_lrs[S],)  # the lr and schedule came back exactly
    lrs = np.concatenate([c.lrs[:, 0] for c in heard if isinstance(c, Chunk)])
    assert lrs.tolist()[:S] == want_lrs[:S]
    np.testing.assert_allclose(lrs[S : S + 32], 2 * np.array(want_lrs[S : S + 32]), rtol=1e-12)
    assert lrs.tolist()[S + 32 :] == want_lrs[S:]  # after the rollback: exact


def test_a_probe_cut_short_is_rolled_back_by_an_action_and_by_the_blocks_end(
    full_state, assert_same_state
):
    model, opt = mlp_sgd(GOOD)
    data = batches(96)
    with LRFinder(model, opt).watch(progress=False) as watch:
        for b in data[:64]:
            watch.record(step(model, opt, b))
        before = full_state(model, opt)
        watch.probe(32)
        for b in data[64:70]:
            watch.record(step(model, opt, b))
        taken = watch.scale_lr(0.5)  # the action applies to the state before the probe
        assert_same_state(
            {**before, "optimizer": None}, {**full_state(model, opt), "optimizer": None}
        )
        assert taken.lrs == (GOOD * 0.5,) and opt.param_groups[0]["lr"] == GOOD * 0.5
        kinds = [type(e).__name__ for e in watch.events]
        assert kinds[-4:] == ["ProbeStarted", "ProbeEnded", "ActionTaken", "VerdictChanged"]
        cut = watch.events[-3]
        assert (
            not cut.kept and cut.rolled_back_to == 64 and "cut short by scale_lr x0.5" in cut.reason
        )
        with pytest.raises(RuntimeError, match="the last 32 losses at the lr in use"):
            watch.probe(32)  # the base stretch starts again after an action
        for b in data[70:96]:
            watch.record(step(model, opt, b))
        before = full_state(model, opt)
        watch.probe(16)
        for b in data[:5]:
            watch.record(step(model, opt, b))
    assert_same_state(before, full_state(model, opt))  # the block's end rolled it back
    assert opt.param_groups[0]["lr"] == GOOD * 0.5
    assert "the end of the with block" in watch.events[-1].reason


def test_too_high_during_the_probe_ends_it_rolled_back(full_state, assert_same_state):
    model, opt = mlp_sgd(GOOD)
    data = batches(80)
    with LRFinder(model, opt).watch(progress=False) as watch:
        for b in data[:48]:
            watch.record(step(model, opt, b))
        before = full_state(model, opt)
        watch.probe(32, factor=1000.0)  # far too much: the doctor calls it before the end
        for b in data[48:80]:
            watch.record(step(model, opt, b))
            if not watch._probe.run:
                break
        assert_same_state(before, full_state(model, opt))
        assert watch.verdict == "healthy" and "diverged" in watch.reason
    ended = [e for e in watch.events if isinstance(e, ProbeEnded)]
    assert len(ended) == 1 and ended[0].step < 80 and ended[0].rolled_back_to == 48
    assert all(e.verdict != "too_high" for e in watch.events if isinstance(e, VerdictChanged))


def test_a_probe_asked_from_another_thread_starts_at_the_next_record():
    model, opt = mlp_sgd(GOOD)
    data = batches(100)
    heard = []
    with LRFinder(model, opt).watch(progress=False) as watch:
        watch.listen(heard.append)
        for b in data[:40]:
            watch.record(step(model, opt, b))
        got = []
        t = threading.Thread(target=lambda: got.append(watch.probe(32)))
        t.start()
        t.join()
        assert got == [None] and opt.param_groups[0]["lr"] == GOOD  # not yet
        with pytest.raises(RuntimeError, match="already running"):
            watch.probe(32)  # one asked counts
        for b in data[40:41]:
            watch.record(step(model, opt, b))
        assert opt.param_groups[0]["lr"] == 2 * GOOD
        for b in data[41:73]:
            watch.record(step(model, opt, b))
    started, ended = probe_events(watch)
    assert (started.step, started.snapshot, started.error) == (41, 41, None)
    assert ended.step == 73 and not ended.kept
    assert [e for e in heard if isinstance(e, (ProbeStarted, ProbeEnded))] == [started, ended]
    assert describe_event(started) == (
        "lrwidget watch: step 41: probe x2 for 32 steps (snapshot at step 41)"
    )
    assert describe_event(ended).startswith(
        "lrwidget watch: step 73: probe x2 rolled back to step 41: at x2"
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"steps": 7},
            r"steps must be an integer in \[8, 1024\] and a multiple of the watch's every=16",
        ),
        ({"steps": 24}, "steps must be .*multiple of the watch's every=16.*got 24"),
        ({"steps": 32.0}, "steps must be .*got 32.0"),
        ({"steps": True}, "steps must be .*got True"),
        ({"steps": 2048}, "steps must be .*got 2048"),
        ({"factor": 1.0}, r"factor must be a finite number > 1 \(2.0: try the lr x2\), got 1.0"),
        ({"factor": 0.5}, "factor must be .*got 0.5"),
        ({"factor": math.inf}, "factor must be .*got inf"),
        ({"factor": math.nan}, "factor must be .*got nan"),
        ({"factor": "2"}, "factor must be .*got '2'"),
    ],
)
def test_bad_steps_or_factor_is_refused_naming_it_and_nothing_changes(
    kwargs, match, full_state, assert_same_state
):
    model, opt = mlp_sgd(GOOD)
    with LRFinder(model, opt).watch(progress=False) as watch:
        for b in batches(40):
            watch.record(step(model, opt, b))
        before, ring = full_state(model, opt), watch.ring.steps()
        with pytest.raises(ValueError, match=match):
            watch.probe(**kwargs)
        assert_same_state(before, full_state(model, opt))
        assert watch.events == [] and watch.ring.steps() == ring and not watch._probe.asked
        assert watch.probe().error is None  # the watch still probes


def test_a_probe_in_the_wrong_state_is_refused_and_nothing_changes(full_state, assert_same_state):
    model, opt = mlp_sgd(GOOD)
    data = batches(80)
    finder = LRFinder(model, opt)
    watch = finder.watch(progress=False)
    with pytest.raises(RuntimeError, match=r"outside `with finder.watch"):
        watch.probe()
    with watch:
        for b in data[:16]:
            watch.record(step(model, opt, b))
        before = full_state(model, opt)
        with pytest.raises(RuntimeError, match=r"the last 32 losses .* 16 were recorded"):
            watch.probe(32)
        assert_same_state(before, full_state(model, opt))
        assert watch.ring.steps() == [0] and watch.events == []
        watch.probe(16)
        with pytest.raises(RuntimeError, match="a probe is already running since step 16"):
            watch.probe(16)
        for i, b in enumerate(data[16:32]):
            watch.record(math.nan if i == 3 else step(model, opt, b))
    assert [type(e).__name__ for e in probe_events(watch)] == ["ProbeStarted", "ProbeEnded"]
    # too_high on its own:
    model, opt = mlp_sgd(GOOD)
    with LRFinder(model, opt).watch(progress=False) as watch:
        for i, b in enumerate(data[:48]):
            watch.record(math.nan if i == 40 else step(model, opt, b))
        assert watch.verdict == "too_high"
        before = full_state(model, opt)
        with pytest.raises(RuntimeError, match=r"the verdict is too_high.*nothing was changed"):
            watch.probe(16)
        assert_same_state(before, full_state(model, opt))
        assert probe_events(watch) == []


def test_a_probe_that_does_not_fit_the_ring_is_refused():
    model, opt = mlp_sgd(GOOD)
    with LRFinder(model, opt).watch(ring_bytes=100, progress=False) as watch:
        for b in batches(32):
            watch.record(step(model, opt, b))
        with pytest.raises(RuntimeError, match="snapshot does not fit ring_bytes=100"):
            watch.probe(16)
        assert opt.param_groups[0]["lr"] == GOOD and probe_events(watch) == []
