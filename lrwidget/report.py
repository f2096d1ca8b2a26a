"""Static pictures of a range test: an SVG of the curve and a self-contained HTML report.

Used where no widget front end runs (GitHub, nbviewer, ``jupyter nbconvert``, plain IPython:
the widget's static fallback) and to keep a finished test as a file. Pure Python string
building, no matplotlib and nothing fetched from the network.

The geometry is a set of pure functions (:func:`log_ticks`, :func:`linear_ticks`,
:func:`y_range`, :func:`Scale`, :func:`segments`) so it is tested without drawing anything.

Example
-------
>>> import numpy as np
>>> from lrwidget.history import RangeTestResult
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
from typing import List, Optional, Tuple

import numpy as np

__all__ = ["to_svg", "to_html", "save_html", "summary_line", "format_lr", "log_ticks",
           "linear_ticks", "y_range", "Scale", "segments", "loss_at"]

# Same palettes as js/theme.js, so the static picture looks like the live one.
LIGHT = dict(fg="#1f2328", muted="#57606a", faint="#8c959f", bg="#ffffff", grid="#e6e8eb",
             border="#d0d7de", accent="#1a73e8", selected="#e8710a", applied="#188038",
             error="#d93025",
             rules=["#1a73e8", "#9334e6", "#e8710a", "#188038", "#c5221f", "#007b83"])
DARK = dict(fg="#e6edf3", muted="#9da7b1", faint="#6e7681", bg="#1e1e1e", grid="#30363d",
            border="#3d444d", accent="#6ea8fe", selected="#ffa657", applied="#56d364",
            error="#ff7b72",
            rules=["#6ea8fe", "#d2a8ff", "#ffa657", "#56d364", "#ff7b72", "#39c5cf"])

_SUP = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077"
                                    "\u2078\u2079")


# ---------------------------------------------------------------------------- formatting
def format_lr(x: Optional[float], digits: int = 3) -> str:
    """An lr the way people type it: ``3.16e-3``, ``1e-4``, ``0.5`` -> ``5e-1``.

    >>> format_lr(0.00316227), format_lr(1e-4), format_lr(None), format_lr(float("nan"))
    ('3.16e-3', '1e-4', '\u2014', 'NaN')
    """
    if x is None:
        return "\u2014"
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    mant, exp = f"{x:.{max(0, digits - 1)}e}".split("e")
    if "." in mant:
        mant = mant.rstrip("0").rstrip(".")
    e = int(exp)
    return mant if e == 0 else f"{mant}e{e}"


def _format_loss(y: float) -> str:
    if not math.isfinite(y):
        return "NaN" if math.isnan(y) else ("inf" if y > 0 else "-inf")
    if y != 0 and (abs(y) >= 1e5 or abs(y) < 1e-3):
        return f"{y:.3e}"
    return f"{y:.4g}"


def _decade_label(e: int) -> str:
    if e == 0:
        return "1"
    if e == 1:
        return "10"
    return "10" + str(e).translate(_SUP)


# ---------------------------------------------------------------------------- geometry
def log_ticks(lo: float, hi: float, max_ticks: int = 8) -> List[Tuple[float, str]]:
    """Readable ticks for a log axis over ``[lo, hi]`` as ``(value, label)`` pairs.

    Decades (1e-5, 1e-4, ...) when the range spans at least one; every k-th decade when there
    are more than ``max_ticks``; 1-2-5 steps inside a range narrower than a decade.

    >>> [l for _, l in log_ticks(1e-5, 1.0)]
    ['10⁻⁵', '10⁻⁴', '10⁻³', '10⁻²', '10⁻¹', '1']
    >>> [v for v, _ in log_ticks(0.02, 0.09)]
    [0.02, 0.05]
    """
    if not (lo > 0 and hi > 0 and math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"log_ticks needs 0 < lo, hi < inf, got lo={lo}, hi={hi}")
    if hi < lo:
        lo, hi = hi, lo
    eps = 1e-9
    e0 = math.ceil(math.log10(lo) - eps)
    e1 = math.floor(math.log10(hi) + eps)
    if e1 - e0 + 1 >= 2:
        step = max(1, math.ceil((e1 - e0 + 1) / max(1, max_ticks)))
        # keep the ticks on multiples of the step so 10^0 = 1 is shown when in range
        first = e0 + (-e0) % step
        return [(10.0 ** e, _decade_label(e)) for e in range(first, e1 + 1, step)]
    out = []
    for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = float(f"{m}e{e}")
            if lo * (1 - eps) <= v <= hi * (1 + eps):
                out.append((v, format_lr(v)))
    if len(out) < 2:  # a very narrow range: its two ends
        out = [(lo, format_lr(lo)), (hi, format_lr(hi))]
    return out


def _nice_step(span: float, n: int) -> float:
    raw = span / max(1, n)
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


def linear_ticks(lo: float, hi: float, n: int = 5) -> List[float]:
    """About ``n`` round values covering ``[lo, hi]`` (steps of 1, 2, 2.5 or 5 x 10^k).

    >>> linear_ticks(0.0, 1.0)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    >>> linear_ticks(2.31, 2.31)
    [2.31]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"linear_ticks needs finite bounds, got lo={lo}, hi={hi}")
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        return [lo]
    step = _nice_step(hi - lo, n)
    k0 = math.ceil(lo / step - 1e-9)
    k1 = math.floor(hi / step + 1e-9)
    # round to the step's precision so labels read 0.6, not 0.6000000000000001
    digits = max(0, -math.floor(math.log10(step)) + 2)
    return [round(k * step, digits) for k in range(k0, k1 + 1)]


