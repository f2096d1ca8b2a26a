"""lrwidget.compare (issue 20): several range tests on one chart.

Pure rules first (the mismatch warning, labels, limits, the front end's commands, the colours),
then the kernel side with real torch, real finders and widgets: live + saved + result inputs
overlaid, a live run streaming in, hostile messages refused, Apply to the right optimizer, the
saved state and the report with every curve. Outgoing messages are captured as tests/widgets.py
does for the single widget.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pytest
import torch
from torch import nn

import lrwidget
from lrwidget import LRFinder, LRFinderWidget
from lrwidget.channel.compare_protocol import (
    CompareApply,
    CompareHello,
    CompareSelect,
    parse_compare_command,
)
from lrwidget.channel.protocol import BadCommand, decode_saved_readings
from lrwidget.engine.history import RangeTestResult
from lrwidget.pure.compare import MAX_RUNS, check_run_count, lr_mismatch, run_colors, run_labels
from lrwidget.pure.rules import format_lr, palette
from lrwidget.pure.smooth import centered
from tests.widgets import Capture, comm_msg, decode, wait_until


# ---------------------------------------------------------------- pure rules
@pytest.mark.parametrize(
    "lr, suggested, words",
    [
        (1e-3, 3.3e-5, "lr 1e-3 is 30x above this curve's suggestion (3.3e-5)"),
        (1e-3, 1e-1, "lr 1e-3 is 100x below this curve's suggestion (1e-1)"),
        (1.0, 0.1, "lr 1 is 10x above"),  # exactly 10x counts
    ],
)
def test_mismatch_says_how_far_and_which_way(lr, suggested, words):
    assert lr_mismatch(lr, suggested).startswith(words)


@pytest.mark.parametrize(
    "lr, suggested",
    [
        (1e-3, 9.9e-3),
        (1e-3, 1e-3),
        (None, 1e-3),
        (1e-3, None),
        (True, 1e-3),
        (0.0, 1e-3),
        (1e-3, math.nan),
        (math.inf, 1e-3),
        (-1e-3, 1e-3),
        ("1e-3", 1e-1),
    ],
)
def test_mismatch_is_silent_within_10x_or_without_two_positive_numbers(lr, suggested):
    assert lr_mismatch(lr, suggested) is None


def test_labels_default_unique_and_checked():
    assert run_labels(None, ["SGD", "", "SGD"]) == ("SGD", "run 2", "SGD (2)")
    assert run_labels(["a", "b"], ["x", "y"]) == ("a", "b")
    for labels, exc, words in [
        (["a", "a"], ValueError, "unique"),
        (["a"], ValueError, "1 labels for 2 runs"),
        ("ab", TypeError, "sequence of str"),
        (["a", 3], ValueError, "non-empty str"),
        (["a", " "], ValueError, "non-empty str"),
        (["a", "x" * 81], ValueError, "at most 80"),
    ]:
        with pytest.raises(exc, match=words):
            run_labels(labels, ["", ""])


def test_run_count_limit_names_runs():
    check_run_count(MAX_RUNS)
    for n in (0, MAX_RUNS + 1):
        with pytest.raises(ValueError, match=r"^runs: "):
            check_run_count(n)


def _contrast(a: str, b: str) -> float:
    def lum(h: str) -> float:
        c = [int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("dark", [False, True])
def test_eight_distinct_run_colours_that_read_on_their_theme(dark):
    colours = run_colors(MAX_RUNS, dark)
    assert len(set(colours)) == MAX_RUNS
    bg = palette(dark)["bg"]
    assert min(_contrast(c, bg) for c in colours) >= 3.0  # WCAG's 3:1 for graphics


@pytest.mark.parametrize(
    "content, words",
    [
        ("x", "must be an object"),
        ({"type": "apply", "lr": 1}, "unknown command"),
        ({"type": "compare_select", "run": True, "lr": 0.1}, "run must be an int"),
        ({"type": "compare_select", "run": 1.0, "lr": 0.1}, "run must be an int"),
        ({"type": "compare_select", "run": -1, "lr": 0.1}, "run must be an int"),
        ({"type": "compare_select", "run": 2, "lr": 0.1}, r"in \[0, 2\)"),
        ({"type": "compare_select", "run": "0" * 10**5, "lr": 0.1}, "run must be an int"),
        ({"type": "compare_select", "run": 0, "lr": math.nan}, "positive finite"),
        ({"type": "compare_select", "run": 0, "lr": 10**400}, "positive finite"),
        ({"type": "compare_select", "run": 0, "lr": -1}, "positive finite"),
        ({"type": "compare_select", "run": 0, "lr": "0.1"}, "positive finite"),
        ({"type": "compare_select", "run": 0, "lr": True}, "positive finite"),
    ],
)
def test_hostile_commands_are_refused_with_a_reason(content, words):
    with pytest.raises(BadCommand, match=words) as e:
        parse_compare_command(content, 2)
    assert len(str(e.value)) < 200


def test_good_commands_parse():
    assert parse_compare_command({"type": "hello"}, 1) == CompareHello()
    assert parse_compare_command({"type": "compare_apply", "lr": 5}, 1) == CompareApply()
    got = parse_compare_command({"type": "compare_select", "run": 0, "lr": None}, 1)
    assert got == CompareSelect(0, None)


# ---------------------------------------------------------------- kernel side
def _result(valley: float, n: int = 60) -> RangeTestResult:
    lrs = np.logspace(-5, 0, n)
    loss = 2 - np.exp(-((np.log10(lrs) - np.log10(valley)) ** 2)) + np.where(lrs > 0.3, 5.0, 0)
    return RangeTestResult(lrs, loss, loss, "completed", "exp", 1e-5, 1.0, n, 0.1)


def _sgd(lr: float) -> torch.optim.Optimizer:
    a, b = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(2))
    return torch.optim.SGD([{"params": [a], "lr": lr}, {"params": [b], "lr": lr / 10}])


@pytest.fixture
def live(make_mlp):
    """A digits MLP's finder in a live widget titled "SGD" (closed afterwards)."""
    made = []

    def make(lr=1e-3, title="SGD"):
        model = make_mlp()
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        w = LRFinderWidget(LRFinder(model, opt, nn.CrossEntropyLoss()), title=title)
        made.append(w)
        return w, opt

    yield make
    for w in made:
        w.close()


