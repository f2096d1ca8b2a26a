"""lrwidget.views.report: geometry as pure functions, then the SVG / HTML built from a real run."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lrwidget import LRFinder
from lrwidget.engine.history import RangeTestResult
from lrwidget.pure.rules import linear_ticks, log_ticks, y_range
from lrwidget.views.report import Scale, format_lr, save_html, segments, summary_line, to_svg
from tests.digits import digits_sgd

SVG = "{http://www.w3.org/2000/svg}"


# ---------------------------------------------------------------------------- geometry
def test_log_ticks_are_the_decades_in_range():
    ticks = log_ticks(3e-6, 2.0)
    assert [v for v, _ in ticks] == [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    assert ticks[0][1] == "10\u207b\u2075" and ticks[-1][1] == "1"


def test_log_ticks_thin_out_wide_ranges_and_keep_one():
    vals = [v for v, _ in log_ticks(1e-12, 1e3, max_ticks=6)]
    assert len(vals) <= 6
    exps = [round(math.log10(v)) for v in vals]
    assert len(set(np.diff(exps))) == 1 and 0 in exps


def test_log_ticks_inside_one_decade_use_1_2_5_when_crowded():
    assert [v for v, _ in log_ticks(0.015, 0.3, max_ticks=4)] == [0.02, 0.05, 0.1, 0.2]
    assert len(log_ticks(0.0301, 0.0302)) == 2  # too narrow for 1-2-5: its two ends


@pytest.mark.parametrize("lo, hi", [(0, 1), (-1, 1), (1, math.inf), (math.nan, 1)])
def test_log_ticks_reject_a_non_positive_range(lo, hi):
    with pytest.raises(ValueError, match="log_ticks"):
        log_ticks(lo, hi)


@settings(max_examples=200, deadline=None)
@given(st.floats(-8, 3), st.floats(0.05, 12))
def test_log_ticks_lie_in_range_and_increase(e, span):
    lo, hi = 10.0**e, 10.0 ** (e + span)
    vals = [v for v, _ in log_ticks(lo, hi)]
    assert len(vals) >= 2
    assert all(lo * (1 - 1e-8) <= v <= hi * (1 + 1e-8) for v in vals)  # log10 round-off
    assert all(a < b for a, b in zip(vals, vals[1:]))


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e6, 1e6), st.floats(1e-6, 1e6))
def test_linear_ticks_are_round_and_cover_the_range(lo, span):
    hi = lo + span
    t = [v for v, _ in linear_ticks(lo, hi, 5)]
    assert 2 <= len(t) <= 12
    step = t[1] - t[0]
    # inside the range, up to float spacing at |lo| (1e-6 wide near 879610 is ~8600 ulps)
    tol = 1e-9 * span + 4 * np.spacing(max(abs(lo), abs(hi)))
    assert all(lo - tol <= v <= hi + tol for v in t)
    # equal steps, up to float spacing at |lo| (ticks 1e-6 apart near 16384 are not exact)
    assert np.allclose(np.diff(t), step, rtol=1e-6, atol=1e-6 * span + 1e-12 * abs(lo))
    assert t[0] - lo < step * (1 + 1e-9) and hi - t[-1] < step * (1 + 1e-9)


def test_y_range_clips_a_diverging_tail():
    sm = np.concatenate([np.linspace(2.3, 0.5, 80), np.geomspace(0.6, 1e6, 19), [np.inf]])
    lo, hi = y_range(sm)
    # the start and the minimum readable, 1e6 cut off: the top is at most the start plus 1.5
    # times its rise above the minimum (2.3 + 1.5 * 1.8 = 5), with 6 % padding
    assert lo < 0.5 < 2.3 < hi <= 5.0 + 0.06 * 4.5 + 1e-12
    # without a tail the top is the start (plus padding), not half a span more
    lo2, hi2 = y_range(np.linspace(2.3, 0.5, 80))
    assert hi2 < 2.5 and lo2 < 0.5


def test_y_range_of_degenerate_curves():
    assert y_range([math.nan, math.inf]) == (0.0, 1.0)
    lo, hi = y_range([1.0, 1.0, 1.0])
    assert lo < 1.0 < hi
    lo, hi = y_range([5.0])
    assert lo < 5.0 < hi


def test_y_range_lets_raw_noise_widen_the_bottom_a_little():
    sm = np.linspace(2, 1, 50)
    lo, _ = y_range(sm, raw=sm - 0.2, pad=0)
    assert lo == pytest.approx(0.8)
    lo, _ = y_range(sm, raw=np.r_[sm, -100.0], pad=0)
    assert lo >= 0.5  # an outlier does not rescale the plot


def test_scale_maps_and_inverts_in_log_space():
    s = Scale(1e-5, 1e-1, 100, 500, log=True)
    assert s(1e-5) == 100 and s(1e-1) == 500 and s(1e-3) == pytest.approx(300)
    assert s.invert(300) == pytest.approx(1e-3)
    lin = Scale(0, 10, 200, 0)
    assert lin(2.5) == 150
    with pytest.raises(ValueError):
        Scale(0, 1, 0, 1, log=True)


def test_segments_break_at_non_finite_points_and_clip():
    sx, sy = Scale(1, 8, 0, 70, log=False), Scale(0, 1, 100, 0)
    segs = segments([1, 2, 3, 4, 5], [0.5, math.inf, 0.25, 2.0, math.nan], sx, sy, 0.0, 1.0)
    assert segs == [[(0.0, 50.0)], [(20.0, 75.0), (30.0, 0.0)]]


def test_format_lr():
    assert format_lr(0.001) == "1e-3"
    assert format_lr(0.0316227766) == "3.16e-2"
    assert format_lr(1.0) == "1"
    assert format_lr(2.5) == "2.5"
    assert format_lr(math.inf) == "inf" and format_lr(None) == "\u2014"


# ---------------------------------------------------------------------------- SVG / HTML
@pytest.fixture(scope="module")
def result():
    model, opt, loader = digits_sgd()
    r = LRFinder(model, opt, nn.CrossEntropyLoss()).range_test(loader, end_lr=10, num_iter=200)
    assert r.stop_reason == "diverged"  # the fixture is meant to exercise the tail
    return r


def test_svg_draws_the_curve_ticks_suggestions_and_chosen_lines(result):
    svg = to_svg(result, selected_lr=1e-2, applied_lr=3e-3, width=720, height=360)
    root = ET.fromstring(svg)  # well-formed XML
    assert root.get("width") == "720" and root.get("height") == "360"
    lines = root.findall(f".//{SVG}polyline")
    assert len(lines) >= 2
    widths = {float(p.get("stroke-width")) for p in lines}
    assert max(widths) > min(widths)  # smoothed bold, raw faint
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "10\u207b\u2074" in texts and "10\u207b\u00b2" in texts
    assert any(t.startswith("diverged at") for t in texts)
    assert any(t == "selected 1e-2" for t in texts) and any(t == "applied 3e-3" for t in texts)
    for name, s in result.suggestions.items():
        assert any(t.startswith(name) and format_lr(s.lr) in t for t in texts)
    # every drawn point is inside the picture, the diverging tail included
    for p in lines:
        for xy in p.get("points").split():
            x, y = map(float, xy.split(","))
            assert 0 <= x <= 720 and 0 <= y <= 360


def test_svg_x_positions_follow_the_log_scale(result):
    root = ET.fromstring(to_svg(result, selected_lr=1e-3, width=720, height=360))
    lines = {ln.get("stroke-dasharray"): ln for ln in root.findall(f"{SVG}line")}
    sel = float(lines["5 4"].get("x1"))
    ticks = {t.text: float(t.get("x")) for t in root.iter(f"{SVG}text") if t.get("x")}
    assert sel == pytest.approx(ticks["10\u207b\u00b3"], abs=0.01)


def test_svg_dark_and_linear_and_empty():
    lrs = np.linspace(0.01, 0.1, 30)
    r = RangeTestResult(
        lrs, np.linspace(2, 1, 30), np.linspace(2, 1, 30), "completed", "linear", 0.01, 0.1, 30, 0.1
    )
    dark = to_svg(r, dark=True)
    assert "#1e1e1e" in dark and "(log scale)" not in dark
    empty = RangeTestResult([], [], [], "error", "exp", 1e-5, 1, 10, 0.0, "boom")
    assert "No readings" in to_svg(empty)
    with pytest.raises(ValueError, match="width"):
        to_svg(r, width=10)
    # sizes are ints, numpy's included, never a bool or a float (lrwidget.pure.numbers.is_int)
    for bad in (True, 300.0, "300"):
        with pytest.raises(ValueError, match="height must be an int >= 150"):
            to_svg(r, height=bad)
    assert 'width="300"' in to_svg(r, width=np.int64(300))


def test_html_report_is_self_contained(result, tmp_path):
    p = save_html(result, tmp_path / "report.html", applied_lr=3e-3)
    page = p and open(p, encoding="utf-8").read()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "Chosen learning rate: <b>3e-3 (applied)</b>" in page
    for name, s in result.suggestions.items():
        assert name in page and s.reason.split()[0] in page
    # nothing to fetch: no scripts, stylesheets, images or URLs but the SVG namespace
    assert not re.search(r"<script|<link|<img|@import|url\(http", page)
    assert set(re.findall(r"https?://[^\s\"')]+", page)) <= {"http://www.w3.org/2000/svg"}
    assert f"{len(result)} of {result.num_iter}" in page


def test_summary_line(result):
    line = summary_line(result, selected_lr=1e-2)
    assert line.startswith(f"LR range test diverged: {len(result)}/200 readings")
    assert f"suggested lr={format_lr(result.suggested_lr)}" in line and "selected 1e-2" in line
    assert summary_line(None) == "LR range test: no run yet"
    assert "\n" not in line
