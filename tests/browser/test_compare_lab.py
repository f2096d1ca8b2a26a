"""lrwidget.compare in a real JupyterLab (issue 20): a live widget's run streams into a chart
with a saved file and six results of 10k readings each (8 curves); the legend toggles curves
(click and keyboard); with only "Adam" shown, a click selects one of its tested lrs and Apply
writes it into Adam's optimizer and no other (read back in the kernel). A frame of the 8
overlaid curves draws vertices bounded by the canvas's pixel columns, not by the readings
(tests/browser/frames.py). Screenshots in light and dark."""

from __future__ import annotations

import re
import time

from tests.browser import frames, stable
from tests.browser.stable import into_view

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
ROOT = f"{PANEL} .lrw-root.lrw-compare"

COMPARE = """\
import numpy as np
from lrwidget import RangeTestResult

def synth(valley, n=10_000):
    # a noisy raw loss and its smoothed curve as the finder computes it (EMA, smooth_f 0.05)
    lrs = np.logspace(-6, 1, n)
    x = np.log10(lrs) - np.log10(valley)
    raw = 2 - np.exp(-x ** 2) + 0.1 * np.random.default_rng(0).standard_normal(n)
    raw += np.where(x > 1.5, 3.0, 0)
    avg, smoothed = 0.0, np.empty(n)
    for i, v in enumerate(raw):
        avg = 0.05 * v + 0.95 * avg
        smoothed[i] = avg / (1 - 0.95 ** (i + 1))
    return RangeTestResult(lrs, raw, smoothed, "completed", "exp", 1e-6, 10.0, n, 1.0)

synth(2e-3).save("adam.json")
opts = [torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1) for _ in range(7)]
cmp = lrwidget.compare(widget, "adam.json", *[synth(10 ** (-5 + k / 2)) for k in range(6)],
                       labels=["SGD", "Adam", *[f"bs {32 * 2 ** k}" for k in range(6)]],
                       optimizers=[None, *opts], title="Eight runs")
display(cmp)
widget.run(loader, start_lr=1e-5, end_lr=10, num_iter=80, step_fn=step)"""

READ = """\
print("SELECTED", cmp.selected)
print("LRS", [o.param_groups[0]["lr"] for o in opts])
print("SGD", optimizer.param_groups[0]["lr"])"""


def _runs_readings(root) -> list[int]:
    return [int(v) for v in (root.get_attribute("data-readings") or "0").split(",")]


def _frames(page, root, n: int = 25) -> tuple[frames.Frames, frames.Frames]:
    """The frames drawn for ``n`` pointer moves across the plot (each move lands on another
    reading: one frame each), then those of a resize (every curve drawn anew)."""
    into_view(root)
    frames.watch(page, ROOT)
    box = stable.box(root.locator("canvas.lrw-canvas"))
    for k in range(n):
        x = box["x"] + box["width"] * (0.1 + 0.8 * k / n)
        page.mouse.move(x, box["y"] + box["height"] / 2, steps=2)
        try:
            page.wait_for_function(f"() => window.__lrwFrames.length > {k}", timeout=2_000)
        except Exception as e:  # a move lost on a busy machine: the frames are counted below
            print(f"move {k}: no frame ({type(e).__name__})")
    moves = frames.recorded(page)
    frames.watch(page, ROOT)
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"] - 160, "height": size["height"]})
    page.wait_for_function("() => window.__lrwFrames.length > 0")
    resized = frames.recorded(page)
    page.set_viewport_size(size)
    return moves, resized


def test_overlay_toggle_click_apply_and_themes(jupyter, open_notebook, digits_setup, artifacts):
    jupyter.write_notebook("compare.ipynb", [digits_setup(0.02, "SGD"), COMPARE, READ])
    nb = open_notebook("compare.ipynb")
    page = nb.page
    logs = []
    page.on("console", lambda m: logs.append(f"{m.type}: {m.text}"))
    try:
        assert "SETUP OK" in nb.run(0)
        nb.run(1)
        root = page.locator(ROOT).first
        root.wait_for()
        # the live run streams in beside the finished curves, then ends as one of them
        page.wait_for_function(
            "s => { const r = document.querySelector(s).dataset.readings || '';"
            " const n = r.split(',').map(Number); return n.length === 8 && n[0] > 0 &&"
            " n.slice(1).every(v => v === 10000); }",
            arg=ROOT,
        )
        streamed = _runs_readings(root)[0]
        page.wait_for_function(  # the run ended: its curve came back whole in compare_saved
            "s => document.querySelector(s).dataset.running === '0'", arg=ROOT, timeout=90_000
        )
        nb.wait_idle()
        # the run's end refreshes the output's static fallback, which renders the view anew
        page.wait_for_timeout(1500)
        root = page.locator(ROOT).first
        assert 0 < streamed <= _runs_readings(root)[0]  # the live curve drew while the test ran
        moves, resized = _frames(page, root)
        print(moves.summary("8 curves x 10k readings, pointer moves"))
        print(resized.summary("the same, resized"))
        # a pointer move draws no curve: it copies the still layers (js/layers/runs.js)
        assert len(moves) >= 15 and max(moves.ops) == 0, moves
        # a frame that draws them all is bounded by the canvas's pixel columns, not by the 70k+
        # readings: at most PER_COLUMN vertices a column for the 8 curves, markers and axes
        assert 0 < max(resized.ops) and max(resized.per_column()) <= frames.PER_COLUMN, resized
        stable.screenshot(root, path=str(artifacts / "compare_light.png"))

        items = root.locator(".lrw-run")
        assert items.count() == 8
        items.nth(2).click()  # a click hides "bs 32"
        assert items.nth(2).get_attribute("aria-pressed") == "false"
        items.nth(2).focus()
        page.keyboard.press("Enter")  # the keyboard shows it again
        assert items.nth(2).get_attribute("aria-pressed") == "true"
        for k in [0, *range(2, 8)]:  # only Adam's curve stays
            items.nth(k).click()
        canvas = root.locator("canvas.lrw-canvas")
        box = stable.box(canvas)
        canvas.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.5})
        root.locator(".lrw-sel").filter(has_text="selected Adam").wait_for()
        root.get_by_role("button", name="Apply", exact=True).click()
        root.locator(".lrw-applied").filter(has_text="applied to Adam's SGD optimizer").wait_for()
        out = nb.run(2)
        sel = re.search(r"SELECTED \('Adam', ([0-9.e+-]+)\)", out)
        lrs = re.search(r"LRS \[(.*?)\]", out)
        assert sel and lrs, out
        got = [float(v) for v in lrs.group(1).split(",")]
        assert got[0] == float(sel.group(1)), out  # Adam's optimizer holds the tested lr
        assert got[1:] == [0.1] * 6, out  # no other run's optimizer moved
        assert "SGD 1e-05" in out, out  # nor the live widget's
        for k in [0, *range(2, 8)]:
            items.nth(k).click()
        nb.set_theme("dark")
        time.sleep(0.5)
        stable.screenshot(root, path=str(artifacts / "compare_dark.png"))
    except Exception:
        print("\n".join(logs[-30:]))
        views = f"[...document.querySelectorAll('{ROOT}')].map(r => ({{...r.dataset}}))"
        print(page.evaluate(views))
        page.screenshot(path=str(artifacts / "compare_failure.png"))
        raise
