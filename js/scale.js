// Scales (data <-> pixels), the data ranges the plot shows and where a suggestion's marker sits (pure).
// The range and marker rules are shared with the Python views: parameters in lrwidget/pure/rules.json,
// Python twins in lrwidget/pure/rules.py (y_range, x_domain, marker_loss), checked by tests/test_rules.py.
import rules from "../lrwidget/pure/rules.json" with { type: "json" };

const Y = rules.yRange;
const X = rules.xRange;

/**
 * A 1-D scale from `domain` to `range` (pixels). With `log`, the mapping is linear in log10(x);
 * non-positive x then maps to NaN (the caller skips it).
 */
export function createScale(domain, range, log = false) {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  let t0 = log ? Math.log10(d0) : d0;
  let t1 = log ? Math.log10(d1) : d1;
  if (!Number.isFinite(t0) || !Number.isFinite(t1)) {
    t0 = 0;
    t1 = 1;
  }
  if (t1 === t0) {
    // A single value: center it instead of dividing by zero.
    const pad = t0 === 0 ? 1 : Math.abs(t0) * 0.05;
    t0 -= pad;
    t1 += pad;
  }
  const k = (r1 - r0) / (t1 - t0);
  const map = log ? (x) => r0 + (Math.log10(x) - t0) * k : (x) => r0 + (x - t0) * k;
  const invert = log ? (px) => 10 ** (t0 + (px - r0) / k) : (px) => t0 + (px - r0) / k;
  return {
    log,
    domain: log ? [10 ** t0, 10 ** t1] : [t0, t1],
    range: [r0, r1],
    t0,
    t1,
    k,
    map,
    invert,
  };
}

/**
 * The x domain: the run's planned [start_lr, end_lr] when known (so the axis stays put while the curve
 * grows into it), widened to any reading outside it; otherwise the readings' extent. `extent`, when
 * given, is that extent precomputed ([min, max] of the positive finite lrs).
 */
