"""Static pictures of a range test: an SVG of the curve and a self-contained HTML report.

Used where no widget front end runs (GitHub, nbviewer, ``jupyter nbconvert``, plain IPython:
the widget's static fallback) and to keep a finished test as a file. Pure Python string
building, no matplotlib and nothing fetched from the network.

The geometry is a set of pure functions (:func:`Scale`, :func:`segments`) so it is tested
without drawing anything. What the picture shares with the live widget (palette, status words,
number formats, ticks, axis ranges, marker placement) comes from :mod:`lrwidget.pure.rules`, the
rules the front end reads from the same ``rules.json``: the static picture looks like the live one.

Example
-------
>>> import numpy as np
>>> from lrwidget.engine.history import RangeTestResult
>>> lrs = np.geomspace(1e-5, 1.0, 50)
>>> loss = 2 - np.exp(-((np.log10(lrs) + 2.5) ** 2)) + np.where(lrs > 0.1, 50 * lrs, 0)
>>> r = RangeTestResult(lrs, loss, loss, "completed", "exp", 1e-5, 1.0, 50, 1.0)
>>> svg = to_svg(r, selected_lr=3e-3)
>>> svg.startswith("<svg") and "learning rate" in svg
True
"""

from __future__ import annotations

import html
import math
import os

import numpy as np

from ..pure.rules import (
    format_loss,
    format_lr,
    linear_ticks,
    log_ticks,
    marker_loss,
    palette,
    status_word,
    x_domain,
    y_range,
)

# format_lr is re-exported: callers of the report format the lrs it shows with it
__all__ = [
    "to_svg",
    "to_html",
    "save_html",
    "summary_line",
    "format_lr",
    "Scale",
    "segments",
    "X_TICKS",
]

#: at most this many labelled ticks on the SVG's log lr axis
X_TICKS = 8


# ---------------------------------------------------------------------------- geometry
class Scale:
    """Maps data values on ``[d0, d1]`` to pixels on ``[r0, r1]``, in log10 when ``log``.

    >>> s = Scale(1e-4, 1e-2, 0, 100, log=True)
    >>> s(1e-3), s.invert(50.0)
    (50.0, 0.001)
    """

    def __init__(self, d0: float, d1: float, r0: float, r1: float, log: bool = False):
        if log and not (d0 > 0 and d1 > 0):
            raise ValueError(f"a log scale needs a positive domain, got [{d0}, {d1}]")
        self.log = bool(log)
        self.d0, self.d1, self.r0, self.r1 = float(d0), float(d1), float(r0), float(r1)
        f = math.log10 if self.log else float
        self._a, self._b = f(self.d0), f(self.d1)
        if self._a == self._b:  # a single value: centre it
            self._a, self._b = self._a - 0.5, self._b + 0.5

    def __call__(self, v: float) -> float:
        t = ((math.log10(v) if self.log else v) - self._a) / (self._b - self._a)
        return self.r0 + t * (self.r1 - self.r0)

    def invert(self, px: float) -> float:
        t = (px - self.r0) / (self.r1 - self.r0)
        v = self._a + t * (self._b - self._a)
        return round(10.0**v, 15) if self.log else v


def segments(xs, ys, sx: Scale, sy: Scale, y_lo: float, y_hi: float) -> list[list[tuple]]:
    """Polyline pieces in pixels; a break at each non-finite point, y clipped to the range.

    A point above ``y_hi`` is drawn at ``y_hi`` (the clipped tail shows as a line along the
    top edge), so the eye still sees where the loss shoots up.

    >>> s = Scale(0, 3, 0, 30); t = Scale(0, 1, 10, 0)
    >>> segments([0, 1, 2, 3], [0.0, float("nan"), 0.5, 9.0], s, t, 0.0, 1.0)
    [[(0.0, 10.0)], [(20.0, 5.0), (30.0, 0.0)]]
    """
    out: list[list[tuple]] = []
    cur: list[tuple] = []
    for x, y in zip(xs, ys):
        x = float(x)
        y = float(y)
        if not (math.isfinite(x) and math.isfinite(y)) or (sx.log and x <= 0):
            if cur:
                out.append(cur)
            cur = []
            continue
        yc = min(max(y, y_lo), y_hi)
        cur.append((round(sx(x), 2), round(sy(yc), 2)))
    if cur:
        out.append(cur)
    return out


