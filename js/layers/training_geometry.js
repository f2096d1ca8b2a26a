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

/** The q-quantile of the finite values of `a` (first n), or NaN: a typed array's numeric sort (no comparator). */
function finiteQuantile(a, n, q) {
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) if (Number.isFinite(a[i])) out[k++] = a[i];
  return k ? out.subarray(0, k).sort()[Math.floor(q * (k - 1))] : Number.NaN;
}

/** The lowest finite value of `lows` and the highest finite value of `highs` (first n); {lo, top}. */
function finiteExtent(lows, highs, n) {
  let lo = Infinity;
  let top = -Infinity;
  for (let i = 0; i < n; i++) {
    if (lows[i] < lo && Number.isFinite(lows[i])) lo = lows[i];
    if (highs[i] > top && Number.isFinite(highs[i])) top = highs[i];
  }
  return { lo, top };
}

/**
 * The loss axis [lo, hi] of a snapshot: from the lowest column minimum to the highest maximum, the top
 * capped at the 90th percentile of the column means plus `headroom` times their spread, but never below
 * the first column's mean (where training started stays in view), so one spike does not flatten the
 * rest (a capped spike still reaches the top edge). {lo, hi, clipped}; null with no finite loss.
 * Linear but for one numeric sort of the means: it runs on every frame.
 */
export function lossRange(cols) {
  if (!cols || cols.n === 0) return null;
  const ext = finiteExtent(cols.lossMin, cols.lossMax, cols.n);
  const q = finiteQuantile(cols.lossMean, cols.n, 0.9);
  if (!Number.isFinite(ext.lo) || !Number.isFinite(ext.top) || Number.isNaN(q)) return null;
  let lo = ext.lo;
  const top = ext.top;
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

/**
 * Column j's first step and width in steps. A snapshot's columns split [lo, hi) evenly; a slice of one
 * (training_state.js sliceColumns) says where its first column starts (x0) and how wide each is (dx).
 */
export function columnStart(cols, j) {
  return cols.dx === undefined ? cols.lo + (j * (cols.hi - cols.lo)) / cols.n : cols.x0 + j * cols.dx;
}

/** The width of a snapshot's columns in steps. */
export function columnWidth(cols) {
  return cols.dx === undefined ? (cols.hi - cols.lo) / cols.n : cols.dx;
}

/** The step at the middle of column j of a snapshot. */
export function columnStep(cols, j) {
  return columnStart(cols, j) + columnWidth(cols) / 2;
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
