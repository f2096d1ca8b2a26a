// Markers layer: where the loss diverged, and the suggestion markers on the smoothed curve.
import { markerLoss } from "../scale.js";
import { font } from "./geometry.js";

/**
 * The loss a suggestion's marker sits at: the shared rule (scale.markerLoss, as the report and the
 * bqplot view place it). On a log axis it runs on the view state's log10(lr) per reading when there is
 * one (the same numbers, without a log per reading per frame).
 */
function lossAt(data, log, s) {
  if (log && data.logLr && data.logLr.length >= data.n) {
    return markerLoss(data.logLr, data.smoothed, { lr: Math.log10(s.lr), index: s.index }, data.n, false);
  }
  return markerLoss(data.lr, data.smoothed, s, data.n, log);
}

/**
 * The memo of marker losses for `data`: emptied whenever readings were written since the last frame
 * (`dirtyFrom` finite; undefined: unknown, so written), the run or the axis changed. Hover and resize
 * frames then place markers without a pass over the readings.
 */
export function markerMemo(cache, data, log, dirtyFrom) {
  const m = cache.markerLoss;
  if (m.data !== data || m.n !== data.n || m.log !== log || dirtyFrom !== Number.POSITIVE_INFINITY) {
    m.data = data;
    m.n = data.n;
    m.log = log;
    m.losses.clear();
  }
  return m.losses;
}

/**
 * Where each suggestion's marker goes (pure but for `memo`, a Map of losses by lr and index): on the
 * smoothed curve as drawn at the suggestion's lr (its reading's smoothed loss, else interpolated between
 * the readings around it), kept 4 px inside the plot vertically. Suggestions without a finite lr, off
 * the x range or without a loss get none. Returns [{x, y, suggestion, k}], k: position in `suggestions`.
 */
export function placeMarkers(g, data, suggestions, memo = new Map()) {
  const { plot, xScale, yScale, log } = g;
  const markers = [];
  for (let k = 0; k < suggestions.length; k++) {
    const s = suggestions[k];
    if (!Number.isFinite(s.lr) || (log && !(s.lr > 0))) continue;
    const x = xScale.map(s.lr);
    const key = `${s.lr}|${s.index}`;
    if (!memo.has(key)) memo.set(key, lossAt(data, log, s));
    const yv = memo.get(key);
    if (!Number.isFinite(yv)) continue;
    const y = Math.max(plot.top + 4, Math.min(plot.bottom - 4, yScale.map(yv)));
    if (x < plot.left - 2 || x > plot.right + 2) continue;
    markers.push({ x, y, suggestion: s, k });
  }
  return markers;
}

function drawMarker(ctx, m, color, r, theme) {
  ctx.beginPath();
  if (m.suggestion.default) {
    // A diamond for the default rule, circles for the others.
    ctx.moveTo(m.x, m.y - r - 1.5);
    ctx.lineTo(m.x + r + 1.5, m.y);
    ctx.lineTo(m.x, m.y + r + 1.5);
    ctx.lineTo(m.x - r - 1.5, m.y);
    ctx.closePath();
    ctx.fillStyle = color;
    ctx.strokeStyle = theme.bg;
    ctx.lineWidth = 2;
    ctx.stroke();
    ctx.fill();
  } else {
    ctx.arc(m.x, m.y, r, 0, Math.PI * 2);
    ctx.fillStyle = theme.bg;
    ctx.fill();
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.stroke();
  }
}

/** The suggestion markers of the geometry (g.markers); the default rule's is the largest, drawn last. */
export function drawSuggestions(ctx, g, f, theme) {
  const order = g.markers.slice().sort((a, b) => (a.suggestion.default ? 1 : 0) - (b.suggestion.default ? 1 : 0));
  for (const m of order) {
    const color = m.suggestion.color || theme.rules[m.k % theme.rules.length];
    const r = (m.suggestion.default ? 6 : 4.5) + (f.hoverMarker === m.k ? 1.5 : 0);
    drawMarker(ctx, m, color, r, theme);
  }
}

/** Index of the first reading with a NaN/inf loss (the view state tracks it; scanned otherwise), or -1. */
function firstBadIndex(data) {
  if (Number.isInteger(data.firstBad)) return data.firstBad;
  for (let i = 0; i < data.n; i++) {
    if (Number.isNaN(data.lr[i])) continue;
    if (!Number.isFinite(data.loss[i]) || !Number.isFinite(data.smoothed[i])) return i;
  }
  return -1;
}

/**
 * Where the run diverged (pure): the lr Python reports as diverged, else the first reading with a
 * non-finite loss. Returns {lr, label} or null; the label names what went wrong ("loss NaN", "loss inf").
 */
export function divergence(data, divergedLr) {
  const firstBad = firstBadIndex(data);
  const lr = Number.isFinite(divergedLr) ? divergedLr : firstBad >= 0 ? data.lr[firstBad] : Number.NaN;
  if (!Number.isFinite(lr)) return null;
  const label = firstBad >= 0 ? `loss ${Number.isNaN(data.loss[firstBad]) ? "NaN" : "inf"}` : "diverged";
  return { lr, label };
}

/** A dotted line at the divergence, an "x" at its top and the reason next to it. */
export function drawDivergence(ctx, g, f, theme) {
  const d = divergence(f.data, f.divergedLr);
  if (d === null) return;
  const { plot } = g;
  const x = g.xScale.map(d.lr);
  if (!(x >= plot.left - 1 && x <= plot.right + 1)) return;
  ctx.strokeStyle = theme.error;
  ctx.lineWidth = 1.25;
  ctx.setLineDash([2, 3]);
  ctx.beginPath();
  ctx.moveTo(Math.round(x) + 0.5, plot.top);
  ctx.lineTo(Math.round(x) + 0.5, plot.bottom);
  ctx.stroke();
  ctx.setLineDash([]);
  const my = plot.top + 10;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(x - 4, my - 4);
  ctx.lineTo(x + 4, my + 4);
  ctx.moveTo(x + 4, my - 4);
  ctx.lineTo(x - 4, my + 4);
  ctx.stroke();
  ctx.fillStyle = theme.error;
  ctx.font = font(theme, 11, "600");
  ctx.textBaseline = "middle";
  const right = x + 8 + ctx.measureText(d.label).width <= plot.right;
  ctx.textAlign = right ? "left" : "right";
  ctx.fillText(d.label, right ? x + 8 : x - 8, my);
}
