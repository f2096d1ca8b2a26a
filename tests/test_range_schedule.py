"""lrwidget.engine.range_schedule and LRFinder.schedule (issue 19): every kind's scheduler is the
one built by hand from the same numbers (every lr for N steps), group ratios hold, the preview is
the scheduler stepped for real (every step; each column's extremes exact), and bad input is
refused naming the parameter with nothing attached.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler as S

from lrwidget import LRFinder
from lrwidget.engine.range_schedule import KINDS, build_schedule, schedule_preview
from lrwidget.pure.ranges import column_edges, column_extremes, suggest_range
from tests.digits import digits_sgd

torch.set_num_threads(1)

N = 10_000
LO, HI = 1e-4, 3e-2
KIND_NAMES = ["one_cycle", "cyclic", "cosine", "linear"]


def _sgd(*lrs: float) -> torch.optim.Optimizer:
    groups = [{"params": [nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def _stepped(sched: S.LRScheduler, opt: torch.optim.Optimizer, n: int) -> np.ndarray:
    """Every group's lr at steps 0 .. n-1 of the real scheduler, stepped as training does."""
    out = np.empty((n, len(opt.param_groups)))
    opt.step()  # no gradients: nothing moves
    for i in range(n):
        out[i] = [float(g["lr"]) for g in opt.param_groups]
        sched.step()
    return out


