// Axis ticks (pure): decades on a log axis, 1-2-5 steps on a linear one. The steps and multiples come
// from lrwidget/pure/rules.json; lrwidget/pure/rules.py computes the same ticks for the Python report.
import rules from "../lrwidget/pure/rules.json" with { type: "json" };
import { formatLR, formatTick, powerOfTen } from "./format.js";

const EPS = 1e-9;
const STEPS = [...rules.ticks.niceSteps, 10];

// mult * 10^exp as the double nearest the decimal (0.3, not 3 * 0.1): Python parses the same text,
// so both sides get equal tick values, not merely close ones.
const dec = (mult, exp) => Number(`${mult}e${exp}`);

/** [mult, exp]: the nice step mult * 10^exp nearest to span / count in log terms. */
function niceStepParts(span, count) {
  const raw = span / count;
  const e = Math.floor(Math.log10(raw));
  const f = raw / dec(1, e);
  // Thresholds at the geometric means of consecutive steps (1, 2, 5, 10).
  for (let i = 0; i + 1 < STEPS.length; i++) {
    if (f < Math.sqrt(STEPS[i] * STEPS[i + 1])) return [STEPS[i], e];
  }
  return [10, e];
}

/** A "nice" step (1, 2 or 5 times a power of ten) close to span / count. */
export function niceStep(span, count) {
  if (!(span > 0) || !(count > 0)) return 1;
  return dec(...niceStepParts(span, count));
}

/**
 * Ticks for a linear axis over [lo, hi] with about `count` labelled ticks.
 * Returns {major: [{value, label}], minor: []}.
 */
export function linearTicks(lo, hi, count = 5) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return { major: [], minor: [] };
  const [m, e] = niceStepParts(hi - lo, Math.max(1, count));
  const step = dec(m, e);
  const first = Math.ceil(lo / step - EPS);
  const last = Math.floor(hi / step + EPS);
  const major = [];
  for (let k = first; k <= last && major.length < 1000; k++) {
    const value = dec(k * m, e);
    major.push({ value, label: formatTick(value, step) });
  }
  return { major, minor: [] };
}

/**
 * Ticks for a log axis over [lo, hi] (both > 0) with at most `maxMajor` labelled ticks.
 * Wide spans label powers of ten (every k-th decade when crowded) with minor ticks at 2..9;
 * narrower spans label the densest of the 1-2-5, 1-2-3-5 and 1..9 multiples that fits, else the two
 * ends, so the axis never has < 2 labels.
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
      major.push({ value: dec(1, e), label: powerOfTen(e) });
    }
    const lastDecade = Math.ceil(Math.log10(hi) + EPS);
    for (let e = Math.floor(Math.log10(lo) - EPS); e <= lastDecade; e++) {
      if (stride === 1) {
        for (let d = 2; d <= 9; d++) {
          const v = d * 10 ** e;
          if (v >= lo * (1 - EPS) && v <= hi * (1 + EPS)) minor.push(v);
        }
      } else if (e % stride !== 0) {
        const v = 10 ** e;
        if (v >= lo && v <= hi) minor.push(v);
      }
    }
    return { major, minor };
  }
  // Under two decades: the densest set of multiples that fits, labelled in e-notation.
  let best = null;
  for (const mults of rules.ticks.logMultiples) {
    const major = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of mults) {
        const v = dec(m, e);
        if (v >= lo * (1 - EPS) && v <= hi * (1 + EPS)) major.push({ value: v, label: formatLR(v) });
      }
    }
    if (major.length >= 2 && major.length <= maxMajor) best = major;
  }
  if (best) return { major: best, minor: [] };
  // Too narrow for any multiple: its two ends (evenly spaced values would repeat the same label).
  return {
    major: [
      { value: lo, label: formatLR(lo) },
      { value: hi, label: formatLR(hi) },
    ],
    minor: [],
  };
}
