"""VS Code notebooks, as far as they can be built here (``tests/browser/vscode_host.py``): VS
Code's own widget manager (``@vscode/jupyter-ipywidgets8``) on a real kernel, in a page with VS
Code's Light/Dark Modern theme variables, its body classes and the
``cell-output-ipywidget-background`` output container.

The widget streams a real range test, a click + Apply reaches the optimizer (read back in the
kernel), and the widget wears VS Code's colours and font in both themes, also when the theme
changes under it — with the container as older vscode-jupyter releases style it (white, and
ipywidgets' light ``--jp-*`` defaults at ``:root``) and as newer ones do (transparent, ``--jp-*``
mapped to ``--vscode-*``)."""

from __future__ import annotations

import re

import pytest

from lrwidget.views.report import format_lr
from tests.browser import stable, vscode_host
from tests.browser.conftest import _need
from tests.browser.gate import watch_it_grow
from tests.browser.pixels import contrast, css_rgb, luminance, plot_problems
from tests.kernel_code import digits_setup

RUN = """\
display(widget)
widget.run(loader, start_lr=1e-5, end_lr=10, num_iter={n}, step_fn=step)
print("STARTED")"""

CHECK = """\
widget.wait(60)
print(f"RESULT lr={optimizer.param_groups[0]['lr']!r} applied={widget.applied_lr!r} "
      f"selected={widget.selected_lr!r} status={widget.status} "
      f"tried={widget.applied_lr in widget.result.lrs.tolist()}")"""

# Light / Dark Modern, as tests/browser/vscode_www/index.html sets them
VSCODE = {
    "dark": {"bg": "#1f1f1f", "fg": "#cccccc", "button": "#0078d4", "blue": "#3794ff"},
    "light": {"bg": "#ffffff", "fg": "#3b3b3b", "button": "#005fb8", "blue": "#1a85ff"},
}
FONT = '-apple-system, BlinkMacSystemFont, "Segoe WPC", "Segoe UI", Ubuntu, "Droid Sans"'


def _rgb(hexcolor: str) -> str:
    h = hexcolor.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(h[i : i + 2], 16) for i in (0, 2, 4)))


def _css(page, selector: str, prop: str = "color") -> str:
    return page.evaluate(
        "([s, p]) => getComputedStyle(document.querySelector(s))[p]", [selector, prop]
    )


@pytest.fixture(scope="module")
def vscode(tmp_path_factory):
    _need("the VS Code host", vscode_host.missing() is None, str(vscode_host.missing()))
    server = vscode_host.VSCodeServer(tmp_path_factory.mktemp("vscode"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def open_vscode(vscode, browser):
    opened = []

    def open_(theme: str, container: str) -> vscode_host.VSCodePage:
        ctx = browser.new_context(viewport={"width": 1100, "height": 600})
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        opened.append((ctx, None))
        host = vscode_host.VSCodePage(page, vscode, theme, container)
        opened[-1] = (ctx, host)
        return host

    yield open_
    for ctx, host in opened:
        if host is not None:
            try:
                host.shutdown_kernel()
            except Exception as e:  # the server's SIGTERM still shuts it down
                print(f"could not shut the kernel down: {e!r}")
        ctx.close()


def theme_problems(host, kind: str) -> list:
    """How the widget's DOM differs from VS Code's colours and font for theme ``kind``."""
    page, want = host.page, VSCODE[kind]
    sel = ".cell-output-ipywidget-background .lrw-root"
    out = []
    raw_bg = _css(page, sel, "backgroundColor")
    if raw_bg != _rgb(want["bg"]):
        out.append(f"widget background {raw_bg}, VS Code's editor background is {want['bg']}")
    bg_lum = float(luminance(css_rgb(raw_bg)))
    for part in (".lrw-title", ".lrw-status-text", ".lrw-picker-label"):
        raw = _css(page, f"{sel} {part}")
        c = float(contrast(float(luminance(css_rgb(raw))), bg_lum))
        if c < 4.5:
            out.append(f"{part} {raw} has contrast {c:.1f}:1 on {raw_bg}")
    title = _css(page, f"{sel} .lrw-title")
    if title != _rgb(want["fg"]):
        out.append(f"title colour {title}, VS Code's editor foreground is {want['fg']}")
    button = _css(page, f"{sel} .lrw-apply", "backgroundColor")
    if button != _rgb(want["button"]):
        out.append(f"Apply button {button}, VS Code's button background is {want['button']}")
    font = page.evaluate("s => getComputedStyle(document.querySelector(s)).fontFamily", sel)
    if not font.startswith(FONT):
        out.append(f"font {font!r} is not VS Code's ({FONT}...)")
    return out


def _plot(host, kind: str, name: str, artifacts) -> list:
    plot = host.widget().locator(".lrw-plot")
    png = stable.screenshot(plot, path=str(artifacts / name))
    return plot_problems(png, dark=kind == "dark", background=VSCODE[kind]["bg"])


def corner_problems(host, kind: str) -> list:
    """Older vscode-jupyter paints the output container white: nothing of it may show around the
    widget (its corners) on a dark editor."""
    import io

    from PIL import Image

    box = host.page.locator(".cell-output-ipywidget-background").first
    img = Image.open(io.BytesIO(stable.screenshot(box))).convert("RGB")
    w, h = img.size
    corners = [img.getpixel(p) for p in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1))]
    light = [c for c in corners if float(luminance(c)) > (0.1 if kind == "dark" else 1.1)]
    return [f"the output container shows at the widget's corners: {light}"] if light else []