def y_range(smoothed, raw=None, pad: float = 0.08, tail: float = 0.5) -> Tuple[float, float]:
    """The loss range to show, keeping the interesting part readable when the tail diverges.

    The bottom is the lowest finite smoothed loss. The top is the highest smoothed loss up to
    that minimum (usually the starting loss), plus ``tail`` times the span so the start of the
    climb stays visible; a diverging tail (1e6, inf, NaN) is clipped at the top instead of
    squashing the curve flat. ``raw`` widens the range only within those bounds. ``pad`` adds
    a margin as a fraction of the span.

    Returns ``(0, 1)`` when there is no finite smoothed loss.

    >>> y_range([3.0, 2.0, 1.0, 1.5, 1e6], pad=0.0)
    (1.0, 4.0)
    """
    s = np.asarray(smoothed, dtype=np.float64)
    fin = np.isfinite(s)
    if not fin.any():
        return (0.0, 1.0)
    imin = int(np.nanargmin(np.where(fin, s, np.nan)))
    lo = float(s[imin])
    head = s[: imin + 1][fin[: imin + 1]]
    hi = float(head.max())
    after = s[imin:][fin[imin:]]
    span = hi - lo
    if span <= 0:  # flat until the minimum: use the rest of the curve, else a unit window
        span = float(after.max() - lo) if after.size else 0.0
        span = min(span, abs(lo) * 0.5 or 1.0) or (abs(lo) * 0.1 or 1.0)
        hi = lo + span
    top = hi + tail * span
    # do not reserve room the curve never uses
    top = min(top, max(hi, float(after.max()) if after.size else hi))
    if raw is not None:
        r = np.asarray(raw, dtype=np.float64)
        r = r[np.isfinite(r)]
        if r.size:
            # raw noise below the smoothed minimum is worth a little room, never a rescale
            lo = max(min(lo, float(r.min())), lo - 0.5 * (top - lo))
    m = (top - lo) * pad
    return (lo - m, top + m)


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
        return round(10.0 ** v, 15) if self.log else v


