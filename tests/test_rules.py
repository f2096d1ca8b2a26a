"""lrwidget.pure.rules: the rules Python and the front end share, read from
lrwidget/pure/rules.json.

Two kinds of checks: the Python functions on their own, and the same inputs fed to the front end's
rule functions (js/theme.js, format.js, ticks.js, scale.js run by node) with every answer
compared, the SVG that report.to_svg draws included.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from torch import nn

from lrwidget import LRFinder
from lrwidget.engine.history import STOP_REASONS
from lrwidget.pure import rules
from lrwidget.pure.rules import (
    format_loss,
    format_lr,
    format_tick,
    linear_ticks,
    log_ticks,
    marker_loss,
    nice_step,
    palette,
    status_word,
    x_domain,
    y_range,
)
from lrwidget.pure.smooth import centered
from lrwidget.views import report
from tests.digits import digits_sgd

ROOT = Path(__file__).resolve().parents[1]
NODE = shutil.which("node")
SVG = "{http://www.w3.org/2000/svg}"
needs_node = pytest.mark.skipif(
    NODE is None, reason="node is not installed (scripts/setup.sh --browser)"
)


# ---------------------------------------------------------------------------- the data file
def test_rules_come_from_the_json_file():
    data = json.loads((ROOT / "lrwidget" / "pure" / "rules.json").read_text(encoding="utf-8"))
    assert palette(False)["accent"] == data["palette"]["light"]["accent"]
    assert palette(True)["rules"] == data["palette"]["dark"]["rules"]
    assert rules.STATUS_OF_REASON == data["status"]
    assert rules.NICE_STEPS == tuple(data["ticks"]["niceSteps"])
    # a copy: a caller that edits its palette does not change the next caller's
    palette(False)["accent"] = "#000000"
    assert palette(False)["accent"] == data["palette"]["light"]["accent"]


def test_status_words_cover_every_stop_reason_with_one_spelling():
    assert set(rules.STATUS_OF_REASON) == set(STOP_REASONS)
    assert status_word("completed") == "done" and status_word("error") == "error"
    assert "failed" not in rules.STATUS_OF_REASON.values()
    with pytest.raises(ValueError, match="stop_reason must be one of"):
        status_word("crashed")


# ---------------------------------------------------------------------------- formatting
def test_format_lr_is_three_significant_digits_in_exponent_form():
    assert [format_lr(v) for v in (0.00316227766, 1e-4, 0.025, 1.0, 12.5, 0.5, 0.0)] == [
        "3.16e-3",
        "1e-4",
        "2.5e-2",
        "1",
        "1.25e1",
        "5e-1",
        "0",
    ]
    assert [format_lr(v) for v in (None, math.nan, math.inf, -math.inf)] == [
        "\u2014",
        "NaN",
        "inf",
        "-inf",
    ]
    # a tie rounds half up, as JavaScript's toExponential does (0.5625 is exact in binary)
    assert format_lr(0.5625) == "5.63e-1" and format_lr(-0.5625) == "-5.63e-1"


def test_format_loss_keeps_four_digits_and_never_writes_a_plus_sign():
    assert [format_loss(v) for v in (2.302585, 0.5, 123456.0, 12345.6, 9999.6, 0.0001234)] == [
        "2.303",
        "0.5",
        "1.235e5",
        "1.235e4",
        "10000",
        "1.234e-4",
    ]


def test_format_tick_has_the_decimals_the_step_needs():
    assert format_tick(0.5, 0.5) == "0.5" and format_tick(2.0, 1.0) == "2"
    assert format_tick(0.25, 0.05) == "0.25" and format_tick(-1e-17, 0.1) == "0.0"
    assert format_tick(1.0, 0.5) == "1.0" and format_tick(2e5, 1e5) == "2e5"


# ---------------------------------------------------------------------------- ticks
def test_nice_steps_are_one_two_five():
    steps = [nice_step(10, 5), nice_step(1, 4), nice_step(7, 10), nice_step(100, 3)]
    assert steps == [2, 0.2, 0.5, 50]
    # 2.5 is not a step any more: a span of 1 in 4 parts takes 0.2
    assert nice_step(1.0, 4) == 0.2


def test_linear_ticks_are_exact_decimals_with_labels():
    assert linear_ticks(0.0, 1.0) == [
        (0.0, "0.0"),
        (0.2, "0.2"),
        (0.4, "0.4"),
        (0.6, "0.6"),
        (0.8, "0.8"),
        (1.0, "1.0"),
    ]
    assert [label for _, label in linear_ticks(0.37, 2.41)] == ["0.5", "1.0", "1.5", "2.0"]


def test_log_ticks_under_a_decade_take_the_densest_multiples_that_fit():
    assert [v for v, _ in log_ticks(0.015, 0.3, max_ticks=4)] == [0.02, 0.05, 0.1, 0.2]
    assert [v for v, _ in log_ticks(0.015, 0.3, max_ticks=8)] == [0.02, 0.03, 0.05, 0.1, 0.2, 0.3]
    # too narrow for any multiple: its two ends, labels that differ
    narrow = log_ticks(0.0301, 0.0302)
    assert [label for _, label in narrow] == ["3.01e-2", "3.02e-2"]


# ---------------------------------------------------------------------------- ranges and markers
def test_y_range_caps_the_top_at_the_start_plus_headroom():
    sm = [3.0, 2.0, 1.0, 1.5, 1e6]
    lo, hi = y_range(sm, pad=0.0)
    # the start (3) plus 1.5 times its rise above the minimum (2): 6, not 1e6
    assert (lo, hi) == (1.0, 6.0)
    lo, hi = y_range([3.0, 2.0, 1.0, 1.5, 2.0], pad=0.0)
    assert (lo, hi) == (1.0, 3.0)  # no room reserved that the curve does not use


def test_x_domain_is_the_planned_sweep_widened_by_readings():
    assert x_domain([1e-5, 1e-4], 1e-6, 10) == (1e-6, 10.0)
    assert x_domain([1e-7, 1e-4], 1e-6, 10) == (1e-7, 10.0)
    assert x_domain([1e-5, 1e-4], None, None) == (1e-5, 1e-4)
    assert x_domain([], None, None) == (1e-7, 10.0)
    assert x_domain([1e-3], None, None) == (1e-4, 1e-2)


def test_marker_loss_lies_on_the_drawn_smoothed_curve():
    lrs, sm = np.array([1e-3, 1e-2, 1e-1]), np.array([2.0, 1.0, 3.0])
    assert marker_loss(lrs, sm, 1e-2, index=1) == 1.0
    # between readings: interpolated in log lr, where the polyline between them passes
    assert marker_loss(lrs, sm, 10**-1.5) == pytest.approx(2.0)
    want = 1.0 + 2.0 * (10**-1.5 - 0.01) / 0.09
    assert marker_loss(lrs, sm, 10**-1.5, log=False) == pytest.approx(want)
    # beyond the readings: the end reading's loss; a non-finite index value: interpolated instead
    assert marker_loss(lrs, sm, 1.0) == 3.0
    assert marker_loss(lrs, np.array([2.0, math.nan, 3.0]), 1e-2, index=1) == pytest.approx(2.5)
    assert marker_loss(lrs, np.full(3, math.nan), 1e-2) is None


# ---------------------------------------------------------------------------- the front end agrees
JS_SIDE = r"""
import { readFileSync } from "node:fs";
const root = process.argv[2];
const { pickTheme } = await import(root + "/js/theme.js");
const { formatLR, formatLoss, formatTick, statusWord } = await import(root + "/js/format.js");
const { linearTicks, logTicks, niceStep } = await import(root + "/js/ticks.js");
const { markerLoss, xDomain, yRange } = await import(root + "/js/scale.js");

