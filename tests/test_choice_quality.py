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


@pytest.mark.parametrize("orders", [1, 2])
def test_benchmark_runs_end_to_end_on_the_smallest_family(tmp_path, orders):
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
