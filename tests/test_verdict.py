"""The doctor's rules (lrwidget.pure.verdict) on synthetic streams and on short real training."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lrwidget.pure.verdict import (
    VERDICTS,
    Diagnosis,
    Doctor,
    RangeCurve,
    group_ratios,
    probe,
    slope,
)

LR = 1e-2


def feed(doctor: Doctor, losses, lr=LR, chunk=16) -> list[Diagnosis]:
    """Every diagnosis, one per chunk, as the engine would read them."""
    losses = np.asarray(losses, dtype=np.float64)
    lrs = np.broadcast_to(np.asarray(lr, dtype=np.float64), losses.shape)
    return [
        doctor.update(losses[i : i + chunk], lrs[i : i + chunk])
        for i in range(0, losses.size, chunk)
    ]


def noisy(mean, seed=0, rel=0.1):
    rng = np.random.default_rng(seed)
    mean = np.asarray(mean, dtype=np.float64)
    return mean * np.exp(rel * rng.standard_normal(mean.size))


def falling(n=300, seed=0):
    return noisy(2.3 * np.exp(-np.arange(n) / 60) + 0.2, seed)


# --- synthetic streams ---------------------------------------------------------------------------


def test_healthy_after_enough_steps_and_watching_before():
    got = feed(Doctor(), falling())
    assert got[0].verdict == "watching"
    assert got[-1].verdict == "healthy"
    assert "fell" in got[-1].reason and got[-1].since is None
    assert all(d.verdict in ("watching", "healthy") for d in got)


def test_nan_is_too_high_at_once():
    y = falling(40)
    y[21] = np.nan
    d = Doctor()
    got = feed(d, y)
    assert got[1].verdict == "too_high"  # the chunk holding step 21
    assert got[1].since == 21 and "nan" in got[1].reason and "cut it 10x" in got[1].reason
    assert d.update(np.array([1.0]), np.array([LR])).verdict == "too_high"  # it stays


def test_inf_is_too_high_on_the_first_step():
    got = Doctor().update(np.array([np.inf]), np.array([LR]))
    assert (got.verdict, got.since) == ("too_high", 0)


def test_divergence_is_too_high_within_20_steps_of_the_rise():
    y = falling(200)
    start = 120
    y[start:] = y[start] * np.exp(np.arange(80) / 8)  # the lr raised 30x at step 120
    lrs = np.where(np.arange(200) < start, LR, 30 * LR)
    got = feed(Doctor(), y, lrs)
    first = next(i for i, d in enumerate(got) if d.verdict == "too_high")
    flagged_by = min((first + 1) * 16, y.size)
    assert flagged_by - start <= 20 + 16  # read per chunk of 16
    assert got[first].since is not None and start - 8 <= got[first].since <= start + 8
    assert "rose" in got[first].reason


def test_one_bad_batch_is_no_alarm():
    y = falling(300)
    y[150] *= 30  # one bad batch
    y[151:154] *= 4  # and a few steps to recover
    assert all(d.verdict != "too_high" for d in feed(Doctor(), y))


def test_a_kick_at_a_settled_lr_may_sit_at_chance_for_25_steps_and_recover():
    # a real CNN's SGD bad-batch kick (benchmarks/doctor.py, cnn sgd spike): the loss jumps to
    # 50, sits at chance for 25 steps, then recovers
    y = falling(260)
    y[150] = 50.0
    y[151:176] = noisy(np.full(25, 2.3), seed=1, rel=0.01)
    y[176:] = noisy(2.2 * np.exp(-np.arange(84) / 15) + 0.1, seed=2)
    assert all(d.verdict != "too_high" for d in feed(Doctor(), y))
    # the same stream after the lr was raised 30x at step 150 is too high at the first read
    lrs = np.where(np.arange(260) < 150, LR, 30 * LR)
    got = feed(Doctor(), y, lrs)
    first = next(i for i, d in enumerate(got) if d.verdict == "too_high")
    # the trouble began where the lr grew (step 150), not at its block's start (148)
    assert (first + 1) * 16 - 150 <= 20 and got[first].since == 150


def adam_rise(seed=0):
    """A digits MLP under Adam, its lr raised ~30x at step 100 (benchmarks/doctor.py, mlp adam
    high_later): the loss falls to 4% of its start, keeps falling for 8 steps at the new lr (its
    best is after the raise), then rises slowly: 3.4x its best in steps 108-111 (under 10% of
    the progress made), 7x, 15x, 25x after."""
    y = noisy(2.3 * np.exp(-np.arange(200) / 20) + 0.09, seed, rel=0.15)
    y[100:108] = noisy(np.full(8, 0.08), seed + 1, rel=0.1)
    y[108:] = noisy(0.27 * 1.25 ** (np.arange(92) / 4), seed + 2, rel=0.2).clip(max=2.4)
    return y


def test_a_rise_just_after_a_raise_to_the_curves_edge_is_flagged_at_the_next_read():
    # the lr grew into the range test's edge (within 3x of its minimum): one block of rise is
    # enough, flagged at the first read after the rise shows (<= 20 steps), and the trouble
    # began at the raise (a rollback goes back to before it)
    edge = RangeCurve.of(curve()).min_lr
    assert edge is not None
    y = adam_rise()
    lrs = np.where(np.arange(200) < 100, edge / 100, edge / 3)
    got = feed(Doctor(curve=curve()), y, lrs)
    first = next(i for i, d in enumerate(got) if d.verdict == "too_high")
    assert (first + 1) * 16 == 112 and got[first].since == 100 and "rose" in got[first].reason
    # raised less (not at the edge): two blocks and the full progress bar; still blamed on it
    lrs = np.where(np.arange(200) < 100, edge / 100, edge / 10)
    got = feed(Doctor(curve=curve()), y, lrs)
    first = next(i for i, d in enumerate(got) if d.verdict == "too_high")
    assert (first + 1) * 16 == 128 and got[first].since == 100
    # at a steady lr the same block is a kick, judged as one bad batch's (settled patience)
    got = feed(Doctor(curve=curve()), y, edge / 100)
    first = next(i for i, d in enumerate(got) if d.verdict == "too_high")
    assert (first + 1) * 16 > 128


def test_a_rise_at_a_settled_lr_that_stays_is_too_high():
    y = falling(300)
    y[150:] = noisy(np.full(150, 2.3), seed=1, rel=0.01)  # up to chance and stuck there
    got = feed(Doctor(), y)
    first = next(i for i, d in enumerate(got) if d.verdict == "too_high")
    assert 150 + 4 * Doctor().settled <= (first + 1) * 16 <= 150 + 4 * Doctor().settled + 16


def test_flat_loss_without_evidence_is_never_too_low():
    y = noisy(np.full(400, 2.3), rel=0.02)
    got = feed(Doctor(), y)
    assert all(d.verdict != "too_low" for d in got)
    assert got[-1].verdict == "watching" and got[-1].stalled


def curve():
    lrs = np.logspace(-7, 1, 100)
    losses = 2 / (1 + np.exp(3 * (np.log10(lrs) + 3))) + 0.2
    losses[lrs > 0.3] += 50 * (lrs[lrs > 0.3] - 0.3)
    return lrs, losses


def test_too_low_from_the_curve():
    y = noisy(np.linspace(2.3, 2.25, 200), rel=0.02)
    got = feed(Doctor(curve=curve()), y, lr=1e-6)
    assert got[-1].verdict == "too_low" and got[-1].evidence == "curve"
    assert "flat region" in got[-1].reason
    # the same stream at an lr inside the descent is not too low
    assert feed(Doctor(curve=curve()), y, lr=1e-3)[-1].verdict != "too_low"


def test_range_curve_reads_a_result_like_object():
    lrs, losses = curve()
    result = type("R", (), {"lrs": lrs, "smoothed": losses})()
    edge = RangeCurve.of(result).descent_lr
    assert edge is not None and 1e-5 < edge < 1e-3
    assert RangeCurve.of((lrs, np.full(100, 1.0))).descent_lr is None
    with pytest.raises(ValueError, match="differ in length"):
        RangeCurve.of((lrs, losses[:3]))


def test_probe_decides_too_low_only_when_the_loss_falls_clearly_faster():
    base = slope(np.exp(-0.001 * np.arange(32)))
    fast = slope(np.exp(-0.004 * np.arange(32)))
    d = probe(base, fast)
    assert (d.verdict, d.evidence) == ("too_low", "probe") and "keep x2" in d.reason
    assert probe(base, base).verdict == "healthy"
    assert probe(base, -base).verdict == "healthy"  # the loss rose under the probe
    assert probe(np.nan, fast).verdict == "watching"


def test_group_ratios_names_the_group_100x_off():
    found = group_ratios({"body": -3.0, "norm": -3.2, "head": -1.0})
    assert found is not None and found.group == "head" and "too high" in found.reason
    low = group_ratios({"a": -3.0, "b": -3.1, "c": -5.5})
    assert low is not None and low.group == "c" and "too low" in low.reason
    assert group_ratios({"a": -3.0, "b": -2.0, "c": -3.5}) is None
    assert group_ratios({"a": -3.0}) is None
    assert group_ratios({"a": -3.0, "b": float("nan"), "c": -3.1}) is None


def test_diagnosis_is_frozen_and_in_the_vocabulary():
    d = Doctor().update(np.ones(16), np.full(16, LR))
    assert d.verdict in VERDICTS
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.verdict = "healthy"  # type: ignore[misc]


def test_chunks_must_match():
    with pytest.raises(ValueError, match="same length"):
        Doctor().update(np.ones(3), np.ones(2))


def test_block_statistics_are_numpys_bit_for_bit():
    """The doctor reads its few-value blocks in plain floats (numpy's per-call cost was the
    watch's overhead); each statistic must be numpy's to the last bit, ties and lone NaN lrs
    included, so no decision moves."""
    from lrwidget.pure import verdict

    rng = np.random.default_rng(0)
    for n in range(1, 18):
        for _ in range(200):
            v = rng.standard_normal(n) * 10.0 ** rng.uniform(-8, 8, n)
            v[rng.random(n) < 0.3] = v[0]  # ties
            assert verdict._median(v.tolist()) == np.median(v)
            assert verdict._top(v.tolist()) == np.max(v)
            v[rng.integers(n)] = np.nan
            assert np.isnan(verdict._top(v.tolist()))


def test_lr_moves_are_found_across_chunks_and_inside_them():
    # the 2x rule under the plain-float fast path: a schedule's small steps move nothing, a x2 or
    # a /2 at any step (also the chunk's first, against the last chunk) marks that step
    for at in (0, 5, 15, 16, 21):
        for f in (2.0, 0.5, 1e-9, 1.9):
            lrs = np.r_[np.full(at + 16, LR) * 0.999 ** np.arange(at + 16), np.zeros(16)]
            lrs[16 + at :] = lrs[15 + at] * f
            d = Doctor()
            feed(d, falling(lrs.size), lrs)
            assert d._lr_moved == (16 + at if f != 1.9 else 0), (at, f)


# --- short real training runs (digits MLP, seeded) ------------------------------------------------


def train_digits(lrs, bad_step=None):
    """Raw losses of a digits MLP (64-32-10, SGD momentum 0.9) at the lr of each step."""
    import torch
    from torch import nn

    from tests.digits import digits_tensors

    torch.set_num_threads(1)
    x, y = digits_tensors()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    opt = torch.optim.SGD(model.parameters(), lr=float(lrs[0]), momentum=0.9)
    g = torch.Generator().manual_seed(0)
    out = np.empty(len(lrs))
    for i, lr in enumerate(lrs):
        idx = torch.randint(0, len(y), (64,), generator=g)
        xb, yb = x[idx], y[idx]
        if i == bad_step:
            xb, yb = xb * 3, yb[torch.randperm(64, generator=g)]
        for group in opt.param_groups:
            group["lr"] = float(lr)
        loss = nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        out[i] = loss.item()
    return out


#: a range test's curve of this model, in the shape the finder gives (descent around 1e-2)
REAL_CURVE = (np.logspace(-6, 1, 100), 2 / (1 + np.exp(3 * (np.linspace(-6, 1, 100) + 1.5))) + 0.3)


@pytest.fixture(scope="module")
def runs():
    steps = 192
    good = np.full(steps, 0.1)
    later = good.copy()
    later[96:] = 3.0
    return {
        "healthy": (train_digits(good), good),
        "spike": (train_digits(good, bad_step=96), good),
        "high": (train_digits(later), later),
        "low": (train_digits(good / 1000), good / 1000),
    }


def test_real_healthy_and_recovering_spike_are_no_alarm(runs):
    for name in ("healthy", "spike"):
        got = feed(Doctor(curve=REAL_CURVE), *runs[name])
        assert all(d.verdict in ("watching", "healthy") for d in got), name
        assert got[-1].verdict == "healthy", name


def test_real_divergence_is_too_high_soon_after_the_rise(runs):
    got = feed(Doctor(curve=REAL_CURVE), *runs["high"])
    flags = [i for i, d in enumerate(got) if d.verdict == "too_high"]
    assert flags and (flags[0] + 1) * 16 - 96 <= 20 + 16
    assert got[flags[0]].since is not None and got[flags[0]].since >= 80


def test_real_too_low_needs_the_curve(runs):
    losses, lrs = runs["low"]
    assert feed(Doctor(curve=REAL_CURVE), losses, lrs)[-1].verdict == "too_low"
    assert all(d.verdict != "too_low" for d in feed(Doctor(), losses, lrs))


def test_no_progress_at_the_edge_of_the_curve_is_too_high():
    # fell once, then swings without progress for 64+ steps (Adam at 30x on the digits CNN)
    y = np.r_[falling(64), noisy(np.full(136, 0.6), seed=3, rel=0.3)]
    edge = RangeCurve.of(curve()).min_lr
    assert edge is not None
    got = feed(Doctor(curve=curve()), y, lr=edge / 2)
    assert got[-1].verdict == "too_high" and got[-1].evidence == "curve"
    assert "no progress" in got[-1].reason
    # the same stream 10x below the edge is no alarm: a plateau at a sane lr is not too high
    assert all(d.verdict != "too_high" for d in feed(Doctor(curve=curve()), y, lr=edge / 30))
