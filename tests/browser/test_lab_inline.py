"""JupyterLab 4 + headless Chromium: the widget streams a real range test, a click on the plot
selects an lr, Apply puts it into the optimizer (checked in the kernel)."""

from __future__ import annotations

import re
import time

from lrwidget.report import format_lr
from tests.kernel_code import digits_setup

SETUP = digits_setup(sleep=0.05) + "\nwidget"  # ~10 s in all: the test watches the curve grow

RUN = """\
widget.run(loader, start_lr=1e-5, end_lr=10, num_iter=200, step_fn=step)
print("STARTED")"""

CHECK = """\
print(f"RESULT lr={optimizer.param_groups[0]['lr']!r} applied={widget.applied_lr!r} "
      f"selected={widget.selected_lr!r} status={widget.status}")"""


def test_stream_click_apply_in_jupyterlab(jupyter, open_notebook, shot):
    jupyter.write_notebook("inline.ipynb", [SETUP, RUN, CHECK])
    nb = open_notebook("inline.ipynb")
    page = nb.page
    try:
        nb.run(0)
        root = nb.widget(0)
        root.wait_for(state="visible")
        assert nb.attr(root, "data-status") == "idle"

        assert "STARTED" in nb.run(1)
        page.wait_for_function(
            "() => { const r = document.querySelector('.lrw-root');"
            " return r && r.dataset.status === 'running' && Number(r.dataset.readings) > 0; }",
            timeout=30_000,
        )
        n1 = int(nb.attr(root, "data-readings"))
        time.sleep(1.5)
        n2 = int(nb.attr(root, "data-readings"))
        status = nb.attr(root, "data-status")
        root.scroll_into_view_if_needed()
        shot(page, "lab_inline_running")
        assert status == "running", f"the test ended too soon to watch it ({status})"
        assert n2 > n1 > 0, f"readings did not grow while running: {n1} -> {n2}"
        step_text = root.locator(".lrw-status").inner_text()
        assert re.search(r"step \d+/200", step_text), step_text

        page.wait_for_function(
            "() => ['done', 'diverged'].includes("
            "document.querySelector('.lrw-root').dataset.status)",
            timeout=90_000,
        )
        # The end of the run refreshes the output's static fallback (display id), which
        # re-renders the view: the new view asks for a replay ("hello") and gets every reading.
        page.wait_for_function(
            "n => { const r = document.querySelectorAll('.lrw-root');"
            " return r.length === 1 && Number(r[0].dataset.readings) >= n; }",
            arg=n2,
            timeout=15_000,
        )
        root = nb.widget(0)

        apply_btn = root.get_by_role("button", name="Apply")
        assert apply_btn.is_disabled()  # nothing selected yet
        canvas = root.locator("canvas.lrw-canvas")
        box = canvas.bounding_box()
        canvas.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.5})
        sel = root.locator(".lrw-sel")
        page.wait_for_function(
            "() => /Selected /.test(document.querySelector('.lrw-root .lrw-sel').textContent)"
        )
        shown = sel.inner_text().strip()
        apply_btn.click()
        root.locator(".lrw-applied").filter(has_text="Applied").wait_for(timeout=15_000)
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
