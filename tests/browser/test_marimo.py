"""marimo: ``marimo run notebooks/marimo_quickstart.py`` (the notebook as an app) in headless
Chromium. The widget (``mo.ui.anywidget``, drawn in a shadow root) streams a real range test, a
click + Apply reaches the optimizer (read back by the notebook's own button, in the kernel), and
the widget wears marimo's theme: dark (``body.dark``, ``--background``) and light."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
import time

import pytest

from lrwidget.views.report import format_lr
from tests.browser import stable
from tests.browser.conftest import REPO, _free_port, _need
from tests.browser.hosts import ServerProcess, fresh_env
from tests.browser.pixels import contrast, css_rgb, hex_rgb, luminance, plot_problems
from tests.browser.stable import into_view

NOTEBOOK = REPO / "notebooks" / "marimo_quickstart.py"
TOKEN = "lrwmarimo"
# marimo 0.25's own theme values, as the page computes them
MARIMO = {
    "dark": {"bg": "#181c1a", "fg": "#eceeed"},
    "light": {"bg": "#ffffff", "fg": "#0f172a"},
}


class Marimo:
    """``marimo run`` of a copy of the notebook, with a fresh user config holding the theme."""

    def __init__(self, root, theme: str, *args: str):
        home = root / "home"
        nbdir = home / "nb"
        nbdir.mkdir(parents=True)
        shutil.copy(NOTEBOOK, nbdir / NOTEBOOK.name)
        env = fresh_env(root)
        cfg = root / "xdg_config_home" / "marimo"
        cfg.mkdir(parents=True)
        (cfg / "marimo.toml").write_text(f'[display]\ntheme = "{theme}"\n')
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/?access_token={TOKEN}"
        cmd = [
            sys.executable,
            "-m",
            "marimo",
            "run",
            NOTEBOOK.name,
            "--headless",
            "--host=127.0.0.1",
            f"--port={self.port}",
            f"--token-password={TOKEN}",
            "--no-sandbox",
            "--",
            *args,
        ]
        self.server = ServerProcess(
            cmd, env, nbdir, root / "marimo.log", f"http://127.0.0.1:{self.port}/health"
        )


@pytest.fixture
def marimo_run(tmp_path):
    _need("marimo", importlib.util.find_spec("marimo") is not None, "pip install marimo")
    started = []

    def start(theme: str, *args: str) -> Marimo:
        m = Marimo(tmp_path / theme, theme, *args)
        started.append(m)
        return m

    yield start
    for m in started:
        m.server.stop()


@pytest.fixture
def page_of(browser):
    contexts = []

    def open_(url: str):
        ctx = browser.new_context(viewport={"width": 1100, "height": 800})
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        return page

    yield open_
    for ctx in contexts:
        ctx.close()


def theme_problems(root, kind: str) -> list:
    """How the widget's DOM differs from marimo's theme ``kind``."""
    want = MARIMO[kind]
    style = root.evaluate(
        "r => { const cs = getComputedStyle(r);"
        " const t = getComputedStyle(r.querySelector('.lrw-title'));"
        " const s = getComputedStyle(r.querySelector('.lrw-status-text'));"
        " return {bg: cs.backgroundColor, font: cs.fontFamily, title: t.color, status: s.color,"
        " host: r.dataset.lrwHost, dark: document.body.classList.contains('dark')}; }"
    )
    out = []
    if style["dark"] != (kind == "dark"):
        out.append(f"marimo's page is not {kind} (body.dark is {style['dark']})")
    if style["host"] != "marimo":
        out.append(f"the view did not see marimo (data-lrw-host={style['host']!r})")
    if css_rgb(style["bg"]) != hex_rgb(want["bg"]):
        out.append(f"widget background {style['bg']}, marimo's --background is {want['bg']}")
    if css_rgb(style["title"]) != hex_rgb(want["fg"]):
        out.append(f"title colour {style['title']}, marimo's --foreground is {want['fg']}")
    bg = float(luminance(css_rgb(style["bg"])))
    c = float(contrast(float(luminance(css_rgb(style["status"]))), bg))
    if c < 4.5:
        out.append(f"status text {style['status']} has contrast {c:.1f}:1")
    if not style["font"].startswith('"PT Sans"'):
        out.append(f"font {style['font']!r} is not marimo's text font (PT Sans)")
    return out


def test_marimo_dark_streams_click_apply(marimo_run, page_of, shot, artifacts):
    app = marimo_run("dark", "--num-iter", "150", "--step-sleep", "0.04")
    page = page_of(app.url)
    try:
        root = page.locator(".lrw-root").first  # Playwright's CSS reaches into shadow roots
        root.wait_for(state="visible", timeout=60_000)
        page.wait_for_function(
            "() => { const h = document.querySelector('marimo-anywidget');"
            " const r = h && h.shadowRoot && h.shadowRoot.querySelector('.lrw-root');"
            " return !!r && r.dataset.status === 'running' && Number(r.dataset.readings) > 0; }",
            timeout=60_000,
        )
        n1 = int(root.get_attribute("data-readings"))
        time.sleep(1.5)
        n2, status = int(root.get_attribute("data-readings")), root.get_attribute("data-status")
        shot(page, "marimo_dark_running")
        assert status == "running", f"the test ended too soon to watch it ({status})"
        assert n2 > n1 > 0, f"readings did not grow while running: {n1} -> {n2}"

        page.wait_for_function(
            "n => { const h = document.querySelector('marimo-anywidget');"
            " const r = h.shadowRoot.querySelector('.lrw-root');"
            " return ['done', 'diverged'].includes(r.dataset.status)"
            " && Number(r.dataset.readings) >= n; }",
            arg=n2,
            timeout=90_000,
        )
        page.wait_for_timeout(300)
        plot = root.locator(".lrw-plot")
        png = stable.screenshot(plot, path=str(artifacts / "marimo_dark_plot.png"))
        problems = theme_problems(root, "dark")
        problems += plot_problems(png, dark=True, background=MARIMO["dark"]["bg"])

        canvas = root.locator("canvas.lrw-canvas")
        box = stable.box(canvas)
        t0 = time.time()
        canvas.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.5})
        root.locator(".lrw-sel").filter(has_text="Selected").wait_for(timeout=15_000)
        shown = root.locator(".lrw-sel").inner_text().strip()
        root.get_by_role("button", name="Apply", exact=True).click()
        root.locator(".lrw-applied").filter(has_text="Applied").wait_for(timeout=15_000)
        round_trip = time.time() - t0
        applied_shown = root.locator(".lrw-applied").inner_text().strip()
        into_view(root)
        shot(page, "marimo_dark_applied")
        shot(root, "marimo_dark_widget")
        assert not problems, "not in marimo's dark theme: " + "; ".join(problems)

        # the notebook's own button reads the optimizer in the kernel
        page.get_by_role("button", name="Read the optimizer's learning rate").click()
        line = page.get_by_text(re.compile(r"optimizer lr:")).first
        line.wait_for(timeout=30_000)
        m = re.search(r"optimizer lr: (\S+) \(applied from the view: (\S+)\)", line.inner_text())
        assert m, line.inner_text()
        lr, applied = float(m.group(1)), float(m.group(2))
        assert lr == applied, m.group(0)
        assert shown == f"Selected {format_lr(lr)}", (shown, lr)
        assert applied_shown == f"Applied {format_lr(lr)}", (applied_shown, lr)
        print(
            f"click + Apply shown back in {round_trip:.2f} s; server up in "
            f"{app.server.startup_s:.1f} s"
        )
    except Exception:
        shot(page, "marimo_dark_failure")
        print(app.server.log()[-3000:])
        raise


def test_marimo_light(marimo_run, page_of, shot, artifacts):
    app = marimo_run("light", "--num-iter", "60")
    page = page_of(app.url)
    try:
        root = page.locator(".lrw-root").first
        root.wait_for(state="visible", timeout=60_000)
        page.wait_for_function(
            "() => { const h = document.querySelector('marimo-anywidget');"
            " const r = h && h.shadowRoot && h.shadowRoot.querySelector('.lrw-root');"
            " return !!r && ['done', 'diverged'].includes(r.dataset.status); }",
            timeout=90_000,
        )
        page.wait_for_timeout(300)
        png = stable.screenshot(
            root.locator(".lrw-plot"), path=str(artifacts / "marimo_light_plot.png")
        )
        shot(root, "marimo_light_widget")
        problems = theme_problems(root, "light")
        problems += plot_problems(png, dark=False, background=MARIMO["light"]["bg"])
        assert not problems, "not in marimo's light theme: " + "; ".join(problems)
    except Exception:
        shot(page, "marimo_light_failure")
        print(app.server.log()[-3000:])
        raise
