"""The range and its schedule in a real JupyterLab (issue 19): drag across the curve, pick "One
cycle", Apply schedule, and read the scheduler back in the kernel (max_lr == the range's top, the
param groups' ratio kept); then the keyboard range (Shift+Right from the selection, on in the
view rendered anew when the range settles; Escape). Each preview frame draws vertices bounded
by its canvas's pixel columns (tests/browser/frames.py). Screenshots in light and dark."""

from __future__ import annotations

import re
import time

from lrwidget.views.schedule_feed import PREVIEW_COLUMNS
from tests.browser import frames, stable
from tests.browser.stable import into_view

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
ROOT = f"{PANEL} .lrw-root"

TWO_GROUPS = """\
optimizer = torch.optim.SGD([{"params": model[0].parameters(), "lr": 1e-5},
                             {"params": model[2].parameters(), "lr": 1e-6}], momentum=0.9)
finder = LRFinder(model, optimizer, criterion)
widget = LRFinderWidget(finder, title="Schedule from a range")
display(widget)
widget.run(loader, start_lr=1e-5, end_lr=10, num_iter=80, step_fn=step)"""

READ = """\
import numpy as np
lrs = list(widget.result.lrs)
r = widget.selected_range
print("RANGE", None if r is None else (lrs.index(r[0]), lrs.index(r[1])))
g = optimizer.param_groups
print("MAXLR", [x.get("max_lr") for x in g], "HI", None if r is None else r[1])
print("APPLIED", widget.schedule_applied and widget.schedule_applied["kind"])"""


def _read(nb, cell: int) -> dict:
    out = nb.run(cell)
    rng = re.search(r"RANGE (None|\((\d+), (\d+)\))", out)
    maxlr = re.search(r"MAXLR \[(.*?)\] HI (\S+)", out)
    assert rng and maxlr, out
    ends = None if rng.group(1) == "None" else (int(rng.group(2)), int(rng.group(3)))
    groups = [None if v.strip() == "None" else float(v) for v in maxlr.group(1).split(",")]
    hi = None if maxlr.group(2) == "None" else float(maxlr.group(2))
    return {"range": ends, "max_lr": groups, "hi": hi, "out": out}


def _drag(page, canvas, x0: float, x1: float) -> None:
    box = stable.box(canvas)
    y = box["y"] + box["height"] * 0.5
    page.mouse.move(box["x"] + box["width"] * x0, y)
    page.mouse.down()
    for k in range(1, 11):  # a drag is moves with the button down
        page.mouse.move(box["x"] + box["width"] * (x0 + (x1 - x0) * k / 10), y)
    page.mouse.up()


def test_drag_pick_one_cycle_apply_and_the_keyboard_range(
    jupyter, open_notebook, digits_setup, shot, artifacts
):
    jupyter.write_notebook(
        "schedule.ipynb", [digits_setup(0.0, "Schedule"), TWO_GROUPS, READ, READ]
    )
    nb = open_notebook("schedule.ipynb")
    page = nb.page
    try:
        assert "SETUP OK" in nb.run(0)
        nb.run(1)
        nb.wait_ended(40, cell=1)
        page.wait_for_function(  # the suggested range's preview came with the run's end
            "s => Number(document.querySelector(s + ' canvas.lrw-preview').dataset.points) > 10",
            arg=ROOT,
        )
        # the run's end refreshes the output's static fallback, which renders the view anew
        page.wait_for_timeout(1500)
        root = nb.widget(1)
        into_view(root)
        shot(page, "schedule_suggested_light")
        _drag(page, root.locator("canvas.lrw-canvas"), 0.2, 0.55)
        page.wait_for_timeout(300)
        assert root.locator(".lrw-sel").inner_text().startswith("Nothing"), "a drag is no click"
        frames.watch(page, "body", "lrw-preview")  # every preview frame from here on, any view
        root.get_by_label("Schedule", exact=True).select_option(label="One cycle")
        steps = root.get_by_label("Total steps")
        steps.fill("500")
        steps.press("Enter")
        page.wait_for_function(
            "s => document.querySelector(s + ' .lrw-preview')"
            ".getAttribute('aria-label').includes('500 steps')",
            arg=ROOT,
        )
        root.get_by_role("button", name="Apply schedule").click()
        page.wait_for_function(
            "s => document.querySelector(s).dataset.schedule === 'one_cycle'", arg=ROOT
        )
        got = _read(nb, 2)
        lo, hi = got["range"]
        assert 0 <= lo < hi, got["out"]
        assert got["max_lr"][0] == got["hi"], f"max_lr is the range's top: {got['out']}"
        assert abs(got["max_lr"][1] / got["max_lr"][0] - 0.1) < 1e-12, "group ratio kept"
        assert "APPLIED one_cycle" in got["out"]
        time.sleep(0.3)
        stable.screenshot(root, path=str(artifacts / "schedule_light.png"))

        # the keyboard: a click selects a reading, Shift+Right x3 grows the range, Escape clears
        nb.select_on_plot(root, 0.4)
        box = root.locator(".lrw-plot")
        # keys pressed while a refresh replaces the view reach the page, not the view: the
        # keys start once no refresh is on its way (the Apply schedule's may come late)
        old_view = stable.settled(box)
        page.evaluate(  # where each key went, for the message below
            "() => { window.__keys = []; document.addEventListener('keydown', e => window.__keys"
            ".push(`${e.key}@${e.target.className || e.target.tagName}`), true); }"
        )
        for _ in range(3):
            page.keyboard.press("Shift+ArrowRight")  # where the focus is, as a user types
        # the settled range refreshes the static fallback, which renders the view anew: the
        # focus and the keys' range go on in the new view (js/view/focus_carry.js)
        page.wait_for_function("el => !el.isConnected", arg=old_view, timeout=20_000)
        page.wait_for_function(
            "s => document.activeElement && document.activeElement.matches(s + ' .lrw-plot')",
            arg=ROOT,
            timeout=5_000,
        )
        page.keyboard.press("Shift+ArrowRight")
        page.wait_for_timeout(500)
        keyed = _read(nb, 3)["range"]
        keys = page.evaluate("window.__keys")
        assert keyed is not None and keyed[1] - keyed[0] == 4, (keyed, keys)
        box.press("Escape")
        page.wait_for_timeout(500)
        assert _read(nb, 3)["range"] is None
        nb.set_theme("dark")
        time.sleep(0.5)
        into_view(root)
        stable.screenshot(root, path=str(artifacts / "schedule_dark.png"))
        page.set_viewport_size({"width": 640, "height": 900})  # a narrow (sidebar-like) view
        time.sleep(0.5)
        into_view(root)
        stable.screenshot(root, path=str(artifacts / "schedule_dark_narrow.png"))
        # the end of a run and a settled range render the view anew: every view's preview counts
        drawn = frames.recorded(page)
        print(drawn.summary("schedule previews"))
        # the kernel sends at most PREVIEW_COLUMNS points, whatever the total steps: a frame
        # fills under them and strokes them, 2 n + 4 vertices (1,004 for 500 steps). One count
        # in the ~11 took two frames' (2,008): the bound allows two frames
        assert len(drawn) >= 2 and max(drawn.ops) <= 2 * (2 * PREVIEW_COLUMNS + 4), drawn
    except Exception:
        shot(page, "schedule_failure")
        raise