def _by_hand(kind: str, opt: torch.optim.Optimizer, n: int) -> S.LRScheduler | np.ndarray:
    """The schedule from the stated mapping, built without lrwidget (torch's schedulers, or the
    warmup + decay written out)."""
    if kind == "one_cycle":
        return S.OneCycleLR(opt, max_lr=HI, total_steps=n, div_factor=HI / LO)
    if kind == "cyclic":
        return S.CyclicLR(opt, base_lr=LO, max_lr=HI, step_size_up=n // 8)
    w, end = round(0.1 * n), LO / 100
    s = np.arange(n, dtype=np.float64)
    p = np.clip((s - w) / (n - 1 - w), 0, 1)
    decay = end + (HI - end) * (0.5 * (1 + np.cos(np.pi * p)) if kind == "cosine" else 1 - p)
    return np.where(s < w, LO + (HI - LO) * s / w, decay)


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_every_kind_is_the_schedule_built_by_hand_from_the_same_numbers(kind):
    assert list(KINDS) == KIND_NAMES
    opt = _sgd(0.5)
    got = _stepped(build_schedule(opt, kind, LO, HI, N), opt, N)[:, 0]
    hand = _by_hand(kind, _sgd(HI), N)
    want = hand if isinstance(hand, np.ndarray) else _stepped(hand, hand.optimizer, N)[:, 0]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    assert got.max() == pytest.approx(HI, rel=1e-12)
    assert got[0] == pytest.approx(LO, rel=1e-12)


@pytest.mark.parametrize("kind, decay", [("cosine", "cos"), ("linear", "lin")])
def test_cosine_and_linear_agree_with_torchs_own_warmup_and_decay(kind, decay):
    """The same shape as torch's SequentialLR(LinearLR, CosineAnnealingLR / LinearLR), which
    computes step by step (so its last bits drift: 1e-10)."""
    opt = _sgd(HI)
    w, end = round(0.1 * N), LO / 100
    after = (
        S.CosineAnnealingLR(opt, T_max=N - 1 - w, eta_min=end)
        if decay == "cos"
        else S.LinearLR(opt, start_factor=1.0, end_factor=end / HI, total_iters=N - 1 - w)
    )
    warm = S.LinearLR(opt, start_factor=LO / HI, total_iters=w)
    torchs = _stepped(S.SequentialLR(opt, [warm, after], milestones=[w]), opt, N)[:, 0]
    mine = _sgd(1.0)
    got = _stepped(build_schedule(mine, kind, LO, HI, N), mine, N)[:, 0]
    np.testing.assert_allclose(got, torchs, rtol=1e-10, atol=0)
    assert got[-1] == pytest.approx(LO / 100, rel=1e-12)


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_param_groups_keep_their_ratios_at_every_step(kind):
    opt = _sgd(1e-2, 1e-3)  # group 1 at a tenth of group 0
    lrs = _stepped(build_schedule(opt, kind, LO, HI, 2000), opt, 2000)
    np.testing.assert_allclose(lrs[:, 1], lrs[:, 0] * 0.1, rtol=1e-12, atol=0)
    assert lrs[:, 0].max() == pytest.approx(HI, rel=1e-12)


@pytest.mark.parametrize("kind", KIND_NAMES)
@pytest.mark.parametrize("n", [2, 3, 977, N])
def test_the_preview_is_the_scheduler_stepped_for_real(kind, n):
    steps, lrs = schedule_preview(kind, LO, HI, n)
    opt = _sgd(HI)
    real = _stepped(build_schedule(opt, kind, LO, HI, n), opt, n)[:, 0]
    assert steps.dtype == np.int64 and lrs.dtype == np.float64
    np.testing.assert_array_equal(steps, np.arange(n))
    np.testing.assert_allclose(lrs, real, rtol=1e-12, atol=0)
    # drawn in columns: each column's lowest and highest lr are the real ones
    cols = 512
    steps, lrs = schedule_preview(kind, LO, HI, n, columns=cols)
    np.testing.assert_allclose(lrs, real[steps], rtol=1e-12, atol=0)
    lo, hi = column_extremes(steps, lrs, n, cols)
    e = column_edges(n, cols)
    np.testing.assert_array_equal(lo, [real[a:b].min() for a, b in zip(e[:-1], e[1:])])
    np.testing.assert_array_equal(hi, [real[a:b].max() for a, b in zip(e[:-1], e[1:])])


@pytest.mark.slow  # 17 s alone on this machine (45 s beside other jobs); `-m "not slow"` skips it
def test_the_preview_is_the_scheduler_stepped_for_real_over_a_million_steps():
    n = 10**6
    t = time.perf_counter()
    steps, lrs = schedule_preview("one_cycle", LO, HI, n)
    took = time.perf_counter() - t
    opt = _sgd(HI)
    real = _stepped(build_schedule(opt, "one_cycle", LO, HI, n), opt, n)[:, 0]
    np.testing.assert_allclose(lrs, real, rtol=1e-12, atol=0)
    steps, lrs = schedule_preview("one_cycle", LO, HI, n, columns=512)
    lo, hi = column_extremes(steps, lrs, n, 512)
    e = column_edges(n, 512)
    np.testing.assert_array_equal(hi, [real[a:b].max() for a, b in zip(e[:-1], e[1:])])
    np.testing.assert_array_equal(lo, [real[a:b].min() for a, b in zip(e[:-1], e[1:])])
    print(f"every step of 1e6: {took:.1f} s")


def test_a_billion_step_preview_in_columns_is_quick():
    t = time.perf_counter()
    steps, lrs = schedule_preview("cyclic", LO, HI, 10**9, columns=512)
    assert time.perf_counter() - t < 5
    assert lrs.max() == pytest.approx(HI, rel=1e-12) and lrs.min() == pytest.approx(LO, rel=1e-9)
    with pytest.raises(ValueError, match="columns=None previews every step"):
        schedule_preview("cyclic", LO, HI, 10**9)


# ---------------------------------------------------------------------------- bad input
def _groups(opt: torch.optim.Optimizer) -> list[dict]:
    return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]


BAD = [
    ({"kind": "step"}, "kind must be one of"),
    ({"kind": None}, "kind must be one of"),
    ({"lo": HI, "hi": LO}, "lo must be below hi"),
    ({"lo": HI}, "lo must be below hi"),
    ({"lo": float("nan")}, "lo must be a positive finite number"),
    ({"hi": float("inf")}, "hi must be a positive finite number"),
    ({"hi": "0.1"}, "hi must be a positive finite number"),
    ({"lo": True}, "lo must be a positive finite number"),
    ({"total_steps": 1}, "total_steps must be an int from 2"),
    ({"total_steps": 2.5}, "total_steps must be an int from 2"),
    ({"total_steps": True}, "total_steps must be an int from 2"),
    ({"total_steps": 10**10}, "total_steps must be an int from 2"),
]


@pytest.mark.parametrize("bad, words", BAD)
def test_bad_input_is_refused_naming_the_parameter_and_nothing_is_attached(bad, words):
    opt = _sgd(1e-2, 1e-3)
    before = _groups(opt)
    args = {"kind": "one_cycle", "lo": LO, "hi": HI, "total_steps": 100, **bad}
    with pytest.raises(ValueError, match=words):
        build_schedule(opt, **args)
    with pytest.raises(ValueError, match=words):
        schedule_preview(**args)
    assert _groups(opt) == before
    assert not any("initial_lr" in g or "max_lr" in g for g in opt.param_groups)


