"""JupyterLab 4 + headless Chromium: the widget streams a real range test, a click on the plot
selects an lr, Apply puts it into the optimizer (checked in the kernel)."""

from __future__ import annotations

import ast
import re

from lrwidget.views.report import format_lr
from tests.browser.conftest import PANEL
from tests.kernel_code import digits_setup

RUN = """\
widget.run(loader, start_lr=1e-5, end_lr=10, num_iter=200, step_fn=step)
print("STARTED")"""

#: the view drew a finished run's line (js/view/frame_loop.js: data-line-low, -1 before)
# the notebook's one view (the re-rendered one: the old may still be in the page a moment) has the
# line: read from that view, not from whichever comes first in the page
#: read where it is checked, in one step: the run's end renders the view anew (a new element,
#: its attribute not set yet), so a second read could meet the new view (CI, 2026-12-08)
LINE_DRAWN = """s => { const r = [...document.querySelectorAll(s)];
  const low = r.length === 1 ? (r[0].dataset.lineLow ?? '-1') : '-1';
  return low !== '-1' && low; }"""
#: the lowest reading of the run's line without lag and of its live EMA, in the kernel
LOWS = (
    "[int(__import__('numpy').nanargmin(a)) for a in (__import__('lrwidget.pure.smooth',"
    " fromlist=['centered']).centered(widget.result.lrs, widget.result.losses),"
    " widget.result.smoothed)]"
)

CHECK = """\
print(f"RESULT lr={optimizer.param_groups[0]['lr']!r} applied={widget.applied_lr!r} "
      f"selected={widget.selected_lr!r} status={widget.status}")"""


def test_stream_click_apply_in_jupyterlab(jupyter, open_notebook, gate, shot):
    # the steps wait on the test's gate: it watches the curve grow, then lets the rest run
    setup = digits_setup(sleep=0.0, gate=str(gate.path)) + "\nwidget"
    jupyter.write_notebook("inline.ipynb", [setup, RUN, CHECK])
    nb = open_notebook("inline.ipynb")
    page = nb.page
    try:
        nb.run(0)
        root = nb.widget(0)
        root.wait_for(state="visible")
        assert nb.attr(root, "data-status") == "idle"

        assert "STARTED" in nb.run(1)
        n = nb.watch_it_grow(root, gate, timeout=30)
        shot(page, "lab_inline_running")
        step_text = root.locator(".lrw-status").inner_text()
        assert re.search(r"step \d+/200", step_text), step_text
        gate.open()

        root = nb.wait_ended(n, timeout=90)
        # issue 21: once over, the run is drawn without lag: the view's line is the kernel's
        # (pure.smooth.centered), its lowest point left of the live EMA's
        drawn = page.wait_for_function(LINE_DRAWN, arg=f"{PANEL} .lrw-root", timeout=15_000)
        drawn_low = int(drawn.json_value())
        line_low, ema_low = ast.literal_eval(jupyter.kernel_eval(LOWS))
        assert drawn_low == line_low < ema_low, (drawn_low, line_low, ema_low)
        assert root.get_by_role(
            "button", name="Apply", exact=True
        ).is_disabled()  # nothing selected yet
        nb.select_on_plot(root, 0.45)
        shown = root.locator(".lrw-sel").inner_text().strip()
        nb.apply(root, timeout=15)
        applied_shown = root.locator(".lrw-applied").inner_text().strip()
        shot(page, "lab_inline_applied")
        shot(root, "widget_inline")  # the widget alone: the README's picture comes from here

        out = nb.run(2)
        m = re.search(r"RESULT lr=(\S+) applied=(\S+) selected=(\S+) status=(\w+)", out)
        assert m, out
        lr, applied, selected = (float(m.group(k)) for k in (1, 2, 3))
        assert lr == applied == selected, out
        assert m.group(4) in ("done", "diverged")
        # the view showed exactly this lr (same formatting rule as js/format.js formatLR)
        assert shown == f"Selected {format_lr(applied)}", (shown, applied)
        assert applied_shown == f"Applied {format_lr(applied)}", (applied_shown, applied)
        # and it is one of the readings the test tried (a click selects the nearest reading)
        tried = jupyter.kernel_eval(f"float({applied!r}) in widget.result.lrs.tolist()")
        assert tried == "True"
    except Exception:
        shot(page, "lab_inline_failure")
        print(jupyter.log()[-3000:])
        raise