def _saved_curves(blob: bytes) -> dict[int, tuple]:
    """compare_saved: run index -> (lrs, losses, drawn line), by the single widget's decoder."""
    out, at = {}, 0
    while at < len(blob):
        n = int.from_bytes(blob[at + 8 : at + 12], "little")
        run_id, *curve = decode_saved_readings(blob[at : at + 16 + 16 * n])
        out[run_id] = tuple(curve)
        at += 16 + 16 * n
    return out


def _saved_runs(blob: bytes) -> dict[int, int]:
    """compare_saved: run index -> readings."""
    return {i: len(c[0]) for i, c in _saved_curves(blob).items()}


def test_live_saved_and_result_overlay_and_a_live_run_streams_in(live, digits_loader, tmp_path):
    torch.set_num_threads(1)
    w, opt = live()
    path = tmp_path / "adam.json"
    _result(1e-3).save(path)
    cmp = lrwidget.compare(w, path, _result(1e-2), optimizers=[None, None, _sgd(0.5)])
    cap = Capture(cmp)
    try:
        assert cmp.runs == ("SGD", "run 2", "run 3")
        assert _saved_runs(cmp.compare_saved) == {1: 60, 2: 60}  # the live one has no run yet
        w.run(digits_loader, start_lr=1e-5, end_lr=1, num_iter=40)
        result = w.wait(60)
        wait_until(lambda: 0 in _saved_runs(cmp.compare_saved), what="the live run saved")
        assert _saved_runs(cmp.compare_saved) == {0: len(result), 1: 60, 2: 60}
        # every finished curve is drawn without lag, as the single widget draws it (issue 21):
        # exactly in the pictures, to float32 in the saved state (its layout's losses)
        for c in cmp.curves():
            np.testing.assert_array_equal(c.smoothed, centered(c.lrs, c.losses))
        for lrs, losses, line in _saved_curves(cmp.compare_saved).values():
            np.testing.assert_allclose(line, centered(lrs, losses), rtol=1e-6)
        msgs = cap.custom("compare_readings")
        assert msgs and all(c["run"] == 0 for _, c, _ in msgs)
        streamed = np.concatenate([decode(b)[0] for _, _, b in msgs])
        assert np.array_equal(streamed, result.lrs)  # every reading, once, in order
        info = cmp.compare_runs
        assert [r["running"] for r in info] == [False, False, False]
        assert info[0]["suggestion"] == result.suggested_lr
        assert (
            info[2]["optimizer_lr"] == 0.5 and "above this curve's suggestion" in info[2]["warning"]
        )
        assert info[1]["optimizer_lr"] is None and info[1]["warning"] == ""
    finally:
        cmp.close()


