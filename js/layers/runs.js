// The compare chart's layers (issue 20): several runs' smoothed losses on one plot, each in its colour of
// the theme's `runs` palette, its default suggestion marked, the selection and a trend line. Built from the
// single view's parts: the same scales, ticks, decimation (one column cache per run), layout and axes layers.
import { createColumns, decimateAffine, grow } from "../decimate.js";
import { createScale, markerLoss, xDomain, yRangeColumns } from "../scale.js";
import { linearTicks, logTicks } from "../ticks.js";
import { drawAxisLines, drawAxisTitles, drawGrid, drawTickLabels } from "./axes.js";
import { fillCurve } from "./band.js";
import { clipToPlot, computeLayout, font } from "./geometry.js";
import { strokeColumns } from "./polyline.js";

/** A bitmap of `w` x `h` device pixels to keep a frame in (null where the host has none: no still layer). */
function browserBitmap(w, h) {
  if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(w, h);
  if (typeof document === "undefined") return null;
  const c = document.createElement("canvas");
  c.width = w;
  c.height = h;
  return c;
}

/**
 * Per-view scratch, reused frame to frame: one column cache per run (keyed by x mapping and data version), the
 * last full frame's still layers (`drawn`: key, theme, geometry, and whether `still` holds their pixels) and the
 * bitmap that holds them (from `bitmap(w, h)`, made again only when the canvas's size changes).
 */
export function createRunsCache(bitmap = browserBitmap) {
  return { cols: [], keys: [], left: null, domain: { key: "", value: null }, bitmap, drawn: null, still: null };
}

/** The union of the visible runs' x domains (each run's readings, or its sweep when it has none yet). */
export function unionDomain(runs, log) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of runs) {
    if (!r.visible || r.n === 0) continue;
    const [a, b] = xDomain(r.lr, r.n, null, null, log);
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  return lo < hi ? [lo, hi] : xDomain([], 0, null, null, log);
}

/** The union of the visible runs' y ranges (each as the single view computes its own from its columns). */
function unionRange(cols, runs) {
  let lo = Infinity;
  let hi = -Infinity;
  let clipped = false;
  runs.forEach((r, k) => {
    if (!r.visible || cols[k].count === 0) return;
    const y = yRangeColumns(cols[k], cols[k]);
    lo = Math.min(lo, y.lo);
    hi = Math.max(hi, y.hi);
    clipped ||= y.clipped;
  });
  return lo < hi ? { lo, hi, clipped } : { lo: 0, hi: 1, clipped: false };
}

/** unionDomain, recomputed only when a run's readings or visibility changed (it reads every reading). */
function cachedDomain(cache, runs, log) {
  const key = `${log}|${runs.map((r) => `${r.visible}:${r.version}:${r.n}`).join(",")}`;
  if (cache.domain.key !== key) cache.domain = { key, value: unionDomain(runs, log) };
  return cache.domain.value;
}

function decimateRuns(cache, runs, log, xd, left, right, dpr) {
  const xDev = createScale(xd, [left * dpr, right * dpr], log);
  const key = `${log}|${xDev.t0}|${xDev.k}|${left * dpr}`;
  const ncols = Math.ceil((right - left) * dpr) + 2;
  runs.forEach((r, k) => {
    if (!cache.cols[k]) cache.cols[k] = createColumns(0);
    const cols = cache.cols[k];
    const runKey = `${key}|${r.version}|${r.n}`;
    if (cache.keys[k] === runKey) return; // nothing changed for this run since the last frame
    grow(cols, Math.min(r.n, ncols));
    decimateAffine(log ? r.logLr : r.lr, r.smoothed, r.n, left * dpr, xDev.t0, xDev.k, cols, 0);
    cache.keys[k] = runKey;
  });
  cache.cols.length = runs.length;
}

/**
 * The geometry of one compare frame: `f` = {width, height, dpr, theme, runs: [{lr, logLr, smoothed, n, version,
 * visible, color}], log}. Returns what the axes layers read (plot, scales, ticks, yr, hasData, log, height) plus
 * the runs' columns.
 */
