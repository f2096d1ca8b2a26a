"""The static pictures of a compare chart (issue 20): several curves on one SVG, and the HTML
report of them (pure string building).

Drawn as the single curve's SVG is (:mod:`lrwidget.views.report_svg`: its axes, the same
ranges, ticks and marker placement from :mod:`lrwidget.pure.rules`), each run in its colour of
the theme's ``runs`` palette with its default suggestion marked; a trend (a fit through the
batch sizes' suggestions) is a dashed line through its points with its text as a caption.

Example
-------
>>> import numpy as np
>>> lrs = np.geomspace(1e-4, 1, 30)
>>> a = CompareCurve("SGD", lrs, 2 - lrs, 2 - lrs, 0.1, 25)
>>> b = CompareCurve("Adam", lrs, 2 - lrs / 2, 2 - lrs / 2, 1e-3, 10, "lr 0.1 is 100x above")
>>> svg = compare_svg([a, b])
>>> svg.count('class="run"'), "Adam" in svg
(2, True)
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..pure.compare import run_colors
from ..pure.rules import format_lr, marker_loss, palette, x_domain, y_range
from .report_geometry import Scale, segments
from .report_svg import svg_axes
from .report_text import esc

__all__ = ["CompareCurve", "compare_svg", "compare_html"]

#: a legend row's height in the SVG, px
_ROW = 18


@dataclass(frozen=True)
class CompareCurve:
    """One run as the static pictures draw it."""

    label: str
    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggested_lr: float | None = None
    suggested_index: int | None = None
    warning: str = ""
    log: bool = True


class _Frame:
    """What the axes need (the attributes report_svg.svg_axes reads), over every curve."""

    def __init__(self, curves: Sequence[CompareCurve], W: int, H: int, dark: bool) -> None:
        self.pal = palette(dark)
        self.log = all(c.log for c in curves)
        self.left, self.right, self.top = 64, W - 16, 30
        self.bottom = H - 44 - _ROW * len(curves)
        xs = [x_domain(c.lrs, None, None, self.log) for c in curves if len(c.lrs)]
        ys = [y_range(c.smoothed, c.losses) for c in curves if np.isfinite(c.smoothed).any()]
        self.x0, self.x1 = (min(x[0] for x in xs), max(x[1] for x in xs)) if xs else (1e-7, 10.0)
        self.y0, self.y1 = (min(y[0] for y in ys), max(y[1] for y in ys)) if ys else (0.0, 1.0)
        self.sx = Scale(self.x0, self.x1, self.left, self.right, log=self.log)
        self.sy = Scale(self.y0, self.y1, self.bottom, self.top)


def compare_svg(
    curves: Sequence[CompareCurve],
    trend: dict[str, Any] | None = None,
    dark: bool = False,
    width: int = 760,
    height: int = 380,
    title: str = "",
) -> str:
    """Every curve on one SVG (a string): axes, each run's smoothed loss in its colour, its
    default suggestion marked, a legend row per run (its warning included) and the trend.

    Parameters
    ----------
    curves : sequence of CompareCurve
    trend : dict, optional
        ``{"points": [[lr, loss], ...], "text": str}``.
    dark : bool
        The dark palette.
    width, height : int
        The plot's size in pixels (the legend's rows are added below it).
    title : str
        Drawn above the plot.
    """
    H = int(height) + _ROW * len(curves)
    f = _Frame(curves, int(width), H, dark)
    pal, colors = f.pal, run_colors(len(curves), dark)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{H}" '
        f'viewBox="0 0 {width} {H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, '
        f'Arial, sans-serif" font-size="12" role="img" aria-label="{esc(_summary(curves))}">',
        f'<rect class="background" width="{width}" height="{H}" fill="{pal["bg"]}"/>',
        f'<text class="title" x="{f.left}" y="19" fill="{pal["fg"]}" font-size="13" '
        f'font-weight="600">{esc(title or "Range tests compared")}</text>',
    ]
    out += svg_axes(f)
    out.append(
        f'<clipPath id="lrw-cmp-clip"><rect x="{f.left}" y="{f.top - 2}" '
        f'width="{f.right - f.left}" height="{f.bottom - f.top + 4}"/></clipPath>'
        '<g clip-path="url(#lrw-cmp-clip)">'
    )
    for c, color in zip(curves, colors):
        out += _curve(f, c, color)
    out += _trend(f, trend or {})
    out.append("</g>")
    out += _legend(f, curves, colors, H)
    out.append("</svg>")
    return "\n".join(out)


def _curve(f: _Frame, c: CompareCurve, color: str) -> list[str]:
    out = []
    for seg in segments(c.lrs, c.smoothed, f.sx, f.sy, f.y0, f.y1):
        pts = " ".join(f"{x:g},{y:g}" for x, y in seg)
        out.append(
            f'<polyline class="run" data-label="{esc(c.label)}" points="{pts}" fill="none" '
            f'stroke="{color}" stroke-width="2" stroke-linejoin="round"/>'
        )
    lr = c.suggested_lr
    yv = None if lr is None else marker_loss(c.lrs, c.smoothed, lr, c.suggested_index, f.log)
    if lr is not None and yv is not None:
        px, py = f.sx(lr), f.sy(min(max(yv, f.y0), f.y1))
        out.append(
            f'<circle class="suggestion" cx="{px:.2f}" cy="{py:.2f}" r="5.5" fill="{color}" '
            f'stroke="{f.pal["bg"]}" stroke-width="1.5"/>'
        )
    return out


def _trend(f: _Frame, trend: dict[str, Any]) -> list[str]:
    pts = [
        (f.sx(lr), f.sy(min(max(loss, f.y0), f.y1)))
        for lr, loss in trend.get("points", ())
        if math.isfinite(lr) and lr > 0 and math.isfinite(loss)
    ]
    if not pts:
        return []
    line = " ".join(f"{x:.2f},{y:.2f}" for x, y in pts)
    x, y = pts[-1]
    return [
        f'<polyline class="trend" points="{line}" fill="none" stroke="{f.pal["fg"]}" '
        f'stroke-width="1.5" stroke-dasharray="6 4"/>',
        f'<text class="trend-text" x="{min(x + 6, f.right - 4):.2f}" '
        f'y="{max(y - 8, f.top + 12):.2f}" '
        f'text-anchor="end" fill="{f.pal["fg"]}">{esc(trend.get("text", ""))}</text>',
    ]


def _legend(f: _Frame, curves: Sequence[CompareCurve], colors: list[str], H: int) -> list[str]:
    out = []
    for k, (c, color) in enumerate(zip(curves, colors)):
        y = H - 12 - _ROW * (len(curves) - 1 - k)
        text = f"{c.label}: suggests {format_lr(c.suggested_lr)}"
        out.append(f'<rect x="{f.left}" y="{y - 9}" width="14" height="4" fill="{color}"/>')
        out.append(
            f'<text class="legend" x="{f.left + 20}" y="{y}" fill="{f.pal["fg"]}">{esc(text)}'
            + (
                f' <tspan fill="{f.pal["error"]}">\u26a0 {esc(c.warning)}</tspan>'
                if c.warning
                else ""
            )
            + "</text>"
        )
    return out


def _summary(curves: Sequence[CompareCurve]) -> str:
    return "; ".join(f"{c.label}: suggests {format_lr(c.suggested_lr)}" for c in curves)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body {{ font-family: system-ui, sans-serif; color: {fg}; background: {bg};
margin: 2rem auto; max-width: 820px; padding: 0 1rem; }} svg {{ max-width: 100%; height: auto; }}
td, th {{ text-align: left; padding: .3rem .6rem; border-bottom: 1px solid {border}; }}
.warn {{ color: {error}; }}</style></head>
<body><h1>{title}</h1><figure>{svg}</figure>
<table><tr><th>run</th><th>readings</th><th>suggested lr</th><th>warning</th></tr>{rows}</table>
</body></html>
"""


def compare_html(
    curves: Sequence[CompareCurve],
    trend: dict[str, Any] | None = None,
    title: str = "Range tests compared",
    dark: bool = False,
) -> str:
    """A self-contained HTML page: every curve on one SVG and a row per run (offline)."""
    pal = palette(dark)
    rows = "".join(
        f"<tr><td>{esc(c.label)}</td><td>{len(c.lrs)}</td><td>{esc(format_lr(c.suggested_lr))}"
        f'</td><td class="warn">{esc(c.warning)}</td></tr>'
        for c in curves
    )
    svg = compare_svg(curves, trend, dark, title=title)
    colours = {k: pal[k] for k in ("fg", "bg", "border", "error")}
    return _PAGE.format(title=html.escape(title), svg=svg, rows=rows, **colours)
