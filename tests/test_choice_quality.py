"""The choice-quality benchmark stays runnable, and its anchors and scoring mean what they say.

The full benchmark takes minutes; here it runs on its smallest family (diabetes, one seed) so a
change to the engine, the rules or the task code that breaks it shows up in the suite.
"""

import math
import os
import re
import sys

import numpy as np
import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "benchmarks"))

import choice_quality as C  # noqa: E402
import tasks as T  # noqa: E402

LRS = np.logspace(-7, 1, 100)


def two_falls():
    """A fall of 1.0 over 5 steps at small lrs, and a steeper one (1.5 over 5 steps) at large
    lrs."""
    loss = np.full(100, 3.5)
    loss[30:35] = np.linspace(3.5, 2.5, 5)
    loss[35:80] = 2.5
    loss[80:85] = np.linspace(2.5, 1.0, 5)
    loss[85:] = 1.0
    return loss


def test_torch_lr_finder_anchor_takes_the_steepest_fall_per_step():
    loss = two_falls()
    assert 80 <= list(LRS).index(C.torch_lr_finder_rule(LRS, loss, loss)) <= 84
    assert C.torch_lr_finder_rule(LRS[:15], loss[:15], loss[:15]) is None


def test_lightning_anchor_takes_the_steepest_fall_per_unit_of_lr_and_drops_non_finite():
    # against lr itself, the small-lr fall is steeper by orders of magnitude (Lightning's bias)
    loss = two_falls()
    loss[95] = np.nan
    assert 30 <= list(LRS).index(C.lightning_rule(LRS, loss, loss)) <= 34
    assert C.lightning_rule(LRS[:11], loss[:11], loss[:11]) is None


def test_score_averaged_over_orders_is_the_mean_of_single_orders():
    torch.set_num_threads(1)
    task = T.diabetes()
    cache = C.Cache(None)
    one = C.score_at(cache, task, "adam", 0, 1e-2, orders=1)
    two = C.score_at(cache, task, "adam", 0, 1e-2, orders=2)
    other = C._score_order(cache, task, "adam", 0, 1e-2, C.DATA_ORDERS[1])
    assert one == T.train_score(task, "adam", 1e-2, 0)  # order 0 is the benchmark's own
    assert other != one  # another data order really trains differently
    assert two == pytest.approx((one + other) / 2)


@pytest.fixture
def coarse_grid(monkeypatch):
    """The benchmark's reference grid (13 lrs, 1e-5 to 1) at 5 lrs over the same span: what the
    end-to-end runs check (the pipeline runs; rows, table and plot hold together) does not
    depend on its resolution, and each grid lr is a training run."""
    monkeypatch.setattr(C, "GRID", np.logspace(-5, 0, 5))


@pytest.mark.slow  # trains the benchmark's families: make test runs it, make test-fast not
@pytest.mark.parametrize("orders", [1, 2])
def test_benchmark_runs_end_to_end_on_the_smallest_family(tmp_path, orders, coarse_grid):
    rows = C.main(
        [
            "--families",
            "diabetes",
            "--seeds",
            "1",
            "--no-cache",
            "--orders",
            str(orders),
            "--out",
            str(tmp_path),
        ]
    )
    suffix = f"_orders{orders}" if orders > 1 else ""
    md = (tmp_path / f"choice_quality{suffix}.md").read_text()
    assert (tmp_path / f"choice_quality{suffix}.png").stat().st_size > 10_000
    names = {r["rule"] for r in rows}
    assert {"minimum (default)", "valley", "torch-lr-finder", "lightning", C.NOISE_ROWS[0]} <= names
    for r in rows:
        assert math.isfinite(r["gap"]) and r["gap"] == pytest.approx(r["best"] - r["score"])
        assert r["gap"] >= -100 and r["best"] <= 100
    # every row of one (optimizer, seed) is measured against the same reference
    rule_rows = [r for r in rows if r["rule"] not in C.NOISE_ROWS]
    grid_best = {(r["opt"], r["seed"]): r["best"] for r in rows}
    assert all(r["best"] == grid_best[(r["opt"], r["seed"])] for r in rule_rows)
    # the table has the default row with a mean / worst pair per column
    line = next(s for s in md.splitlines() if s.startswith("| **minimum (default)**"))
    cells = re.findall(r"(-?\d+\.\d) / (-?\d+\.\d)", line)
    assert len(cells) == 3  # design, all, diabetes
    assert all(float(m) <= float(w) for m, w in cells)


# --- the fine-tuning family --------------------------------------------------------------------

#: a small configuration of the fine-tuning family (the benchmark's: width 128, 1200 steps at 1e-3)
#: whose pre-training still makes the task learnable (what one test checks): fine-tuned 39.7%
#: against 32.3% from scratch (500 steps at 3e-3: 40.4%, at 2.5x the CPU; 200 steps: 35.8%)
QUICK_FT = dict(width=64, pretrain_steps=300, pretrain_lr=5e-3)
#: the smallest configuration that runs every step of the family (pre-training, the pre-trained
#: encoder with a new head, AdamW with the linear decay): for the tests that check the code path,
#: not how well it learns (~4 CPU-s, QUICK_FT's pre-training alone ~6)
TINY_FT = dict(width=16, pretrain_steps=20, pretrain_lr=3e-3, labelled=16, epochs=2)


