"""benchmarks/rivals.py stays runnable: every rival trains on a small family with the scoring
of choice_quality.py, and its report says what it measured. The full benchmark takes an hour;
here one epoch of diabetes per rival (seconds)."""

import math
import os
import sys

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "benchmarks"))

pytest.importorskip("prodigyopt")
pytest.importorskip("schedulefree")
pytest.importorskip("dadaptation")

import choice_quality as C  # noqa: E402
import rivals as R  # noqa: E402
import tasks as T  # noqa: E402


@pytest.fixture(scope="module")
def task():
    torch.set_num_threads(1)
    return R.longer(T.Task(**{**T.diabetes().__dict__, "epochs": 1}), 1)


def test_longer_runs_are_named_apart_and_train_k_times_the_epochs(task):
    four = R.longer(task, 4)
    assert four.name == "diabetes_x4" and four.epochs == 4 * task.epochs
    assert R.run_steps(four) == 4 * R.run_steps(task)


@pytest.mark.parametrize("name", list(R.OPTIMIZERS))
def test_every_rival_trains_and_scores_reproducibly(task, name):
    lr = 0.0025 if name == "sf_adamw" else 1.0
    a = R.train_score(task, name, lr, 0)
    assert math.isfinite(a) and a == R.train_score(task, name, lr, 0)


def test_choice_qualitys_optimizers_go_through_its_own_scoring(task):
    cache = C.Cache(None)
    assert R.score(cache, task, "adam", 0, 1e-2) == T.train_score(task, "adam", 1e-2, 0)


def test_the_report_checks_the_issues_goals():
    row = {r.label: r for r in R.ROWS}
    results = [
        dict(family="f", length=1, seed=0, row=row[R.ROWS[0].label], lr=1e-3, gap=1.0, steps=200),
        dict(family="f", length=1, seed=0, row=row[R.ROWS[1].label], lr=1.0, gap=0.5, steps=100),
        dict(family="f", length=1, seed=0, row=row[R.ROWS[5].label], lr=1e-2, gap=0.5, steps=200),
    ]
    goals = R.goals(results)
    assert goals == [
        "- f 1x: default 1.0 / 1.0 vs Prodigy 0.5 / 0.5: NOT met",
        "- f 1x: schedule-free AdamW at the suggestion 0.5 / 0.5: within 1 point",
    ]


def test_the_report_has_a_table_per_length_with_the_cost_and_every_family():
    steps = R.run_steps(T.diabetes())
    results = [
        dict(family="diabetes", length=1, seed=s, row=R.ROWS[1], lr=1.0, gap=g, steps=steps)
        for s, g in ((0, 2.0), (1, 4.0))
    ]
    md = R.markdown(results, ["diabetes"], "python benchmarks/rivals.py --x")
    assert "seeds [0, 1] at 1x;" in md and "Made by `python benchmarks/rivals.py --x`." in md
    assert "| 1x the epochs | cost | all | diabetes |" in md and "4x the epochs" not in md
    assert "| Prodigy (defaults) | 1 run (1.00 runs) | 3.0 / 4.0 | 3.0 / 4.0 |" in md
