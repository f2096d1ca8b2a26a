"""What a view's frames cost, counted in the page, for the browser tests to assert.

Each time a view sets ``data-frame-ms`` (its draw time, on the element that holds its canvas or
on the canvas itself), :data:`WATCH` records the frame: that time, the path vertices drawn on
its canvas since its last frame (``moveTo``, ``lineTo``, ``rect``, ``fillRect`` calls on that
canvas's 2D context) and the canvas's width in device pixels.

The vertices are what the tests assert: a frame's work is bounded by the canvas's pixel columns,
never by the readings or steps behind them (decimation), and a count does not depend on how
loaded the machine is. The milliseconds are printed for the log only: on a shared 2-core machine
one test's frame times are the machine's (CI failed on a median of 8.3 ms against 8 with the
code unchanged); benchmarks/draw.py measures the time, interleaved against a baseline.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

# A frame's vertices per device-pixel column that a chart of a few decimated lines stays under:
# each line gives at most 4 a column (enter, min, max, leave), fewer where it is smooth. Measured
# 1.4 for the 8 curves of tests/browser/test_compare_lab.py and 5.5 for the training chart of
# 1,000,000 steps; a frame that drew every reading would give 85 and 1,200 there.
PER_COLUMN = 16

# Installed once per page: counts every path call per canvas (the count lives on the canvas
# element, so two views drawing in the same task never share one).
WATCH = """([scope, cls]) => {
  if (!window.__lrwCounting) {
    window.__lrwCounting = true;
    const P = CanvasRenderingContext2D.prototype;
    for (const name of ['moveTo', 'lineTo', 'rect', 'fillRect']) {
      const f = P[name];
      P[name] = function (...a) { this.canvas.__lrwOps = (this.canvas.__lrwOps || 0) + 1;
                                  return f.apply(this, a); };
    }
  }
  // counted from now on: a canvas of this page may have drawn since an earlier watch (a kept tab)
  for (const c of document.querySelectorAll('canvas')) c.__lrwOps = 0;
  window.__lrwFrames = [];
  const where = document.querySelector(scope) || document.body;
  new MutationObserver((records) => {
    // frames drawn in one task come in one batch: their canvas's vertices are shared out evenly
    const seen = [];
    for (const m of records) {
      const el = m.target;
      if (cls && !el.classList.contains(cls)) continue;
      const canvas = el.tagName === 'CANVAS' ? el : el.querySelector('canvas');
      if (canvas) seen.push([el, canvas]);
    }
    for (const [el, canvas] of seen) {
      const n = seen.filter(([, c]) => c === canvas).length;
      window.__lrwFrames.push([Number(el.dataset.frameMs), (canvas.__lrwOps || 0) / n,
                               canvas.width]);
    }
    for (const [, canvas] of seen) canvas.__lrwOps = 0;
  }).observe(where, {subtree: true, attributes: true, attributeFilter: ['data-frame-ms']});
}"""


@dataclass(frozen=True)
class Frames:
    """The frames recorded since :func:`watch`: ``ms`` (draw time), ``ops`` (path vertices) and
    ``px`` (canvas width, device pixels), one entry per frame."""

    ms: list[float]
    ops: list[float]
    px: list[int]

    def __len__(self) -> int:
        return len(self.ms)

    def per_column(self) -> list[float]:
        """Each frame's vertices per device-pixel column of its canvas."""
        return [o / max(1, p) for o, p in zip(self.ops, self.px, strict=True)]

    def summary(self, what: str) -> str:
        """One line for the log: how many frames, the median and max draw ms and vertices."""
        if not self.ms:
            return f"{what}: no frame"
        return (
            f"{what}: {len(self)} frames, draw {statistics.median(self.ms):.2f} ms median "
            f"({max(self.ms):.2f} max, the machine's; benchmarks/draw.py times the code), "
            f"{statistics.median(self.ops):.0f} vertices median ({max(self.ops):.0f} max) on "
            f"{max(self.px)} device-px columns"
        )


def watch(page, scope: str = "body", cls: str | None = None) -> None:
    """Record, from now on, every frame drawn under ``scope`` (a CSS selector) by an element of
    class ``cls`` (any view's when None)."""
    page.evaluate(WATCH, [scope, cls])


def recorded(page) -> Frames:
    """The frames recorded since :func:`watch`."""
    rows = page.evaluate("() => window.__lrwFrames || []")
    return Frames([r[0] for r in rows], [float(r[1]) for r in rows], [int(r[2]) for r in rows])