def quick_finetune():
    return T.finetune_text(**QUICK_FT)


def tiny_finetune():
    return T.finetune_text(**TINY_FT)


@pytest.mark.slow  # trains the benchmark's families: make test runs it, make test-fast not
def test_finetune_models_start_from_the_pretrained_encoder_with_a_seeded_head():
    torch.set_num_threads(1)
    task = tiny_finetune()
    key = (TINY_FT["width"], TINY_FT["pretrain_steps"], TINY_FT["pretrain_lr"], 20000, 0)
    T._PRETRAINED.pop(key, None)  # the first model made below runs the pre-training
    torch.manual_seed(5)
    first = task.make_model()
    after_first = torch.rand(3)
    torch.manual_seed(5)
    second = task.make_model()
    # pre-training left the global random state alone: same seed, same head, same draws after
    assert torch.equal(after_first, torch.rand(3))
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values()):
        assert torch.equal(a, b), name
    pretrained = T._PRETRAINED[key]
    for name, w in first.encoder.state_dict().items():
        assert torch.equal(w, pretrained[name]), name
    torch.manual_seed(5)
    fresh = T._Encoder(TINY_FT["width"])  # what the encoder was before pre-training
    assert not torch.equal(fresh.tok.weight, pretrained["tok.weight"])
    torch.manual_seed(6)
    other = task.make_model()
    assert not torch.equal(other.head.weight, first.head.weight)
    assert torch.equal(other.encoder.tok.weight, first.encoder.tok.weight)


def test_pretraining_is_what_makes_the_finetuning_task_learnable():
    torch.set_num_threads(1)
    task = quick_finetune()
    width = QUICK_FT["width"]
    scratch = T.Task(
        **{**task.__dict__, "make_model": lambda: T._Classifier(T._Encoder(width), width, 8)}
    )
    # same architecture, head init, data and lr; only the encoder's pre-training differs
    tuned = T.train_score(task, "adamw", 3e-3, 0)
    from_scratch = T.train_score(scratch, "adamw", 3e-3, 0)
    assert tuned > from_scratch + 5, (tuned, from_scratch)


def test_linear_schedule_is_the_trainers_default_and_is_applied():
    assert [T.lr_at("linear", 2.0, s, 4) for s in range(4)] == [2.0, 1.5, 1.0, 0.5]
    assert T.lr_at("constant", 2.0, 3, 4) == 2.0
    with pytest.raises(ValueError, match="schedule must be 'constant' or 'linear'"):
        T.lr_at("cosine", 2.0, 0, 4)
    torch.set_num_threads(1)
    task = T.diabetes()
    linear = T.Task(**{**task.__dict__, "schedule": "linear"})
    # same init, data and peak lr: only the schedule differs
    assert T.train_score(task, "sgd", 0.03, 0) != T.train_score(linear, "sgd", 0.03, 0)


@pytest.mark.slow  # trains the benchmark's families: make test runs it, make test-fast not
def test_benchmark_runs_the_finetuning_family_with_adamw_only(tmp_path, monkeypatch, coarse_grid):
    torch.set_num_threads(1)  # a worker's other threads only wait on this one's small matrices
    # T.ALL is what evaluate() builds a family's task from (T.FAMILIES only names them)
    monkeypatch.setitem(T.ALL, "finetune_text", tiny_finetune)
    rows = C.main(
        ["--families", "finetune_text", "--seeds", "1", "--no-cache", "--out", str(tmp_path)]
    )
    assert {r["opt"] for r in rows} == {"adamw"}
    assert {"minimum (default)", "valley", "torch-lr-finder", "lightning"} <= {
        r["rule"] for r in rows
    }
    for r in rows:
        assert math.isfinite(r["gap"]) and r["gap"] == pytest.approx(r["best"] - r["score"])
    md = (tmp_path / "choice_quality.md").read_text()
    assert "finetune_text: AdamW only" in md
    line = next(s for s in md.splitlines() if s.startswith("| **minimum (default)**"))
    assert len(re.findall(r"(-?\d+\.\d) / (-?\d+\.\d)", line)) == 3  # held out, all, the family


# --- the one-cycle family (issue 19) -----------------------------------------------------------