export function runsGeometry(ctx, f, cache) {
  const { width, height, theme, runs } = f;
  const dpr = f.dpr || 1;
  const log = f.log !== false;
  const xd = cachedDomain(cache, runs, log);
  // decimated with the last frame's left margin (a first frame: the narrowest), again only if it changed
  const L0 = computeLayout(width, height, 0);
  const left0 = cache.left ?? L0.left;
  decimateRuns(cache, runs, log, xd, left0, L0.right, dpr);
  const yr = unionRange(cache.cols, runs);
  const hasData = runs.some((r, k) => r.visible && cache.cols[k].count > 0);
  ctx.font = font(theme, 11);
  const yt = linearTicks(yr.lo, yr.hi, Math.max(2, Math.floor((height - 60) / 42)));
  let yLabelW = 0;
  if (hasData) for (const t of yt.major) yLabelW = Math.max(yLabelW, ctx.measureText(t.label).width);
  const L = computeLayout(width, height, yLabelW);
  cache.left = L.left;
  if (L.left !== left0 || L.right !== L0.right) decimateRuns(cache, runs, log, xd, L.left, L.right, dpr);
  const plot = { left: L.left, top: L.top, right: L.right, bottom: L.bottom };
  const xScale = createScale(xd, [plot.left, plot.right], log);
  const yScale = createScale([yr.lo, yr.hi], [plot.bottom, plot.top], false);
  const span = plot.right - plot.left;
  const xt = log ? logTicks(xd[0], xd[1], Math.max(2, Math.floor(span / 58))) : linearTicks(xd[0], xd[1], 6);
  return { width, height, dpr, log, plot, xScale, yScale, xt, yt, yr, hasData, cols: cache.cols };
}

/** Each visible run's smoothed loss in its colour (device pixels: one column per device pixel). */
export function drawRunCurves(ctx, g, f) {
  const { dpr } = g;
  const yMap = clipToPlot(ctx, g);
  ctx.lineWidth = 2 * dpr;
  let total = 0;
  f.runs.forEach((r, k) => {
    if (r.visible) total += g.cols[k].count;
  });
  // Sparse curves are stroked with round joins (the best look); dense ones, as several add up, are filled as
  // bands where their readings are dense (fillCurve: ~0.6 of a stroke's time) and bevel-joined elsewhere.
  const dense = total >= 1500;
  ctx.lineJoin = dense ? "bevel" : "round";
  f.runs.forEach((r, k) => {
    if (!r.visible || g.cols[k].count === 0) return;
    ctx.strokeStyle = r.color;
    ctx.fillStyle = r.color;
    if (dense) fillCurve(ctx, g.cols[k], yMap, dpr, 0.3 * dpr);
    else strokeColumns(ctx, g.cols[k], yMap, 0.3 * dpr);
  });
  ctx.restore();
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
}

/** Where run `r`'s point at `lr` sits (reading `index` when given), in CSS px; null when off the curve. */
export function pointAt(g, r, lr, index = null) {
  if (!(lr > 0) || r.n === 0) return null;
  const y = markerLoss(r.lr, r.smoothed, { lr, index }, r.n, g.log);
  if (!Number.isFinite(y)) return null;
  const yc = Math.min(Math.max(y, g.yr.lo), g.yr.hi);
  return { x: g.xScale.map(lr), y: g.yScale.map(yc) };
}

/** Each visible run's default suggestion: a dot in its colour, ringed in the background. */
export function drawRunMarkers(ctx, g, f, theme) {
  for (const r of f.runs) {
    if (!r.visible || !r.suggestion) continue;
    const p = pointAt(g, r, r.suggestion.lr, r.suggestion.index);
    if (!p) continue;
    ctx.beginPath();
    ctx.arc(p.x, p.y, 5.5, 0, 2 * Math.PI);
    ctx.fillStyle = r.color;
    ctx.fill();
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = theme.bg;
    ctx.stroke();
  }
}

/** The selection: a dashed line in the run's colour and a ring on its curve. */
export function drawRunSelection(ctx, g, f, theme) {
  const { plot } = g;
  const sel = f.selected;
  const r = sel ? f.runs[sel.run] : null;
  if (r?.visible) {
    const x = g.xScale.map(sel.lr);
    ctx.save();
    ctx.setLineDash([5, 4]);
    ctx.strokeStyle = r.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(x, plot.top);
    ctx.lineTo(x, plot.bottom);
    ctx.stroke();
    ctx.restore();
  }
  ring(ctx, g, f, sel, 7, theme);
}

/** The hovered point: a ring (the one layer a pointer move changes). */
export function drawRunHover(ctx, g, f, theme) {
  ring(ctx, g, f, f.hover, 5, theme);
}

function ring(ctx, g, f, s, radius, theme) {
  const run = s ? f.runs[s.run] : null;
  const p = run?.visible ? pointAt(g, run, s.lr, s.index ?? null) : null;
  if (!p) return;
  ctx.beginPath();
  ctx.arc(p.x, p.y, radius, 0, 2 * Math.PI);
  ctx.lineWidth = 2;
  ctx.strokeStyle = theme.fg;
  ctx.stroke();
}

