"""The spread benchmark (issue 21) stays runnable, and its measures mean what they say."""

import math
import os
import re
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "benchmarks"))

import choice_quality as C  # noqa: E402
import spread as SP  # noqa: E402
import tasks as T  # noqa: E402


def test_the_spread_is_the_pooled_standard_deviation_of_log10_lr_within_each_group():
    assert SP.pooled_sd([[1e-3, 1e-3, 1e-3]]) == 0.0
    # log10: [-3, -2] and [-4, -3]: each variance (ddof 1) 0.5; a group of one says nothing
    assert SP.pooled_sd([[1e-3, 1e-2], [1e-4, 1e-3], [5.0]]) == pytest.approx(math.sqrt(0.5))
    assert math.isnan(SP.pooled_sd([[1e-3]]))


def test_the_gap_at_an_lr_is_interpolated_in_log_lr_between_the_grids_scores():
    grid = list(np.linspace(50, 90, len(C.GRID)))  # rises to the grid's last lr
    assert SP.gap_at(grid, float(C.GRID[-1])) == 0.0
    assert SP.gap_at(grid, float(C.GRID[0])) == pytest.approx(40.0)
    mid = math.sqrt(C.GRID[3] * C.GRID[4])  # halfway in log10
    assert SP.gap_at(grid, mid) == pytest.approx(90 - (grid[3] + grid[4]) / 2)
    assert SP.gap_at(grid, 1e-9) == pytest.approx(40.0)  # clamped at the ends
    assert SP.gap_at(grid, None) == pytest.approx(40.0)  # no answer: the worst


@pytest.mark.slow  # trains the benchmark's smallest family: make test runs it, make test-fast not
def test_the_benchmark_runs_on_the_smallest_family(tmp_path, monkeypatch):
    monkeypatch.setattr(C, "GRID", np.logspace(-5, 0, 5))  # its resolution is not what is checked
    cache = C.Cache(str(tmp_path / "cache.json"))
    res = SP.measure(["diabetes"], [0], 3, cache, log=lambda *a: None)["diabetes"]
    default = res[SP.DEFAULT]
    # one pick per (optimizer, order), grouped by (optimizer, seed)
    assert sorted(default["groups"]) == [(o, 0) for o in sorted(T.OPTIMIZERS)]
    assert all(len(g) == 3 for g in default["groups"].values())
    # order 0 is choice_quality's own range test; the others see the batches in other orders
    task = T.FAMILIES["diabetes"]()
    curves = [SP.curve(cache, task, "adam", 0, d) for d in range(3)]
    assert np.array_equal(curves[0][1], C.curve_of(cache, task, "adam", 0)[1], equal_nan=True)
    assert not np.array_equal(curves[0][1], curves[1][1], equal_nan=True)
    pick = C.rules()[SP.DEFAULT](*curves[1])
    assert default["groups"][("adam", 0)][1] == pick
    # a 3-test median per (optimizer, seed) from 3 orders: one estimate each
    med = res[f"{C.S.DEFAULT}, median of 3 tests"]
    assert all(len(g) == 1 for g in med["groups"].values())
    assert med["groups"][("adam", 0)] == [float(np.median(default["groups"][("adam", 0)]))]
    md = SP.markdown({"diabetes": res}, ["diabetes"], [0], 3)
    row = next(s for s in md.splitlines() if s.startswith(f"| **{SP.DEFAULT}**"))
    assert re.search(r"\| 1 \| \d\.\d\d \| \d\.\d\d \| -?\d+\.\d / -?\d+\.\d \|$", row), row
