"""What a screenshot of the widget's plot says about its theme (VS Code, marimo, Voilà tests).

WCAG relative luminance and contrast ratios on the rendered pixels: the plot's background is the
host's, the drawing is lighter (dark theme) or darker (light theme) than it, the tick labels under
the plot reach 4.5:1 and the curves 3:1."""

from __future__ import annotations

import io

import numpy as np


def luminance(rgb) -> np.ndarray:
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def contrast(l1, l2):
    hi, lo = np.maximum(l1, l2), np.minimum(l1, l2)
    return (hi + 0.05) / (lo + 0.05)


def hex_rgb(color: str) -> tuple:
    h = color.lstrip("#")
    return tuple(int(h[i : i + 2], 16) for i in (0, 2, 4))


def css_rgb(value: str) -> tuple:
    """(r, g, b) of a computed CSS colour ``rgb(...)`` / ``rgba(...)``."""
    nums = value[value.index("(") + 1 : value.index(")")].replace(",", " ").split()
    return tuple(round(float(x)) for x in nums[:3])


def plot_problems(png: bytes, dark: bool, background: str | None = None) -> list:
    """What is wrong with a screenshot of ``.lrw-plot`` (empty when fine). ``background``: the
    host's background colour (``#rrggbb``) the plot must have."""
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    h, w, _ = img.shape
    colors, counts = np.unique(img.reshape(-1, 3), axis=0, return_counts=True)
    bg = colors[counts.argmax()]
    bg_lum = float(luminance(bg))
    out = []
    if counts.max() / (h * w) < 0.4:
        out.append("no dominant background colour in the plot")
    if background is not None and np.abs(bg.astype(int) - hex_rgb(background)).max() > 2:
        out.append(f"plot background rgb{tuple(int(c) for c in bg)}, the host's is {background}")
    if (dark and bg_lum >= 0.1) or (not dark and bg_lum <= 0.7):
        out.append(f"plot background luminance {bg_lum:.2f} is not {'dark' if dark else 'light'}")
    lum = luminance(img)
    ink = lum[np.abs(lum - bg_lum) > 0.02]
    if ink.size < 2000:
        return [*out, f"almost nothing drawn on the plot ({ink.size} px)"]
    right_way = float((ink > bg_lum).mean() if dark else (ink < bg_lum).mean())
    if right_way < 0.9:
        out.append(
            f"only {right_way:.0%} of the drawn pixels are {'lighter' if dark else 'darker'}"
        )
    # the x tick labels and the axis title: the bottom 40 px of the plot
    strip = lum[h - 40 :, :]
    text = strip[np.abs(strip - bg_lum) > 0.02]
    if text.size < 50:
        out.append("no tick labels found under the plot")
    else:
        peak = float(np.percentile(text, 99 if dark else 1))
        c = float(contrast(peak, bg_lum))
        if c < 4.5:
            out.append(f"tick label contrast {c:.1f}:1 against the background (< 4.5:1)")
    strong = int((contrast(ink, bg_lum) >= 3.0).sum())
    if strong < 1500:
        out.append(f"only {strong} drawn px reach 3:1 contrast (curves too faint)")
    return out
