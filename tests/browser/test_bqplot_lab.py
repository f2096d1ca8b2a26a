"""The bqplot view (``lrwidget.BqplotView``) in a real JupyterLab: it streams while the range test
runs (its lines grow), and a click on the figure selects a tested lr in the kernel, the selection of
every view of the finder. Screenshots: artifacts/bqplot_lab_*.png."""

from __future__ import annotations

import time

from tests.browser.stable import into_view

VIEW = """\
view = lrwidget.BqplotView(finder, title="bqplot view")
display(view)
print("VIEW")"""
RUN = """\
widget.run(loader, start_lr=1e-5, end_lr=10, num_iter=150, step_fn=step)
print("STARTED")"""
WAIT = """\
result = widget.wait(120)
print(f"ENDED n={len(result)} lines={len(view.smoothed_line.x)}")"""

#: points of the figure's lines in the page: the longest path's vertices, and the clickable dots
SHAPE = """(sel) => {
  const fig = document.querySelector(sel);
  if (!fig) return null;
  const verts = Array.from(fig.querySelectorAll("path.line"))
    .map((p) => ((p.getAttribute("d") || "").match(/[ML]/g) || []).length);
  return { vertices: Math.max(0, ...verts), dots: fig.querySelectorAll(".dot").length };
}"""


def _vertices(page, fig: str) -> int:
    s = page.evaluate(SHAPE, fig)
    return s["vertices"] if s else 0


def _lines_past(page, fig: str, past: int, gate, timeout: float = 30.0) -> int:
    """The vertices of the figure's lines once more than ``past``. The view redraws on readings,
    at most every 0.2 s: a batch that came sooner waits for the next; while the gate holds the
    run, one more step every 0.5 s brings it."""
    deadline = time.monotonic() + timeout
    nudge = time.monotonic() + 0.5
    while (v := _vertices(page, fig)) <= past:
        assert time.monotonic() < deadline, f"the lines did not grow past {past} vertices"
        if time.monotonic() > nudge:
            gate.more(1)
            nudge += 0.5
        time.sleep(0.05)
    return v


def test_bqplot_view_streams_and_takes_a_click(jupyter, open_notebook, digits_setup, gate, shot):
    setup = digits_setup(0.0, "bqplot", gate=str(gate.path))
    jupyter.write_notebook("bqplot.ipynb", [setup, VIEW, RUN, WAIT])
    nb = open_notebook("bqplot.ipynb", viewport=(1280, 1100))
    page = nb.page
    fig = ".jp-NotebookPanel:not(.lm-mod-hidden) .bqplot.figure"
    try:
        assert "SETUP OK" in nb.run(0)
        assert "VIEW" in nb.run(1)
        page.locator(fig).first.wait_for(timeout=30_000)
        assert "STARTED" in nb.run(2)
        # the run holds at the gate: each sample is the lines grown, then 20 more steps
        samples = []
        for _ in range(3):
            samples.append(_lines_past(page, fig, samples[-1] if samples else 0, gate))
            if len(samples) == 2:
                shot(page, "bqplot_lab_running")
            gate.more(20)
        gate.open()
        grew = sorted(set(samples))
        assert len([v for v in grew if 0 < v < 140]) >= 3, f"the lines did not grow live: {samples}"

        out = nb.run(3, timeout=120)
        assert "ENDED" in out, out
        n = int(out.split("n=")[1].split()[0])
        page.wait_for_function(
            "([sel, n]) => { const f = document.querySelector(sel); return !!f &&"
            " f.querySelectorAll('.dot').length >= n; }",
            arg=[fig, n],
            timeout=20_000,
        )
        # a click on the curve (on the dot of a reading in the middle of the run)
        dots = page.locator(f"{fig} .dot")
        target = dots.nth(n // 2)
        into_view(target)
        target.click(force=True)  # the dots are drawn almost transparent over the curve
        deadline = time.time() + 15
        selected = "None"
        while time.time() < deadline:
            selected = jupyter.kernel_eval("view.selected_lr", name="bqplot.ipynb")
            if selected != "None":
                break
            time.sleep(0.25)
        assert selected != "None", "the click selected nothing in the kernel"
        tested = jupyter.kernel_eval(
            "[float(x) for x in result.lrs].index(view.selected_lr)", name="bqplot.ipynb"
        )
        assert abs(int(tested) - n // 2) <= 2, (tested, n)
        same = jupyter.kernel_eval("widget.selected_lr == view.selected_lr", name="bqplot.ipynb")
        assert same == "True", "the widget of the same finder does not share the selection"
        page.wait_for_function(
            "(sel) => Array.from(document.querySelectorAll(sel + ' path.line'))"
            ".some(p => ((p.getAttribute('d') || '').match(/[ML]/g) || []).length === 2)",
            arg=fig,
            timeout=10_000,
        )
        into_view(page.locator(fig).first)
        shot(page, "bqplot_lab_selected")
    except Exception:
        shot(page, "bqplot_lab_failure")
        raise