def _click_apply(host) -> tuple:
    root = host.widget()
    canvas = root.locator("canvas.lrw-canvas")
    box = stable.box(canvas)
    canvas.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.5})
    host.page.wait_for_function(
        "() => /Selected /.test(document.querySelector('.lrw-root .lrw-sel').textContent)"
    )
    shown = root.locator(".lrw-sel").inner_text().strip()
    root.get_by_role("button", name="Apply", exact=True).click()
    root.locator(".lrw-applied").filter(has_text="Applied").wait_for(timeout=15_000)
    return shown, root.locator(".lrw-applied").inner_text().strip()


def _check_kernel(host, shown: str, applied_shown: str) -> None:
    out = host.exec(CHECK)
    m = re.search(r"RESULT lr=(\S+) applied=(\S+) selected=(\S+) status=(\w+) tried=(\w+)", out)
    assert m, out
    lr, applied, selected = (float(m.group(k)) for k in (1, 2, 3))
    assert lr == applied == selected, out
    assert m.group(4) in ("done", "diverged") and m.group(5) == "True", out
    assert shown == f"Selected {format_lr(applied)}", (shown, applied)
    assert applied_shown == f"Applied {format_lr(applied)}", (applied_shown, applied)


def _wait_end(host, at_least: int) -> None:
    host.page.wait_for_function(
        "n => { const r = document.querySelector('.cell-output-ipywidget-background .lrw-root');"
        " return !!r && ['done', 'diverged'].includes(r.dataset.status)"
        " && Number(r.dataset.readings) >= n; }",
        arg=at_least,
        timeout=90_000,
    )


def test_vscode_dark_streams_click_apply_in_vscode_colours(open_vscode, gate, shot, artifacts):
    """Dark Modern, container as older vscode-jupyter styles it: ipywidgets' light --jp-*
    defaults sit at :root, and the widget must still be VS Code-dark."""
    host = open_vscode("dark", "legacy")
    page = host.page
    try:
        setup = digits_setup(0.0, "VS Code, Dark Modern", gate=str(gate.path))
        assert "SETUP OK" in host.exec(setup)
        assert "STARTED" in host.exec(RUN.format(n=150))
        root = host.widget()
        root.wait_for(state="visible", timeout=30_000)
        n2 = watch_it_grow(root, gate, timeout=30)
        shot(page, "vscode_dark_running")
        # ipywidgets' stylesheet really is there with its light defaults (else this tests nothing)
        jp_bg = page.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--jp-layout-color0')"
        )
        assert jp_bg.strip(), "ipywidgets' --jp-* defaults are missing from the page"
        gate.open()

        _wait_end(host, n2)
        problems = theme_problems(host, "dark") + corner_problems(host, "dark")
        problems += _plot(host, "dark", "vscode_dark_plot.png", artifacts)
        shown, applied_shown = _click_apply(host)
        shot(page, "vscode_dark_applied")
        shot(host.widget(), "vscode_dark_widget")
        assert not problems, "not in VS Code's Dark Modern colours: " + "; ".join(problems)
        _check_kernel(host, shown, applied_shown)
    except Exception:
        shot(page, "vscode_dark_failure")
        print("\n".join(host.console[-30:]))
        raise


def test_vscode_light_follows_theme_changes(open_vscode, shot, artifacts):
    """Light Modern, container as newer vscode-jupyter styles it; then VS Code switches to Dark
    Modern and back (html style and body class rewritten) and the widget follows."""
    host = open_vscode("light", "bridge")
    page = host.page
    try:
        assert "SETUP OK" in host.exec(digits_setup(0.0, "VS Code, Light Modern"))
        assert "STARTED" in host.exec(RUN.format(n=80))
        _wait_end(host, 1)
        page.wait_for_timeout(300)  # a few animation frames after the last message
        problems = {"light": theme_problems(host, "light")}
        problems["light"] += _plot(host, "light", "vscode_light_plot.png", artifacts)
        shown, applied_shown = _click_apply(host)
        shot(page, "vscode_light_applied")
        shot(host.widget(), "vscode_light_widget")
        host.set_theme("dark")
        page.wait_for_timeout(500)
        problems["switched to dark"] = theme_problems(host, "dark") + _plot(
            host, "dark", "vscode_switched_dark_plot.png", artifacts
        )
        host.set_theme("light")
        page.wait_for_timeout(500)
        problems["back to light"] = theme_problems(host, "light")
        bad = {k: v for k, v in problems.items() if v}
        assert not bad, "not in VS Code's colours: " + "; ".join(
            f"{k}: {', '.join(v)}" for k, v in bad.items()
        )
        _check_kernel(host, shown, applied_shown)
    except Exception:
        shot(page, "vscode_light_failure")
        print("\n".join(host.console[-30:]))
        raise
