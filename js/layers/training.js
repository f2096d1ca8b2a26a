// The training chart (issue 18): loss against step (each column's min..max as a faint band, its mean
// bold), the lr the optimizer used (right axis, log), the actions marked at their steps; and the lr in
// use marked on the range-test curve. Draws in CSS px on a context whose transform is set to the dpr.
import { withAlpha } from "../theme.js";
import { font } from "./geometry.js";
import { drawMessage } from "./overlays.js";
import { columnStart, columnStep, columnWidth, trainingGeometry } from "./training_geometry.js";
import { clearSpans, coverColumns, coverLine, createSpans, strokeSpans } from "./training_spans.js";

const crisp = (v) => Math.round(v) + 0.5;

function drawTrainingAxes(ctx, g, theme) {
  const { plot, xScale, yScale, lrScale } = g;
  ctx.lineWidth = 1;
  ctx.strokeStyle = theme.grid;
  ctx.beginPath();
  for (const t of g.xt.major) {
    ctx.moveTo(crisp(xScale.map(t.value)), plot.top);
    ctx.lineTo(crisp(xScale.map(t.value)), plot.bottom);
  }
  for (const t of g.yt.major) {
    ctx.moveTo(plot.left, crisp(yScale.map(t.value)));
    ctx.lineTo(plot.right, crisp(yScale.map(t.value)));
  }
  ctx.stroke();
  ctx.strokeStyle = theme.border;
  ctx.strokeRect(plot.left + 0.5, plot.top + 0.5, plot.right - plot.left, plot.bottom - plot.top);
  ctx.font = font(theme, 11);
  ctx.fillStyle = theme.fgMuted;
  ctx.textBaseline = "top";
  ctx.textAlign = "center";
  for (const t of g.xt.major) ctx.fillText(t.label, xScale.map(t.value), plot.bottom + 6);
  ctx.textBaseline = "middle";
  ctx.textAlign = "right";
  for (const t of g.yt.major) ctx.fillText(t.label, plot.left - 6, yScale.map(t.value));
  ctx.textAlign = "left";
  ctx.fillStyle = theme.rules[1];
  for (const t of g.lt.major) ctx.fillText(t.label, plot.right + 6, lrScale.map(t.value));
  ctx.font = font(theme, 11, "600");
  ctx.textBaseline = "bottom";
  ctx.fillText("lr used (log)", Math.max(plot.left, plot.right - 70), plot.top - 6);
  ctx.fillStyle = theme.fgMuted;
  ctx.fillText("loss", 4, plot.top - 6);
  ctx.textAlign = "right";
  ctx.fillText("step", plot.right, g.height - 2);
}

/** The vertices of a polyline: x, y in CSS px; a NaN x lifts the pen. */
function createVertices(n) {
  return { x: new Float64Array(n), y: new Float64Array(n), m: 0 };
}

/** Add a vertex; the middle of three at one height is dropped (a flat lr is one segment). */
function addVertex(v, x, y) {
  const m = v.m;
  if (m >= 2 && !Number.isNaN(v.x[m - 2]) && !Number.isNaN(v.x[m - 1])) {
    if (Math.abs(v.y[m - 1] - y) < 0.01 && Math.abs(v.y[m - 2] - y) < 0.01) {
      v.x[m - 1] = x;
      return;
    }
  }
  v.x[m] = x;
  v.y[m] = y;
  v.m = m + 1;
}

/** Lift the pen (a NaN column): the line starts again at the next finite value. */
function liftPen(v) {
  if (v.m > 0 && !Number.isNaN(v.x[v.m - 1])) addVertex(v, Number.NaN, Number.NaN);
}

/**
 * The polyline through the finite values of `ys` at the columns' middles, one vertex per CSS px column
 * (the mean of the columns in it: finer detail is narrower than the line), clamped to the plot. The
 * work a stroke costs follows the pixels on screen, not the columns of the snapshot.
 */
export function seriesVertices(cols, ys, g, yMap, log = false) {
  const v = createVertices(2 * cols.n + 1);
  const { plot } = g;
  const run = { px: Number.NaN, x: 0, y: 0, k: 0 };
  const flush = () => {
    if (run.k) addVertex(v, run.x / run.k, run.y / run.k);
    run.k = 0;
  };
  for (let j = 0; j < cols.n; j++) {
    const val = ys[j];
    if (!Number.isFinite(val) || (log && val <= 0)) {
      flush();
      liftPen(v);
      continue;
    }
    const x = g.xScale.map(columnStep(cols, j));
    const px = Math.round(x);
    if (px !== run.px) {
      flush();
      run.px = px;
      run.x = 0;
      run.y = 0;
    }
    run.x += x;
    run.y += Math.max(plot.top, Math.min(plot.bottom, yMap(val)));
    run.k += 1;
  }
  flush();
  return v;
}

/** A line `width` CSS px wide through the finite values of `ys` (NaN breaks it), as pixel-column spans. */
function drawSeries(ctx, cols, ys, g, line) {
  const { yMap, log = false, width, color, dpr, spans } = line;
  clearSpans(spans);
  coverLine(spans, seriesVertices(cols, ys, g, yMap, log), width * dpr, dpr);
  strokeSpans(ctx, spans, color);
}

