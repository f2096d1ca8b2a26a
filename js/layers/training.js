// The training chart (issue 18): loss against step (each column's min..max as a faint band, its mean
// bold), the lr the optimizer used (right axis, log), the actions marked at their steps; and the lr in
// use marked on the range-test curve. Draws in CSS px on a context whose transform is set to the dpr.
import { withAlpha } from "../theme.js";
import { font } from "./geometry.js";
import { drawMessage } from "./overlays.js";
import { columnStep, trainingGeometry } from "./training_geometry.js";

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

/** A polyline through the finite values of `ys` at the columns' middles (NaN breaks the line). */
function strokeSeries(ctx, cols, ys, g, yMap, log = false) {
  ctx.beginPath();
  let pen = false;
  for (let j = 0; j < cols.n; j++) {
    const v = ys[j];
    if (!Number.isFinite(v) || (log && v <= 0)) {
      pen = false;
      continue;
    }
    const x = g.xScale.map(columnStep(cols, j));
    const y = Math.max(g.plot.top, Math.min(g.plot.bottom, yMap(v)));
    if (pen) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
    pen = true;
  }
  ctx.stroke();
}

/** Each column's min..max as a bar one column wide: every spike shows at any zoom (clamped at the top). */
function fillLossBand(ctx, cols, g, color) {
  const { plot, xScale, yScale } = g;
  const w = Math.max(1, (plot.right - plot.left) / cols.n);
  ctx.fillStyle = color;
  ctx.beginPath();
  for (let j = 0; j < cols.n; j++) {
    const a = cols.lossMin[j];
    const b = cols.lossMax[j];
    if (!Number.isFinite(a) && !Number.isFinite(b)) continue;
    const top = Math.max(plot.top, yScale.map(Number.isFinite(b) ? b : Infinity));
    const bottom = Math.min(plot.bottom, yScale.map(Number.isFinite(a) ? a : b));
    const x = xScale.map(columnStep(cols, j)) - w / 2;
    ctx.rect(x, top, w, Math.max(1, bottom - top));
  }
  ctx.fill();
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
    fillLossBand(ctx, cols, g, withAlpha(theme.accent, theme.rawAlpha));
    ctx.lineJoin = "round";
    ctx.strokeStyle = theme.rules[1];
    ctx.lineWidth = 1.5;
    if (g.lr) strokeSeries(ctx, cols, cols.lrMean, g, g.lrScale.map, true);
    ctx.strokeStyle = theme.accent;
    ctx.lineWidth = 2.25;
    strokeSeries(ctx, cols, cols.lossMean, g, g.yScale.map);
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
