"""The static SVG of a result: :func:`to_svg` and its layers, drawn back to front as the front
end draws them (``js/plot.js``).

Pure string building, no matplotlib and nothing fetched from the network. What the picture
shares with the live widget (palette, status words, number formats, ticks, axis ranges, marker
placement) comes from :mod:`lrwidget.pure.rules`, the rules the front end reads from the same
``rules.json``; the geometry is :mod:`lrwidget.views.report_geometry`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..pure.numbers import is_int
from ..pure.rules import format_lr, linear_ticks, log_ticks, marker_loss, palette, x_domain, y_range
from ..pure.smooth import centered
from .report_geometry import Point, Scale, segments
from .report_schedule import band_svg
from .report_text import esc, suggestion_rows, summary_line, title_line

if TYPE_CHECKING:
    from ..engine.history import RangeTestResult

__all__ = ["to_svg", "svg_axes", "X_TICKS"]

#: at most this many labelled ticks on the SVG's log lr axis
X_TICKS = 8


def to_svg(
    result: RangeTestResult,
    selected_lr: float | None = None,
    applied_lr: float | None = None,
    width: int = 720,
    height: int = 360,
    dark: bool = False,
    brushed: tuple[float, float] | None = None,
    suggested: bool = False,
) -> str:
    """The loss-vs-lr curve of a result as a standalone SVG document (a string).

    Parameters
    ----------
    result : RangeTestResult
    selected_lr, applied_lr : float, optional
        Drawn as a dashed (selected) and a solid (applied) vertical line.
    width, height : int
        Size in pixels (>= 200 x 150).
    dark : bool
        Dark palette (for dark notebook themes).
    brushed : (float, float), optional
        A range of lrs drawn as a band under the curve, its ends labelled (issue 19);
        ``suggested``: the range the test suggests (dashed, so labelled).

    Returns
    -------
    str
        ``<svg ...>...</svg>`` with a log-x axis (linear for ``step_mode="linear"``) and its
        ticks, the raw (faint) and smoothed (bold; without lag, ``pure.smooth.centered``) loss,
        a marker and a legend entry per suggestion, the selected / applied lines and the point
        where the test diverged.

    Example
    -------
    >>> import numpy as np
    >>> from lrwidget.engine.history import RangeTestResult
    >>> lrs = np.geomspace(1e-4, 1, 20)
    >>> r = RangeTestResult(lrs, 2 - lrs, 2 - lrs, "completed", "exp", 1e-4, 1.0, 20, 0.2)
    >>> "<polyline" in to_svg(r, dark=True)
    True
    """
    for name, v, least in (("width", width, 200), ("height", height, 150)):
        if not is_int(v) or v < least:
            raise ValueError(f"{name} must be an int >= {least}, got {v!r}")
    f = _Frame(result, selected_lr, applied_lr, int(width), int(height), dark)
    out = _svg_open(f, result, selected_lr, applied_lr)
    if f.sx is None:
        out.append(frame_rect(f))
        out.append(
            f'<text x="{(f.left + f.right) / 2}" y="{(f.top + f.bottom) / 2}" '
            f'text-anchor="middle" fill="{f.pal["fgMuted"]}">No readings</text></svg>'
        )
        return "\n".join(out)
    # layers, back to front, as js/plot.js draws them
    out += svg_axes(f)
    out += band_svg(brushed, f.sx, (f.left, f.top, f.right, f.bottom), f.pal["selected"], suggested)
    out += _svg_curves(f)
    out += _svg_diverged(f, result)
    out += _svg_chosen(f, selected_lr, "selected", f.pal["selected"], True, 0)
    out += _svg_chosen(f, applied_lr, "applied", f.pal["applied"], False, 1)
    out += _svg_suggestions(f)
    out.append("</svg>")
    return "\n".join(out)


class _Frame:
    """What every layer of one SVG needs: data, palette, plot box, ranges and scales."""

    def __init__(
        self,
        result: RangeTestResult,
        selected_lr: float | None,
        applied_lr: float | None,
        W: int,
        H: int,
        dark: bool,
    ) -> None:
        self.W, self.H = W, H
        self.pal = palette(dark)
        self.lrs = np.asarray(result.lrs, dtype=np.float64)
        self.raw = np.asarray(result.losses, dtype=np.float64)
        # the line drawn: a finished run's loss smoothed without lag, as the widget draws it
        self.sm = centered(self.lrs, self.raw)
        self.log = getattr(result, "step_mode", "exp") != "linear"
        self.rows = suggestion_rows(result) if len(self.lrs) else []
        chosen = selected_lr is not None or applied_lr is not None
        legend_h = 22 if self.rows or chosen else 0
        self.left, self.right, self.top, self.bottom = 64, W - 16, 30, H - 44 - legend_h
        lrs, log = self.lrs, self.log
        self.ok = np.isfinite(lrs) & ((lrs > 0) if log else True)
        self.sx: Scale | None = None
        self.sy: Scale | None = None
        if not self.ok.any():
            return
        x0, x1 = x_domain(lrs, result.start_lr, result.end_lr, log)
        for v in (selected_lr, applied_lr):  # keep chosen lines inside the picture
            if v is not None and math.isfinite(v) and (v > 0 or not log):
                x0, x1 = min(x0, float(v)), max(x1, float(v))
        self.x0, self.x1 = x0, x1
        self.y0, self.y1 = y_range(self.sm, self.raw)
        self.sx = Scale(x0, x1, self.left, self.right, log=log)
        self.sy = Scale(self.y0, self.y1, self.bottom, self.top)


def _svg_open(
    f: _Frame, result: RangeTestResult, selected_lr: float | None, applied_lr: float | None
) -> list[str]:
    pal, W, H = f.pal, f.W, f.H
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, '
        f'Arial, sans-serif" font-size="12" role="img" '
        f'aria-label="{esc(summary_line(result, selected_lr, applied_lr))}">',
        f'<rect class="background" width="{W}" height="{H}" fill="{pal["bg"]}"/>',
        f'<text class="title" x="{f.left}" y="19" fill="{pal["fg"]}" font-size="13" '
        f'font-weight="600">'
        f"{esc(title_line(result))}</text>",
    ]


def frame_rect(f: _Frame | Any) -> str:
    """The plot box's border (any frame with ``left``, ``right``, ``top``, ``bottom``, ``pal``)."""
    return (
        f'<rect class="frame" x="{f.left}" y="{f.top}" width="{f.right - f.left}" '
        f'height="{f.bottom - f.top}" fill="none" stroke="{f.pal["border"]}"/>'
    )


