"""Voilà: a dashboard notebook (code hidden, outputs only) that runs the range test in the widget,
in headless Chromium, light and dark (``?theme=dark``). The widget streams, a click + Apply reaches
the optimizer (read back by an ipywidgets button of the dashboard, in the kernel), and the widget
wears Voilà's theme (JupyterLab's --jp-* variables). One server for the module: every page gets a
kernel of its own that runs the dashboard."""

from __future__ import annotations

import importlib.util
import re
import sys

import pytest

from lrwidget.views.report import format_lr
from tests.browser import stable
from tests.browser.conftest import _free_port, _need
from tests.browser.gate import FIRST, Gate, watch_it_grow
from tests.browser.hosts import ServerProcess, fresh_env
from tests.browser.pixels import contrast, css_rgb, luminance, plot_problems
from tests.kernel_code import digits_setup

TOKEN = "lrwvoila"

RUN = """\
display(widget)
widget.run(loader, start_lr=1e-5, end_lr=10, num_iter={n}, step_fn=step)"""

READ = """\
import ipywidgets as W
read = W.Button(description="Read the optimizer's learning rate", layout=W.Layout(width="auto"))
readout = W.Label()
def _read(_):
    readout.value = (f"optimizer lr: {optimizer.param_groups[0]['lr']!r} "
                     f"applied: {widget.applied_lr!r} "
                     f"tried: {widget.applied_lr in widget.result.lrs.tolist()}")
read.on_click(_read)
W.HBox([read, readout])"""


class Voila:
    """``voila dashboard.ipynb`` with fresh dirs, on 127.0.0.1 with a token; a page asks for its
    theme (``url(theme)``); the dashboard's steps wait on ``gate``."""

    def __init__(self, root, gate: Gate, num_iter: int = 150):
        import nbformat
        from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

        nbdir = root / "nb"
        nbdir.mkdir(parents=True)
        nb = new_notebook(
            cells=[
                new_markdown_cell("# Learning-rate finder\nClick the curve, then **Apply**."),
                new_code_cell(digits_setup(0.0, "Voilà dashboard", gate=str(gate.path))),
                new_code_cell(RUN.format(n=num_iter)),
                new_code_cell(READ),
            ]
        )
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nbformat.write(nb, str(nbdir / "dashboard.ipynb"))
        self.gate = gate
        self.port = _free_port()
        cmd = [
            sys.executable,
            "-m",
            "voila",
            "dashboard.ipynb",
            "--no-browser",
            f"--port={self.port}",
            "--Voila.ip=127.0.0.1",
            f"--token={TOKEN}",
            "--theme=light",
            "--VoilaConfiguration.allow_theme_override=YES",  # ?theme=dark
        ]
        self.server = ServerProcess(
            cmd, fresh_env(root), nbdir, root / "voila.log", f"http://127.0.0.1:{self.port}/"
        )

    def url(self, theme: str) -> str:
        return f"http://127.0.0.1:{self.port}/?token={TOKEN}&theme={theme}"


@pytest.fixture(scope="module")
def voila_app(tmp_path_factory):
    _need("voila", importlib.util.find_spec("voila") is not None, "pip install voila")
    root = tmp_path_factory.mktemp("voila")
    gate = Gate(root / "steps.gate")
    app = Voila(root, gate)
    try:
        yield app
    finally:
        gate.open()
        app.server.stop()


@pytest.fixture
def voila(voila_app, browser):
    """``voila(theme, held)`` -> (app, page): a page of the dashboard in ``theme``; with
    ``held``, its run waits at the gate after its first steps, else it runs at full speed."""
    contexts = []

    def start(theme: str, held: bool):
        if held:
            voila_app.gate.allow(FIRST)
        else:
            voila_app.gate.open()
        ctx = browser.new_context(viewport={"width": 1100, "height": 720})
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        page.goto(voila_app.url(theme))
        return voila_app, page

    yield start
    voila_app.gate.open()  # a run the test left held goes on
    for ctx in contexts:
        ctx.close()


