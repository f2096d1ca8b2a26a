"""``lrwidget.show_in_sidebar`` in real front ends.

JupyterLab: the widget shows in the right sidebar (sidecar), about 300 px wide, with the whole
curve, the buttons and the status inside the panel (bounding boxes compared, nothing scrolled or
cut), the inline output folds to a note, and a click + Apply in the sidebar reaches the optimizer.
Notebook 7 has no sidecar: the inline view is the whole widget."""

from __future__ import annotations

import re

from lrwidget.views.report import format_lr
from tests.browser import stable
from tests.browser.gate import watch_it_grow
from tests.browser.stable import into_view

SIDE = "#jp-right-stack .lrw-root"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

SHOW_RUN = """\
panel = lrwidget.show_in_sidebar(widget, title="LR finder")
widget.run(loader, start_lr=1e-5, end_lr=10, num_iter=120, step_fn=step)
print("STARTED", type(panel).__name__)"""

CHECK = """\
result = widget.wait(120)
print(f"RESULT n={len(result)} lr={optimizer.param_groups[0]['lr']!r} "
      f"applied={widget.applied_lr!r} status={widget.status} views={widget.sidebar_views}")"""

# boxes of the parts that must be visible, and overflow of every box in the view
PARTS = """(sel) => {
  const root = document.querySelector(sel);
  const host = root.closest('.jupyterlab-sidecar') || root.closest('#jp-right-stack');
  const box = (e) => {
    const r = e.getBoundingClientRect();
    return {x: r.left, y: r.top, r: r.right, b: r.bottom, w: r.width, h: r.height};
  };
  const q = (s) => root.querySelector(s);
  const parts = {canvas: q('canvas.lrw-canvas'), plot: q('.lrw-plot'), apply: q('.lrw-apply'),
                 stop: q('.lrw-stop'), status: q('.lrw-status'), picker: q('.lrw-picker'),
                 title: q('.lrw-title'), legend: q('.lrw-legend'), readouts: q('.lrw-readouts')};
  const out = {host: box(host), root: box(root), parts: {}, overflow: []};
  for (const [k, e] of Object.entries(parts)) out.parts[k] = e ? box(e) : null;
  for (const e of [root, ...root.querySelectorAll('*')]) {
    if (e.classList.contains('lrw-sr-only') || e.closest('[hidden]')) continue;
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
      out.overflow.push(e.className || e.tagName);
  }
  out.hostScroll = [host.scrollWidth, host.clientWidth];
  return out;
}"""


def _inside(inner, outer, tol=0.5) -> bool:
    return (
        inner["x"] >= outer["x"] - tol
        and inner["r"] <= outer["r"] + tol
        and inner["y"] >= outer["y"] - tol
        and inner["b"] <= outer["b"] + tol
    )