def test_hello_replays_a_running_live_run(live, digits_loader):
    from tests.widgets import slow_step

    torch.set_num_threads(1)
    w, _ = live()
    cmp = lrwidget.compare(w, _result(1e-2))
    cap = Capture(cmp)
    try:
        w.run(digits_loader, start_lr=1e-5, end_lr=1, num_iter=60, step_fn=slow_step(0.02))
        wait_until(lambda: cmp.compare_runs[0]["running"] and cap.custom("compare_readings"))
        cap.clear()
        comm_msg(cmp, {"type": "hello"})
        replay = cap.custom()
        assert [c["type"] for _, c, _ in replay[:2]] == ["compare_run", "compare_readings"]
        assert replay[1][1]["start"] == 0 and replay[1][1]["count"] >= 1
        w.stop()
        w.wait(60)
    finally:
        cmp.close()


def test_click_selects_a_tested_lr_and_apply_writes_that_runs_optimizer():
    sgd, adam, r = _sgd(0.5), _sgd(3e-4), _result(1e-3)
    cmp = lrwidget.compare(_result(1e-1), r, labels=["SGD", "Adam"], optimizers=[sgd, adam])
    try:
        tested = float(r.lrs[25])
        comm_msg(cmp, {"type": "compare_select", "run": 1, "lr": tested * 1.01})
        assert cmp.selected == ("Adam", tested)  # snapped to a reading of that run
        comm_msg(cmp, {"type": "compare_apply"})
        assert adam.param_groups[0]["lr"] == tested
        assert math.isclose(adam.param_groups[1]["lr"], tested / 10)  # the groups' ratio kept
        assert sgd.param_groups[0]["lr"] == 0.5  # the other run's optimizer untouched
        assert cmp.compare_applied == f"lr {format_lr(tested)} applied to Adam's SGD optimizer"
        # the warning follows the optimizer: 3e-4 was 3x off 1e-3, the applied lr is a tested one
        assert cmp.compare_runs[1]["optimizer_lr"] == tested
    finally:
        cmp.close()


@pytest.mark.parametrize(
    "content",
    [
        {"type": "compare_select", "run": 0, "lr": 1e9},  # outside the tested range
        {"type": "compare_select", "run": 5, "lr": 1e-3},
        {"type": "compare_select", "run": 0, "lr": math.inf},
        {"type": "apply", "lr": 1e-3},  # the single widget's apply: not a compare command
        {"type": "compare_apply"},  # nothing selected
        ["compare_apply"],
    ],
)
def test_hostile_messages_never_touch_an_optimizer(content):
    opt = _sgd(0.5)
    cmp = lrwidget.compare(_result(1e-2), optimizers=[opt])
    try:
        comm_msg(cmp, content)
        assert opt.param_groups[0]["lr"] == 0.5 and cmp.selected is None
        assert cmp.compare_error
    finally:
        cmp.close()


def test_apply_to_a_live_widget_goes_through_its_finder(live, digits_loader):
    torch.set_num_threads(1)
    w, opt = live()
    cmp = lrwidget.compare(w)
    try:
        w.run(digits_loader, start_lr=1e-5, end_lr=1, num_iter=30)
        result = w.wait(60)
        wait_until(lambda: cmp.compare_runs[0]["suggestion"] is not None, what="suggestion")
        lr = float(result.lrs[10])
        assert cmp.apply("SGD", lr) == lr
        assert opt.param_groups[0]["lr"] == lr and w.applied_lr == lr  # the widget agrees
    finally:
        cmp.close()


def test_bad_inputs_are_refused_before_anything_is_shown(live, tmp_path):
    r = _result(1e-2)
    w, opt = live()
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    cases = [
        ((), {}, ValueError, "^runs: "),
        ((r,) * 9, {}, ValueError, "at most 8"),
        ((r, 3), {}, TypeError, r"runs\[1\] must be"),
        ((r, bad), {}, ValueError, "not a RangeTestResult"),
        ((r, r), {"labels": ["a", "a"]}, ValueError, "unique"),
        ((r,), {"optimizers": [opt, opt]}, ValueError, "2 optimizers for 1 runs"),
        ((r,), {"optimizers": ["sgd"]}, TypeError, r"optimizers\[0\]"),
        ((w,), {"optimizers": [_sgd(1.0)]}, ValueError, "live LRFinderWidget"),
        ((r,), {"height": 10}, ValueError, "height"),
        ((r,), {"trend": object()}, TypeError, "trend"),
    ]
    for runs, kw, exc, words in cases:
        with pytest.raises(exc, match=words):
            lrwidget.compare(*runs, **kw)