def theme_problems(page, root, dark: bool) -> list:
    """The widget against the page's own JupyterLab theme variables."""
    style = root.evaluate(
        "r => { const cs = getComputedStyle(r);"
        " const page = getComputedStyle(document.body);"
        " const t = getComputedStyle(r.querySelector('.lrw-title'));"
        " const probe = document.createElement('div');"
        " probe.style.background = page.getPropertyValue('--jp-layout-color0');"
        " document.body.appendChild(probe);"
        " const want = getComputedStyle(probe).backgroundColor; probe.remove();"
        " return {bg: cs.backgroundColor, want, title: t.color, host: r.dataset.lrwHost,"
        " light: document.body.dataset.jpThemeLight}; }"
    )
    out = []
    if style["light"] != ("false" if dark else "true"):
        out.append(f"Voilà's page is not {'dark' if dark else 'light'} ({style['light']=})")
    if style["host"] != "jupyter":
        out.append(f"data-lrw-host={style['host']!r}, not jupyter")
    if style["bg"] != style["want"]:
        out.append(
            f"widget background {style['bg']}, Voilà's --jp-layout-color0 is {style['want']}"
        )
    c = float(
        contrast(float(luminance(css_rgb(style["title"]))), float(luminance(css_rgb(style["bg"]))))
    )
    if c < 4.5:
        out.append(f"title {style['title']} has contrast {c:.1f}:1 on {style['bg']}")
    return out


def test_voila_dark_dashboard_streams_click_apply(voila, shot, artifacts):
    app, page = voila("dark", held=True)
    try:
        root = page.locator(".lrw-root").first
        root.wait_for(state="visible", timeout=60_000)
        n2 = watch_it_grow(root, app.gate)
        shot(page, "voila_dark_running")
        app.gate.open()

        page.wait_for_function(
            "n => { const r = document.querySelector('.lrw-root');"
            " return ['done', 'diverged'].includes(r.dataset.status)"
            " && Number(r.dataset.readings) >= n; }",
            arg=n2,
            timeout=90_000,
        )
        root = page.locator(".lrw-root").first  # the end of the run may re-render the output
        page.wait_for_timeout(300)
        png = stable.screenshot(
            root.locator(".lrw-plot"), path=str(artifacts / "voila_dark_plot.png")
        )
        problems = theme_problems(page, root, dark=True) + plot_problems(png, dark=True)

        canvas = root.locator("canvas.lrw-canvas")
        box = stable.box(canvas)
        canvas.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.5})
        root.locator(".lrw-sel").filter(has_text="Selected").wait_for(timeout=15_000)
        shown = root.locator(".lrw-sel").inner_text().strip()
        root.get_by_role("button", name="Apply", exact=True).click()
        root.locator(".lrw-applied").filter(has_text="Applied").wait_for(timeout=15_000)
        applied_shown = root.locator(".lrw-applied").inner_text().strip()
        shot(page, "voila_dark_applied")
        shot(root, "voila_dark_widget")
        assert not problems, "not in Voilà's dark theme: " + "; ".join(problems)

        page.get_by_role("button", name="Read the optimizer's learning rate").click()
        label = page.get_by_text(re.compile(r"optimizer lr:")).first
        label.wait_for(timeout=15_000)
        m = re.search(r"optimizer lr: (\S+) applied: (\S+) tried: (\w+)", label.inner_text())
        assert m, label.inner_text()
        lr, applied = float(m.group(1)), float(m.group(2))
        assert lr == applied and m.group(3) == "True", m.group(0)
        assert shown == f"Selected {format_lr(lr)}", (shown, lr)
        assert applied_shown == f"Applied {format_lr(lr)}", (applied_shown, lr)
    except Exception:
        shot(page, "voila_dark_failure")
        print(app.server.log()[-3000:])
        raise


def test_voila_light(voila, shot, artifacts):
    app, page = voila("light", held=False)
    try:
        page.wait_for_function(
            "() => { const r = document.querySelector('.lrw-root');"
            " return !!r && ['done', 'diverged'].includes(r.dataset.status); }",
            timeout=90_000,
        )
        root = page.locator(".lrw-root").first
        page.wait_for_timeout(300)
        png = stable.screenshot(
            root.locator(".lrw-plot"), path=str(artifacts / "voila_light_plot.png")
        )
        shot(page, "voila_light")
        problems = theme_problems(page, root, dark=False) + plot_problems(png, dark=False)
        assert not problems, "not in Voilà's light theme: " + "; ".join(problems)
    except Exception:
        shot(page, "voila_light_failure")
        print(app.server.log()[-3000:])
        raise