const num = (v) => (typeof v === "string" ? Number(v) : v === null ? NaN : v);
const arr = (a) => Float64Array.from(a, num);
const input = JSON.parse(readFileSync(process.argv[3], "utf-8"));
const pairs = (t) => t.major.map((m) => [m.value, m.label]);
const out = {
  palette: { light: pickTheme(() => "", false), dark: pickTheme(() => "", true) },
  status: Object.fromEntries(input.reasons.map((r) => [r, statusWord(r)])),
  lr: input.numbers.map((v) => formatLR(num(v))),
  loss: input.numbers.map((v) => formatLoss(num(v))),
  tick: input.tickLabels.map(([v, s]) => formatTick(v, s)),
  niceStep: input.linearCases.map(([lo, hi, n]) => niceStep(hi - lo, n)),
  linear: input.linearCases.map(([lo, hi, n]) => pairs(linearTicks(lo, hi, n))),
  log: input.logCases.map(([lo, hi, n]) => pairs(logTicks(lo, hi, n))),
  curves: input.curves.map((c) => {
    const lrs = arr(c.lrs), raw = arr(c.raw), sm = arr(c.smoothed), n = lrs.length;
    const y = yRange(raw, sm, n);
    const x = xDomain(lrs, n, num(c.start), num(c.end), c.log);
    const markers = c.suggestions.map((s) =>
      markerLoss(lrs, sm, { lr: s.lr, index: s.index }, n, c.log));
    return { y: [y.lo, y.hi], x, markers, yTicks: pairs(linearTicks(y.lo, y.hi, 5)) };
  }),
};
process.stdout.write(JSON.stringify(out));
"""


def _enc(a):
    """Floats for JSON: non-finite ones as the text JavaScript's Number() reads back."""
    names = {math.inf: "Infinity", -math.inf: "-Infinity"}
    return [
        v if math.isfinite(v) else names.get(v, "NaN") for v in np.asarray(a, dtype=float).tolist()
    ]