class _Fit:
    points = ((1e-3, 1.2), (1e-2, 1.1), (math.nan, 1.0), (1e-1, math.inf))
    text = "lr* \u221d B^0.48 \u00b1 0.07: square root (Adam)"


def test_report_and_static_fallback_show_every_curve_and_the_trend(tmp_path):
    cmp = lrwidget.compare(
        _result(1e-1),
        _result(1e-3),
        _result(1e-4),
        labels=["SGD", "Adam", "<b>x</b>"],
        optimizers=[None, _sgd(0.5), None],
        trend=_Fit(),
    )
    try:
        page = open(cmp.save_html(tmp_path / "r.html"), encoding="utf-8").read()
        svg = cmp.to_svg(dark=True)
        for doc in (page, svg):
            labels = {s.split('"')[0] for s in doc.split('class="run" data-label="')[1:]}
            assert labels == {"SGD", "Adam", "&lt;b&gt;x&lt;/b&gt;"}
            assert doc.count('class="suggestion"') == 3 and 'class="trend"' in doc
            assert "square root (Adam)" in doc and "<b>x</b>" not in doc
        assert "above this curve's suggestion" in html.unescape(page)
        data, _ = cmp._repr_mimebundle_()
        assert data["image/svg+xml"].count('class="suggestion"') == 3
        assert "SGD: suggests" in data["text/plain"]
        assert cmp.compare_trend["points"] == [[1e-3, 1.2], [1e-2, 1.1]]  # JSON: no NaN / inf
        assert data["text/html"].count('<img src="data:image/svg+xml;base64,') == 1
    finally:
        cmp.close()


def test_a_saved_notebooks_state_holds_every_curve_and_the_front_end_reads_it(tmp_path):
    """What "save widget state" keeps (the synced traits) is enough to draw every curve: the
    front end's own reader (js/view/compare_state.js splitSaved) gets each run back."""
    import json
    import pathlib
    import shutil
    import subprocess

    node = shutil.which("node")
    assert node, "node is needed for the front end's reader"
    results = [_result(1e-1, 50), _result(1e-3, 70), _result(1e-4, 90)]
    cmp = lrwidget.compare(*results, labels=["SGD", "Adam", "AdamW"])
    try:
        state = cmp.get_state()
        assert [r["label"] for r in state["compare_runs"]] == ["SGD", "Adam", "AdamW"]
        blob = state["compare_saved"]
        (tmp_path / "saved.bin").write_bytes(b"xy" + bytes(blob))  # an odd offset, as a view may be
        repo = pathlib.Path(__file__).resolve().parents[1]
        script = tmp_path / "read.mjs"
        script.write_text(
            'import { readFileSync } from "node:fs";\n'
            f'import {{ splitSaved }} from "{(repo / "js/view/compare_state.js").as_uri()}";\n'
            f'const b = readFileSync("{tmp_path / "saved.bin"}");\n'
            "const runs = splitSaved(new DataView(b.buffer, b.byteOffset + 2, b.length - 2));\n"
            "console.log(JSON.stringify(runs.map((r) => [r.run, Array.from(r.lr)])));\n"
        )
        proc = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        got = json.loads(proc.stdout)
        assert [k for k, _ in got] == [0, 1, 2]
        for (_, lrs), r in zip(got, results):
            assert np.array_equal(np.array(lrs), r.lrs)  # the lrs exactly, as the single view's
    finally:
        cmp.close()


def test_a_front_ends_state_update_writes_no_selection():
    """ipywidgets lets a front end set any synced trait: the compare chart's are the kernel's."""
    opt = _sgd(0.5)
    cmp = lrwidget.compare(_result(1e-2), optimizers=[opt])
    try:
        cmp.set_state({"compare_selected": {"run": 0, "lr": 1e9}, "compare_applied": "lies"})
        assert cmp.selected is None and cmp.compare_applied == ""
        with pytest.raises(ValueError, match="no run is selected"):
            cmp.apply()
        assert opt.param_groups[0]["lr"] == 0.5
    finally:
        cmp.close()
