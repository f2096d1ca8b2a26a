"""The static SVG's geometry: data to pixels (:class:`Scale`) and the curve's pieces (pure).

Pure functions of numbers, so the picture's geometry is tested without drawing anything; the
ticks and ranges themselves are the rules the front end shares (:mod:`lrwidget.pure.rules`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["Scale", "segments", "Point"]

#: a point in pixels, (x, y)
Point = tuple[float, float]


class Scale:
    """Maps data values on ``[d0, d1]`` to pixels on ``[r0, r1]``, in log10 when ``log``.

    >>> s = Scale(1e-4, 1e-2, 0, 100, log=True)
    >>> s(1e-3), s.invert(50.0)
    (50.0, 0.001)
    """

    def __init__(self, d0: float, d1: float, r0: float, r1: float, log: bool = False) -> None:
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


def segments(
    xs: Iterable[float], ys: Iterable[float], sx: Scale, sy: Scale, y_lo: float, y_hi: float
) -> list[list[Point]]:
    """Polyline pieces in pixels; a break at each non-finite point, y clipped to the range.

    A point above ``y_hi`` is drawn at ``y_hi`` (the clipped tail shows as a line along the
    top edge), so the eye still sees where the loss shoots up.

    >>> s = Scale(0, 3, 0, 30); t = Scale(0, 1, 10, 0)
    >>> segments([0, 1, 2, 3], [0.0, float("nan"), 0.5, 9.0], s, t, 0.0, 1.0)
    [[(0.0, 10.0)], [(20.0, 5.0), (30.0, 0.0)]]
    """
    out: list[list[Point]] = []
    cur: list[Point] = []
    for xv, yv in zip(xs, ys):
        x = float(xv)
        y = float(yv)
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
