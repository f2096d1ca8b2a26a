// Frame geometry: what every layer of one frame shares, computed once per frame (x domain, decimated
// columns, y range, plot rectangle, scales, ticks). The only side effects are the per-view cache it
// fills and the font it sets on the context to measure labels.
import { createColumns, decimateAffine, grow, mergeColumns } from "../decimate.js";
import { createScale, xDomain, yRangeColumns } from "../scale.js";
import { linearTicks, logTicks } from "../ticks.js";

/** Reusable per-view scratch buffers for drawFrame (keeps steady-state drawing allocation-free). */
export function createPlotCache() {
  return {
    raw: createColumns(0),
    smooth: createColumns(0),
    smoothLine: createColumns(0), // the smoothed columns merged to CSS px at a pixel ratio above 1
    key: "",
    n: 0,
    left: null, // the last frame's left margin; none yet: the narrowest the layout allows (labels fit it mostly)
    logLr: null,
    markerLoss: { data: null, n: -1, log: null, losses: new Map() }, // see markers.js markerMemo
  };
}

/**
 * Save the context and clip it to the plot box, then draw in device pixels (one column per device
 * pixel keeps curves sharp on high-DPI screens). Returns the y map of loss to device pixels; the
 * caller restores the context.
 */
export function clipToPlot(ctx, g) {
  const { plot, dpr, yr } = g;
  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.left + 1, plot.top - 1, plot.right - plot.left, plot.bottom - plot.top + 1);
  ctx.clip();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  return createScale([yr.lo, yr.hi], [plot.bottom * dpr, plot.top * dpr], false).map;
}

/** A canvas font string in the theme's family. */
export function font(theme, size, weight = "") {
  return `${weight ? `${weight} ` : ""}${size}px ${theme.font}`;
}

/** Plot rectangle inside a canvas of width x height CSS px, leaving room for tick labels of `yLabelWidth`. */
export function computeLayout(width, height, yLabelWidth) {
  const narrow = width < 420;
  const left = Math.max(narrow ? 30 : 40, Math.ceil(yLabelWidth) + (narrow ? 8 : 12));
  const top = 22;
  const right = width - (narrow ? 10 : 16);
  const bottom = height - (narrow ? 34 : 38);
  return { left, top, right: Math.max(left + 10, right), bottom: Math.max(top + 10, bottom), narrow };
}

/** log10(lr) per reading: the view state's when it has them, else computed into the cache (then all is dirty). */
function logXs(cache, data, n) {
  if (data.logLr && data.logLr.length >= n) return { xs: data.logLr, fresh: false };
  if (!cache.logLr || cache.logLr.length < n) cache.logLr = new Float64Array(Math.max(n, 256));
  for (let i = 0; i < n; i++) cache.logLr[i] = Math.log10(data.lr[i]);
  return { xs: cache.logLr, fresh: true };
}

/**
 * Decimate raw and smoothed losses into the cache for the x mapping [x0, x1] -> [left, right] CSS px.
 * When that mapping is unchanged since the last frame only readings from `dirtyFrom` on are redone (a
 * streaming run appends a few readings per frame); anything else (resize, new x range, new run) redoes all.
 * On a log axis x is the view state's log10(lr): no log per reading per frame.
 * @param {any} cache
 * @param {any} data
 * @param {number} n
 * @param {boolean} log
 * @param {number[]} xRange [x0, x1]
 * @param {number} left
 * @param {number} right
 * @param {number} dpr
 * @param {number} dirtyFrom
 */
