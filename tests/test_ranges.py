"""lrwidget.pure.ranges (issue 19, pure): a dragged range snaps to tested lrs at both ends, bad
ranges are refused naming lo / hi, the suggested range, the rules' numbers for each kind, and the
preview's steps (each column's lowest and highest value exact for a piecewise-monotone curve).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from lrwidget.pure import rules
from lrwidget.pure.ranges import (
    MIN_SPAN,
    PEAK_FACTOR,
    check_total_steps,
    column_edges,
    column_extremes,
    cyclic_step_size,
    preview_steps,
    snap_range,
    suggest_range,
    warmup_steps,
)

ROOT = Path(__file__).resolve().parents[1]
LRS = np.geomspace(1e-5, 1.0, 61)


def _nearest(want: float) -> float:
    return float(LRS[int(np.argmin(np.abs(np.log(LRS) - math.log(want))))])


# ---------------------------------------------------------------------------- the rules file
def test_the_schedule_rules_come_from_the_json_file_in_picker_order():
    data = json.loads((ROOT / "lrwidget" / "pure" / "rules.json").read_text(encoding="utf-8"))
    sec = data["schedule"]
    assert list(rules.SCHEDULE_KINDS.items()) == [
        ("one_cycle", "One cycle"),
        ("cyclic", "Cyclic (triangular)"),
        ("cosine", "Warmup + cosine"),
        ("linear", "Warmup + linear decay"),
    ]
    assert [k["name"] for k in sec["kinds"]] == list(rules.SCHEDULE_KINDS)
    for key in ("previewColumns", "finalDivisor", "warmupFraction", "cyclicCycles"):
        assert rules.SCHEDULE[key] == sec[key]
    assert (rules.SCHEDULE["minTotalSteps"], rules.SCHEDULE["maxTotalSteps"]) == (2, 10**9)
    assert rules.SCHEDULE["finalDivisor"] == 100


# ---------------------------------------------------------------------------- snapping
@pytest.mark.parametrize("lo, hi", [(1e-5, 1.0), (1.3e-4, 0.0021), (3.3e-3, 3.4e-3 * 1.5)])
def test_both_ends_of_a_range_snap_to_the_nearest_tested_lr(lo, hi):
    a, b = snap_range(LRS, lo, hi)
    assert (a, b) == (_nearest(lo), _nearest(hi))
    assert a in LRS and b in LRS and a < b


@pytest.mark.parametrize(
    "lo, hi, words",
    [
        (1e-3, 1e-3, "lo must be below hi"),
        (1e-2, 1e-3, "lo must be below hi"),
        (1e-9, 1e-3, "lo: lr 1e-09 is outside the tested range"),
        (1e-3, 10.0, "hi: lr 10.0 is outside the tested range"),
        (float("nan"), 1e-3, "lo must be a positive finite number"),
        (1e-3, float("inf"), "hi must be a positive finite number"),
        (-1e-3, 1e-2, "lo must be a positive finite number"),
        (True, 1e-2, "lo must be a positive finite number"),
        ("1e-3", 1e-2, "lo must be a positive finite number"),
        (1.01e-3, 1.02e-3, "snap to the same tested lr"),
    ],
)
def test_bad_ranges_are_refused_naming_the_end(lo, hi, words):
    with pytest.raises(ValueError, match=words):
        snap_range(LRS, lo, hi)


def test_a_range_without_readings_is_refused():
    with pytest.raises(ValueError, match="no readings yet"):
        snap_range(np.array([np.nan]), 1e-3, 1e-2)


# ---------------------------------------------------------------------------- the suggestion
def _result(losses, suggested):
    return SimpleNamespace(lrs=LRS, smoothed=losses, losses=losses, suggested_lr=suggested)


def test_the_suggested_range_peaks_at_peak_factor_times_the_suggestion_and_starts_where_it_falls():
    x = np.log10(LRS)
    falls = 2 / (1 + np.exp(4 * (x + 3))) + 0.1  # falls around 1e-3, flat from 1e-2
    lo, hi = suggest_range(_result(falls, 0.0123))
    assert hi == _nearest(PEAK_FACTOR * _nearest(0.0123))
    # a tenth of the way down: 2 / (1 + e^u) = 1.8 at u = -ln 9
    want = 10 ** (-3 - math.log(9) / 4)
    assert lo == LRS[np.flatnonzero(falls <= 2.1 - 0.1 * (2.1 - falls.min()))[0]]
    assert abs(math.log10(lo) - math.log10(want)) < 0.1
    assert lo in LRS and lo < _nearest(0.0123) / MIN_SPAN


def test_a_suggested_range_is_at_least_min_span_wide_and_none_without_a_suggestion():
    flat_then_cliff = np.where(LRS < 1e-2, 1.0, 1.0 - (np.log10(LRS) + 2))
    lo, hi = suggest_range(_result(flat_then_cliff, 0.05))
    # the low end is MIN_SPAN below the suggestion (within half a reading), the peak above it
    assert lo <= _nearest(0.05) / MIN_SPAN * 10 ** (5 / 60 / 2) and lo in LRS
    assert hi / lo >= PEAK_FACTOR * MIN_SPAN / 10 ** (5 / 60)
    # the peak stays a tested lr when PEAK_FACTOR x the suggestion is past the last one
    assert suggest_range(_result(flat_then_cliff, float(LRS[-2])))[1] == LRS[-1]
    assert suggest_range(_result(flat_then_cliff, None)) is None
    assert suggest_range(_result(flat_then_cliff, float(LRS[0]))) is None  # nothing below
    assert suggest_range(_result(flat_then_cliff, None)) is None
    assert suggest_range(_result(flat_then_cliff, float(LRS[0]))) is None  # nothing below


# ---------------------------------------------------------------------------- the kinds' numbers
@pytest.mark.parametrize("bad", [1, 0, -5, 2.5, True, "100", None, 10**9 + 1, float("nan")])
def test_a_bad_total_steps_is_refused_naming_it_and_the_accepted_values(bad):
    with pytest.raises(ValueError, match=r"total_steps must be an int from 2 to 1000000000"):
        check_total_steps(bad)


def test_warmup_and_cycle_numbers_follow_the_rules():
    assert check_total_steps(np.int64(2)) == 2
    assert [warmup_steps(n) for n in (2, 3, 10, 1000, 10**9)] == [1, 1, 1, 100, 10**8]
    assert [cyclic_step_size(n) for n in (2, 16, 1000, 1001)] == [1, 2, 125, 125]


# ---------------------------------------------------------------------------- preview steps
@pytest.mark.parametrize("n, cols", [(10, 4), (1000, 512), (10**9, 512), (7, 7), (3, 512)])
def test_columns_cover_every_step_once(n, cols):
    e = column_edges(n, cols)
    assert e[0] == 0 and e[-1] == n and e.size == min(cols, n) + 1
    assert np.all(np.diff(e) >= 1)


def test_every_columns_extremes_are_exact_for_a_piecewise_monotone_curve():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(2, 5000))
        cols = int(rng.integers(1, 600))
        turns = np.sort(rng.uniform(0, n, size=int(rng.integers(0, 6))))
        every = np.arange(n)
        # a zig-zag turning exactly at `turns`: up, down, up... between them
        knots = np.r_[-1.0, turns, n + 1.0]
        heights = rng.normal(size=knots.size).cumsum() + np.arange(knots.size) % 2 * 5
        curve = np.interp(every, knots, heights)
        s = preview_steps(n, cols, turns)
        assert np.all(np.diff(s) > 0) and s[0] == 0 and s[-1] == n - 1
        lo, hi = column_extremes(s, curve[s], n, cols)
        e = column_edges(n, cols)
        want_lo = np.array([curve[a:b].min() for a, b in zip(e[:-1], e[1:])])
        want_hi = np.array([curve[a:b].max() for a, b in zip(e[:-1], e[1:])])
        np.testing.assert_array_equal(lo, want_lo)
        np.testing.assert_array_equal(hi, want_hi)


def test_a_preview_of_a_billion_steps_evaluates_a_few_per_column():
    s = preview_steps(10**9, 512, [3e8 - 1, 10**9 - 1])
    assert s.dtype == np.int64 and s.size <= 2 * 512 + 4
    assert s[-1] == 10**9 - 1
    assert preview_steps(5, None).tolist() == [0, 1, 2, 3, 4]