# ---------------------------------------------------------------------------- content
def _suggestion_rows(result) -> list[dict]:
    from ..pure.suggest import DEFAULT

    rows = []
    for name, s in (result.suggestions or {}).items():
        rows.append(
            {
                "name": name,
                "lr": s.lr,
                "index": s.index,
                "reason": s.reason,
                "default": name == DEFAULT,
            }
        )
    return rows


def summary_line(result, selected_lr=None, applied_lr=None) -> str:
    """One line: status, readings, suggested lr (and the chosen one).

    >>> import numpy as np
    >>> from lrwidget.engine.history import RangeTestResult
    >>> r = RangeTestResult(np.array([1e-3, 1e-2]), np.array([2.0, 1.0]), np.array([2.0, 1.5]),
    ...                     "stopped", "exp", 1e-3, 1e-2, 10, 0.5)
    >>> summary_line(r, applied_lr=1e-3).startswith("LR range test stopped: 2/10 readings")
    True
    """
    if result is None:
        return "LR range test: no run yet"
    parts = [
        f"LR range test {status_word(result.stop_reason)}: "
        f"{len(result)}/{result.num_iter} readings in {result.elapsed:.1f} s"
    ]
    if result.stop_reason == "diverged" and len(result):
        parts.append(f"diverged at lr={format_lr(result.lrs[-1])}")
    s = result.suggestions
    if s:
        name, first = next(iter(s.items()))
        parts.append(
            f"suggested lr={format_lr(first.lr)} ({name})"
            if first.lr is not None
            else f"no suggestion ({name}: {first.reason})"
        )
    if selected_lr is not None:
        parts.append(f"selected {format_lr(selected_lr)}")
    if applied_lr is not None:
        parts.append(f"applied {format_lr(applied_lr)}")
    if result.stop_reason == "error" and getattr(result, "error", None):
        parts.append(f"error: {result.error}")
    return "; ".join(parts)


def _esc(s) -> str:
    return html.escape(str(s), quote=True)