def test_the_one_cycle_family_scores_peaks_and_the_suggested_range(monkeypatch):
    # the smallest one-cycle family, one optimizer, one seed, three grid peaks, no plot: < 5 s
    torch.set_num_threads(1)
    monkeypatch.setattr(C, "GRID", np.logspace(-4, 0, 3))
    task = T.one_cycle(lambda: T.Task(**{**T.digits_mlp().__dict__, "optimizers": ("adam",)}))()
    monkeypatch.setitem(T.ALL, "digits_mlp_1cycle", lambda: task)
    rows = C.evaluate(["digits_mlp_1cycle"], [0], C.Cache(None), log=lambda *a: None)
    (ranged,) = [r for r in rows if r["rule"] == C.RANGE_ROW]
    (default,) = [r for r in rows if r["rule"] == "minimum (default)"]
    # the suggested range's peak: PEAK_FACTOR x the default suggestion, snapped to a tested lr
    # (1.2x apart); the row before it trained the suggestion itself as the peak
    assert ranged["lr"] == pytest.approx(C.PEAK_FACTOR * default["lr"], rel=0.2)
    assert ranged["lo"] < default["lr"]
    (before,) = [r for r in rows if r["rule"] == C.RANGE_X1_ROW]
    assert before["lr"] == pytest.approx(default["lr"], rel=0.2) and before["lo"] == ranged["lo"]
    assert ranged["gap"] == pytest.approx(ranged["best"] - ranged["score"])
    assert C.CONFIRM_ROW not in {r["rule"] for r in rows}  # a constant-lr probe: not here
    md = C.markdown(rows, ["digits_mlp_1cycle"], T.ONE_CYCLE_DESIGN, (), [0])
    assert "trained with lrwidget's one cycle" in md and f"| {C.RANGE_ROW} |" in md
    # the one cycle is the product's: a peak trains otherwise than the same constant lr
    flat = T.Task(**{**task.__dict__, "schedule": "constant"})
    assert T.train_score(task, "adam", 1e-2, 0) != T.train_score(flat, "adam", 1e-2, 0)


# --- the fine-tuning family that discriminates (issue 21) --------------------------------------

#: the benchmark's finetune_digits is width 256, pre-trained for 3000 steps (~15 CPU-s); width 64
#: for 300 steps takes ~0.3 CPU-s and still reads 82% of the rescanned digits untouched
DIGITS_FT_WIDTH = 64


@pytest.fixture
def short_pretraining(monkeypatch):
    """finetune_digits pre-trained for 300 steps (it calls ``tasks.pretrain_digits``)."""
    pretrain = T.pretrain_digits
    monkeypatch.setattr(T, "pretrain_digits", lambda width: pretrain(width, steps=300))


def test_finetune_digits_starts_from_the_pretrained_model_on_data_it_never_saw(short_pretraining):
    torch.set_num_threads(1)
    task = T.finetune_digits(width=DIGITS_FT_WIDTH)
    scratch = T.finetune_digits(width=DIGITS_FT_WIDTH, pretrained=False)
    pretrained = T.pretrain_digits(DIGITS_FT_WIDTH)
    assert pretrained is T._PRETRAINED_DIGITS[(DIGITS_FT_WIDTH, 300, 1e-3)]
    torch.manual_seed(0)
    tuned = task.make_model()
    for name, w in tuned.state_dict().items():
        assert torch.equal(w, pretrained[name]), name
    torch.manual_seed(0)
    fresh = scratch.make_model()
    assert not torch.equal(fresh[0].weight, pretrained["0.weight"])
    # the same labelled, validation and test digits, apart: the 797 that pre-training never saw
    assert (len(task.x_train), len(task.val[0]), len(task.x_test)) == (20, 50, 727)
    assert torch.equal(task.x_train, scratch.x_train) and torch.equal(task.y_test, scratch.y_test)
    # the rescanned domain: what pre-training saw was in [0, 1] with a black background
    assert float(task.x_test.min()) < 0.2 < float(task.x_test.median()) < 0.5
    # untouched, the pre-trained model already reads most rescanned digits; a fresh one: chance
    assert task.score(tuned) > 60 > 30 > scratch.score(fresh)


def test_the_benchmark_reads_a_validation_curve_where_a_family_has_one(
    monkeypatch, short_pretraining
):
    torch.set_num_threads(1)
    monkeypatch.setattr(C, "GRID", np.logspace(-4, 0, 3))
    task = T.finetune_digits(width=DIGITS_FT_WIDTH, epochs=2)
    monkeypatch.setitem(T.ALL, "finetune_digits", lambda: task)
    cache = C.Cache(None)
    train, val = (C.curve_of(cache, task, "adamw", 0, v)[1] for v in (False, True))
    # val_loader's losses, not the batches': another start, and the sweep may stop elsewhere
    assert not np.allclose(train[:20], val[:20])
    rows = C.evaluate(["finetune_digits"], [0], cache, log=lambda *a: None, confirm=False)
    (row,) = [r for r in rows if r["rule"] == C.VAL_ROW]
    assert row["lr"] == C.val_lr(cache, task, "adamw", 0) and row["gap"] == pytest.approx(
        row["best"] - row["score"]
    )
    md = C.markdown(rows, ["finetune_digits"], T.DESIGN, T.HELD_OUT, [0])
    assert f"| {C.VAL_ROW} |" in md and "Asymmetry" in md and "finetune_digits " in md
    # a family without a validation split has no such row
    monkeypatch.setitem(
        T.ALL, "diabetes", lambda: T.Task(**{**T.diabetes().__dict__, "optimizers": ("adam",)})
    )
    rows = C.evaluate(["diabetes"], [0], cache, log=lambda *a: None, confirm=False)
    assert C.VAL_ROW not in {r["rule"] for r in rows}
