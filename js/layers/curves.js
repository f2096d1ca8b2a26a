// Curves layer: the raw readings (faint) and the smoothed loss (bold), from the decimated columns in
// the frame geometry, plus marks where the smoothed loss leaves the top of the y range.
import { withAlpha } from "../theme.js";
import { clipToPlot } from "./geometry.js";
import { fillBand, strokeColumns } from "./polyline.js";

/** Points above the top of the y range: small up-triangles on the top edge, at most one per 8 px. */
function drawClippedMarks(ctx, g, theme) {
  const { smooth: sm, dpr, yr } = g;
  ctx.fillStyle = theme.fgMuted;
  let lastX = -Infinity;
  const topY = (g.plot.top + 1) * dpr;
  const s = 4 * dpr;
  ctx.beginPath();
  for (let j = 0; j < sm.count; j++) {
    if (!(sm.max[j] > yr.hi)) continue;
    const x = sm.x0[j];
    if (x - lastX < 8 * dpr) continue;
    lastX = x;
    ctx.moveTo(x, topY);
    ctx.lineTo(x - s, topY + s * 1.4);
    ctx.lineTo(x + s, topY + s * 1.4);
    ctx.closePath();
  }
  ctx.fill();
}

export function drawCurves(ctx, g, _f, theme) {
  if (g.n <= 0) return;
  const { dpr } = g;
  const yMap = clipToPlot(ctx, g);
  const rawColor = withAlpha(theme.accent, theme.dark ? 0.55 : 0.3);
  // Points within 0.3 CSS px of the line drawn are left out: the same look at any pixel ratio, and at
  // 2x a fifth less stroking time than 0.3 device px (measured on 100k readings, headless Chromium).
  const tol = 0.3 * dpr;
  if (g.n >= 2 * g.raw.count) {
    ctx.fillStyle = rawColor;
    fillBand(ctx, g.raw, yMap, dpr);
  } else {
    ctx.strokeStyle = rawColor;
    ctx.lineWidth = 1 * dpr;
    strokeColumns(ctx, g.raw, yMap, tol);
  }

  ctx.strokeStyle = theme.accent;
  ctx.lineWidth = 2.25 * dpr;
  // Round joins look best on sparse curves; bevel joins are much cheaper on dense ones.
  ctx.lineJoin = g.smooth.count < 1500 ? "round" : "bevel";
  strokeColumns(ctx, g.smoothLine, yMap, tol);

  if (g.yr.clipped) drawClippedMarks(ctx, g, theme);
  ctx.restore();
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
}