def test_sidebar_in_jupyterlab(jupyter, open_notebook, digits_setup, gate, shot):
    setup = digits_setup(0.0, "digits MLP", gate=str(gate.path))
    jupyter.write_notebook("sidebar_lab.ipynb", [setup, SHOW_RUN, CHECK])
    nb = open_notebook("sidebar_lab.ipynb", viewport=(1400, 1000))
    page = nb.page
    try:
        assert "SETUP OK" in nb.run(0)
        assert "STARTED Sidecar" in nb.run(1)
        side = page.locator(SIDE).first
        side.wait_for(state="visible", timeout=20_000)
        page.wait_for_function(
            f"() => document.querySelector('{SIDE}').dataset.placement === 'sidebar'",
            timeout=15_000,
        )
        # the inline place folds to a note while the sidebar view is visible
        note = nb.cell(1).locator(".lrw-elsewhere")
        note.wait_for(state="visible", timeout=15_000)
        assert not nb.cell(1).locator(".lrw-root").first.is_visible()

        watch_it_grow(side, gate, timeout=30)  # the sidebar view grows while the test runs
        shot(page, "sidebar_running")
        gate.open()
        page.wait_for_function(
            f"() => ['done', 'diverged'].includes(document.querySelector('{SIDE}').dataset.status)",
            timeout=90_000,
        )
        page.wait_for_timeout(300)

        geo = page.evaluate(PARTS, SIDE)
        host, root = geo["host"], geo["root"]
        print(
            f"sidebar panel {host['w']:.0f}x{host['h']:.0f} px, view {root['w']:.0f} px wide, "
            f"canvas {geo['parts']['canvas']['w']:.0f}x{geo['parts']['canvas']['h']:.0f}"
        )
        assert 200 <= host["w"] <= 450, f"the sidebar is {host['w']:.0f} px wide, not ~300"
        cut = [
            k
            for k, b in geo["parts"].items()
            if b is None or b["w"] < 1 or b["h"] < 1 or not _inside(b, host)
        ]
        assert not cut, f"cropped or missing in the sidebar: {cut}\n{geo}"
        assert _inside(root, host), geo
        assert geo["parts"]["canvas"]["w"] >= geo["parts"]["plot"]["w"] - 1, geo
        assert not geo["overflow"], f"parts overflowing their box: {geo['overflow']}"
        assert geo["hostScroll"][0] <= geo["hostScroll"][1] + 1, (
            f"the sidebar scrolls sideways: {geo['hostScroll']}"
        )
        text = side.locator(".lrw-status").inner_text()
        assert re.search(r"(Done|Diverged)", text), text
        stable.screenshot(side, path=str(shot(page, "sidebar_done").with_name("sidebar_view.png")))

        # click + Apply in the sidebar
        canvas = side.locator("canvas.lrw-canvas")
        box = stable.box(canvas)
        canvas.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.5})
        page.wait_for_function(
            f"() => /Selected /.test(document.querySelector('{SIDE} .lrw-sel').textContent)"
        )
        shown = side.locator(".lrw-sel").inner_text().strip()
        side.get_by_role("button", name="Apply", exact=True).click()
        side.locator(".lrw-applied").filter(has_text="Applied").wait_for(timeout=15_000)
        shot(page, "sidebar_applied")

        out = nb.run(2)
        m = re.search(r"RESULT n=(\d+) lr=(\S+) applied=(\S+) status=(\w+) views=(\d+)", out)
        assert m, out
        n, lr, applied = int(m.group(1)), float(m.group(2)), float(m.group(3))
        assert lr == applied, out
        assert shown == f"Selected {format_lr(applied)}", (shown, applied)
        assert int(side.get_attribute("data-readings")) == n, "the sidebar misses readings"
        assert int(m.group(5)) >= 1, out
    except Exception:
        shot(page, "sidebar_lab_failure")
        raise


def test_sidebar_notebook7_shows_inline(jupyter, open_notebook, digits_setup, shot):
    jupyter.write_notebook("sidebar_nb7.ipynb", [digits_setup(0.0, "digits MLP"), SHOW_RUN, CHECK])
    nb = open_notebook("sidebar_nb7.ipynb", ui="notebook")
    page = nb.page
    try:
        assert "SETUP OK" in nb.run(0)
        assert "STARTED" in nb.run(1)
        root = nb.cell(1).locator(".lrw-root").first
        root.wait_for(state="visible", timeout=20_000)
        out = nb.run(2, timeout=120)
        assert "RESULT" in out, out
        n = int(re.search(r"n=(\d+)", out).group(1))
        page.wait_for_function(
            f"n => {{ const r = document.querySelector('{PANEL} .lrw-root');"
            " return r && Number(r.dataset.readings) === n; }",
            arg=n,
            timeout=20_000,
        )
        root = nb.cell(1).locator(".lrw-root").first
        assert root.is_visible()
        assert root.get_attribute("data-placement") == "inline"
        assert root.get_attribute("data-status") in ("done", "diverged")
        note = nb.cell(1).locator(".lrw-elsewhere")
        assert note.count() == 0 or not note.first.is_visible(), "Notebook 7 folded the view"
        assert page.locator(".lrw-root[data-placement='sidebar']").count() == 0
        for name in ("Apply", "Stop"):
            assert root.get_by_role("button", name=name, exact=True).is_visible()
        assert stable.box(root.locator("canvas.lrw-canvas"))["width"] > 400
        into_view(root)
        shot(page, "sidebar_nb7_inline")
    except Exception:
        shot(page, "sidebar_nb7_failure")
        raise
