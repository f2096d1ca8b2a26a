// The range layer (issue 19): the brushed range as a band under the curve with its two ends labelled, the
// suggested range (nothing brushed) as a dashed outline, and the band a drag draws while it goes.
import { formatLR } from "../format.js";
import { withAlpha } from "../theme.js";
import { font } from "./geometry.js";

/**
 * The band's pixels (pure): {x0, x1, clipped} for range {lo, hi} under `xScale`, kept inside the plot;
 * null when it is off the plot or not drawable (a log axis and an end <= 0).
 */
export function bandPixels(range, xScale, plot, log) {
  if (!range || !(range.lo < range.hi) || (log && !(range.lo > 0))) return null;
  const a = xScale.map(range.lo);
  const b = xScale.map(range.hi);
  if (!Number.isFinite(a) || !Number.isFinite(b) || b < plot.left || a > plot.right) return null;
  return { x0: Math.max(plot.left, a), x1: Math.min(plot.right, b) };
}

/**
 * The ends' labels (pure): [{text, x, align}] for a band from x0 to x1. Each sits inside the band at its
 * end; a band too narrow for both puts them outside (lo left of it, hi right of it).
 */
export function endLabels(range, band, widths, gap = 4) {
  const inside = band.x1 - band.x0 >= widths[0] + widths[1] + 3 * gap;
  return [
    { text: formatLR(range.lo), x: inside ? band.x0 + gap : band.x0 - gap, align: inside ? "left" : "right" },
    { text: formatLR(range.hi), x: inside ? band.x1 - gap : band.x1 + gap, align: inside ? "right" : "left" },
  ];
}

function strokeEdges(ctx, x0, x1, plot) {
  ctx.beginPath();
  for (const x of [x0, x1]) {
    ctx.moveTo(Math.round(x) + 0.5, plot.top);
    ctx.lineTo(Math.round(x) + 0.5, plot.bottom);
  }
  ctx.stroke();
}

function drawBand(ctx, g, band, color, suggested) {
  const { plot } = g;
  ctx.fillStyle = withAlpha(color, suggested ? 0.06 : 0.14);
  ctx.fillRect(band.x0, plot.top, band.x1 - band.x0, plot.bottom - plot.top);
  ctx.strokeStyle = withAlpha(color, suggested ? 0.7 : 0.9);
  ctx.lineWidth = 1.25;
  ctx.setLineDash(suggested ? [4, 4] : []);
  strokeEdges(ctx, band.x0, band.x1, plot);
  ctx.setLineDash([]);
}

function drawLabels(ctx, g, range, band, theme, suggested) {
  ctx.font = font(theme, 11, "600");
  const texts = [formatLR(range.lo), formatLR(range.hi)];
  const labels = endLabels(
    range,
    band,
    texts.map((t) => ctx.measureText(t).width),
  );
  ctx.fillStyle = suggested ? theme.fgMuted : theme.fg;
  ctx.textBaseline = "bottom";
  const y = g.plot.bottom - 4;
  for (const l of labels) {
    ctx.textAlign = l.align;
    ctx.fillText(l.text, l.x, y);
  }
  if (suggested) {
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.font = font(theme, 10);
    ctx.fillText("suggested range", (band.x0 + band.x1) / 2, g.plot.top + 4);
  }
}

/** The layer: f.range = {lo, hi, suggested} or null; f.drag = {x0, x1} (CSS px) while a drag goes. */
export function drawRange(ctx, g, f, theme) {
  const color = theme.selected;
  if (f.drag) {
    const x0 = Math.max(g.plot.left, Math.min(f.drag.x0, f.drag.x1));
    const x1 = Math.min(g.plot.right, Math.max(f.drag.x0, f.drag.x1));
    if (x1 > x0) drawBand(ctx, g, { x0, x1 }, color, false);
    return;
  }
  const band = bandPixels(f.range, g.xScale, g.plot, g.log);
  if (!band) return;
  drawBand(ctx, g, band, color, f.range.suggested);
  drawLabels(ctx, g, f.range, band, theme, f.range.suggested);
}
