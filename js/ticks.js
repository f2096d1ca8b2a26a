// Axis ticks (pure): decades on a log axis, 1-2-5 steps on a linear one.
import { formatLR, formatTick, powerOfTen } from "./format.js";

const EPS = 1e-9;

/** A "nice" step (1, 2 or 5 times a power of ten) close to span / count. */
export function niceStep(span, count) {
  if (!(span > 0) || !(count > 0)) return 1;
  const raw = span / count;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  // Thresholds at the geometric means of 1, 2, 5, 10: the nearest nice step in log terms.
  const m = f < Math.SQRT2 ? 1 : f < Math.sqrt(10) ? 2 : f < Math.sqrt(50) ? 5 : 10;
  return m * p;
}

/**
 * Ticks for a linear axis over [lo, hi] with about `count` labelled ticks.
 * Returns {major: [{value, label}], minor: []}.
 */
export function linearTicks(lo, hi, count = 5) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return { major: [], minor: [] };
  const step = niceStep(hi - lo, Math.max(1, count));
  const first = Math.ceil(lo / step - EPS);
  const last = Math.floor(hi / step + EPS);
  const major = [];
  for (let k = first; k <= last && major.length < 1000; k++) {
    const value = k * step;
    major.push({ value, label: formatTick(value, step) });
  }
  return { major, minor: [] };
}

/**
 * Ticks for a log axis over [lo, hi] (both > 0) with at most `maxMajor` labelled ticks.
 * Wide spans label powers of ten (every k-th decade when crowded) with minor ticks at 2..9;
 * spans under about a decade label 1-2-5 multiples instead so the axis never has < 2 labels.
 */
export function logTicks(lo, hi, maxMajor = 6) {
  if (!(lo > 0) || !(hi > lo) || !Number.isFinite(hi)) return { major: [], minor: [] };
  maxMajor = Math.max(2, Math.floor(maxMajor));
  const e0 = Math.ceil(Math.log10(lo) - EPS);
  const e1 = Math.floor(Math.log10(hi) + EPS);
  const decades = e1 - e0 + 1;
  if (decades >= 2) {
    const stride = Math.max(1, Math.ceil(decades / maxMajor));
    const major = [];
    const minor = [];
    // Align strided decades to multiples of the stride so labels do not wander as the range grows.
    for (let e = Math.ceil(e0 / stride) * stride; e <= e1; e += stride) {
      major.push({ value: Math.pow(10, e), label: powerOfTen(e) });
    }
    const lastDecade = Math.ceil(Math.log10(hi) + EPS);
    for (let e = Math.floor(Math.log10(lo) - EPS); e <= lastDecade; e++) {
      if (stride === 1) {
        for (let d = 2; d <= 9; d++) {
          const v = d * Math.pow(10, e);
          if (v >= lo * (1 - EPS) && v <= hi * (1 + EPS)) minor.push(v);
        }
      } else if (e % stride !== 0) {
        const v = Math.pow(10, e);
        if (v >= lo && v <= hi) minor.push(v);
      }
    }
    return { major, minor };
  }
  // Under two decades: 1-2-5 (or finer) multiples, labelled in e-notation; the densest set that fits.
  let best = null;
  for (const mults of [[1, 2, 5], [1, 2, 3, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const major = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of mults) {
        const v = m * Math.pow(10, e);
        if (v >= lo * (1 - EPS) && v <= hi * (1 + EPS)) major.push({ value: v, label: formatLR(v, 2) });
      }
    }
    if (major.length >= 2 && major.length <= maxMajor) best = major;
  }
  if (best) return { major: best, minor: [] };
  // Very narrow span: fall back to evenly spaced values in log space.
  const major = [];
  const l0 = Math.log10(lo);
  const l1 = Math.log10(hi);
  const n = Math.min(maxMajor, 4);
  for (let i = 0; i < n; i++) {
    const v = Math.pow(10, l0 + ((l1 - l0) * (i + 0.5)) / n);
    major.push({ value: v, label: formatLR(v, 3) });
  }
  return { major, minor: [] };
}
