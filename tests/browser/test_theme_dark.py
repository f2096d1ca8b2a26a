"""JupyterLab Dark theme: the widget is dark-themed and its labels and curves are readable.

Measured on the rendered pixels (screenshots of the plot) and on the computed CSS colors, with
WCAG relative luminance and contrast ratios. Checked twice: a view rendered in the Dark theme,
and the same view after the theme was switched to Light and back (the theme-watch path)."""

from __future__ import annotations

import io

import numpy as np

from tests.browser import stable
from tests.browser.stable import into_view

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

RUN = """\
display(widget)
widget.run(loader, start_lr=1e-5, end_lr=10, num_iter=80, step_fn=step)
widget.wait(120)
print("ENDED", widget.status)"""


def _lum(rgb) -> np.ndarray:
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def _contrast(l1: float, l2: float) -> float:
    hi, lo = max(l1, l2), min(l1, l2)
    return (hi + 0.05) / (lo + 0.05)


def _css_color(page, selector: str, prop: str = "color"):
    v = page.evaluate(
        "([s, p]) => getComputedStyle(document.querySelector(s))[p]", [selector, prop]
    )
    nums = [float(x) for x in v[v.index("(") + 1 : v.index(")")].replace(",", " ").split()[:3]]
    return nums, v


def plot_problems(png: bytes, dark: bool) -> list:
    """What is wrong with a screenshot of ``.lrw-plot`` for the theme (empty when fine)."""
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    h, w, _ = img.shape
    flat = img.reshape(-1, 3)
    colors, counts = np.unique(flat, axis=0, return_counts=True)
    bg = colors[counts.argmax()]
    bg_lum = float(_lum(bg))
    out = []
    if (dark and bg_lum >= 0.1) or (not dark and bg_lum <= 0.7):
        out.append(
            f"plot background rgb{tuple(int(c) for c in bg)} (luminance {bg_lum:.2f}) "
            f"is not {'dark' if dark else 'light'}"
        )
    if counts.max() / len(flat) < 0.4:
        out.append("no dominant background color in the plot")
    lum = _lum(img)
    diff = np.abs(lum - bg_lum)
    ink = lum[diff > 0.02]
    if ink.size < 2000:
        return [*out, f"almost nothing drawn on the plot ({ink.size} px)"]
    lighter = float((ink > bg_lum).mean())
    if dark and lighter < 0.9:
        out.append(f"only {lighter:.0%} of the drawn pixels are lighter than the background")
    # Tick labels sit next to the axis lines (the row / column with the most ink). Their text
    # must reach 4.5:1 against the background, as small text should.
    x_axis = int(diff.sum(1).argmax())
    y_axis = int(diff.sum(0).argmax())
    if not (x_axis > h * 0.5 and y_axis < w * 0.3):
        return [*out, f"axes not found: row {x_axis}, column {y_axis}"]
    for name, strip in (
        ("x tick labels", lum[x_axis + 6 : x_axis + 22, y_axis + 2 :]),
        ("y tick labels", lum[: x_axis - 2, max(0, y_axis - 48) : y_axis - 6]),
    ):
        text = strip[np.abs(strip - bg_lum) > 0.02]
        if text.size < 50:
            out.append(f"no {name} found")
            continue
        peak = float(np.percentile(text, 99 if dark else 1))
        c = _contrast(peak, bg_lum)
        if c < 4.5:
            out.append(f"{name} contrast {c:.1f}:1 against the background (< 4.5:1)")
    # the curves: enough pixels at >= 3:1 (graphics contrast) to be seen
    strong = int((np.vectorize(lambda v: _contrast(v, bg_lum))(ink) >= 3.0).sum())
    if strong < 1500:
        out.append(f"only {strong} drawn px reach 3:1 contrast (curves too faint)")
    return out


def css_problems(page) -> list:
    out = []
    root_bg, raw_bg = _css_color(page, f"{PANEL} .lrw-root", "backgroundColor")
    bg_lum = float(_lum(root_bg))
    if bg_lum >= 0.1:
        out.append(f".lrw-root background is {raw_bg}, not dark")
    for sel in (".lrw-title", ".lrw-status-text", ".lrw-sel", ".lrw-picker-label"):
        rgb, raw = _css_color(page, f"{PANEL} {sel}")
        c = _contrast(float(_lum(rgb)), bg_lum)
        if c < 4.5:
            out.append(f"{sel} color {raw} has contrast {c:.1f}:1 on the widget background")
    fg, _ = _css_color(page, f"{PANEL} .lrw-apply")
    bgb, raw_b = _css_color(page, f"{PANEL} .lrw-apply", "backgroundColor")
    c = _contrast(float(_lum(fg)), float(_lum(bgb)))
    if c < 3.0:
        out.append(f"Apply button text contrast {c:.1f}:1 on {raw_b}")
    return out


def test_dark_theme_is_dark_and_readable(jupyter, open_notebook, digits_setup, shot, artifacts):
    jupyter.write_notebook("dark.ipynb", [digits_setup(0.0, "Dark theme"), RUN])
    nb = open_notebook("dark.ipynb", theme="dark")
    page = nb.page
    try:
        assert page.evaluate("document.body.dataset.jpThemeLight") == "false"
        assert "SETUP OK" in nb.run(0)
        assert "ENDED" in nb.run(1)
        root = nb.widget(1)
        nb.wait_status(["done", "diverged"])
        into_view(root)
        page.wait_for_timeout(500)  # a few animation frames after the last trait change
        shot(page, "lab_dark")
        plot = root.locator(".lrw-plot")
        problems = {
            "rendered in Dark": plot_problems(
                stable.screenshot(plot, path=str(artifacts / "lab_dark_plot.png")), dark=True
            )
            + css_problems(page)
        }

        # the same view through a theme switch: Light must look light, Dark dark again
        nb.set_theme("light")
        page.wait_for_timeout(500)
        problems["switched to Light"] = plot_problems(
            stable.screenshot(plot, path=str(artifacts / "lab_light_plot.png")), dark=False
        )
        nb.set_theme("dark")
        page.wait_for_timeout(500)
        problems["switched back to Dark"] = plot_problems(
            stable.screenshot(plot, path=str(artifacts / "lab_dark_switched_plot.png")), dark=True
        ) + css_problems(page)
        bad = {k: v for k, v in problems.items() if v}
        assert not bad, "theme problems: " + "; ".join(
            f"{k}: {', '.join(v)}" for k, v in bad.items()
        )
    except Exception:
        shot(page, "lab_dark_failure")
        raise