export function xDomain(lrs, n, startLr, endLr, log = true, extent = null) {
  let lo = Infinity;
  let hi = -Infinity;
  const ok = (x) => Number.isFinite(x) && (!log || x > 0);
  if (ok(startLr) && ok(endLr)) {
    lo = Math.min(startLr, endLr);
    hi = Math.max(startLr, endLr);
  }
  if (extent) {
    // [min, max] of the positive finite lrs, kept up to date by the view state: no scan per frame.
    if (ok(extent[0]) && extent[0] < lo) lo = extent[0];
    if (ok(extent[1]) && extent[1] > hi) hi = extent[1];
  } else {
    for (let i = 0; i < n; i++) {
      const x = lrs[i];
      if (!ok(x)) continue;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  if (lo === Infinity) return log ? [...X.emptyLog] : [...X.emptyLinear];
  if (lo === hi) {
    return log ? [lo / X.singleLogFactor, hi * X.singleLogFactor] : [lo - X.singleLinearPad, hi + X.singleLinearPad];
  }
  return [lo, hi];
}

/**
 * The y range shown, robust to a diverging tail: the bottom is the lowest finite smoothed loss, the top
 * is capped at `headroom` times the rise from that minimum to the highest smoothed loss seen before it
 * (the starting plateau), so a loss that explodes to 1e6 does not flatten the interesting valley.
 * Raw readings widen the range only within that cap. Returns {lo, hi, clipped} where clipped says the
 * data reaches above hi (the plot then marks the clipped points).
 */
export function yRange(raw, smoothed, n, headroom = Y.headroom) {
  let min = Infinity;
  let argmin = -1;
  let maxAll = -Infinity;
  for (let i = 0; i < n; i++) {
    const s = smoothed[i];
    if (!Number.isFinite(s)) continue;
    if (s < min) {
      min = s;
      argmin = i;
    }
    if (s > maxAll) maxAll = s;
  }
  if (argmin < 0) {
    // No smoothed values: fall back on raw values.
    for (let i = 0; i < n; i++) {
      const r = raw[i];
      if (!Number.isFinite(r)) continue;
      if (r < min) min = r;
      if (r > maxAll) maxAll = r;
    }
    if (min === Infinity) return { lo: 0, hi: 1, clipped: false };
  }
  let before = min;
  for (let i = 0; i <= argmin; i++) {
    const s = smoothed[i];
    if (Number.isFinite(s) && s > before) before = s;
  }
  const rise = before - min;
  // A flat start (loss only falls or barely moves) still gets room above it.
  const floorSpan = Math.max(Math.abs(min) * Y.flatSpan, 1e-12);
  const cap = before + Math.max(rise, floorSpan) * headroom;
  let top = Math.min(maxAll, cap);
  let bottom = min;
  for (let i = 0; i < n; i++) {
    const r = raw[i];
    if (!Number.isFinite(r)) continue;
    if (r > top && r <= cap) top = r;
    if (r < bottom && r >= min - (cap - min)) bottom = r;
  }
  let clipped = false;
  for (let i = 0; i < n && !clipped; i++) {
    if (smoothed[i] > top || raw[i] > top) clipped = true;
  }
  if (!(top > bottom)) {
    const pad = Math.max(Math.abs(bottom) * Y.flatPad, 1e-9);
    return { lo: bottom - pad, hi: top + pad, clipped };
  }
  const pad = (top - bottom) * Y.pad;
  return { lo: bottom - pad, hi: top + pad, clipped };
}

/**
 * yRange computed from decimated columns (see decimate.js) instead of every reading: the same rule at
 * pixel resolution, O(columns) per frame however many readings there are. `raw` and `smooth` are the
 * columns of the raw and the smoothed losses.
 */
export function yRangeColumns(raw, smooth, headroom = Y.headroom) {
  const s = smooth.count > 0 ? smooth : raw;
  let min = Infinity;
  let argmin = -1;
  let maxAll = -Infinity;
  for (let j = 0; j < s.count; j++) {
    if (s.min[j] < min) {
      min = s.min[j];
      argmin = j;
    }
    if (s.max[j] > maxAll) maxAll = s.max[j];
  }
  if (argmin < 0) return { lo: 0, hi: 1, clipped: false };
  let before = min;
  for (let j = 0; j <= argmin; j++) if (s.max[j] > before) before = s.max[j];
  const rise = before - min;
  const floorSpan = Math.max(Math.abs(min) * Y.flatSpan, 1e-12);
  const cap = before + Math.max(rise, floorSpan) * headroom;
  let top = Math.min(maxAll, cap);
  let bottom = min;
  let clipped = maxAll > top;
  for (let j = 0; j < raw.count; j++) {
    const hi = raw.max[j];
    const lo = raw.min[j];
    if (hi > top && hi <= cap) top = hi;
    if (lo < bottom && lo >= min - (cap - min)) bottom = lo;
  }
  for (let j = 0; j < raw.count && !clipped; j++) if (raw.max[j] > top) clipped = true;
  if (!(top > bottom)) {
    const pad = Math.max(Math.abs(bottom) * Y.flatPad, 1e-9);
    return { lo: bottom - pad, hi: top + pad, clipped };
  }
  const pad = (top - bottom) * Y.pad;
  return { lo: bottom - pad, hi: top + pad, clipped };
}

/**
 * The loss at which a suggestion's marker is drawn, on the smoothed curve as drawn: the smoothed loss of
 * the suggestion's reading (`suggestion.index`) when finite; otherwise the smoothed curve interpolated at
 * `suggestion.lr` between the readings around it (in log10 lr on a log axis: the straight segment the
 * plot draws between them), the end reading's loss beyond either end. Uses the first `n` readings.
 * NaN when no reading has a finite lr and smoothed loss. Python twin: lrwidget.pure.rules.marker_loss.
 */
export function markerLoss(lrs, smoothed, suggestion, n = lrs.length, log = true) {
  const m = Math.min(n, lrs.length, smoothed.length);
  const index = suggestion ? suggestion.index : null;
  if (Number.isInteger(index) && index >= 0 && index < m && Number.isFinite(smoothed[index])) return smoothed[index];
  const lr = suggestion ? suggestion.lr : NaN;
  if (typeof lr !== "number" || !Number.isFinite(lr) || (log && !(lr > 0))) return NaN;
  const t = log ? Math.log10(lr) : lr;
  // One pass, no sort: the nearest usable reading at or below t (the last of equals, as Python's
  // stable sort then searchsorted picks) and the nearest above it, plus both ends.
  let below = -1;
  let above = -1;
  let first = -1;
  let last = -1;
  let tb = -Infinity;
  let ta = Infinity;
  let tFirst = Infinity;
  let tLast = -Infinity;
  for (let i = 0; i < m; i++) {
    const x = lrs[i];
    const y = smoothed[i];
    if (!Number.isFinite(x) || !Number.isFinite(y) || (log && !(x > 0))) continue;
    const ti = log ? Math.log10(x) : x;
    if (ti < tFirst) {
      tFirst = ti;
      first = i;
    }
    if (ti >= tLast) {
      tLast = ti;
      last = i;
    }
    if (ti <= t && ti >= tb) {
      tb = ti;
      below = i;
    }
    if (ti > t && ti < ta) {
      ta = ti;
      above = i;
    }
  }
  if (first < 0) return NaN;
  if (t <= tFirst) return smoothed[first];
  if (t >= tLast) return smoothed[last];
  const y0 = smoothed[below];
  return y0 + (smoothed[above] - y0) * ((t - tb) / (ta - tb));
}