/** The trend: a dashed line through its (lr, loss) points, its text as a caption by the last one. */
export function drawTrend(ctx, g, f, theme) {
  const pts = f.trend ? f.trend.points : []; // checked by compare_state.js asTrend
  if (pts.length === 0) return;
  const xy = pts.map(([lr, loss]) => [g.xScale.map(lr), g.yScale.map(Math.min(Math.max(loss, g.yr.lo), g.yr.hi))]);
  ctx.save();
  ctx.setLineDash([6, 4]);
  ctx.strokeStyle = theme.fg;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(xy[0][0], xy[0][1]);
  for (const [x, y] of xy.slice(1)) ctx.lineTo(x, y);
  ctx.stroke();
  ctx.restore();
  const [x, y] = xy[xy.length - 1];
  ctx.fillStyle = theme.fg;
  ctx.font = font(theme, 11, "600");
  ctx.textAlign = "right";
  ctx.textBaseline = "bottom";
  ctx.fillText(String(f.trend.text || ""), Math.min(x + 6, g.plot.right - 4), Math.max(y - 8, g.plot.top + 12));
}

/** The compare frame's still layers, bottom to top (the single view's axes, then the runs); the hover on top. */
export const RUN_LAYERS = [
  drawGrid,
  drawAxisLines,
  drawTickLabels,
  drawAxisTitles,
  drawRunCurves,
  drawTrend,
  drawRunMarkers,
  drawRunSelection,
];

/** What the still layers show: the same key, the same pixels (the theme is compared by identity). */
function stillKey(f, dpr) {
  const runs = f.runs.map((r) => `${r.visible}:${r.version}:${r.n}:${r.color}:${r.suggestion?.lr}`).join(",");
  const sel = f.selected ? `${f.selected.run}:${f.selected.lr}` : "";
  return `${f.width}|${f.height}|${dpr}|${f.log !== false}|${runs}|${sel}|${JSON.stringify(f.trend ?? null)}`;
}

/**
 * Draw one compare frame; returns the geometry (for picking). A frame whose still layers are those of the last
 * two (a pointer move) copies them from the still bitmap and draws the hover ring: 8 dense curves of 10,000
 * readings take a software canvas ~10 ms to draw and rasterize (filled as bands; ~19 ms stroked), the copy ~0.3 ms (benchmarks/draw.py --modes
 * compare).
 */
export function drawRunsFrame(f) {
  const { ctx, width, height } = f;
  const dpr = f.dpr || 1;
  const cache = f.cache || createRunsCache();
  const key = stillKey(f, dpr);
  const same = cache.drawn?.key === key && cache.drawn?.theme === f.theme;
  if (same && cache.drawn.kept) {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, cache.still.width, cache.still.height);
    ctx.drawImage(cache.still, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawRunHover(ctx, cache.drawn.g, f, f.theme);
    return cache.drawn.g;
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const g = runsGeometry(ctx, f, cache);
  for (const layer of RUN_LAYERS) layer(ctx, g, f, f.theme);
  // kept when the still layers are those of the frame before (the pointer moves): a frame of a live run's
  // batch changes them again at once, and a copy of its canvas would be thrown away
  cache.drawn = { key, theme: f.theme, g, kept: same && keepStill(cache, ctx.canvas) };
  drawRunHover(ctx, g, f, f.theme);
  return g;
}

/** Copy the frame just drawn on `canvas` (its still layers) into the cache's bitmap; false without one. */
function keepStill(cache, canvas) {
  if (!canvas || !(canvas.width > 0) || !(canvas.height > 0)) return false;
  if (cache.still?.width !== canvas.width || cache.still?.height !== canvas.height) {
    cache.still = cache.bitmap(canvas.width, canvas.height);
    if (!cache.still) return false;
  }
  const bctx = cache.still.getContext("2d");
  bctx.setTransform(1, 0, 0, 1, 0, 0);
  bctx.clearRect(0, 0, cache.still.width, cache.still.height);
  bctx.drawImage(canvas, 0, 0);
  return true;
}

/**
 * The reading the pointer at (px, py) CSS px means: on each visible run the reading nearest in x (binary search
 * would need sorted lrs; the sweep is monotone but a hostile state need not be), then the run whose curve is
 * nearest in y. Returns {run, index, lr, loss} or null.
 */
export function pickRun(g, runs, px, py, nearest) {
  const lr = g.xScale.invert(px);
  let best = null;
  let bestD = Infinity;
  runs.forEach((r, k) => {
    if (!r.visible || r.n === 0) return;
    const i = nearest(r.lr, r.n, lr, g.log, r.smoothed);
    if (i < 0) return;
    const d = Math.abs(g.yScale.map(Math.min(Math.max(r.smoothed[i], g.yr.lo), g.yr.hi)) - py);
    if (d < bestD) {
      bestD = d;
      best = { run: k, index: i, lr: r.lr[i], loss: r.smoothed[i] };
    }
  });
  return best;
}