def to_svg(
    result,
    selected_lr: float | None = None,
    applied_lr: float | None = None,
    width: int = 720,
    height: int = 360,
    dark: bool = False,
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

    Returns
    -------
    str
        ``<svg ...>...</svg>`` with a log-x axis (linear for ``step_mode="linear"``) and its
        ticks, the raw (faint) and smoothed (bold) loss, a marker and a legend entry per
        suggestion, the selected / applied lines and the point where the test diverged.

    Example
    -------
    >>> import numpy as np
    >>> from lrwidget.engine.history import RangeTestResult
    >>> r = RangeTestResult(np.geomspace(1e-4, 1, 20), np.linspace(2, 1, 20),
    ...                     np.linspace(2, 1, 20), "completed", "exp", 1e-4, 1.0, 20, 0.2)
    >>> "<polyline" in to_svg(r, dark=True)
    True
    """
    for name, v, least in (("width", width, 200), ("height", height, 150)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
            raise ValueError(f"{name} must be an int >= {least}, got {v!r}")
    f = _Frame(result, selected_lr, applied_lr, int(width), int(height), dark)
    out = _svg_open(f, result, selected_lr, applied_lr)
    if f.sx is None:
        out.append(f.frame_rect())
        out.append(
            f'<text x="{(f.left + f.right) / 2}" y="{(f.top + f.bottom) / 2}" '
            f'text-anchor="middle" fill="{f.pal["fgMuted"]}">No readings</text></svg>'
        )
        return "\n".join(out)
    # layers, back to front, as js/plot.js draws them
    out += _svg_axes(f)
    out += _svg_curves(f)
    out += _svg_diverged(f, result)
    out += _svg_chosen(f, selected_lr, "selected", f.pal["selected"], True, 0)
    out += _svg_chosen(f, applied_lr, "applied", f.pal["applied"], False, 1)
    out += _svg_suggestions(f)
    out.append("</svg>")
    return "\n".join(out)


class _Frame:
    """What every layer of one SVG needs: data, palette, plot box, ranges and scales."""

    def __init__(self, result, selected_lr, applied_lr, W: int, H: int, dark: bool):
        self.W, self.H = W, H
        self.pal = palette(dark)
        self.lrs = np.asarray(result.lrs, dtype=np.float64)
        self.raw = np.asarray(result.losses, dtype=np.float64)
        self.sm = np.asarray(result.smoothed, dtype=np.float64)
        self.log = getattr(result, "step_mode", "exp") != "linear"
        self.rows = _suggestion_rows(result) if len(self.lrs) else []
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

    def frame_rect(self) -> str:
        return (
            f'<rect class="frame" x="{self.left}" y="{self.top}" width="{self.right - self.left}" '
            f'height="{self.bottom - self.top}" fill="none" stroke="{self.pal["border"]}"/>'
        )


def _svg_open(f: _Frame, result, selected_lr, applied_lr) -> list[str]:
    pal, W, H = f.pal, f.W, f.H
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, '
        f'Arial, sans-serif" font-size="12" role="img" '
        f'aria-label="{_esc(summary_line(result, selected_lr, applied_lr))}">',
        f'<rect class="background" width="{W}" height="{H}" fill="{pal["bg"]}"/>',
        f'<text class="title" x="{f.left}" y="19" fill="{pal["fg"]}" font-size="13" '
        f'font-weight="600">'
        f"{_esc(_title(result))}</text>",
    ]


def _svg_axes(f: _Frame) -> list[str]:
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
            f'fill="{pal["fgMuted"]}">{_esc(label)}</text>'
        )
    for tick, label in linear_ticks(f.y0, f.y1, 5):
        py = round(f.sy(tick), 2)
        out.append(f'<line {grid} x1="{left}" y1="{py}" x2="{right}" y2="{py}"/>')
        out.append(
            f'<text class="y-tick" x="{left - 6}" y="{py + 4}" text-anchor="end" '
            f'fill="{pal["fgMuted"]}">{_esc(label)}</text>'
        )
    out.append(f.frame_rect())
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


def _svg_diverged(f: _Frame, result) -> list[str]:
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
        f"{_esc(format_lr(lrs[-1]))}</text>",
    ]


def _svg_chosen(f: _Frame, v, label: str, color: str, dash: bool, row: int) -> list[str]:
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
        f'fill="{color}">{_esc(label)} {_esc(format_lr(v))}</text>',
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
            f"{_esc(text)}</text>"
        )
        lx += 26 + 7 * len(text)
    return out


def _title(result) -> str:
    st = status_word(result.stop_reason)
    return f"LR range test \u00b7 {st} \u00b7 {len(result)}/{result.num_iter} readings"


def _polyline(seg, cls, color, width, opacity) -> str:
    pts = " ".join(f"{x:g},{y:g}" for x, y in seg)
    return (
        f'<polyline class="{cls}" points="{pts}" fill="none" stroke="{color}" '
        f'stroke-width="{width}" stroke-opacity="{opacity}" stroke-linejoin="round" '
        f'stroke-linecap="round"/>'
    )


# ---------------------------------------------------------------------------- HTML
def to_html(
    result,
    selected_lr: float | None = None,
    applied_lr: float | None = None,
    title: str = "Learning-rate range test",
    dark: bool = False,
) -> str:
    """A self-contained HTML page: the curve (inline SVG), a readings summary, the suggestions
    with their reasons and the chosen lr. Opens offline (no scripts, fonts or images fetched).

    Example
    -------
    >>> import numpy as np
    >>> from lrwidget.engine.history import RangeTestResult
    >>> r = RangeTestResult(np.geomspace(1e-4, 1, 20), np.linspace(2, 1, 20),
    ...                     np.linspace(2, 1, 20), "completed", "exp", 1e-4, 1.0, 20, 0.2)
    >>> page = to_html(r, applied_lr=1e-2)
    >>> "<svg" in page and "http://" not in page.replace("http://www.w3.org", "")
    True
    """
    pal = palette(dark)
    lrs = np.asarray(result.lrs, dtype=np.float64)
    raw = np.asarray(result.losses, dtype=np.float64)
    sm = np.asarray(result.smoothed, dtype=np.float64)
    fin = np.isfinite(sm)
    best_i = int(np.nanargmin(np.where(fin, sm, np.nan))) if fin.any() else None
    svg = to_svg(result, selected_lr, applied_lr, width=760, height=380, dark=dark)
    summary = [
        (
            "Status",
            status_word(result.stop_reason) + (f" ({result.error})" if result.error else ""),
        ),
        ("Readings", f"{len(result)} of {result.num_iter}"),
        (
            "Sweep",
            f"{format_lr(result.start_lr)} \u2192 {format_lr(result.end_lr)} ({result.step_mode})",
        ),
        (
            "Tested lr range",
            f"{format_lr(lrs.min())} \u2192 {format_lr(lrs.max())}" if len(lrs) else "\u2014",
        ),
        (
            "Loss (raw) first / last",
            f"{format_loss(raw[0])} / {format_loss(raw[-1])}" if len(raw) else "\u2014",
        ),
        (
            "Lowest smoothed loss",
            f"{format_loss(sm[best_i])} at lr={format_lr(lrs[best_i])}"
            if best_i is not None
            else "\u2014",
        ),
        ("Non-finite losses", str(int((~np.isfinite(raw)).sum()))),
        ("Elapsed", f"{result.elapsed:.2f} s"),
    ]
    chosen = applied_lr if applied_lr is not None else selected_lr
    chosen_txt = (
        f"{format_lr(chosen)} ({'applied' if applied_lr is not None else 'selected'})"
        if chosen is not None
        else f"none chosen; the default suggestion is {format_lr(result.suggested_lr)}"
    )
    rows = "".join(
        f"<tr{' class=default' if r['default'] else ''}><td>{_esc(r['name'])}"
        f"{' <small>(default)</small>' if r['default'] else ''}</td>"
        f"<td class=num>{_esc(format_lr(r['lr']))}</td><td>{_esc(r['reason'])}</td></tr>"
        for r in _suggestion_rows(result)
    )
    table = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in summary)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(title)}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       color: {pal["fg"]}; background: {pal["bg"]}; margin: 2rem auto; max-width: 800px;
       padding: 0 1rem; line-height: 1.45; }}
h1 {{ font-size: 1.35rem; margin-bottom: .2rem; }}
.chosen {{ font-size: 1.1rem; margin: .6rem 0 1rem; }}
.chosen b {{ color: {pal["applied"]}; }}
table {{ border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }}
th, td {{ text-align: left; padding: .3rem .6rem; border-bottom: 1px solid {pal["border"]};
         vertical-align: top; }}
th {{ color: {pal["fgMuted"]}; font-weight: 500; width: 14rem; }}
td.num {{ font-variant-numeric: tabular-nums; white-space: nowrap; }}
tr.default td {{ font-weight: 600; }}
svg {{ max-width: 100%; height: auto; }}
footer {{ color: {pal["fgMuted"]}; font-size: .85rem; }}
</style></head>
<body>
<h1>{_esc(title)}</h1>
<p class="chosen">Chosen learning rate: <b>{_esc(chosen_txt)}</b></p>
<figure>{svg}</figure>
<h2>Suggestions</h2>
<table><thead><tr><th>Rule</th><th>lr</th><th>Why</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Readings</h2>
<table><tbody>{table}</tbody></table>
<footer>{_esc(summary_line(result, selected_lr, applied_lr))}. Made by lrwidget.</footer>
</body></html>
"""


def save_html(
    result, path, selected_lr: float | None = None, applied_lr: float | None = None, **kwargs
) -> str:
    """Write :func:`to_html` to ``path`` (UTF-8); returns the path written.

    Example
    -------
    >>> import numpy as np, tempfile, os
    >>> from lrwidget.engine.history import RangeTestResult
    >>> r = RangeTestResult(np.geomspace(1e-4, 1, 5), np.ones(5), np.ones(5), "completed",
    ...                     "exp", 1e-4, 1.0, 5, 0.1)
    >>> p = save_html(r, os.path.join(tempfile.mkdtemp(), "r.html"))
    >>> open(p, encoding="utf-8").read().startswith("<!DOCTYPE html>")
    True
    """
    path = os.fspath(path)
    page = to_html(result, selected_lr, applied_lr, **kwargs)
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path
