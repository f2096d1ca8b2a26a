"""The range and its schedule in the static pictures (issue 19), pure string building: the
brushed (or suggested) range as a band on the curve's SVG, its ends labelled, as js/layers/range.js
draws it; the schedule's preview (the kernel's steps and lrs, never recomputed) as a small SVG of
lr(step), as js/layers/schedule.js draws it.

Example
-------
>>> p = {"kind": "one_cycle", "lo": 1e-3, "hi": 0.1, "total_steps": 10,
...      "steps": [0, 3, 9], "lrs": [1e-3, 0.1, 1e-7]}
>>> svg = preview_svg(p)
>>> svg.startswith("<svg") and "peak 1e-1" in svg and "10 steps" in svg
True
>>> preview_svg({}) == ""
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..pure.rules import SCHEDULE_KINDS, format_lr, palette
from .report_text import esc

__all__ = ["band_svg", "preview_svg", "schedule_caption"]


def band_svg(
    rng: tuple[float, float] | None,
    sx: Callable[[float], float],
    box: tuple[float, float, float, float],
    color: str,
    suggested: bool = False,
) -> list[str]:
    """The band of ``rng`` = (lo, hi) between the plot's ``box`` = (left, top, right, bottom)
    under the x scale ``sx`` (lr -> px); nothing when it is off the plot."""
    if rng is None or not all(math.isfinite(v) and v > 0 for v in rng):
        return []
    left, top, right, bottom = box
    x0, x1 = max(left, sx(rng[0])), min(right, sx(rng[1]))
    if not x1 > x0:
        return []
    dash = ' stroke-dasharray="4 4"' if suggested else ""
    out = [
        f'<g class="range"><rect x="{x0:.2f}" y="{top}" width="{x1 - x0:.2f}" '
        f'height="{bottom - top}" fill="{color}" fill-opacity="{0.06 if suggested else 0.14}"/>',
        f'<path d="M{x0:.2f} {top}V{bottom}M{x1:.2f} {top}V{bottom}" stroke="{color}" '
        f'stroke-width="1.25"{dash}/>',
        f'<text x="{x0 + 4:.2f}" y="{bottom - 5}" font-weight="600" fill="{color}">'
        f"{esc(format_lr(rng[0]))}</text>",
        f'<text x="{x1 - 4:.2f}" y="{bottom - 5}" text-anchor="end" font-weight="600" '
        f'fill="{color}">{esc(format_lr(rng[1]))}</text>',
    ]
    if suggested:
        out.append(
            f'<text x="{(x0 + x1) / 2:.2f}" y="{top + 14}" text-anchor="middle" '
            f'font-size="10" fill="{color}">suggested range</text>'
        )
    return [*out, "</g>"]


def schedule_caption(preview: dict[str, Any]) -> str:
    """One line: which schedule the preview shows, over which range and steps."""
    label = SCHEDULE_KINDS.get(str(preview.get("kind")), str(preview.get("kind")))
    return (
        f"{label} from {format_lr(float(preview['lo']))} to {format_lr(float(preview['hi']))} "
        f"over {int(preview['total_steps']):,} steps"
    )


def preview_svg(
    preview: dict[str, Any], width: int = 720, height: int = 90, dark: bool = False
) -> str:
    """The preview of lr(step) as an SVG document ("" when ``preview`` is empty).

    Parameters
    ----------
    preview : dict
        The widget's ``preview`` trait: ``kind``, ``lo``, ``hi``, ``total_steps``, ``steps``,
        ``lrs`` (the real scheduler's lrs at those steps).
    width, height : int
        Pixels.
    dark : bool
        The dark palette.
    """
    if not preview or len(preview.get("steps", ())) < 2:
        return ""
    pal = palette(dark)
    steps, lrs, n = preview["steps"], preview["lrs"], int(preview["total_steps"])
    left, top, right, bottom = 8, 18, width - 8, height - 6
    peak = max(lrs) or 1.0
    pts = " ".join(
        f"{left + s * (right - left) / n:.2f},{bottom - v * (bottom - top) / peak:.2f}"
        for s, v in zip(steps, lrs)
    )
    area = f"{left},{bottom} {pts} {left + steps[-1] * (right - left) / n:.2f},{bottom}"
    color, caption = pal["selected"], esc(schedule_caption(preview))
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif" font-size="11" '
            f'role="img" aria-label="Preview of {caption}">',
            f'<rect width="{width}" height="{height}" fill="{pal["bg"]}"/>',
            f'<text x="{left}" y="12" fill="{pal["fgMuted"]}">{caption}, peak '
            f"{esc(format_lr(peak))}</text>",
            f'<polygon points="{area}" fill="{color}" fill-opacity="0.16"/>',
            f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.5"/>',
            f'<line x1="{left}" y1="{bottom + 0.5}" x2="{right}" y2="{bottom + 0.5}" '
            f'stroke="{pal["border"]}"/>',
            "</svg>",
        ]
    )
