"""Several views of one widget (JupyterLab): two views stay in step while the test runs and at the
end, a selection made in one shows in the other, and a view opened after the test ended shows the
whole curve (it asks for a replay)."""

from __future__ import annotations

from lrwidget.views.report import format_lr
from tests.browser import stable
from tests.browser.gate import wait_until
from tests.browser.stable import into_view

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

VIEW1 = 'display(widget)\nprint("VIEW 1")'
VIEW2_RUN = """\
display(widget)
widget.run(loader, start_lr=1e-5, end_lr=10, num_iter=150, step_fn=step)
print("STARTED")"""
WAIT = """\
result = widget.wait(120)
print(f"ENDED n={len(result)} status={widget.status} selected={widget.selected_lr!r}")"""
LATE = 'display(widget)\nprint(f"LATE n={len(widget.result)}")'

BOTH = f"""() => Array.from(document.querySelectorAll('{PANEL} .lrw-root'))
  .map(r => [Number(r.dataset.readings), r.dataset.status,
             r.querySelector('.lrw-sel').textContent.trim()])"""


def test_two_views_in_step_and_a_late_view_gets_everything(
    jupyter, open_notebook, digits_setup, gate, shot
):
    setup = digits_setup(0.0, "two views", gate=str(gate.path))
    jupyter.write_notebook("views.ipynb", [setup, VIEW1, VIEW2_RUN, WAIT, LATE])
    nb = open_notebook("views.ipynb", viewport=(1280, 1800))
    page = nb.page
    try:
        assert "SETUP OK" in nb.run(0)
        assert "VIEW 1" in nb.run(1)
        assert "STARTED" in nb.run(2)
        page.wait_for_function(f"() => document.querySelectorAll('{PANEL} .lrw-root').length === 2")
        nb.wait_status("running", index=0, timeout=30)
        page.wait_for_function(
            f"() => Number(document.querySelector('{PANEL} .lrw-root').dataset.readings) > 0",
            timeout=30_000,
        )
        # the run holds at the gate: each sample once the first view has grown, then 10 more
        # steps; both views read in one JS turn: the same instant
        samples = []
        for _ in range(5):
            last = samples[-1][0][0] if samples else 0
            samples.append(
                wait_until(
                    lambda last=last: (b := page.evaluate(BOTH))[0][0] > last and b,
                    f"the first view to grow past {last} readings",
                    timeout=30,
                )
            )
            gate.more(10)
        shot(page, "views_two_running")
        gate.open()
        running = [s for s in samples if s[0][1] == "running" and s[1][1] == "running"]
        assert len(running) >= 4, f"the run ended too soon to compare the views: {samples}"
        counts = [(a[0], b[0]) for a, b in running]
        assert all(a == b for a, b in counts), f"the two views disagree while running: {counts}"
        assert counts[-1][0] > counts[0][0] > 0, f"no growth seen: {counts}"

        out = nb.run(3, timeout=120)
        assert "ENDED" in out, out
        n = int(out.split("n=")[1].split()[0])
        page.wait_for_function(
            f"n => {{ const r = document.querySelectorAll('{PANEL} .lrw-root');"
            " return r.length === 2 && Array.from(r).every(x => Number(x.dataset.readings) === n"
            " && ['done', 'diverged'].includes(x.dataset.status)); }",
            arg=n,
            timeout=20_000,
        )
        end = page.evaluate(BOTH)
        assert end[0][:2] == end[1][:2], end

        # a selection made in view 2 shows in view 1 (through the kernel's selected_lr)
        roots = nb.roots()
        canvas = roots.nth(1).locator("canvas.lrw-canvas")
        into_view(canvas)
        box = stable.box(canvas)
        canvas.click(position={"x": box["width"] * 0.35, "y": box["height"] * 0.5})
        page.wait_for_function(
            f"() => Array.from(document.querySelectorAll('{PANEL} .lrw-root .lrw-sel'))"
            ".every(e => /Selected /.test(e.textContent))",
            timeout=10_000,
        )
        sel = [s[2] for s in page.evaluate(BOTH)]
        assert sel[0] == sel[1], sel
        selected = float(jupyter.kernel_eval("widget.selected_lr", name="views.ipynb"))
        assert sel[0] == f"Selected {format_lr(selected)}", (sel, selected)
        into_view(roots.nth(0))
        shot(page, "views_two_selected")

        # a view opened now, after the end, gets every reading
        assert f"LATE n={n}" in nb.run(4)
        page.wait_for_function(
            f"n => {{ const r = document.querySelectorAll('{PANEL} .lrw-root');"
            " return r.length === 3 && Number(r[2].dataset.readings) === n; }",
            arg=n,
            timeout=15_000,
        )
        late = nb.roots().nth(2)
        assert late.get_attribute("data-status") in ("done", "diverged")
        assert late.locator(".lrw-sel").inner_text().strip() == sel[0]
        into_view(late)
        shot(page, "views_late")
    except Exception:
        shot(page, "views_failure")
        raise