def svg_axes(f: _Frame | Any) -> list[str]:
    """The grid, ticks, frame and axis titles (also the compare chart's: report_compare)."""
    pal, left, right, top, bottom = f.pal, f.left, f.right, f.top, f.bottom
    assert f.sx is not None and f.sy is not None
    out = []
    # the grid is the text colour, faint: the front end's fallback when the host sets none
    grid = f'class="grid" stroke="{pal["fg"]}" stroke-opacity="{pal["gridAlpha"]}"'
    xt = log_ticks(f.x0, f.x1, X_TICKS) if f.log else linear_ticks(f.x0, f.x1, 6)
    for tick, label in xt:
        px = round(f.sx(tick), 2)
        out.append(f'<line {grid} x1="{px}" y1="{top}" x2="{px}" y2="{bottom}"/>')
        out.append(
            f'<text class="x-tick" x="{px}" y="{bottom + 16}" text-anchor="middle" '
            f'fill="{pal["fgMuted"]}">{esc(label)}</text>'
        )
    for tick, label in linear_ticks(f.y0, f.y1, 5):
        py = round(f.sy(tick), 2)
        out.append(f'<line {grid} x1="{left}" y1="{py}" x2="{right}" y2="{py}"/>')
        out.append(
            f'<text class="y-tick" x="{left - 6}" y="{py + 4}" text-anchor="end" '
            f'fill="{pal["fgMuted"]}">{esc(label)}</text>'
        )
    out.append(frame_rect(f))
    out.append(
        f'<text x="{(left + right) / 2}" y="{bottom + 34}" text-anchor="middle" '
        f'fill="{pal["fg"]}">learning rate{" (log scale)" if f.log else ""}</text>'
    )
    out.append(
        f'<text transform="translate(16 {(top + bottom) / 2}) rotate(-90)" '
        f'text-anchor="middle" fill="{pal["fg"]}">loss</text>'
    )
    return out


def _svg_curves(f: _Frame) -> list[str]:
    # clipped to the plot box (a clipped tail runs along the top edge)
    out = [
        f'<clipPath id="lrw-clip"><rect x="{f.left}" y="{f.top - 2}" '
        f'width="{f.right - f.left}" height="{f.bottom - f.top + 4}"/></clipPath>'
        f'<g clip-path="url(#lrw-clip)">'
    ]
    assert f.sx is not None and f.sy is not None
    accent = f.pal["accent"]
    for seg in segments(f.lrs, f.raw, f.sx, f.sy, f.y0, f.y1):
        out.append(_polyline(seg, "raw", accent, 1.0, f.pal["rawAlpha"]))
    for seg in segments(f.lrs, f.sm, f.sx, f.sy, f.y0, f.y1):
        out.append(_polyline(seg, "smoothed", accent, 2.2, 1.0))
    out.append("</g>")
    return out


