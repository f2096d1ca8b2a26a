"""Notebook 7 (the `/notebooks/X.ipynb` UI): the widget renders, streams a real range test, and
a click on the plot + Apply reaches the optimizer (checked in the kernel)."""

from __future__ import annotations

import re

from lrwidget.views.report import format_lr
from tests.browser import stable
from tests.browser.gate import watch_it_grow
from tests.browser.stable import into_view

RUN = """\
display(widget)
widget.run(loader, start_lr=1e-5, end_lr=10, num_iter=150, step_fn=step)
print("STARTED")"""

CHECK = """\
print(f"RESULT lr={optimizer.param_groups[0]['lr']!r} applied={widget.applied_lr!r} "
      f"status={widget.status}")"""


def test_notebook7_streams_click_apply(jupyter, open_notebook, digits_setup, gate, shot):
    setup = digits_setup(0.0, "Notebook 7", gate=str(gate.path))
    jupyter.write_notebook("nb7.ipynb", [setup, RUN, CHECK])
    nb = open_notebook("nb7.ipynb", ui="notebook")
    page = nb.page
    try:
        # the Notebook 7 shell, not JupyterLab's
        assert "/notebooks/nb7.ipynb" in page.url
        assert page.locator("#jp-top-panel, .jp-NotebookPanel").count() > 0
        assert page.locator(".jp-LabShell").count() == 0, "this is JupyterLab, not Notebook 7"
        assert "SETUP OK" in nb.run(0)
        assert "STARTED" in nb.run(1)
        root = nb.widget(1)
        root.wait_for(state="visible")
        n2 = watch_it_grow(root, gate, timeout=30)
        into_view(root)
        shot(page, "nb7_running")
        gate.open()

        nb.wait_status(["done", "diverged"], timeout=90)
        root = nb.widget(1)
        page.wait_for_function(
            "n => Number(document.querySelector('.lrw-root').dataset.readings) >= n",
            arg=n2,
            timeout=15_000,
        )
        canvas = root.locator("canvas.lrw-canvas")
        # Notebook 7 renders only the cells near the viewport: bring the plot back into view
        # (a busy machine may have scrolled it out while the test ran)
        into_view(canvas)
        canvas.wait_for(state="visible", timeout=15_000)
        box = stable.box(canvas)
        assert box is not None and box["width"] > 400, f"the plot is squeezed in Notebook 7: {box}"
        canvas.click(position={"x": box["width"] * 0.4, "y": box["height"] * 0.5})
        page.wait_for_function(
            "() => /Selected /.test(document.querySelector('.lrw-root .lrw-sel').textContent)"
        )
        shown = root.locator(".lrw-sel").inner_text().strip()
        root.get_by_role("button", name="Apply", exact=True).click()
        root.locator(".lrw-applied").filter(has_text="Applied").wait_for(timeout=15_000)
        shot(page, "nb7_applied")

        m = re.search(r"RESULT lr=(\S+) applied=(\S+) status=(\w+)", nb.run(2))
        assert m, nb.output(2)
        lr, applied = float(m.group(1)), float(m.group(2))
        assert lr == applied
        assert shown == f"Selected {format_lr(applied)}"
        assert (
            jupyter.kernel_eval(
                f"float({applied!r}) in widget.result.lrs.tolist()", name="nb7.ipynb"
            )
            == "True"
        )
    except Exception:
        shot(page, "nb7_failure")
        print(jupyter.log()[-3000:])
        raise