function decimateInto(cache, data, n, log, [x0, x1], left, right, dpr, dirtyFrom) {
  const xDev = createScale([x0, x1], [left * dpr, right * dpr], log);
  const key = `${log}|${xDev.t0}|${xDev.k}|${left * dpr}`;
  let xs = data.lr;
  if (log) {
    const lx = logXs(cache, data, n);
    xs = lx.xs;
    if (lx.fresh) dirtyFrom = 0;
  }
  let from = 0;
  if (key === cache.key && n >= cache.n) {
    from = Math.min(Number.isFinite(dirtyFrom) ? dirtyFrom : n, cache.n);
  }
  if (from < n || key !== cache.key || n !== cache.n) {
    // About one column per device pixel (more only where gaps split one): reserved up front, so the
    // hot loop does not grow its buffers as it goes.
    const cols = Math.min(n, Math.ceil((right - left) * dpr) + 2);
    grow(cache.raw, cols);
    grow(cache.smooth, cols);
    decimateAffine(xs, data.loss, n, left * dpr, xDev.t0, xDev.k, cache.raw, from);
    decimateAffine(xs, data.smoothed, n, left * dpr, xDev.t0, xDev.k, cache.smooth, from);
  }
  cache.key = key;
  cache.n = n;
}

function xTicks(xScale, plot, log) {
  const span = plot.right - plot.left;
  const [lo, hi] = xScale.domain;
  return log
    ? logTicks(lo, hi, Math.max(2, Math.floor(span / 58)))
    : linearTicks(lo, hi, Math.max(2, Math.floor(span / 90)));
}

/**
 * The geometry of one frame. `f` is drawFrame's input. The y range comes from the decimated columns,
 * whose x mapping needs the left margin, which needs the y tick labels: decimate with last frame's
 * margin (a first frame: the narrowest margin, which fits most labels), and again only if it changed.
 * Returns {width, height, dpr, log, n, plot, xScale, yScale, xt, yt, yr, hasData, raw, smooth, smoothLine,
 * titleRight}.
 */
export function frameGeometry(ctx, f, cache) {
  const { width, height, theme, data } = f;
  const dpr = f.dpr || 1;
  const log = f.log !== false;
  const n = data.n;
  const extent = Number.isFinite(data.lrMin) && data.lrMin <= data.lrMax && log ? [data.lrMin, data.lrMax] : null;
  const xd = xDomain(data.lr, n, f.startLr, f.endLr, log, extent);
  const L0 = computeLayout(width, height, 0);
  const left0 = cache.left ?? L0.left;
  const right0 = L0.right;
  decimateInto(cache, data, n, log, xd, left0, right0, dpr, f.dirtyFrom === undefined ? 0 : f.dirtyFrom);
  let yr = yRangeColumns(cache.raw, cache.smooth);
  const hasData = cache.raw.count > 0 || cache.smooth.count > 0;

  ctx.font = font(theme, 11);
  const approxRows = Math.max(2, Math.floor((height - 60) / 42));
  let yt = linearTicks(yr.lo, yr.hi, approxRows);
  let yLabelW = 0;
  if (hasData) for (const t of yt.major) yLabelW = Math.max(yLabelW, ctx.measureText(t.label).width);
  const L = computeLayout(width, height, yLabelW);
  cache.left = L.left;
  if (L.left !== left0 || L.right !== right0) {
    decimateInto(cache, data, n, log, xd, L.left, L.right, dpr, 0);
    yr = yRangeColumns(cache.raw, cache.smooth);
    yt = linearTicks(yr.lo, yr.hi, approxRows);
  }
  const plot = { left: L.left, top: L.top, right: L.right, bottom: L.bottom };
  const xScale = createScale(xd, [plot.left, plot.right], log);
  const yScale = createScale([yr.lo, yr.hi], [plot.bottom, plot.top], false);
  // The y axis title sits top-left; the lr pills above the plot keep clear of it.
  ctx.font = font(theme, 11, "600");
  const titleRight = 4 + ctx.measureText("loss").width + 6;
  const xt = xTicks(xScale, plot, log);
  const { raw, smooth } = cache;
  // The smoothed line, 2.25 CSS px thick, goes through one column per CSS px (its first, last and
  // extremes): at 2x that halves the segments to stroke, the costliest part of a dense frame, with no
  // visible change (its vertices move by less than a CSS px along x, none is lost across y).
  const smoothLine = dpr > 1 ? mergeColumns(smooth, dpr, cache.smoothLine) : smooth;
  return { width, height, dpr, log, n, plot, xScale, yScale, xt, yt, yr, hasData, titleRight, raw, smooth, smoothLine };
}