def segments(xs, ys, sx: Scale, sy: Scale, y_lo: float, y_hi: float) -> List[List[tuple]]:
    """Polyline pieces in pixels; a break at each non-finite point, y clipped to the range.

    A point above ``y_hi`` is drawn at ``y_hi`` (the clipped tail shows as a line along the
    top edge), so the eye still sees where the loss shoots up.

    >>> s = Scale(0, 3, 0, 30); t = Scale(0, 1, 10, 0)
    >>> segments([0, 1, 2, 3], [0.0, float("nan"), 0.5, 9.0], s, t, 0.0, 1.0)
    [[(0.0, 10.0)], [(20.0, 5.0), (30.0, 0.0)]]
    """
    out: List[List[tuple]] = []
    cur: List[tuple] = []
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
def _suggestion_rows(result) -> List[dict]:
    from .suggest import DEFAULT
    rows = []
    for name, s in (result.suggestions or {}).items():
        rows.append({"name": name, "lr": s.lr, "index": s.index, "reason": s.reason,
                     "default": name == DEFAULT})
    return rows


def summary_line(result, selected_lr=None, applied_lr=None) -> str:
    """One line: status, readings, suggested lr (and the chosen one).

    >>> import numpy as np
    >>> from lrwidget.history import RangeTestResult
    >>> r = RangeTestResult(np.array([1e-3, 1e-2]), np.array([2.0, 1.0]), np.array([2.0, 1.5]),
    ...                     "stopped", "exp", 1e-3, 1e-2, 10, 0.5)
    >>> summary_line(r, applied_lr=1e-3).startswith("LR range test stopped: 2/10 readings")
    True
    """
    if result is None:
        return "LR range test: no run yet"
    words = {"completed": "done", "diverged": "diverged", "stopped": "stopped",
             "error": "failed"}
    st = words.get(result.stop_reason, result.stop_reason)
    parts = [f"LR range test {st}: {len(result)}/{result.num_iter} readings "
             f"in {result.elapsed:.1f} s"]
    if result.stop_reason == "diverged" and len(result):
        parts.append(f"diverged at lr={format_lr(result.lrs[-1])}")
    s = result.suggestions
    if s:
        name, first = next(iter(s.items()))
        parts.append(f"suggested lr={format_lr(first.lr)} ({name})" if first.lr is not None
                     else f"no suggestion ({name}: {first.reason})")
    if selected_lr is not None:
        parts.append(f"selected {format_lr(selected_lr)}")
    if applied_lr is not None:
        parts.append(f"applied {format_lr(applied_lr)}")
    if result.stop_reason == "error" and getattr(result, "error", None):
        parts.append(f"error: {result.error}")
    return "; ".join(parts)


def _esc(s) -> str:
    return html.escape(str(s), quote=True)