@pytest.mark.parametrize("kind", ["one_cycle", "cyclic"])
def test_a_scheduler_that_refuses_halfway_leaves_the_param_groups_as_they_were(kind):
    # torch writes initial_lr / max_lr / min_lr (one cycle) or the lr itself (cyclic), then
    # refuses cycle_momentum on Adagrad
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adagrad([p], lr=torch.tensor(1e-2))
    held = opt.param_groups[0]["lr"]
    was = held.clone()
    before = {k: v for k, v in opt.param_groups[0].items() if k not in ("params", "lr")}
    with pytest.raises(ValueError, match="momentum"):
        build_schedule(opt, kind, LO, HI, 100, cycle_momentum=True)
    g = opt.param_groups[0]
    assert {k: v for k, v in g.items() if k not in ("params", "lr")} == before
    assert g["lr"] is held and torch.equal(held, was)
    # without cycle_momentum it builds: torch's default cycling is left out for Adagrad
    sched = build_schedule(opt, kind, LO, HI, 100)
    assert g["lr"] is held and float(held) == pytest.approx(LO) and sched.cycle_momentum is False
    with pytest.raises(ValueError, match="takes no keyword arguments"):
        build_schedule(opt, "cosine", LO, HI, 100, pct_start=0.5)


def test_a_schedule_replaces_the_base_a_scheduler_before_left():
    opt = _sgd(1.0)
    S.StepLR(opt, step_size=1)  # leaves initial_lr = 1.0
    lrs = _stepped(build_schedule(opt, "cosine", LO, HI, 50), opt, 50)[:, 0]
    assert lrs.max() == pytest.approx(HI, rel=1e-12) and lrs[0] == pytest.approx(LO)


# ---------------------------------------------------------------------------- LRFinder.schedule
@pytest.fixture(scope="module")
def tested():
    model, opt, loader = digits_sgd()
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    finder.range_test(loader, start_lr=1e-5, end_lr=10, num_iter=80)
    return finder


def test_finder_schedule_uses_the_suggested_range_when_no_ends_are_given(tested):
    r = tested.result
    lo, hi = suggest_range(r)
    seen = []
    off = tested.subscribe(seen.append)
    try:
        sched = tested.schedule("one_cycle", total_steps=100)
    finally:
        off()
    g = tested.optimizer.param_groups[0]
    assert isinstance(sched, S.OneCycleLR)
    assert g["max_lr"] == hi and g["initial_lr"] == pytest.approx(lo, rel=1e-12)
    assert any(type(e).__name__ == "LrApplied" for e in seen)  # views show the new lr
    sched = tested.schedule("cyclic", lo=float(r.lrs[10]), total_steps=100)
    assert sched.base_lrs == [float(r.lrs[10])] and sched.max_lrs == [hi]


@pytest.mark.parametrize(
    "args, words",
    [
        ({"lo": 1e-9, "hi": 1e-2}, "lo: lr 1e-09 is outside the tested range"),
        ({"lo": 1e-4, "hi": 100.0}, "hi: lr 100.0 is outside the tested range"),
        ({"lo": 1e-2, "hi": 1e-3}, "lo must be below hi"),
        ({"kind": "exp"}, "kind must be one of"),
        ({"total_steps": None}, "total_steps must be an int"),
    ],
)
def test_finder_schedule_refuses_bad_input_and_attaches_nothing(tested, args, words):
    opt = tested.optimizer
    before = _groups(opt)
    args = {"kind": "linear", "lo": 1e-4, "hi": 1e-2, "total_steps": 100, **args}
    with pytest.raises(ValueError, match=words):
        tested.schedule(**args)
    assert _groups(opt) == before


def test_without_a_range_test_both_ends_are_needed():
    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    finder = LRFinder(model, opt)
    with pytest.raises(ValueError, match="lo is None and there is no suggested range"):
        finder.schedule("cosine", hi=1e-2, total_steps=10)
    assert "initial_lr" not in opt.param_groups[0]
    sched = finder.schedule("cosine", 1e-3, 1e-1, total_steps=10)  # any range: nothing tested
    assert max(_stepped(sched, opt, 10)[:, 0]) == pytest.approx(0.1) and math.isfinite(LO)
