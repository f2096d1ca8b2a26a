// The training chart's geometry (pure): the loss and lr ranges of a column snapshot, the plot rectangle,
// the scales and ticks. A snapshot is at most rules.doctor.maxColumns columns whatever the run's length,
// so a frame's work does not grow with the steps recorded.
import rules from "../../lrwidget/pure/rules.json" with { type: "json" };
import { createScale } from "../scale.js";
import { linearTicks, logTicks } from "../ticks.js";

const Y = rules.yRange;

/** The first finite value of `a` (first n), else -Infinity. */
function firstFinite(a, n) {
  for (let i = 0; i < n; i++) if (Number.isFinite(a[i])) return a[i];
  return -Infinity;
}

/** Finite values of `a` (first n), sorted; for the robust range below. */
function finiteSorted(a, n) {
  const out = [];
  for (let i = 0; i < n; i++) if (Number.isFinite(a[i])) out.push(a[i]);
  return out.sort((x, y) => x - y);
}

/**
 * The loss axis [lo, hi] of a snapshot: from the lowest column minimum to the highest maximum, the top
 * capped at the 90th percentile of the column means plus `headroom` times their spread, but never below
 * the first column's mean (where training started stays in view), so one spike does not flatten the
 * rest (a capped spike still reaches the top edge). {lo, hi, clipped}; null with no finite loss.
 */
export function lossRange(cols) {
  if (!cols || cols.n === 0) return null;
  const mins = finiteSorted(cols.lossMin, cols.n);
  const maxs = finiteSorted(cols.lossMax, cols.n);
  const means = finiteSorted(cols.lossMean, cols.n);
  if (!mins.length || !maxs.length || !means.length) return null;
  let lo = mins[0];
  const top = maxs[maxs.length - 1];
  const q = means[Math.floor(0.9 * (means.length - 1))];
  const start = firstFinite(cols.lossMean, cols.n);
  const cap = Math.max(q + Y.headroom * Math.max(q - lo, 0), start);
  const hi = Math.min(top, cap > lo ? cap : top);
  const span = hi - lo;
  const pad = span > 0 ? span * Y.pad : Math.abs(lo) * Y.flatPad || 1;
  lo -= pad;
  return { lo, hi: hi + pad, clipped: top > hi };
}

/** The lr axis [lo, hi] (log): the positive finite lrs of the snapshot, a decade wide at least; or null. */
export function lrRange(cols) {
  if (!cols) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < cols.n; i++) {
    if (cols.lrMin[i] > 0 && cols.lrMin[i] < lo) lo = cols.lrMin[i];
    if (cols.lrMax[i] > 0 && cols.lrMax[i] > hi && Number.isFinite(cols.lrMax[i])) hi = cols.lrMax[i];
  }
  if (!(lo <= hi) || !Number.isFinite(lo)) return null;
  // a decade at least, and an eighth of the span (in log terms) free above and below the line
  const mid = Math.sqrt(lo * hi);
  const half = Math.max(Math.sqrt(10), Math.sqrt(hi / lo)) ** 1.25;
  return { lo: mid / half, hi: mid * half };
}

/** The step at the middle of column j of a snapshot. */
export function columnStep(cols, j) {
  return cols.lo + ((j + 0.5) * (cols.hi - cols.lo)) / cols.n;
}

/** The plot rectangle: room for the loss labels on the left and the lr labels on the right. */
export function trainingLayout(width, height, leftLabel, rightLabel) {
  const left = Math.max(36, Math.ceil(leftLabel) + 12);
  const right = width - Math.max(36, Math.ceil(rightLabel) + 12);
  const top = 22;
  const bottom = height - 34;
  return { left, top, right: Math.max(left + 10, right), bottom: Math.max(top + 10, bottom) };
}

/**
 * Scales and ticks of one frame: {plot, xScale, yScale, lrScale, xt, yt, lt, yr, lr}. `measure(text)` is a
 * label's width in CSS px (the context's measureText; injectable for tests).
 */
export function trainingGeometry(cols, width, height, measure) {
  const yr = lossRange(cols);
  const lr = lrRange(cols);
  const rows = Math.max(2, Math.floor((height - 60) / 42));
  const yt = yr ? linearTicks(yr.lo, yr.hi, rows) : { major: [], minor: [] };
  const lt = lr ? logTicks(lr.lo, lr.hi, rows) : { major: [], minor: [] };
  const widest = (ticks) => ticks.major.reduce((w, t) => Math.max(w, measure(t.label)), 0);
  const plot = trainingLayout(width, height, widest(yt), widest(lt));
  const x0 = cols ? cols.lo : 0;
  const x1 = cols && cols.hi > cols.lo ? cols.hi : x0 + 1;
  const xScale = createScale([x0, x1], [plot.left, plot.right]);
  const yScale = createScale(yr ? [yr.lo, yr.hi] : [0, 1], [plot.bottom, plot.top]);
  const lrScale = createScale(lr ? [lr.lo, lr.hi] : [1e-4, 1], [plot.bottom, plot.top], true);
  const xt = linearTicks(x0, x1, Math.max(2, Math.floor((plot.right - plot.left) / 90)));
  xt.major = xt.major.filter((t) => Number.isInteger(t.value));
  return { plot, xScale, yScale, lrScale, xt, yt, lt, yr, lr };
}