def to_svg(result, selected_lr: Optional[float] = None, applied_lr: Optional[float] = None,
           width: int = 720, height: int = 360, dark: bool = False) -> str:
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
    >>> from lrwidget.history import RangeTestResult
    >>> r = RangeTestResult(np.geomspace(1e-4, 1, 20), np.linspace(2, 1, 20),
    ...                     np.linspace(2, 1, 20), "completed", "exp", 1e-4, 1.0, 20, 0.2)
    >>> "<polyline" in to_svg(r, dark=True)
    True
    """
    for name, v, least in (("width", width, 200), ("height", height, 150)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
            raise ValueError(f"{name} must be an int >= {least}, got {v!r}")
    pal = DARK if dark else LIGHT
    W, H = int(width), int(height)
    lrs = np.asarray(result.lrs, dtype=np.float64)
    raw = np.asarray(result.losses, dtype=np.float64)
    sm = np.asarray(result.smoothed, dtype=np.float64)
    log = getattr(result, "step_mode", "exp") != "linear"
    rows = _suggestion_rows(result) if len(lrs) else []

    legend_h = 22 if rows or selected_lr is not None or applied_lr is not None else 0
    left, right, top, bottom = 64, W - 16, 30, H - 44 - legend_h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, '
           f'Arial, sans-serif" font-size="12" role="img" '
           f'aria-label="{_esc(summary_line(result, selected_lr, applied_lr))}">',
           f'<rect width="{W}" height="{H}" fill="{pal["bg"]}"/>',
           f'<text x="{left}" y="19" fill="{pal["fg"]}" font-size="13" font-weight="600">'
           f'{_esc(_title(result))}</text>']

    ok = np.isfinite(lrs) & ((lrs > 0) if log else True)
    if not ok.any():
        out.append(f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
                   f'fill="none" stroke="{pal["border"]}"/>')
        out.append(f'<text x="{(left + right) / 2}" y="{(top + bottom) / 2}" text-anchor="middle" '
                   f'fill="{pal["muted"]}">No readings</text></svg>')
        return "\n".join(out)

    x0, x1 = float(lrs[ok].min()), float(lrs[ok].max())
    for v in (selected_lr, applied_lr):  # keep chosen lines inside the picture
        if v is not None and math.isfinite(v) and (v > 0 or not log):
            x0, x1 = min(x0, float(v)), max(x1, float(v))
    if x0 == x1:
        x0, x1 = (x0 / 2, x1 * 2) if log else (x0 - 1, x1 + 1)
    y0, y1 = y_range(sm, raw)
    sx = Scale(x0, x1, left, right, log=log)
    sy = Scale(y0, y1, bottom, top)

    # grid and ticks
    xt = log_ticks(x0, x1) if log else [(v, f"{v:g}") for v in linear_ticks(x0, x1, 6)]
    for v, label in xt:
        px = round(sx(v), 2)
        out.append(f'<line x1="{px}" y1="{top}" x2="{px}" y2="{bottom}" stroke="{pal["grid"]}"/>')
        out.append(f'<text x="{px}" y="{bottom + 16}" text-anchor="middle" '
                   f'fill="{pal["muted"]}">{_esc(label)}</text>')
    for v in linear_ticks(y0, y1, 5):
        py = round(sy(v), 2)
        out.append(f'<line x1="{left}" y1="{py}" x2="{right}" y2="{py}" stroke="{pal["grid"]}"/>')
        out.append(f'<text x="{left - 6}" y="{py + 4}" text-anchor="end" '
                   f'fill="{pal["muted"]}">{_esc(f"{v:g}")}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
               f'fill="none" stroke="{pal["border"]}"/>')
    out.append(f'<text x="{(left + right) / 2}" y="{bottom + 34}" text-anchor="middle" '
               f'fill="{pal["fg"]}">learning rate{" (log scale)" if log else ""}</text>')
    out.append(f'<text transform="translate(16 {(top + bottom) / 2}) rotate(-90)" '
               f'text-anchor="middle" fill="{pal["fg"]}">loss</text>')

    # clip the curves to the plot box (a clipped tail runs along the top edge)
    out.append(f'<clipPath id="lrw-clip"><rect x="{left}" y="{top - 2}" width="{right - left}" '
               f'height="{bottom - top + 4}"/></clipPath><g clip-path="url(#lrw-clip)">')
    for seg in segments(lrs, raw, sx, sy, y0, y1):
        out.append(_polyline(seg, pal["accent"], 1.0, 0.3))
    for seg in segments(lrs, sm, sx, sy, y0, y1):
        out.append(_polyline(seg, pal["accent"], 2.2, 1.0))
    out.append("</g>")

    # diverged point: the last reading of a diverged test
    if result.stop_reason == "diverged" and len(lrs) and ok[-1]:
        dx = sx(float(lrs[-1]))
        yv = sm[-1] if math.isfinite(sm[-1]) else y1
        dy = sy(min(max(float(yv), y0), y1))
        out.append(f'<g stroke="{pal["error"]}" stroke-width="2"><line x1="{dx - 5:.2f}" '
                   f'y1="{dy - 5:.2f}" x2="{dx + 5:.2f}" y2="{dy + 5:.2f}"/><line x1="{dx - 5:.2f}" '
                   f'y1="{dy + 5:.2f}" x2="{dx + 5:.2f}" y2="{dy - 5:.2f}"/></g>')
        out.append(f'<text x="{min(dx, right - 4):.2f}" y="{max(dy - 9, top + 12):.2f}" '
                   f'text-anchor="end" fill="{pal["error"]}">diverged at '
                   f'{_esc(format_lr(lrs[-1]))}</text>')

    # selected / applied lines
    def vline(v, color, dash, label, row):
        if v is None or not math.isfinite(v) or (log and v <= 0):
            return
        px = sx(float(v))
        d = ' stroke-dasharray="5 4"' if dash else ""
        out.append(f'<line x1="{px:.2f}" y1="{top}" x2="{px:.2f}" y2="{bottom}" stroke="{color}" '
                   f'stroke-width="1.6"{d}/>')
        anchor = "start" if px < (left + right) / 2 else "end"
        tx = px + 4 if anchor == "start" else px - 4
        out.append(f'<text x="{tx:.2f}" y="{top + 14 + 14 * row}" text-anchor="{anchor}" '
                   f'fill="{color}">{_esc(label)} {_esc(format_lr(v))}</text>')

    vline(selected_lr, pal["selected"], True, "selected", 0)
    vline(applied_lr, pal["applied"], False, "applied", 1)

    # suggestion markers and the legend
    lx = left
    ly = H - 10
    for k, r in enumerate(rows):
        color = pal["rules"][k % len(pal["rules"])]
        lr = r["lr"]
        if lr is not None and math.isfinite(lr) and (lr > 0 or not log):
            yv = loss_at(lrs, sm, lr, r["index"], log)
            if yv is not None:
                px, py = sx(lr), sy(min(max(yv, y0), y1))
                rad = 6 if r["default"] else 4.5
                out.append(f'<circle cx="{px:.2f}" cy="{py:.2f}" r="{rad}" fill="{color}" '
                           f'stroke="{pal["bg"]}" stroke-width="1.5"/>')
        text = f'{r["name"]}{" (default)" if r["default"] else ""}: {format_lr(lr)}'
        out.append(f'<circle cx="{lx + 5}" cy="{ly - 4}" r="{5 if r["default"] else 4}" '
                   f'fill="{color}"/>')
        weight = ' font-weight="600"' if r["default"] else ""
        out.append(f'<text x="{lx + 14}" y="{ly}" fill="{pal["fg"]}"{weight}>{_esc(text)}</text>')
        lx += 26 + 7 * len(text)
    out.append("</svg>")
    return "\n".join(out)


def _title(result) -> str:
    st = {"completed": "done", "diverged": "diverged", "stopped": "stopped",
          "error": "error"}.get(result.stop_reason, result.stop_reason)
    return f"LR range test \u00b7 {st} \u00b7 {len(result)}/{result.num_iter} readings"


def loss_at(lrs, sm, lr, index, log) -> Optional[float]:
    """Smoothed loss at a suggestion: its reading, else interpolated (in log lr when log).

    Where a suggestion's marker goes on the curve; None when no reading is usable.

    >>> loss_at(np.array([1e-3, 1e-2, 1e-1]), np.array([2.0, 1.0, 3.0]), 1e-2, None, True)
    1.0
    >>> loss_at(np.array([1e-3, 1e-1]), np.array([2.0, 1.0]), 1e-2, None, True)
    1.5
    """
    lrs, sm = np.asarray(lrs, dtype=np.float64), np.asarray(sm, dtype=np.float64)
    if index is not None and 0 <= index < len(sm) and math.isfinite(sm[index]):
        return float(sm[index])
    ok = np.isfinite(lrs) & np.isfinite(sm) & ((lrs > 0) if log else True)
    if ok.sum() < 1:
        return None
    x, y = lrs[ok], sm[ok]
    order = np.argsort(x)
    f = np.log10 if log else (lambda a: a)
    return float(np.interp(f(lr), f(x[order]), y[order]))


def _polyline(seg, color, width, opacity) -> str:
    pts = " ".join(f"{x:g},{y:g}" for x, y in seg)
    return (f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="{width}" '
            f'stroke-opacity="{opacity}" stroke-linejoin="round" stroke-linecap="round"/>')


# ---------------------------------------------------------------------------- HTML
def to_html(result, selected_lr: Optional[float] = None, applied_lr: Optional[float] = None,
            title: str = "Learning-rate range test", dark: bool = False) -> str:
    """A self-contained HTML page: the curve (inline SVG), a readings summary, the suggestions
    with their reasons and the chosen lr. Opens offline (no scripts, fonts or images fetched).

    Example
    -------
    >>> import numpy as np
    >>> from lrwidget.history import RangeTestResult
    >>> r = RangeTestResult(np.geomspace(1e-4, 1, 20), np.linspace(2, 1, 20),
    ...                     np.linspace(2, 1, 20), "completed", "exp", 1e-4, 1.0, 20, 0.2)
    >>> page = to_html(r, applied_lr=1e-2)
    >>> "<svg" in page and "http://" not in page.replace("http://www.w3.org", "")
    True
    """
    pal = DARK if dark else LIGHT
    lrs = np.asarray(result.lrs, dtype=np.float64)
    raw = np.asarray(result.losses, dtype=np.float64)
    sm = np.asarray(result.smoothed, dtype=np.float64)
    fin = np.isfinite(sm)
    best_i = int(np.nanargmin(np.where(fin, sm, np.nan))) if fin.any() else None
    svg = to_svg(result, selected_lr, applied_lr, width=760, height=380, dark=dark)
    summary = [
        ("Status", result.stop_reason + (f" ({result.error})" if result.error else "")),
        ("Readings", f"{len(result)} of {result.num_iter}"),
        ("Sweep", f"{format_lr(result.start_lr)} \u2192 {format_lr(result.end_lr)} "
                  f"({result.step_mode})"),
        ("Tested lr range", f"{format_lr(lrs.min())} \u2192 {format_lr(lrs.max())}"
         if len(lrs) else "\u2014"),
        ("Loss (raw) first / last", f"{_format_loss(raw[0])} / {_format_loss(raw[-1])}"
         if len(raw) else "\u2014"),
        ("Lowest smoothed loss", f"{_format_loss(sm[best_i])} at lr={format_lr(lrs[best_i])}"
         if best_i is not None else "\u2014"),
        ("Non-finite losses", str(int((~np.isfinite(raw)).sum()))),
        ("Elapsed", f"{result.elapsed:.2f} s"),
    ]
    chosen = applied_lr if applied_lr is not None else selected_lr
    chosen_txt = (f"{format_lr(chosen)} ({'applied' if applied_lr is not None else 'selected'})"
                  if chosen is not None else
                  f"none chosen; the default suggestion is {format_lr(result.suggested_lr)}")
    rows = "".join(
        f'<tr{" class=default" if r["default"] else ""}><td>{_esc(r["name"])}'
        f'{" <small>(default)</small>" if r["default"] else ""}</td>'
        f'<td class=num>{_esc(format_lr(r["lr"]))}</td><td>{_esc(r["reason"])}</td></tr>'
        for r in _suggestion_rows(result))
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
th {{ color: {pal["muted"]}; font-weight: 500; width: 14rem; }}
td.num {{ font-variant-numeric: tabular-nums; white-space: nowrap; }}
tr.default td {{ font-weight: 600; }}
svg {{ max-width: 100%; height: auto; }}
footer {{ color: {pal["muted"]}; font-size: .85rem; }}
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


def save_html(result, path, selected_lr: Optional[float] = None,
              applied_lr: Optional[float] = None, **kwargs) -> str:
    """Write :func:`to_html` to ``path`` (UTF-8); returns the path written.

    Example
    -------
    >>> import numpy as np, tempfile, os
    >>> from lrwidget.history import RangeTestResult
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
