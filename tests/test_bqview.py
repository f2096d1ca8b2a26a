"""BqplotView without a browser: real range tests on the digits MLP, the bqplot marks' arrays
compared with the result's, and clicks delivered as bqplot's front end sends them (the mark's
custom message {"event": "element_click", "data": {"index": i}} through ``_handle_msg``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch
from torch import nn

import lrwidget
from lrwidget import BqplotView, LRFinder, LRFinderWidget
from lrwidget.pure.rules import palette, y_range
from lrwidget.pure.smooth import centered
from lrwidget.views.bqview import nearest_reading, suggestion_points


def click(mark, index):
    mark._handle_msg(
        {
            "content": {
                "data": {
                    "method": "custom",
                    "content": {"event": "element_click", "data": {"index": index}},
                }
            },
            "buffers": [],
        }
    )


def same(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@pytest.fixture
def parts(make_mlp):
    made = []

    def make(with_widget=True, lr=1e-5):
        torch.manual_seed(0)
        model = make_mlp()
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        finder = LRFinder(model, opt, nn.CrossEntropyLoss())
        w = LRFinderWidget(finder) if with_widget else None
        view = BqplotView(w if with_widget else finder, title="bq")
        made.append((view, w))
        return finder, w, view

    yield make
    for view, w in made:
        view.close()
        if w is not None:
            w.close()


def test_exported_lazily():
    assert "BqplotView" in lrwidget.__all__ and lrwidget.BqplotView is BqplotView


def test_marks_hold_the_result_and_the_suggestions(parts, digits_loader):
    finder, w, view = parts()
    w.run(digits_loader, end_lr=10, num_iter=80)
    r = w.wait(60)
    assert len(r) > 10
    assert same(view.raw_line.x, r.lrs) and same(view.raw_line.y, r.losses)
    # the finished run's line: smoothed without lag (issue 21), not the live EMA
    line = centered(r.lrs, r.losses)
    assert not same(line, r.smoothed)
    assert same(view.smoothed_line.x, r.lrs) and same(view.smoothed_line.y, line)
    assert same(view.readings_marks.x, r.lrs) and same(view.readings_marks.y, line)
    # one marker per rule that answered, at its lr and on the smoothed curve at its reading
    answered = [(n, s) for n, s in r.suggestions.items() if s.lr is not None]
    assert answered, r.suggestions
    assert list(view.suggestion_marks.names) == [n for n, _ in answered]
    assert same(view.suggestion_marks.x, [s.lr for _, s in answered])
    for (n, s), y in zip(answered, view.suggestion_marks.y):
        if s.index is not None:
            assert y == line[s.index], n
    # the loss axis shows the whole smoothed curve up to divergence, by the canvas widget's rule
    lo, hi = view._y.min, view._y.max
    fin = line[np.isfinite(line)]
    assert lo < fin.min() and hi > fin[0]
    assert (lo, hi) == y_range(line, r.losses)
    # the canvas widget's light palette
    pal = palette(dark=False)
    assert list(view.raw_line.colors) == [pal["accent"]] == list(view.smoothed_line.colors)
    assert list(view.raw_line.opacities) == [pal["rawAlpha"]]
    assert list(view.suggestion_marks.colors) == pal["rules"]
    assert list(view.selection_line.colors) == [pal["selected"]]
    assert view.figure.axes[0].scale is view.raw_line.scales["x"]
    assert type(view.raw_line.scales["x"]).__name__ == "LogScale"
    assert view.selection_line.x is None or len(view.selection_line.x) == 0


def test_view_is_live_while_the_test_runs(parts, digits_loader):
    finder, w, view = parts()

    def slow(model, batch):
        time.sleep(0.01)
        x, y = batch
        return nn.functional.cross_entropy(model(x), y)

    w.run(digits_loader, end_lr=1, num_iter=150, step_fn=slow)
    seen = []
    t0 = time.monotonic()
    while w._runner.is_alive() and time.monotonic() - t0 < 30:
        seen.append(len(view.smoothed_line.x))
        time.sleep(0.1)
    r = w.wait(30)
    partial = [n for n in seen if 0 < n < len(r)]
    assert len(set(partial)) >= 3, seen  # it grew in steps while running
    assert len(view.smoothed_line.x) == len(r)


def test_click_on_a_reading_selects_it_in_the_widget(parts, digits_loader):
    finder, w, view = parts()
    w.run(digits_loader, end_lr=10, num_iter=60)
    r = w.wait(60)
    click(view.readings_marks, 17)
    w.wait()  # the selection went through the widget's writer
    assert w.selected_lr == r.lrs[17] == view.selected_lr
    assert list(view.selection_line.x) == [r.lrs[17]] * 2
    # a suggestion marker selects its rule's lr
    click(view.suggestion_marks, 0)
    w.wait()
    assert w.selected_lr == view.suggestion_marks.x[0]
    assert list(view.selection_line.x) == [view.suggestion_marks.x[0]] * 2
    # and a selection made elsewhere (the canvas view, Python) moves the line too
    w.select(float(r.lrs[5]))
    assert list(view.selection_line.x) == [r.lrs[5]] * 2
    # out-of-range clicks are ignored
    click(view.readings_marks, 10_000)
    click(view.readings_marks, "x")
    w.wait()
    assert w.selected_lr == r.lrs[5]


def test_built_from_a_finder_keeps_its_own_selection(parts, digits_loader):
    finder, _, view = parts(with_widget=False)
    r = finder.range_test(digits_loader, end_lr=10, num_iter=50)
    assert same(view.smoothed_line.y, centered(r.lrs, r.losses))
    i = 20
    assert view.select(r.lrs[i] * 1.01) == r.lrs[i]  # the nearest reading, not the value
    assert list(view.selection_line.x) == [r.lrs[i]] * 2
    click(view.readings_marks, 3)
    view._channel.call(lambda: None)  # the click is handled on the channel's writer: wait for it
    assert view.selected_lr == r.lrs[3]
    view.select(None)
    assert view.selected_lr is None and len(view.selection_line.x) == 0
    with pytest.raises(ValueError, match="lr must be a positive finite number"):
        view.select(-1.0)
    with pytest.raises(ValueError, match="lr must be a positive finite number"):
        view.select(True)  # a bool is no lr
    assert view.select(np.float32(r.lrs[i])) == r.lrs[i]  # numpy's scalars are numbers
    # a click's index must be a point of the mark: a bool or a negative index is ignored
    click(view.readings_marks, True)
    click(view.readings_marks, -1)
    view._channel.call(lambda: None)
    assert view.selected_lr == r.lrs[i]


def test_linear_sweep_uses_a_linear_axis_and_a_new_run_clears(parts, digits_loader):
    finder, _, view = parts(with_widget=False)
    finder.range_test(digits_loader, start_lr=1e-3, end_lr=0.5, num_iter=30, step_mode="linear")
    assert type(view.raw_line.scales["x"]).__name__ == "LinearScale"
    assert view.figure.axes[0].scale is view.raw_line.scales["x"]
    r = finder.range_test(digits_loader, end_lr=1, num_iter=25)
    assert type(view.raw_line.scales["x"]).__name__ == "LogScale"
    assert same(view.raw_line.x, r.lrs)


def test_a_view_built_after_the_test_shows_the_last_result(parts, digits_loader, make_mlp):
    model = make_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=1e-5)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    r = finder.range_test(digits_loader, end_lr=10, num_iter=40)
    view = BqplotView(finder)
    try:
        assert same(view.smoothed_line.y, centered(r.lrs, r.losses))
        assert same(view.suggestion_marks.x, suggestion_points(r)[1])
    finally:
        view.close()


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        ({"source": "finder"}, TypeError, "source must be an lrwidget.LRFinderWidget or"),
        ({"title": 1}, TypeError, "title must be a str"),
        ({"height": 100}, ValueError, "height must be an int from 160 to 2000"),
        ({"interval": 0}, ValueError, "interval must be a positive number"),
        # a bool is no number of seconds (lrwidget.pure.numbers.is_real), nor is inf
        ({"interval": True}, ValueError, "interval must be a positive number"),
        ({"interval": float("inf")}, ValueError, "interval must be a positive number"),
        ({"interval": "0.2"}, ValueError, "interval must be a positive number"),
    ],
)
def test_bad_arguments(make_mlp, kwargs, exc, words):
    model = make_mlp()
    finder = LRFinder(model, torch.optim.SGD(model.parameters(), lr=1e-3), nn.CrossEntropyLoss())
    args = {"source": finder, **kwargs}
    with pytest.raises(exc, match=words):
        BqplotView(**args)
    assert finder._subs == []  # nothing subscribed by a refused view


def test_pure_helpers():
    assert nearest_reading([1e-4, 1e-3, 1e-2], 2e-3) == 1
    assert nearest_reading([1e-4, np.nan, 1e-2], 1e-3) in (0, 2)
    assert nearest_reading([], 1e-3) == -1
    assert nearest_reading([1e-3], float("nan")) == -1


def test_without_bqplot_the_package_works_and_the_view_says_how_to_get_it(tmp_path):
    # a fresh interpreter in which `import bqplot` fails, as it does where bqplot is not installed
    code = textwrap.dedent("""
        import sys
        sys.modules["bqplot"] = None
        import torch
        from torch import nn
        import lrwidget
        from lrwidget import LRFinder, LRFinderWidget
        from lrwidget.pure import rules
        from lrwidget.views import report
        m = nn.Linear(2, 2)
        finder = LRFinder(m, torch.optim.SGD(m.parameters(), lr=1e-3), nn.CrossEntropyLoss())
        LRFinderWidget(finder).close()
        try:
            lrwidget.BqplotView(finder)
        except ImportError as e:
            print("ImportError:", e)
        assert finder._subs == []
    """)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'pip install "lrwidget[bqplot]"' in proc.stdout, proc.stdout


def test_the_range_band_and_the_preview_follow_the_kernels_range(parts, digits_loader):
    # the band is drawn from the kernel's traits only (no bqplot brush: a front end's selection)
    finder, w, view = parts()
    w.run(digits_loader, end_lr=10, num_iter=80)
    r = w.wait(60)
    w.call_on_writer(lambda: None)

    def band():
        return list(view.range_band.x), view.range_band.line_style

    lo, hi = w.suggested_range
    y0, y1 = y_range(centered(r.lrs, r.losses), r.losses)
    assert band() == ([lo, hi, hi, lo, lo], "dashed"), "nothing brushed: the suggested range"
    assert list(view.range_band.y) == [y0, y0, y1, y1, y0], "over the whole loss axis"
    a, b = w.select_range(r.lrs[10], r.lrs[40])
    assert band() == ([a, b, b, a, a], "solid")
    assert same(view.preview_line.x, w.preview["steps"]) and same(
        view.preview_line.y, w.preview["lrs"]
    )
    assert view.range_band in view.figure.marks and view.preview_line in view.preview_figure.marks
    w.select_range(None, None)
    assert band() == ([lo, hi, hi, lo, lo], "dashed")
    # a front end's write to the band is not the kernel's range: ignored
    view.range_band.set_state({"x": [1e-3, 1e-2, 1e-2, 1e-3, 1e-3]})
    assert band()[0] == [lo, hi, hi, lo, lo]
    # a view of the finder alone: its last run's suggested range (the widget's rule)
    alone = BqplotView(finder)
    try:
        assert list(alone.range_band.x) == [lo, hi, hi, lo, lo]
    finally:
        alone.close()