def _svg_diverged(f: _Frame, result: RangeTestResult) -> list[str]:
    """A cross at the last reading of a diverged test."""
    lrs, sm = f.lrs, f.sm
    if result.stop_reason != "diverged" or not len(lrs) or not f.ok[-1]:
        return []
    assert f.sx is not None and f.sy is not None
    err = f.pal["error"]
    dx = f.sx(float(lrs[-1]))
    yv = sm[-1] if math.isfinite(sm[-1]) else f.y1
    dy = f.sy(min(max(float(yv), f.y0), f.y1))
    return [
        f'<g stroke="{err}" stroke-width="2"><line x1="{dx - 5:.2f}" '
        f'y1="{dy - 5:.2f}" x2="{dx + 5:.2f}" y2="{dy + 5:.2f}"/>'
        f'<line x1="{dx - 5:.2f}" '
        f'y1="{dy + 5:.2f}" x2="{dx + 5:.2f}" y2="{dy - 5:.2f}"/></g>',
        f'<text x="{min(dx, f.right - 4):.2f}" y="{max(dy - 9, f.top + 12):.2f}" '
        f'text-anchor="end" fill="{err}">diverged at '
        f"{esc(format_lr(lrs[-1]))}</text>",
    ]


def _svg_chosen(
    f: _Frame, v: float | None, label: str, color: str, dash: bool, row: int
) -> list[str]:
    """The vertical line of a selected / applied lr, with its label."""
    if v is None or not math.isfinite(v) or (f.log and v <= 0):
        return []
    assert f.sx is not None
    px = f.sx(float(v))
    d = ' stroke-dasharray="5 4"' if dash else ""
    anchor = "start" if px < (f.left + f.right) / 2 else "end"
    tx = px + 4 if anchor == "start" else px - 4
    return [
        f'<line x1="{px:.2f}" y1="{f.top}" x2="{px:.2f}" y2="{f.bottom}" stroke="{color}" '
        f'stroke-width="1.6"{d}/>',
        f'<text x="{tx:.2f}" y="{f.top + 14 + 14 * row}" text-anchor="{anchor}" '
        f'fill="{color}">{esc(label)} {esc(format_lr(v))}</text>',
    ]


def _svg_suggestions(f: _Frame) -> list[str]:
    """A marker on the curve and a legend entry per suggestion."""
    assert f.sx is not None and f.sy is not None
    pal, out = f.pal, []
    lx, ly = f.left, f.H - 10
    for k, r in enumerate(f.rows):
        color = pal["rules"][k % len(pal["rules"])]
        lr = r["lr"]
        if lr is not None and math.isfinite(lr) and (lr > 0 or not f.log):
            yv = marker_loss(f.lrs, f.sm, lr, r["index"], f.log)
            if yv is not None:
                px, py = f.sx(lr), f.sy(min(max(yv, f.y0), f.y1))
                rad = 6 if r["default"] else 4.5
                out.append(
                    f'<circle class="marker" cx="{px:.2f}" cy="{py:.2f}" r="{rad}" '
                    f'fill="{color}" stroke="{pal["bg"]}" stroke-width="1.5"/>'
                )
        text = f"{r['name']}{' (default)' if r['default'] else ''}: {format_lr(lr)}"
        out.append(
            f'<circle cx="{lx + 5}" cy="{ly - 4}" r="{5 if r["default"] else 4}" fill="{color}"/>'
        )
        weight = ' font-weight="600"' if r["default"] else ""
        out.append(
            f'<text class="legend" x="{lx + 14}" y="{ly}" fill="{pal["fg"]}"{weight}>'
            f"{esc(text)}</text>"
        )
        lx += 26 + 7 * len(text)
    return out


def _polyline(seg: list[Point], cls: str, color: str, width: float, opacity: float) -> str:
    pts = " ".join(f"{x:g},{y:g}" for x, y in seg)
    return (
        f'<polyline class="{cls}" points="{pts}" fill="none" stroke="{color}" '
        f'stroke-width="{width}" stroke-opacity="{opacity}" stroke-linejoin="round" '
        f'stroke-linecap="round"/>'
    )