/** `v` within [lo, hi]; lo for NaN (a comparison with NaN is false). */
const clampPx = (v, lo, hi) => (v > lo ? Math.min(v, hi) : lo);

/** Column j's band in device px: [a, b) across, [t, u) down; null for a column with no loss or off the plot. */
function bandColumn(cols, j, g, dpr) {
  const lo = cols.lossMin[j];
  const hi = cols.lossMax[j];
  if (!Number.isFinite(lo) && !Number.isFinite(hi)) return null;
  const { plot, xScale, yScale } = g;
  const x0 = columnStart(cols, j);
  const a0 = Math.round(xScale.map(x0) * dpr);
  const b0 = Math.max(a0 + 1, Math.round(xScale.map(x0 + columnWidth(cols)) * dpr));
  const a = Math.max(Math.round(plot.left * dpr), a0);
  const b = Math.min(Math.round(plot.right * dpr), b0);
  if (a >= b) return null;
  const top = Math.round(plot.top * dpr);
  const bottom = Math.round(plot.bottom * dpr);
  const t = clampPx(Math.floor(yScale.map(Number.isFinite(hi) ? hi : Infinity) * dpr), top, bottom - 1);
  const u = clampPx(Math.ceil(yScale.map(Number.isFinite(lo) ? lo : hi) * dpr), t + 1, bottom);
  return { a, b, t, u };
}

/**
 * Each column's min..max as a bar (every spike shows at any zoom, clamped at the top), in device pixel
 * columns: the columns that share a pixel column are one bar, their lowest min to their highest max.
 */
function drawLossBand(ctx, cols, g, color, spans) {
  const dpr = spans.dpr;
  clearSpans(spans);
  for (let j = 0; j < cols.n; j++) {
    const c = bandColumn(cols, j, g, dpr);
    if (c) coverColumns(spans, c.a, c.b, c.t, c.u);
  }
  strokeSpans(ctx, spans, color);
}

/** The actions at their steps: a dashed line and its label ("×0.1 ↺" for a roll back). */
function drawEvents(ctx, g, events, theme) {
  const { plot, xScale } = g;
  const [x0, x1] = xScale.domain;
  ctx.font = font(theme, 10, "600");
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  for (const e of events) {
    if (e.kind !== "action" || e.step < x0 || e.step > x1) continue;
    const x = crisp(xScale.map(e.step));
    ctx.strokeStyle = theme.selected;
    ctx.lineWidth = 2;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(x, plot.top);
    ctx.lineTo(x, plot.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = theme.selected;
    const label = `\u00d7${e.factor ?? "?"}${e.rollback ? " \u21ba" : ""}`;
    ctx.fillText(label, Math.min(x + 3, plot.right - 30), plot.top + 3);
  }
}

/**
 * Draw one frame of the training chart. `f` = {ctx, width, height, dpr, theme, cols (a snapshot: {lo, hi,
 * n, lossMin, lossMax, lossMean, lrMin, lrMax, lrMean} or null), events, message}. Returns the geometry
 * (for the pointer: {plot, xScale, ...}).
 */
export function drawTrainingFrame(f) {
  const { ctx, width, height, theme, cols } = f;
  const dpr = f.dpr || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = font(theme, 11);
  const g = { ...trainingGeometry(cols, width, height, (t) => ctx.measureText(t).width), width, height };
  drawTrainingAxes(ctx, g, theme);
  if (cols && g.yr) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(g.plot.left, g.plot.top - 1, g.plot.right - g.plot.left, g.plot.bottom - g.plot.top + 2);
    ctx.clip();
    const spans = createSpans(g.plot, dpr); // one buffer for the three marks
    drawLossBand(ctx, cols, g, withAlpha(theme.accent, theme.rawAlpha), spans);
    const lr = { yMap: g.lrScale.map, log: true, width: 1.5, color: theme.rules[1], dpr, spans };
    if (g.lr) drawSeries(ctx, cols, cols.lrMean, g, lr);
    drawSeries(ctx, cols, cols.lossMean, g, { yMap: g.yScale.map, width: 2.25, color: theme.accent, dpr, spans });
    drawEvents(ctx, g, f.events || [], theme);
    ctx.restore();
  }
  const message = g.yr ? "" : f.message || "Waiting for the first steps\u2026";
  drawMessage(ctx, g, { message }, theme);
  return g;
}

/** On the range-test curve: the lr the optimizer uses now, a dashed vertical line labelled "in use". */
export function drawLrInUse(ctx, frame, lr, theme, dpr = 1) {
  if (!frame || !(lr > 0)) return;
  const x = frame.xScale.map(lr);
  const { plot } = frame;
  if (!(x >= plot.left && x <= plot.right)) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.strokeStyle = theme.rules[1];
  ctx.lineWidth = 1.5;
  ctx.setLineDash([2, 3]);
  ctx.beginPath();
  ctx.moveTo(crisp(x), plot.top);
  ctx.lineTo(crisp(x), plot.bottom);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = theme.rules[1];
  ctx.font = font(theme, 10, "600");
  ctx.textAlign = x > plot.right - 60 ? "right" : "left";
  ctx.textBaseline = "bottom";
  ctx.fillText("lr in use", x + (x > plot.right - 60 ? -4 : 4), plot.bottom - 4);
}