def run_js(tmp_path, payload):
    script, data = tmp_path / "rules_js_side.mjs", tmp_path / "input.json"
    script.write_text(JS_SIDE, encoding="utf-8")
    data.write_text(json.dumps(payload), encoding="utf-8")
    proc = subprocess.run(
        [NODE, str(script), ROOT.as_uri(), str(data)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def result():
    model, opt, loader = digits_sgd()
    return LRFinder(model, opt, nn.CrossEntropyLoss()).range_test(loader, end_lr=10, num_iter=100)


def _curves(result):
    """The real run, plus fixed curves that reach each branch of the rules."""
    lin = np.linspace(0.01, 0.1, 30)
    out = [
        (
            result.lrs,
            result.losses,
            result.smoothed,
            result.start_lr,
            result.end_lr,
            True,
            [(s.lr, s.index) for s in result.suggestions.values() if s.lr is not None],
        ),
        (
            lin,
            np.linspace(2, 1, 30) + 0.05 * np.sin(np.arange(30)),
            np.linspace(2, 1, 30),
            0.01,
            0.1,
            False,
            [(0.0555, None), (0.02, 3)],
        ),
        (np.geomspace(1e-4, 1, 8), np.ones(8), np.ones(8), 1e-4, 1.0, True, [(3e-3, None)]),
        (
            np.geomspace(1e-4, 1, 6),
            [2.0, 1.5, math.nan, 1.0, math.inf, 9.0],
            [2.0, 1.6, math.nan, 1.2, math.inf, 5.0],
            None,
            None,
            True,
            [(1e-2, 2), (2e-4, None)],
        ),
        (
            np.geomspace(1e-4, 1, 4),
            [3.0, 2.0, 1.0, 2.0],
            np.full(4, math.nan),
            1e-4,
            1.0,
            True,
            [(1e-3, None)],
        ),
    ]
    return out


@needs_node
def test_python_and_js_compute_the_same_rules(result, tmp_path):
    assert len(result) > 20 and result.suggestions
    curves = _curves(result)
    numbers = [
        0.00316227766,
        1e-4,
        0.025,
        1.0,
        12.5,
        0.5625,
        2.302585,
        123456.0,
        12345.6,
        9999.6,
        0.0001234,
        -0.75,
        0.0,
        math.nan,
        math.inf,
        -math.inf,
        *result.lrs[::7].tolist(),
        *result.smoothed[::9].tolist(),
    ]
    tick_labels = [
        (0.5, 0.5),
        (2.0, 1.0),
        (0.25, 0.05),
        (-1e-17, 0.1),
        (2e5, 1e5),
        (1.0, 0.5),
        (0.30000000000000004, 0.1),
        (-2.5, 0.5),
        (7e-5, 1e-5),
    ]
    linear_cases = [
        (0.0, 1.0, 5),
        (0.37, 2.41, 5),
        (-3.2, 7.9, 6),
        (1e-3, 1.7e-3, 4),
        (0.0, 1.0, 4),
        (100.0, 100000.0, 5),
        (2.3, 2.31, 5),
    ]
    log_cases = [
        (1e-6, 10.0, 10),
        (1e-8, 1e2, 4),
        (2e-3, 9e-3, 6),
        (0.015, 0.3, 8),
        (0.015, 0.3, 4),
        (1.01e-3, 1.02e-3, 6),
        (3e-6, 2.0, 8),
        (1e-12, 1e3, 6),
    ]
    payload = {
        "reasons": list(STOP_REASONS),
        "numbers": _enc(numbers),
        "tickLabels": tick_labels,
        "linearCases": linear_cases,
        "logCases": log_cases,
        "curves": [
            {
                "lrs": _enc(x),
                "raw": _enc(r),
                "smoothed": _enc(s),
                "log": log,
                "start": start,
                "end": end,
                "suggestions": [{"lr": lr, "index": i} for lr, i in sugg],
            }
            for x, r, s, start, end, log, sugg in curves
        ],
    }
    js = run_js(tmp_path, payload)

    for dark, name in ((False, "light"), (True, "dark")):
        pal, theme = palette(dark), js["palette"][name]
        for key in (
            "fg",
            "fgMuted",
            "fgFaint",
            "bg",
            "panel",
            "border",
            "accent",
            "selected",
            "applied",
            "error",
            "rules",
            "rawAlpha",
        ):
            assert theme[key] == pal[key], (name, key)
    assert js["status"] == {r: status_word(r) for r in STOP_REASONS}
    assert js["lr"] == [format_lr(v) for v in numbers]
    assert js["loss"] == [format_loss(v) for v in numbers]
    assert js["tick"] == [format_tick(v, s) for v, s in tick_labels]
    assert js["niceStep"] == [nice_step(hi - lo, n) for lo, hi, n in linear_cases]
    want = [[list(p) for p in linear_ticks(lo, hi, n)] for lo, hi, n in linear_cases]
    assert js["linear"] == want
    assert js["log"] == [[list(p) for p in log_ticks(lo, hi, n)] for lo, hi, n in log_cases]
    for c, (x, r, s, start, end, log, sugg) in zip(js["curves"], curves):
        y0, y1 = y_range(s, r)
        assert c["y"] == [y0, y1]  # the same arithmetic in the same order: equal, not close
        assert c["x"] == list(x_domain(x, start, end, log))
        assert c["yTicks"] == [list(p) for p in linear_ticks(y0, y1, 5)]
        # None (Python) and NaN (JS, null in JSON) both say "no marker"
        want = [marker_loss(x, s, lr, i, log) for lr, i in sugg]
        assert [v is None for v in c["markers"]] == [v is None for v in want], want
        got = [v for v in c["markers"] if v is not None]
        assert got == pytest.approx([v for v in want if v is not None], rel=1e-12), want


@needs_node
@pytest.mark.parametrize("dark", [False, True])
def test_the_python_svg_uses_the_js_colours_ticks_labels_and_markers(result, tmp_path, dark):
    sugg = [(n, s) for n, s in result.suggestions.items()]
    payload = {
        "reasons": [result.stop_reason],
        "numbers": _enc([s.lr for _, s in sugg if s.lr is not None]),
        "tickLabels": [],
        "linearCases": [],
        "logCases": [],
        "curves": [
            {
                "lrs": _enc(result.lrs),
                "raw": _enc(result.losses),
                # the line a finished run is drawn with (issue 21), not the live EMA
                "smoothed": _enc(centered(result.lrs, result.losses)),
                "log": True,
                "start": result.start_lr,
                "end": result.end_lr,
                "suggestions": [
                    {"lr": s.lr, "index": s.index} for _, s in sugg if s.lr is not None
                ],
            }
        ],
    }
    js = run_js(tmp_path, payload)
    theme = js["palette"]["dark" if dark else "light"]
    curve = js["curves"][0]
    root = ET.fromstring(report.to_svg(result, dark=dark))

    def by_class(name):
        return [e for e in root.iter() if name in (e.get("class") or "").split()]

    assert by_class("background")[0].get("fill") == theme["bg"]
    title = by_class("title")[0].text
    assert f" {js['status'][result.stop_reason]} " in title
    raw, smooth = by_class("raw"), by_class("smoothed")
    assert raw and smooth
    assert {p.get("stroke") for p in raw + smooth} == {theme["accent"]}
    assert {float(p.get("stroke-opacity")) for p in raw} == {theme["rawAlpha"]}
    # the grid is the text colour at the theme's grid alpha: the JS fallback's rgba()
    for line in by_class("grid"):
        r, g, b = (int(line.get("stroke")[i : i + 2], 16) for i in (1, 3, 5))
        assert f"rgba({r},{g},{b},{line.get('stroke-opacity')})" == theme["grid"]
    # ticks: the JS tick values and labels over the JS ranges
    y_labels = [t.text for t in by_class("y-tick")]
    assert y_labels == [label for _, label in curve["yTicks"]]
    x0, x1 = curve["x"]
    assert x0 <= result.lrs.min() and x1 >= result.end_lr  # the planned sweep, not only the data
    x_labels = [t.text for t in by_class("x-tick")]
    assert x_labels == [label for _, label in log_ticks(x0, x1, report.X_TICKS)]
    # one marker per answering rule, in the JS rule colours, at the JS marker loss
    frame = by_class("frame")[0]
    top = float(frame.get("y"))
    sy = report.Scale(curve["y"][0], curve["y"][1], top + float(frame.get("height")), top)
    markers = by_class("marker")
    answered = [(n, s) for n, s in sugg if s.lr is not None]
    assert len(markers) == len(answered) == len(curve["markers"])
    for m, ((name, _), loss) in zip(markers, zip(answered, curve["markers"])):
        k_all = [n for n, _ in sugg].index(name)
        assert m.get("fill") == theme["rules"][k_all % len(theme["rules"])]
        want = sy(min(max(loss, curve["y"][0]), curve["y"][1]))
        assert float(m.get("cy")) == pytest.approx(want, abs=0.01), name
    legend = [t.text for t in by_class("legend")]
    for (name, _), label in zip([x for x in sugg if x[1].lr is not None], js["lr"]):
        assert any(t.startswith(name) and t.endswith(f": {label}") for t in legend), (name, legend)
