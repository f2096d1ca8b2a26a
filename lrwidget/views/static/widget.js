// js/view/bus.js
var TOPICS = Object.freeze([
  "draw",
  "status",
  "selection",
  "suggestions",
  "theme",
  "layout",
  "tick",
  "closed"
]);
function createBus(topics = TOPICS) {
  const listeners = new Map(topics.map((t) => [t, []]));
  const known = (topic) => {
    const list = listeners.get(topic);
    if (!list) throw new Error(`lrwidget: unknown bus topic "${topic}"`);
    return list;
  };
  return {
    on(topic, fn) {
      const list = known(topic);
      list.push(fn);
      return () => {
        const i = list.indexOf(fn);
        if (i >= 0) list.splice(i, 1);
      };
    },
    emit(topic, ...args) {
      for (const fn of known(topic).slice()) fn(...args);
    }
  };
}

// lrwidget/pure/rules.json
var rules_default = {
  about: "palette.*.runs: the compare chart's run colours (issue 20), Okabe-Ito (colour-blind safe) in its order, each at least 3:1 against its theme's bg (the light theme's pink, orange, sky blue and yellow darkened; the dark theme's blue, vermillion, green and pink lightened, its black made white; tests/test_compare.py checks). What the Python side (lrwidget/pure/rules.py: report, bqview, suggest, widget) and the front end (js/theme.js, format.js, ticks.js, scale.js) must agree on, written once. Both sides load this file; tests/test_rules.py checks that they compute the same results from it.",
  palette: {
    light: {
      fg: "#1f2328",
      fgMuted: "#57606a",
      fgFaint: "#8c959f",
      bg: "#ffffff",
      panel: "#f6f8fa",
      border: "#d0d7de",
      accent: "#1a73e8",
      selected: "#e8710a",
      applied: "#188038",
      error: "#d93025",
      rules: ["#1a73e8", "#9334e6", "#e8710a", "#188038", "#c5221f", "#007b83"],
      runs: ["#0072b2", "#d55e00", "#009e73", "#c4729f", "#b07800", "#3a93d0", "#000000", "#9c8a00"],
      gridAlpha: 0.08,
      rawAlpha: 0.3
    },
    dark: {
      fg: "#e6edf3",
      fgMuted: "#9da7b1",
      fgFaint: "#6e7681",
      bg: "#1e1e1e",
      panel: "#262626",
      border: "#3d444d",
      accent: "#6ea8fe",
      selected: "#ffa657",
      applied: "#56d364",
      error: "#ff7b72",
      rules: ["#6ea8fe", "#d2a8ff", "#ffa657", "#56d364", "#ff7b72", "#39c5cf"],
      runs: ["#5aa0ff", "#ff7f3f", "#1fbf8f", "#e08fbf", "#e69f00", "#9fd8f5", "#ffffff", "#f0e442"],
      gridAlpha: 0.1,
      rawAlpha: 0.55
    }
  },
  status: {
    completed: "done",
    diverged: "diverged",
    stopped: "stopped",
    exhausted: "exhausted",
    error: "error"
  },
  lrFormat: { digits: 3 },
  lossFormat: { digits: 4, expBelow: 1e-3 },
  tickFormat: { expAtOrAbove: 1e5, expBelow: 1e-4, maxDecimals: 10 },
  ticks: {
    niceSteps: [1, 2, 5],
    logMultiples: [[1, 2, 5], [1, 2, 3, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]
  },
  yRange: { headroom: 1.5, flatSpan: 0.05, pad: 0.06, flatPad: 0.1 },
  xRange: { emptyLog: [1e-7, 10], emptyLinear: [0, 1], singleLogFactor: 10, singleLinearPad: 1 },
  plotHeight: { min: 160, max: 2e3, default: 320 },
  doctor: {
    about: "The training view (issue 18): the verdict's words and colour role (a theme key), the buttons (the only factors a front end may ask for), the columns and the message rate the kernel sends.",
    verdicts: {
      watching: { word: "Watching", color: "fgMuted" },
      healthy: { word: "Healthy", color: "applied" },
      too_high: { word: "LR too high", color: "error" },
      too_low: { word: "LR too low", color: "selected" }
    },
    actions: [
      { factor: 0.1, rollback: true, label: "Roll back and \xD70.1" },
      { factor: 0.5, rollback: false, label: "\xD70.5" },
      { factor: 2, rollback: false, label: "\xD72" }
    ],
    overviewColumns: 1024,
    maxColumns: 2048,
    sendInterval: 0.1,
    maxEvents: 256,
    minZoomSteps: 16
  },
  schedule: {
    about: "Schedules from a range (issue 19): the kinds in picker order with their labels; the preview's columns; cosine and linear warm up from lo to hi over warmupFraction of the steps (at least 1) and decay to lo / finalDivisor; cyclic's step_size_up = step_size_down = max(1, total_steps // (2 * cyclicCycles)); one cycle keeps torch's pct_start (0.3) and final_div_factor; total_steps is an int in [minTotalSteps, maxTotalSteps].",
    kinds: [
      { name: "one_cycle", label: "One cycle" },
      { name: "cyclic", label: "Cyclic (triangular)" },
      { name: "cosine", label: "Warmup + cosine" },
      { name: "linear", label: "Warmup + linear decay" }
    ],
    previewColumns: 512,
    finalDivisor: 100,
    warmupFraction: 0.1,
    cyclicCycles: 4,
    minTotalSteps: 2,
    maxTotalSteps: 1e9,
    defaultTotalSteps: 1e3
  }
};

// js/format.js
var LR_DIGITS = rules_default.lrFormat.digits;
var LOSS = rules_default.lossFormat;
var TICK = rules_default.tickFormat;
var SUPERSCRIPT = {
  "-": "\u207B",
  0: "\u2070",
  1: "\xB9",
  2: "\xB2",
  3: "\xB3",
  4: "\u2074",
  5: "\u2075",
  6: "\u2076",
  7: "\u2077",
  8: "\u2078",
  9: "\u2079"
};
function powerOfTen(exponent) {
  if (exponent === 0) return "1";
  if (exponent === 1) return "10";
  const digits = String(Math.round(exponent)).split("").map((c) => SUPERSCRIPT[c] || c).join("");
  return `10${digits}`;
}
function nonFinite(x) {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  return null;
}
function formatLR(x, digits = LR_DIGITS) {
  if (x === null || x === void 0) return "\u2014";
  const bad = nonFinite(x);
  if (bad) return bad;
  if (x === 0) return "0";
  const [mant, exp] = x.toExponential(Math.max(0, digits - 1)).split("e");
  const m = mant.includes(".") ? mant.replace(/0+$/, "").replace(/\.$/, "") : mant;
  const e = parseInt(exp, 10);
  return e === 0 ? m : `${m}e${e}`;
}
function formatLoss(y, digits = LOSS.digits) {
  if (y === null || y === void 0) return "\u2014";
  const bad = nonFinite(y);
  if (bad) return bad;
  if (y === 0) return "0";
  const a = Math.abs(y);
  if (a >= 10 ** digits || a < LOSS.expBelow) return formatLR(y, digits);
  const s = y.toFixed(Math.max(0, digits - 1 - Math.floor(Math.log10(a))));
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}
function formatDuration(seconds) {
  if (seconds === null || seconds === void 0 || !Number.isFinite(seconds) || seconds < 0) return "\u2014";
  const total = Math.round(seconds);
  const h2 = Math.floor(total / 3600);
  const m = Math.floor(total % 3600 / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h2 > 0 ? `${h2}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}
function formatTick(value, step) {
  if (!Number.isFinite(value)) return "";
  if (step > 0 && Math.abs(value) < step * 1e-6) value = 0;
  const a = Math.abs(value);
  if (a !== 0 && (a >= TICK.expAtOrAbove || a < TICK.expBelow)) return formatLR(value, LR_DIGITS);
  const decimals = step > 0 ? Math.max(0, Math.min(TICK.maxDecimals, -Math.floor(Math.log10(step) + 1e-9))) : 2;
  const s = value.toFixed(decimals);
  return /^-0(\.0+)?$/.test(s) ? s.slice(1) : s;
}

// js/decimate.js
function createColumns(capacity = 0) {
  return {
    capacity,
    count: 0,
    x0: new Float64Array(capacity),
    // pixel x of the first reading in the column
    x1: new Float64Array(capacity),
    // pixel x of the last reading in the column
    first: new Float64Array(capacity),
    last: new Float64Array(capacity),
    min: new Float64Array(capacity),
    max: new Float64Array(capacity),
    n: new Uint32Array(capacity),
    // readings merged into the column
    i0: new Uint32Array(capacity),
    // index of the column's first reading (to resume decimation)
    brk: new Uint8Array(capacity)
    // 1: the line is broken before this column (non-finite readings between)
  };
}
var COLUMN_KEYS = ["x0", "x1", "first", "last", "min", "max", "n", "i0", "brk"];
function grow(out, need, keep = out.count) {
  if (out.capacity >= need) return out;
  const cap = Math.max(need, Math.ceil(out.capacity * 1.5), 64);
  const fresh = createColumns(cap);
  for (const key of COLUMN_KEYS) fresh[key].set(out[key].subarray(0, keep));
  out.capacity = cap;
  for (const key of COLUMN_KEYS) out[key] = fresh[key];
  return out;
}
function resumePoint(out, from) {
  const { x1, brk, i0 } = out;
  if (!(from > 0 && out.count > 0) || i0[0] > from) return { count: 0, start: 0, gap: true, cur: Number.NaN };
  let lo = 0;
  let hi = out.count - 1;
  while (lo < hi) {
    const mid = lo + hi + 1 >> 1;
    if (i0[mid] <= from) lo = mid;
    else hi = mid - 1;
  }
  return { count: lo, start: i0[lo], gap: brk[lo] === 1, cur: lo > 0 ? Math.floor(x1[lo - 1]) : Number.NaN };
}
function decimateAffine(xs, ys, n, r0, t0, k, out = createColumns(0), from = 0) {
  const m = Math.min(n, xs.length, ys.length);
  const r = resumePoint(out, from);
  let count2 = r.count;
  let cur = r.cur;
  let gap = r.gap;
  let open = false;
  let cx0 = 0, cx1 = 0, cf = 0, cl = 0, cmin = 0, cmax = 0, cn = 0, cbrk = 0, ci0 = 0;
  for (let i = r.start; i < m; i++) {
    const y = ys[i];
    const x = r0 + (xs[i] - t0) * k;
    if (!(y - y === 0 && x - x === 0)) {
      gap = true;
      continue;
    }
    const c = Math.floor(x);
    if (c === cur && !gap) {
      if (y < cmin) cmin = y;
      else if (y > cmax) cmax = y;
      cl = y;
      cx1 = x;
      cn++;
      continue;
    }
    if (open) storeColumn(out, count2++, cx0, cx1, cf, cl, cmin, cmax, cn, cbrk, ci0);
    open = true;
    ci0 = i;
    cx0 = cx1 = x;
    cf = cl = cmin = cmax = y;
    cn = 1;
    cbrk = gap ? 1 : 0;
    cur = c;
    gap = false;
  }
  if (open) storeColumn(out, count2++, cx0, cx1, cf, cl, cmin, cmax, cn, cbrk, ci0);
  out.count = count2;
  return out;
}
function storeColumn(out, i, x0, x1, first, last, min, max, n, brk, i0) {
  if (i >= out.capacity) grow(out, i + 1, i);
  out.x0[i] = x0;
  out.x1[i] = x1;
  out.first[i] = first;
  out.last[i] = last;
  out.min[i] = min;
  out.max[i] = max;
  out.n[i] = n;
  out.brk[i] = brk;
  out.i0[i] = i0;
}
function mergeColumns(cols, width, out = createColumns(0)) {
  grow(out, cols.count, 0);
  let c = -1;
  let cur = Number.NaN;
  for (let j = 0; j < cols.count; j++) {
    const span = Math.floor(cols.x0[j] / width);
    if (span === cur && !cols.brk[j]) {
      out.x1[c] = cols.x1[j];
      out.last[c] = cols.last[j];
      if (cols.min[j] < out.min[c]) out.min[c] = cols.min[j];
      if (cols.max[j] > out.max[c]) out.max[c] = cols.max[j];
      out.n[c] += cols.n[j];
      continue;
    }
    c++;
    cur = span;
    out.x0[c] = cols.x0[j];
    out.x1[c] = cols.x1[j];
    out.first[c] = cols.first[j];
    out.last[c] = cols.last[j];
    out.min[c] = cols.min[j];
    out.max[c] = cols.max[j];
    out.n[c] = cols.n[j];
    out.i0[c] = cols.i0[j];
    out.brk[c] = cols.brk[j];
  }
  out.count = c + 1;
  return out;
}

// js/scale.js
var Y = rules_default.yRange;
var X = rules_default.xRange;
function createScale(domain, range, log = false) {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  let t0 = log ? Math.log10(d0) : d0;
  let t1 = log ? Math.log10(d1) : d1;
  if (!Number.isFinite(t0) || !Number.isFinite(t1)) {
    t0 = 0;
    t1 = 1;
  }
  if (t1 === t0) {
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
    invert
  };
}
function xDomain(lrs, n, startLr, endLr, log = true, extent = null) {
  let lo = Infinity;
  let hi = -Infinity;
  const ok = (x) => Number.isFinite(x) && (!log || x > 0);
  if (ok(startLr) && ok(endLr)) {
    lo = Math.min(startLr, endLr);
    hi = Math.max(startLr, endLr);
  }
  if (extent) {
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
function yRangeColumns(raw, smooth, headroom = Y.headroom) {
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
    const pad2 = Math.max(Math.abs(bottom) * Y.flatPad, 1e-9);
    return { lo: bottom - pad2, hi: top + pad2, clipped };
  }
  const pad = (top - bottom) * Y.pad;
  return { lo: bottom - pad, hi: top + pad, clipped };
}
function markerLoss(lrs, smoothed, suggestion, n = lrs.length, log = true) {
  const m = Math.min(n, lrs.length, smoothed.length);
  const index = suggestion ? suggestion.index : null;
  if (Number.isInteger(index) && index >= 0 && index < m && Number.isFinite(smoothed[index])) return smoothed[index];
  const lr = suggestion ? suggestion.lr : NaN;
  if (typeof lr !== "number" || !Number.isFinite(lr) || log && !(lr > 0)) return NaN;
  const t = log ? Math.log10(lr) : lr;
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
    if (!Number.isFinite(x) || !Number.isFinite(y) || log && !(x > 0)) continue;
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

// js/ticks.js
var EPS = 1e-9;
var STEPS = [...rules_default.ticks.niceSteps, 10];
var dec = (mult, exp) => Number(`${mult}e${exp}`);
function niceStepParts(span, count2) {
  const raw = span / count2;
  const e = Math.floor(Math.log10(raw));
  const f = raw / dec(1, e);
  for (let i = 0; i + 1 < STEPS.length; i++) {
    if (f < Math.sqrt(STEPS[i] * STEPS[i + 1])) return [STEPS[i], e];
  }
  return [10, e];
}
function linearTicks(lo, hi, count2 = 5) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return { major: [], minor: [] };
  const [m, e] = niceStepParts(hi - lo, Math.max(1, count2));
  const step = dec(m, e);
  const first = Math.ceil(lo / step - EPS);
  const last = Math.floor(hi / step + EPS);
  const major = [];
  for (let k = first; k <= last && major.length < 1e3; k++) {
    const value = dec(k * m, e);
    major.push({ value, label: formatTick(value, step) });
  }
  return { major, minor: [] };
}
function logTicks(lo, hi, maxMajor = 6) {
  if (!(lo > 0) || !(hi > lo) || !Number.isFinite(hi)) return { major: [], minor: [] };
  maxMajor = Math.max(2, Math.floor(maxMajor));
  const e0 = Math.ceil(Math.log10(lo) - EPS);
  const e1 = Math.floor(Math.log10(hi) + EPS);
  const decades = e1 - e0 + 1;
  if (decades >= 2) {
    const stride = Math.max(1, Math.ceil(decades / maxMajor));
    const major = [];
    const minor = [];
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
  let best = null;
  for (const mults of rules_default.ticks.logMultiples) {
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
  return {
    major: [
      { value: lo, label: formatLR(lo) },
      { value: hi, label: formatLR(hi) }
    ],
    minor: []
  };
}

// js/layers/geometry.js
function createPlotCache() {
  return {
    raw: createColumns(0),
    smooth: createColumns(0),
    smoothLine: createColumns(0),
    // the smoothed columns merged to CSS px at a pixel ratio above 1
    key: "",
    n: 0,
    left: null,
    // the last frame's left margin; none yet: the narrowest the layout allows (labels fit it mostly)
    logLr: null,
    markerLoss: { data: null, n: -1, log: null, losses: /* @__PURE__ */ new Map() }
    // see markers.js markerMemo
  };
}
function clipToPlot(ctx, g) {
  const { plot, dpr, yr } = g;
  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.left + 1, plot.top - 1, plot.right - plot.left, plot.bottom - plot.top + 1);
  ctx.clip();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  return createScale([yr.lo, yr.hi], [plot.bottom * dpr, plot.top * dpr], false).map;
}
function font(theme, size, weight = "") {
  return `${weight ? `${weight} ` : ""}${size}px ${theme.font}`;
}
function computeLayout(width, height, yLabelWidth) {
  const narrow = width < 420;
  const left = Math.max(narrow ? 30 : 40, Math.ceil(yLabelWidth) + (narrow ? 8 : 12));
  const top = 22;
  const right = width - (narrow ? 10 : 16);
  const bottom = height - (narrow ? 34 : 38);
  return { left, top, right: Math.max(left + 10, right), bottom: Math.max(top + 10, bottom), narrow };
}
function logXs(cache, data, n) {
  if (data.logLr && data.logLr.length >= n) return { xs: data.logLr, fresh: false };
  if (!cache.logLr || cache.logLr.length < n) cache.logLr = new Float64Array(Math.max(n, 256));
  for (let i = 0; i < n; i++) cache.logLr[i] = Math.log10(data.lr[i]);
  return { xs: cache.logLr, fresh: true };
}
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
  return log ? logTicks(lo, hi, Math.max(2, Math.floor(span / 58))) : linearTicks(lo, hi, Math.max(2, Math.floor(span / 90)));
}
function frameGeometry(ctx, f, cache) {
  const { width, height, theme, data } = f;
  const dpr = f.dpr || 1;
  const log = f.log !== false;
  const n = data.n;
  const extent = Number.isFinite(data.lrMin) && data.lrMin <= data.lrMax && log ? [data.lrMin, data.lrMax] : null;
  const xd = xDomain(data.lr, n, f.startLr, f.endLr, log, extent);
  const L0 = computeLayout(width, height, 0);
  const left0 = cache.left ?? L0.left;
  const right0 = L0.right;
  decimateInto(cache, data, n, log, xd, left0, right0, dpr, f.dirtyFrom === void 0 ? 0 : f.dirtyFrom);
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
  ctx.font = font(theme, 11, "600");
  const titleRight = 4 + ctx.measureText("loss").width + 6;
  const xt = xTicks(xScale, plot, log);
  const { raw, smooth } = cache;
  const smoothLine = dpr > 1 ? mergeColumns(smooth, dpr, cache.smoothLine) : smooth;
  return { width, height, dpr, log, n, plot, xScale, yScale, xt, yt, yr, hasData, titleRight, raw, smooth, smoothLine };
}

// js/layers/axes.js
var crisp = (v) => Math.round(v) + 0.5;
function drawGrid(ctx, g, _f, theme) {
  const { plot, xScale, yScale } = g;
  ctx.lineWidth = 1;
  ctx.strokeStyle = theme.grid;
  ctx.beginPath();
  for (const t of g.xt.major) {
    const x = crisp(xScale.map(t.value));
    ctx.moveTo(x, plot.top);
    ctx.lineTo(x, plot.bottom);
  }
  if (g.hasData) {
    for (const t of g.yt.major) {
      const y = crisp(yScale.map(t.value));
      ctx.moveTo(plot.left, y);
      ctx.lineTo(plot.right, y);
    }
  }
  ctx.stroke();
}
function drawAxisLines(ctx, g, _f, theme) {
  const { plot, xScale } = g;
  ctx.lineWidth = 1;
  ctx.strokeStyle = theme.border;
  ctx.beginPath();
  ctx.moveTo(plot.left + 0.5, plot.top);
  ctx.lineTo(plot.left + 0.5, plot.bottom + 0.5);
  ctx.lineTo(plot.right, plot.bottom + 0.5);
  for (const t of g.xt.major) {
    const x = crisp(xScale.map(t.value));
    ctx.moveTo(x, plot.bottom);
    ctx.lineTo(x, plot.bottom + 5);
  }
  for (const v of g.xt.minor) {
    const x = crisp(xScale.map(v));
    ctx.moveTo(x, plot.bottom);
    ctx.lineTo(x, plot.bottom + 3);
  }
  ctx.stroke();
}
function drawTickLabels(ctx, g, _f, theme) {
  const { plot, xScale, yScale } = g;
  ctx.fillStyle = theme.fgMuted;
  ctx.font = font(theme, 11);
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  let lastRight = -Infinity;
  for (const t of g.xt.major) {
    const x = xScale.map(t.value);
    const w = ctx.measureText(t.label).width;
    if (x - w / 2 < lastRight + 6) continue;
    ctx.fillText(t.label, x, plot.bottom + 7);
    lastRight = x + w / 2;
  }
  if (g.hasData) {
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of g.yt.major) ctx.fillText(t.label, plot.left - 6, yScale.map(t.value));
  }
}
function drawAxisTitles(ctx, g, _f, theme) {
  ctx.fillStyle = theme.fgMuted;
  ctx.font = font(theme, 11, "600");
  ctx.textBaseline = "bottom";
  ctx.textAlign = "right";
  ctx.fillText(g.log ? "learning rate (log scale)" : "learning rate", g.plot.right, g.height - 2);
  ctx.textAlign = "left";
  ctx.fillText("loss", 4, g.plot.top - 6);
}

// js/layers/polyline.js
function createSimplifier(ctx, tol) {
  let ax = 0;
  let ay = 0;
  let px = 0;
  let py = 0;
  let pending = false;
  let lo = -Infinity;
  let hi = Infinity;
  const anchor = (x, y) => {
    ax = x;
    ay = y;
    pending = false;
    lo = -Infinity;
    hi = Infinity;
  };
  const flush = () => {
    if (pending) ctx.lineTo(px, py);
  };
  return {
    move(x, y) {
      flush();
      ctx.moveTo(x, y);
      anchor(x, y);
    },
    line(x, y) {
      if (x - ax <= 0.01) {
        flush();
        ctx.lineTo(x, y);
        anchor(x, y);
        return;
      }
      const slope = (y - ay) / (x - ax);
      if (pending && (slope < lo || slope > hi)) {
        ctx.lineTo(px, py);
        anchor(px, py);
        if (x - ax <= 0.01) {
          ctx.lineTo(x, y);
          anchor(x, y);
          return;
        }
      }
      const d = x - ax;
      const s0 = (y - ay - tol) / d;
      const s1 = (y - ay + tol) / d;
      if (s0 > lo) lo = s0;
      if (s1 < hi) hi = s1;
      px = x;
      py = y;
      pending = true;
    },
    end() {
      flush();
      pending = false;
    }
  };
}
function columnTail(cols, yMap, j, yf, point) {
  if (cols.n[j] <= 1) return;
  const yl = yMap(cols.last[j]);
  const yMin = yMap(cols.min[j]);
  const yMax = yMap(cols.max[j]);
  const x0 = cols.x0[j];
  const x1 = cols.x1[j];
  if (yMin > Math.max(yf, yl) + 0.5 || yMax < Math.min(yf, yl) - 0.5) {
    point((x0 + x1) * 0.5, yMin);
    point((x0 + x1) * 0.5, yMax);
  }
  if (x1 - x0 > 0.5 || Math.abs(yl - yf) > 0.5) point(x1, yl);
}
function traceColumns(p, cols, yMap, from, to) {
  const { x0, first, brk } = cols;
  for (let j = from; j <= to; j++) {
    const yf = yMap(first[j]);
    if (j === from || brk[j]) p.move(x0[j], yf);
    else p.line(x0[j], yf);
    columnTail(cols, yMap, j, yf, p.line);
  }
}
function strokeColumns(ctx, cols, yMap, tol = 0.3) {
  const p = createSimplifier(ctx, tol);
  ctx.beginPath();
  if (cols.count > 0) traceColumns(p, cols, yMap, 0, cols.count - 1);
  p.end();
  ctx.stroke();
}
function fillBand(ctx, cols, yMap, thickness) {
  const { count: count2, x0, min, max, last, brk } = cols;
  const half = thickness / 2;
  const barTop = (j) => {
    let top = yMap(max[j]);
    if (!brk[j] && j > 0) {
      const yp = yMap(last[j - 1]);
      if (yp < top) top = yp;
    }
    return Math.floor(top - half);
  };
  const barBottom = (j, y0) => {
    let bottom = yMap(min[j]);
    if (!brk[j] && j > 0) {
      const yp = yMap(last[j - 1]);
      if (yp > bottom) bottom = yp;
    }
    return y0 + Math.max(1, Math.ceil(bottom + half) - y0);
  };
  ctx.beginPath();
  let a = 0;
  while (a < count2) {
    let b = a + 1;
    while (b < count2 && Math.floor(x0[b]) === Math.floor(x0[b - 1]) + 1) b++;
    for (let j = a; j < b; j++) {
      const x = Math.floor(x0[j]);
      const y0 = barTop(j);
      if (j === a) ctx.moveTo(x, y0);
      else ctx.lineTo(x, y0);
      ctx.lineTo(x + 1, y0);
    }
    for (let j = b - 1; j >= a; j--) {
      const x = Math.floor(x0[j]);
      const y1 = barBottom(j, barTop(j));
      ctx.lineTo(x + 1, y1);
      ctx.lineTo(x, y1);
    }
    ctx.closePath();
    a = b;
  }
  ctx.fill();
}

// js/layers/band.js
var DENSE_GAP = 1.5;
function denseSpans(cols) {
  const { count: count2, x0, x1, brk } = cols;
  const spans = [];
  let a = 0;
  while (a < count2) {
    let b = a + 1;
    while (b < count2 && !brk[b] && x0[b] > x1[b - 1] && x0[b] - x1[b - 1] <= DENSE_GAP) b++;
    if (b - a >= 2) spans.push(a, b);
    a = b;
  }
  return spans;
}
function sparseStretches(cols, spans) {
  const { count: count2 } = cols;
  if (spans.length === 0) return count2 > 0 ? [0, count2 - 1] : [];
  const out = [0, Math.min(spans[0] + 1, spans[1] - 1)];
  for (let s = 1; s + 2 < spans.length; s += 2) {
    out.push(Math.max(spans[s] - 2, spans[s - 1]), Math.min(spans[s + 1] + 1, spans[s + 2] - 1));
  }
  out.push(Math.max(spans[spans.length - 1] - 2, spans[spans.length - 2]), count2 - 1);
  return out;
}
var scratch = { size: 0, segs: 0 };
var SAMPLE_FIELDS = ["x", "top", "bottom"];
var SEGMENT_FIELDS = ["px", "py", "qx", "qy", "s", "h", "off"];
function room(m) {
  const grow2 = (fields, have, need) => {
    const size = Math.max(need, 2 * have, 256);
    for (const f of fields) scratch[f] = new Float64Array(size);
    return size;
  };
  if (scratch.size < m) scratch.size = grow2(SAMPLE_FIELDS, scratch.size, m);
  if (scratch.segs < 4 * m) scratch.segs = grow2(SEGMENT_FIELDS, scratch.segs, 4 * m);
  return scratch;
}
function curveBand(cols, yMap, hw, a, b) {
  const m = b - a;
  const S = room(m);
  const n = segments(S, cols, yMap, a, b, hw);
  const { x, top, bottom, px, py, qx, qy, s, h: h2, off } = S;
  const hw2 = hw * hw;
  let first = 0;
  for (let i = 0; i < m; i++) {
    const xi = x[i];
    let t = Number.POSITIVE_INFINITY;
    let u = Number.NEGATIVE_INFINITY;
    while (first < n && qx[first] < xi - hw) first++;
    for (let j = first; j < n && px[j] <= xi + hw; j++) {
      const p = py[j];
      const q = qy[j];
      if (Math.min(p, q) - hw >= t && Math.max(p, q) + hw <= u) continue;
      const d = xi - qx[j];
      const r2 = hw2 - d * d;
      if (r2 >= 0) {
        const r = Math.sqrt(r2);
        if (q - r < t) t = q - r;
        if (q + r > u) u = q + r;
      }
      if (Number.isNaN(s[j])) continue;
      const y = p + s[j] * (xi - px[j]);
      const lo = xi - off[j];
      if (lo >= px[j] && lo <= qx[j] && y - h2[j] < t) t = y - h2[j];
      const hi = xi + off[j];
      if (hi >= px[j] && hi <= qx[j] && y + h2[j] > u) u = y + h2[j];
    }
    top[i] = t;
    bottom[i] = u;
  }
  return { x: x.subarray(0, m), top: top.subarray(0, m), bottom: bottom.subarray(0, m) };
}
function segments(S, cols, yMap, a, b, hw) {
  const { x0, x1, first } = cols;
  const m = b - a;
  let n = 0;
  let ex = 0;
  let ey = 0;
  const to = (x, y) => {
    const dx = x - ex;
    const slope = dx > 1e-9 ? (y - ey) / dx : Number.NaN;
    const k = Math.sqrt(1 + slope * slope);
    S.px[n] = ex;
    S.py[n] = ey;
    S.qx[n] = x;
    S.qy[n] = y;
    S.s[n] = slope;
    S.h[n] = hw * k;
    S.off[n] = hw * slope / k;
    n++;
    ex = x;
    ey = y;
  };
  for (let k = 0; k < m; k++) {
    const j = a + k;
    const yf = yMap(first[j]);
    S.x[k] = k === 0 ? x0[j] : k === m - 1 ? x1[j] : (x0[j] + x1[j]) * 0.5;
    if (k === 0) {
      ex = x0[j];
      ey = yf;
    }
    to(x0[j], yf);
    columnTail(cols, yMap, j, yf, to);
  }
  return n;
}
function mirror(ctx) {
  const line = (x, y) => ctx.lineTo(-x, y);
  return { moveTo: line, lineTo: line };
}
function fillCurve(ctx, cols, yMap, hw, tol = 0.3) {
  const spans = denseSpans(cols);
  ctx.beginPath();
  for (let s = 0; s < spans.length; s += 2) {
    const { x, top, bottom } = curveBand(cols, yMap, hw, spans[s], spans[s + 1]);
    const m = x.length;
    const upper = createSimplifier(ctx, tol);
    upper.move(x[0], top[0]);
    for (let i = 1; i < m; i++) upper.line(x[i], top[i]);
    upper.end();
    const lower = createSimplifier(mirror(ctx), tol);
    lower.move(-x[m - 1], bottom[m - 1]);
    for (let i = m - 2; i >= 0; i--) lower.line(-x[i], bottom[i]);
    lower.end();
    ctx.closePath();
  }
  if (spans.length > 0) ctx.fill();
  const rest = sparseStretches(cols, spans);
  if (rest.length === 0) return;
  const p = createSimplifier(ctx, tol);
  ctx.beginPath();
  for (let s = 0; s < rest.length; s += 2) traceColumns(p, cols, yMap, rest[s], rest[s + 1]);
  p.end();
  ctx.stroke();
}

// js/layers/runs.js
function browserBitmap(w, h2) {
  if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(w, h2);
  if (typeof document === "undefined") return null;
  const c = document.createElement("canvas");
  c.width = w;
  c.height = h2;
  return c;
}
function createRunsCache(bitmap = browserBitmap) {
  return { cols: [], keys: [], left: null, domain: { key: "", value: null }, bitmap, drawn: null, still: null };
}
function unionDomain(runs, log) {
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
function unionRange(cols, runs) {
  let lo = Infinity;
  let hi = -Infinity;
  let clipped = false;
  runs.forEach((r, k) => {
    if (!r.visible || cols[k].count === 0) return;
    const y = yRangeColumns(cols[k], cols[k]);
    lo = Math.min(lo, y.lo);
    hi = Math.max(hi, y.hi);
    clipped || (clipped = y.clipped);
  });
  return lo < hi ? { lo, hi, clipped } : { lo: 0, hi: 1, clipped: false };
}
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
    if (cache.keys[k] === runKey) return;
    grow(cols, Math.min(r.n, ncols));
    decimateAffine(log ? r.logLr : r.lr, r.smoothed, r.n, left * dpr, xDev.t0, xDev.k, cols, 0);
    cache.keys[k] = runKey;
  });
  cache.cols.length = runs.length;
}
function runsGeometry(ctx, f, cache) {
  const { width, height, theme, runs } = f;
  const dpr = f.dpr || 1;
  const log = f.log !== false;
  const xd = cachedDomain(cache, runs, log);
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
function drawRunCurves(ctx, g, f) {
  const { dpr } = g;
  const yMap = clipToPlot(ctx, g);
  ctx.lineWidth = 2 * dpr;
  let total = 0;
  f.runs.forEach((r, k) => {
    if (r.visible) total += g.cols[k].count;
  });
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
function pointAt(g, r, lr, index = null) {
  if (!(lr > 0) || r.n === 0) return null;
  const y = markerLoss(r.lr, r.smoothed, { lr, index }, r.n, g.log);
  if (!Number.isFinite(y)) return null;
  const yc = Math.min(Math.max(y, g.yr.lo), g.yr.hi);
  return { x: g.xScale.map(lr), y: g.yScale.map(yc) };
}
function drawRunMarkers(ctx, g, f, theme) {
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
function drawRunSelection(ctx, g, f, theme) {
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
function drawRunHover(ctx, g, f, theme) {
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
function drawTrend(ctx, g, f, theme) {
  const pts = f.trend ? f.trend.points : [];
  if (pts.length === 0) return;
  const xy = pts.map(([lr, loss]) => [g.xScale.map(lr), g.yScale.map(Math.min(Math.max(loss, g.yr.lo), g.yr.hi))]);
  ctx.save();
  ctx.setLineDash([6, 4]);
  ctx.strokeStyle = theme.fg;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(xy[0][0], xy[0][1]);
  for (const [x2, y2] of xy.slice(1)) ctx.lineTo(x2, y2);
  ctx.stroke();
  ctx.restore();
  const [x, y] = xy[xy.length - 1];
  ctx.fillStyle = theme.fg;
  ctx.font = font(theme, 11, "600");
  ctx.textAlign = "right";
  ctx.textBaseline = "bottom";
  ctx.fillText(String(f.trend.text || ""), Math.min(x + 6, g.plot.right - 4), Math.max(y - 8, g.plot.top + 12));
}
var RUN_LAYERS = [
  drawGrid,
  drawAxisLines,
  drawTickLabels,
  drawAxisTitles,
  drawRunCurves,
  drawTrend,
  drawRunMarkers,
  drawRunSelection
];
function stillKey(f, dpr) {
  const runs = f.runs.map((r) => `${r.visible}:${r.version}:${r.n}:${r.color}:${r.suggestion?.lr}`).join(",");
  const sel = f.selected ? `${f.selected.run}:${f.selected.lr}` : "";
  return `${f.width}|${f.height}|${dpr}|${f.log !== false}|${runs}|${sel}|${JSON.stringify(f.trend ?? null)}`;
}
function drawRunsFrame(f) {
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
  cache.drawn = { key, theme: f.theme, g, kept: same && keepStill(cache, ctx.canvas) };
  drawRunHover(ctx, g, f, f.theme);
  return g;
}
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
function pickRun(g, runs, px, py, nearest) {
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

// js/pick.js
function nearestIndex(xs, n, x, log = true, ys = null) {
  if (!Number.isFinite(x) || log && !(x > 0)) return -1;
  let best = -1;
  let bestD = Infinity;
  const m = Math.min(n, xs.length);
  for (let i = 0; i < m; i++) {
    const xi = xs[i];
    if (!Number.isFinite(xi)) continue;
    if (ys !== null && !Number.isFinite(ys[i])) continue;
    let d;
    if (log) {
      if (!(xi > 0)) continue;
      d = xi > x ? xi / x : x / xi;
    } else {
      d = Math.abs(xi - x);
    }
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}
function stepIndex(index, delta, n, isValid = () => true, fallback = 0) {
  if (n <= 0) return -1;
  if (!(index >= 0 && index < n)) {
    const f = Math.max(0, Math.min(n - 1, Number.isInteger(fallback) ? fallback : 0));
    for (let d = 0; d < n; d++) {
      if (f + d < n && isValid(f + d)) return f + d;
      if (f - d >= 0 && isValid(f - d)) return f - d;
    }
    return -1;
  }
  const dir = delta >= 0 ? 1 : -1;
  let steps = Math.abs(Math.trunc(delta));
  let last = index;
  for (let j = index + dir; steps > 0 && j >= 0 && j < n; j += dir) {
    if (isValid(j)) {
      last = j;
      steps--;
    }
  }
  return last;
}
function edgeIndex(n, isValid = () => true, fromEnd = false) {
  if (fromEnd) {
    for (let i = n - 1; i >= 0; i--) if (isValid(i)) return i;
  } else {
    for (let i = 0; i < n; i++) if (isValid(i)) return i;
  }
  return -1;
}
function nearestMarker(markers, px, py, radius = 8) {
  let best = -1;
  let bestD = radius * radius;
  for (let i = 0; i < markers.length; i++) {
    const m = markers[i];
    if (!Number.isFinite(m.x) || !Number.isFinite(m.y)) continue;
    const dx = m.x - px;
    const dy = m.y - py;
    const d = dx * dx + dy * dy;
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

// js/decode.js
var LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function toFloat64Array(buf, count2 = null) {
  let buffer;
  let offset;
  let length;
  if (buf instanceof ArrayBuffer) {
    buffer = buf;
    offset = 0;
    length = buf.byteLength;
  } else if (buf && ArrayBuffer.isView(buf)) {
    buffer = buf.buffer;
    offset = buf.byteOffset;
    length = buf.byteLength;
  } else {
    throw new TypeError(`buffer must be a DataView, ArrayBuffer or typed array, got ${typeof buf}`);
  }
  if (length % 8 !== 0) throw new RangeError(`buffer of ${length} bytes is not a whole number of float64`);
  const n = length / 8;
  if (count2 !== null && count2 !== n) {
    throw new RangeError(`buffer holds ${n} float64 values, the message says count=${count2}`);
  }
  if (LITTLE_ENDIAN && offset % 8 === 0) return new Float64Array(buffer, offset, n);
  const view = new DataView(buffer, offset, length);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}
function num(x) {
  return typeof x === "number" ? x : x === null || x === void 0 ? null : Number(x);
}
function decodeLine(msg, buffers) {
  const count2 = num(msg.count);
  if (!Number.isInteger(msg.run_id)) return { type: "invalid", reason: `line: bad run_id ${msg.run_id}` };
  if (!Number.isInteger(count2) || count2 < 0) return { type: "invalid", reason: `line: bad count ${msg.count}` };
  if (buffers?.length !== 1) {
    return { type: "invalid", reason: `line needs 1 buffer, got ${buffers?.length ?? 0}` };
  }
  let line;
  try {
    line = toFloat64Array(buffers[0], count2);
  } catch (err) {
    return { type: "invalid", reason: `line: ${err.message}` };
  }
  const inf = line.findIndex((y) => y === Infinity || y === -Infinity);
  if (inf >= 0) return { type: "invalid", reason: `line: value ${inf} is infinite` };
  return { type: "line", runId: msg.run_id, count: count2, line };
}
function decodeMessage(msg, buffers = []) {
  if (!msg || typeof msg !== "object") return { type: "invalid", reason: "message is not an object" };
  switch (msg.type) {
    case "run":
      return {
        type: "run",
        runId: msg.run_id,
        numIter: num(msg.num_iter),
        startLr: num(msg.start_lr),
        endLr: num(msg.end_lr),
        stepMode: msg.step_mode === "linear" ? "linear" : "exp"
      };
    case "readings": {
      const count2 = num(msg.count);
      const start = num(msg.start);
      if (!Number.isInteger(count2) || count2 < 0) return { type: "invalid", reason: `bad count ${msg.count}` };
      if (!Number.isInteger(start) || start < 0) return { type: "invalid", reason: `bad start ${msg.start}` };
      if (!buffers || buffers.length < 3) {
        return { type: "invalid", reason: `readings needs 3 buffers, got ${buffers ? buffers.length : 0}` };
      }
      try {
        return {
          type: "readings",
          runId: msg.run_id,
          seq: num(msg.seq),
          start,
          count: count2,
          replay: Boolean(msg.replay),
          lr: toFloat64Array(buffers[0], count2),
          loss: toFloat64Array(buffers[1], count2),
          smoothed: toFloat64Array(buffers[2], count2)
        };
      } catch (err) {
        return { type: "invalid", reason: err.message };
      }
    }
    case "line":
      return decodeLine(msg, buffers);
    case "heartbeat":
      return { type: "heartbeat", t: num(msg.t) };
    default:
      return null;
  }
}

// js/state.js
function nanArray(n) {
  const a = new Float64Array(n);
  a.fill(NaN);
  return a;
}
function createViewState(capacity = 256) {
  return {
    runId: null,
    numIter: null,
    startLr: null,
    endLr: null,
    stepMode: "exp",
    capacity,
    n: 0,
    // one past the highest index written; unwritten slots hold NaN and are not drawn
    lr: nanArray(capacity),
    logLr: nanArray(capacity),
    // log10(lr), computed once per reading so frames need no logs
    loss: nanArray(capacity),
    smoothed: nanArray(capacity),
    lastSeq: -1,
    awaitingReplay: false,
    // a hello went out: gaps are expected until the replay arrives
    lastContact: null,
    // time (ms) of the last message of any kind
    dirtyFrom: 0,
    // lowest index written since the last frame (Infinity: nothing new); the drawer resets it
    firstBad: -1,
    // index of the first reading with a NaN/inf loss, -1 if none
    lrMin: Infinity,
    // extent of the finite, positive lrs written (the x range without a scan per frame)
    lrMax: -Infinity,
    lineLow: -1
    // the finished run's line (no lag) replaced `smoothed`: the index of its lowest point; -1 before
  };
}
function ensureCapacity(state, need) {
  if (need <= state.capacity) return;
  let cap = state.capacity || 256;
  while (cap < need) cap *= 2;
  for (const key of ["lr", "logLr", "loss", "smoothed"]) {
    const fresh = nanArray(cap);
    fresh.set(state[key].subarray(0, state.n));
    state[key] = fresh;
  }
  state.capacity = cap;
}
function clearReadings(state) {
  state.lr.fill(NaN, 0, state.n);
  state.logLr.fill(NaN, 0, state.n);
  state.loss.fill(NaN, 0, state.n);
  state.smoothed.fill(NaN, 0, state.n);
  state.n = 0;
  state.lastSeq = -1;
  state.dirtyFrom = 0;
  state.firstBad = -1;
  state.lrMin = Infinity;
  state.lrMax = -Infinity;
  state.lineLow = -1;
}
function markHelloSent(state) {
  state.awaitingReplay = true;
}
function applyMessage(state, m, now = 0) {
  const res = { changed: false, needHello: false, error: null };
  if (m === null) return res;
  state.lastContact = now;
  if (m.type === "invalid") res.error = m.reason;
  else if (m.type === "run") applyRun(state, m, res);
  else if (m.type === "readings") applyReadings(state, m, res);
  else if (m.type === "line") applyLine(state, m, res);
  return res;
}
function applyLine(state, m, res) {
  if (m.runId !== state.runId) {
    res.error = `line of run ${m.runId}, the view shows run ${state.runId}`;
    return;
  }
  if (m.count !== state.n) {
    res.error = `line of ${m.count} values for ${state.n} readings`;
    return;
  }
  state.smoothed.set(m.line, 0);
  state.dirtyFrom = 0;
  state.firstBad = -1;
  let low = -1;
  for (let i = 0; i < state.n; i++) {
    const y = m.line[i];
    if (state.firstBad < 0 && !(Number.isFinite(state.loss[i]) && Number.isFinite(y))) state.firstBad = i;
    if (Number.isFinite(y) && (low < 0 || y < m.line[low])) low = i;
  }
  state.lineLow = low;
  res.changed = true;
}
function applyRun(state, m, res) {
  if (m.runId !== state.runId) {
    clearReadings(state);
    state.runId = m.runId;
    state.awaitingReplay = false;
  }
  state.numIter = m.numIter;
  state.startLr = m.startLr;
  state.endLr = m.endLr;
  state.stepMode = m.stepMode;
  res.changed = true;
}
function applyReadings(state, m, res) {
  if (m.runId !== state.runId) {
    clearReadings(state);
    state.runId = m.runId;
    state.numIter = null;
    state.startLr = null;
    state.endLr = null;
    if (!m.replay && m.start > 0 && !state.awaitingReplay) res.needHello = true;
  }
  if (m.replay) {
    state.awaitingReplay = false;
    if (m.seq !== null && m.seq > state.lastSeq) state.lastSeq = m.seq;
  } else if (m.seq !== null) {
    if (m.seq > state.lastSeq + 1 && !state.awaitingReplay && state.lastSeq >= 0) res.needHello = true;
    if (m.seq > state.lastSeq) state.lastSeq = m.seq;
  }
  storeReadings(state, m);
  res.changed = m.count > 0 || res.changed;
  if (res.needHello) state.awaitingReplay = true;
}
function storeReadings(state, m) {
  const end = m.start + m.count;
  ensureCapacity(state, end);
  state.lr.set(m.lr, m.start);
  for (let i = 0; i < m.count; i++) {
    const x = m.lr[i];
    state.logLr[m.start + i] = Math.log10(x);
    if (x > 0 && x < Infinity) {
      if (x < state.lrMin) state.lrMin = x;
      if (x > state.lrMax) state.lrMax = x;
    }
  }
  state.loss.set(m.loss, m.start);
  state.smoothed.set(m.smoothed, m.start);
  if (end > state.n) state.n = end;
  if (m.start < state.dirtyFrom) state.dirtyFrom = m.start;
  for (let i = 0; i < m.count; i++) {
    if (!Number.isFinite(m.loss[i]) || !Number.isFinite(m.smoothed[i])) {
      if (state.firstBad < 0 || m.start + i < state.firstBad) state.firstBad = m.start + i;
      break;
    }
  }
}
function handleCustomMessage(state, msg, buffers, now = 0) {
  return applyMessage(state, decodeMessage(msg, buffers), now);
}
var SAVED_MAGIC = "LRW1";
var SAVED_HEADER = 16;
function bytesView(buf) {
  if (buf instanceof ArrayBuffer) return new DataView(buf);
  if (buf && ArrayBuffer.isView(buf)) return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return null;
}
function decodeSavedReadings(buf) {
  const v = bytesView(buf);
  if (v === null || v.byteLength === 0) return null;
  if (v.byteLength < SAVED_HEADER) return { error: `saved readings: ${v.byteLength} bytes, shorter than the header` };
  const magic = String.fromCharCode(v.getUint8(0), v.getUint8(1), v.getUint8(2), v.getUint8(3));
  const runId = v.getUint32(4, true);
  const n = v.getUint32(8, true);
  const flags = v.getUint32(12, true);
  if (magic !== SAVED_MAGIC || flags !== 0)
    return { error: `saved readings: unknown layout ${magic} (flags ${flags})` };
  if (v.byteLength !== SAVED_HEADER + 16 * n) return { error: `saved readings: ${v.byteLength} bytes for n=${n}` };
  const lr = new Float64Array(n);
  const loss = new Float64Array(n);
  const smoothed = new Float64Array(n);
  const o32 = SAVED_HEADER + 8 * n;
  for (let i = 0; i < n; i++) {
    lr[i] = v.getFloat64(SAVED_HEADER + 8 * i, true);
    loss[i] = v.getFloat32(o32 + 4 * i, true);
    smoothed[i] = v.getFloat32(o32 + 4 * (n + i), true);
  }
  return { runId, n, lr, loss, smoothed };
}
function applySavedReadings(state, saved, run) {
  if (!saved || saved.error || state.n > 0) return false;
  const contact = state.lastContact;
  applyMessage(state, { type: "run", runId: saved.runId, stepMode: "exp", ...run });
  applyMessage(state, {
    type: "readings",
    runId: saved.runId,
    seq: null,
    start: 0,
    count: saved.n,
    replay: true,
    lr: saved.lr,
    loss: saved.loss,
    smoothed: saved.smoothed
  });
  state.lastContact = contact;
  return true;
}

// js/view/compare_state.js
var MAX_RUNS = 8;
var MAX_READINGS = 1e7;
function emptyRun() {
  return { lr: new Float64Array(0), logLr: new Float64Array(0), smoothed: new Float64Array(0), n: 0, version: 0 };
}
function createCompareState() {
  return { runs: Array.from({ length: MAX_RUNS }, emptyRun) };
}
function ensure(run, need) {
  if (run.lr.length >= need) return;
  const cap = Math.max(need, Math.ceil(run.lr.length * 1.5), 256);
  for (const key of ["lr", "logLr", "smoothed"]) {
    const fresh = new Float64Array(cap);
    fresh.set(run[key].subarray(0, run.n));
    run[key] = fresh;
  }
}
function writeReadings(state, k, start, lr, smoothed) {
  const run = state.runs[k];
  const end = start + lr.length;
  if (start > run.n || end > MAX_READINGS) return false;
  ensure(run, end);
  run.lr.set(lr, start);
  run.smoothed.set(smoothed, start);
  for (let i = start; i < end; i++) run.logLr[i] = Math.log10(lr[i]);
  run.n = Math.max(run.n, end);
  run.version++;
  return true;
}
function isRun(k) {
  return Number.isInteger(k) && k >= 0 && k < MAX_RUNS;
}
function applyCompareMessage(state, msg, buffers = []) {
  if (!msg || typeof msg !== "object" || !isRun(msg.run)) return false;
  if (msg.type === "compare_run") {
    const run = state.runs[msg.run];
    run.n = 0;
    run.version++;
    return true;
  }
  if (msg.type !== "compare_readings" || !Number.isInteger(msg.start) || msg.start < 0) return false;
  if (!buffers || buffers.length < 3) return false;
  try {
    const lr = toFloat64Array(buffers[0], msg.count);
    const smoothed = toFloat64Array(buffers[2], msg.count);
    return writeReadings(state, msg.run, msg.start, lr, smoothed);
  } catch {
    return false;
  }
}
function asBytes(buf) {
  if (buf instanceof ArrayBuffer) return new Uint8Array(buf);
  if (buf && ArrayBuffer.isView(buf)) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return null;
}
function splitSaved(buf) {
  const bytes = asBytes(buf);
  const out = [];
  if (!bytes) return out;
  let at = 0;
  while (at + 16 <= bytes.length && out.length < MAX_RUNS) {
    const n = new DataView(bytes.buffer, bytes.byteOffset + at + 8, 4).getUint32(0, true);
    const size = 16 + 16 * n;
    if (at + size > bytes.length) break;
    const saved = decodeSavedReadings(bytes.subarray(at, at + size));
    if (!saved || saved.error || !isRun(saved.runId)) break;
    out.push({ run: saved.runId, lr: saved.lr, smoothed: saved.smoothed, n: saved.n });
    at += size;
  }
  return out;
}
function applySaved(state, buf) {
  const saved = splitSaved(buf);
  for (const s of saved) {
    state.runs[s.run].n = 0;
    writeReadings(state, s.run, 0, s.lr, s.smoothed);
  }
  return saved.length > 0;
}
function asRunInfos(v) {
  if (!Array.isArray(v)) return [];
  const num3 = (x) => typeof x === "number" && Number.isFinite(x) ? x : null;
  const str = (x) => typeof x === "string" ? x.slice(0, 300) : "";
  return v.slice(0, MAX_RUNS).map((r, k) => {
    const o = r && typeof r === "object" ? r : {};
    return {
      label: str(o.label) || `run ${k + 1}`,
      color: Number.isInteger(o.color) && o.color >= 0 ? o.color : k,
      running: o.running === true,
      suggestion: num3(o.suggestion) !== null && o.suggestion > 0 ? o.suggestion : null,
      suggestionIndex: Number.isSafeInteger(o.suggestion_index) ? o.suggestion_index : null,
      optimizerLr: num3(o.optimizer_lr),
      warning: str(o.warning),
      target: str(o.target),
      log: o.log !== false
    };
  });
}
var MAX_TREND_POINTS = 64;
function asTrend(v) {
  if (!v || typeof v !== "object" || !Array.isArray(v.points)) return null;
  const points = v.points.slice(0, MAX_TREND_POINTS).filter((p) => Array.isArray(p) && p[0] > 0 && Number.isFinite(p[0]) && Number.isFinite(p[1]));
  return points.length ? { points, text: typeof v.text === "string" ? v.text.slice(0, 200) : "" } : null;
}

// js/view/dom.js
function h(tag, attrs = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.appendChild(c);
  return e;
}
function buildHeader() {
  const title = h("div", { class: "lrw-title" });
  const statusDot = h("span", { class: "lrw-dot", "aria-hidden": "true" });
  const statusText = h("span", { class: "lrw-status-text" });
  const status = h("div", { class: "lrw-status", role: "status", "aria-live": "polite" }, [statusDot, statusText]);
  return { title, status, statusText, header: h("div", { class: "lrw-header" }, [title, status]) };
}
function buildPlot() {
  const canvas = h("canvas", { class: "lrw-canvas", "aria-hidden": "true" });
  const tooltip = h("div", { class: "lrw-tooltip", role: "presentation" });
  tooltip.hidden = true;
  const hint = h("div", { class: "lrw-hint", role: "note" });
  hint.hidden = true;
  const plotBox = h(
    "div",
    {
      class: "lrw-plot",
      tabindex: "0",
      role: "application",
      "aria-roledescription": "learning-rate finder plot",
      "aria-label": "Loss against learning rate. Click or use Left/Right arrows to select a learning rate, Enter to apply; drag or Shift+Left/Right to select a range, Escape to clear it."
    },
    [canvas, hint, tooltip]
  );
  return { canvas, tooltip, hint, plotBox };
}
function buildControls() {
  const picker = h("select", { class: "lrw-picker", "aria-label": "Suggestion" });
  const pickerLabel = h("label", { class: "lrw-picker-label" }, [h("span", { text: "Suggestion" }), picker]);
  const selReadout = h("span", { class: "lrw-readout lrw-sel" });
  const appliedReadout = h("span", { class: "lrw-readout lrw-applied" });
  const readouts2 = h("div", { class: "lrw-readouts" }, [selReadout, appliedReadout]);
  const stopBtn = h("button", { class: "lrw-btn lrw-stop", type: "button", text: "Stop" });
  const applyBtn = h("button", { class: "lrw-btn lrw-apply", type: "button", text: "Apply" });
  const buttons = h("div", { class: "lrw-buttons" }, [stopBtn, applyBtn]);
  const controls = h("div", { class: "lrw-controls" }, [pickerLabel, readouts2, buttons]);
  return { picker, selReadout, appliedReadout, stopBtn, applyBtn, controls };
}
function buildFoldNote() {
  const showHereBtn = h("button", { class: "lrw-btn lrw-show-here", type: "button", text: "Show here" });
  const foldNote = h("div", { class: "lrw-elsewhere", role: "note" }, [
    h("span", { class: "lrw-elsewhere-text", text: "LR finder: shown in the right sidebar" }),
    showHereBtn
  ]);
  foldNote.hidden = true;
  return { showHereBtn, foldNote };
}
function buildLayout() {
  const { header, ...head } = buildHeader();
  const plot = buildPlot();
  const legend = h("div", { class: "lrw-legend", role: "group", "aria-label": "Suggestions" });
  const { controls, ...ctl } = buildControls();
  const live = h("div", { class: "lrw-sr-only", "aria-live": "polite" });
  const root = h("div", { class: "lrw-root", "data-lm-suppress-shortcuts": "true" });
  root.append(header, plot.plotBox, legend, controls, live);
  return { root, legend, live, ...head, ...plot, ...ctl, ...buildFoldNote() };
}

// js/theme.js
function parseColor(str) {
  if (typeof str !== "string") return null;
  const s = str.trim().toLowerCase();
  let m = /^#([0-9a-f]{3,8})$/.exec(s);
  if (m) {
    const h2 = m[1];
    if (h2.length === 3 || h2.length === 4) {
      const v = h2.split("").map((c) => parseInt(c + c, 16));
      return [v[0], v[1], v[2], h2.length === 4 ? v[3] / 255 : 1];
    }
    if (h2.length === 6 || h2.length === 8) {
      const v = [0, 2, 4, 6].map((i) => parseInt(h2.slice(i, i + 2), 16));
      return [v[0], v[1], v[2], h2.length === 8 ? v[3] / 255 : 1];
    }
    return null;
  }
  m = /^rgba?\(([^)]+)\)$/.exec(s);
  if (m) {
    const parts = m[1].split(/[\s,/]+/).filter(Boolean);
    if (parts.length < 3) return null;
    const v = parts.slice(0, 3).map((p) => p.endsWith("%") ? parseFloat(p) * 255 / 100 : parseFloat(p));
    const alpha = parts.length > 3 ? parts[3] : "1";
    const a = alpha.endsWith("%") ? parseFloat(alpha) / 100 : parseFloat(alpha);
    if (v.some((x) => !Number.isFinite(x)) || !Number.isFinite(a)) return null;
    return [v[0], v[1], v[2], a];
  }
  if (s === "white") return [255, 255, 255, 1];
  if (s === "black") return [0, 0, 0, 1];
  return null;
}
function luminance([r, g, b]) {
  const f = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}
function withAlpha(color, alpha) {
  const c = parseColor(color);
  if (!c) return color;
  return `rgba(${Math.round(c[0])},${Math.round(c[1])},${Math.round(c[2])},${alpha})`;
}
var LIGHT = rules_default.palette.light;
var DARK = rules_default.palette.dark;
var JUPYTER = {
  bg: ["--jp-layout-color0"],
  fg: ["--jp-ui-font-color1"],
  fgStrong: ["--jp-ui-font-color0"],
  fgMuted: ["--jp-ui-font-color2"],
  fgFaint: ["--jp-ui-font-color3"],
  panel: ["--jp-layout-color1"],
  panel2: ["--jp-layout-color2"],
  border: ["--jp-border-color1"],
  grid: ["--jp-border-color2"],
  accent: ["--jp-brand-color1"],
  selected: ["--jp-warn-color0"],
  applied: ["--jp-success-color1"],
  error: ["--jp-error-color1"],
  font: ["--jp-ui-font-family"]
};
var VSCODE = {
  bg: ["--vscode-editor-background", "--vscode-notebook-editorBackground"],
  fg: ["--vscode-editor-foreground", "--vscode-foreground"],
  fgStrong: ["--vscode-editor-foreground"],
  fgMuted: ["--vscode-descriptionForeground"],
  fgFaint: ["--vscode-disabledForeground"],
  panel: ["--vscode-editorWidget-background"],
  panel2: ["--vscode-input-background"],
  border: ["--vscode-panel-border", "--vscode-editorWidget-border"],
  accent: ["--vscode-charts-blue", "--vscode-focusBorder"],
  selected: ["--vscode-charts-orange"],
  applied: ["--vscode-charts-green"],
  error: ["--vscode-errorForeground", "--vscode-charts-red"],
  font: ["--vscode-font-family"]
};
var MARIMO = {
  bg: ["--background"],
  fg: ["--foreground"],
  fgStrong: ["--foreground"],
  fgMuted: ["--muted-foreground"],
  border: ["--border"],
  font: ["--text-font"]
};
var VSCODE_CHARTS = ["blue", "purple", "orange", "green", "red", "yellow"].map((c) => `--vscode-charts-${c}`);
var HOST_VARS = {
  jupyter: [JUPYTER, VSCODE],
  vscode: [VSCODE],
  marimo: [MARIMO]
};
function detectHost(getVar, bodyClass = "") {
  const has = (name) => Boolean((getVar(name) || "").trim());
  if (/(^|\s)vscode-(light|dark|high-contrast)/.test(bodyClass || "")) return "vscode";
  if (has("--vscode-editor-background") || has("--vscode-editor-foreground") || has("--vscode-font-family"))
    return "vscode";
  if (has("--marimo-code-editor-font-size")) return "marimo";
  return "jupyter";
}
function pickTheme(getVar, prefersDark = false, host = "jupyter") {
  const tables = HOST_VARS[host] || HOST_VARS.jupyter;
  const first = (names) => {
    for (const n of names) {
      const x = (getVar(n) || "").trim();
      if (x) return x;
    }
    return "";
  };
  const v = (role) => first(tables.flatMap((t) => t[role] || []));
  const bgVar = v("bg");
  const bgParsed = parseColor(bgVar);
  const dark = bgParsed ? luminance(bgParsed) < 0.4 : prefersDark;
  const base = dark ? DARK : LIGHT;
  const fg = v("fg") || base.fg;
  const grid = v("grid");
  const charts = tables.includes(VSCODE) ? VSCODE_CHARTS.map((n) => first([n])) : [];
  return {
    dark,
    host: HOST_VARS[host] ? host : "jupyter",
    fg,
    fgStrong: v("fgStrong") || base.fg,
    fgMuted: v("fgMuted") || base.fgMuted,
    fgFaint: v("fgFaint") || base.fgFaint,
    bg: bgVar || base.bg,
    panel: v("panel") || base.panel,
    panel2: v("panel2") || base.panel,
    border: v("border") || base.border,
    // Grid: the host's faint border color when it has one, else a faint tint of the text color.
    grid: grid ? withAlpha(grid, dark ? 0.5 : 0.6) : withAlpha(fg, base.gridAlpha),
    accent: v("accent") || base.accent,
    selected: v("selected") || base.selected,
    applied: v("applied") || base.applied,
    error: v("error") || base.error,
    rules: base.rules.map((c, i) => charts[i] || c),
    runs: base.runs,
    // the compare chart's run colours (Okabe-Ito): fixed, a host's chart colours are not colour-blind safe
    // The raw loss curve: the accent at this alpha (brighter on dark backgrounds).
    rawAlpha: base.rawAlpha,
    font: v("font") || "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
    fontSize: 11
  };
}
function readTheme(el) {
  const style = getComputedStyle(el);
  const getVar = (name) => style.getPropertyValue(name);
  const prefersDark = typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
  const bodyClass = typeof document !== "undefined" && document.body ? document.body.className : "";
  return pickTheme(getVar, prefersDark, detectHost(getVar, bodyClass));
}
function watchTheme(onChange) {
  const disposers = [];
  if (typeof MutationObserver === "function" && typeof document !== "undefined") {
    const mo = new MutationObserver(() => onChange());
    const opts = {
      attributes: true,
      attributeFilter: [
        "class",
        "style",
        "data-jp-theme-light",
        "data-jp-theme-name",
        "data-vscode-theme-kind",
        "data-theme"
      ]
    };
    if (document.body) mo.observe(document.body, opts);
    mo.observe(document.documentElement, opts);
    disposers.push(() => mo.disconnect());
  }
  if (typeof matchMedia === "function") {
    const mq = matchMedia("(prefers-color-scheme: dark)");
    const h2 = () => onChange();
    if (mq.addEventListener) {
      mq.addEventListener("change", h2);
      disposers.push(() => mq.removeEventListener("change", h2));
    }
  }
  return () => {
    for (const d of disposers) d();
  };
}

// js/layers/curves.js
function drawClippedMarks(ctx, g, theme) {
  const { smooth: sm, dpr, yr } = g;
  ctx.fillStyle = theme.fgMuted;
  let lastX = -Infinity;
  const topY = (g.plot.top + 1) * dpr;
  const s = 4 * dpr;
  ctx.beginPath();
  for (let j = 0; j < sm.count; j++) {
    if (!(sm.max[j] > yr.hi)) continue;
    const x = sm.x0[j];
    if (x - lastX < 8 * dpr) continue;
    lastX = x;
    ctx.moveTo(x, topY);
    ctx.lineTo(x - s, topY + s * 1.4);
    ctx.lineTo(x + s, topY + s * 1.4);
    ctx.closePath();
  }
  ctx.fill();
}
function drawCurves(ctx, g, _f, theme) {
  if (g.n <= 0) return;
  const { dpr } = g;
  const yMap = clipToPlot(ctx, g);
  const rawColor = withAlpha(theme.accent, theme.dark ? 0.55 : 0.3);
  const tol = 0.3 * dpr;
  if (g.n >= 2 * g.raw.count) {
    ctx.fillStyle = rawColor;
    fillBand(ctx, g.raw, yMap, dpr);
  } else {
    ctx.strokeStyle = rawColor;
    ctx.lineWidth = 1 * dpr;
    strokeColumns(ctx, g.raw, yMap, tol);
  }
  ctx.strokeStyle = theme.accent;
  ctx.lineWidth = 2.25 * dpr;
  ctx.lineJoin = g.smooth.count < 1500 ? "round" : "bevel";
  strokeColumns(ctx, g.smoothLine, yMap, tol);
  if (g.yr.clipped) drawClippedMarks(ctx, g, theme);
  ctx.restore();
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
}

// js/layers/markers.js
function lossAt(data, log, s) {
  if (log && data.logLr && data.logLr.length >= data.n) {
    return markerLoss(data.logLr, data.smoothed, { lr: Math.log10(s.lr), index: s.index }, data.n, false);
  }
  return markerLoss(data.lr, data.smoothed, s, data.n, log);
}
function markerMemo(cache, data, log, dirtyFrom) {
  const m = cache.markerLoss;
  if (m.data !== data || m.n !== data.n || m.log !== log || dirtyFrom !== Number.POSITIVE_INFINITY) {
    m.data = data;
    m.n = data.n;
    m.log = log;
    m.losses.clear();
  }
  return m.losses;
}
function placeMarkers(g, data, suggestions, memo = /* @__PURE__ */ new Map()) {
  const { plot, xScale, yScale, log } = g;
  const markers = [];
  for (let k = 0; k < suggestions.length; k++) {
    const s = suggestions[k];
    if (!Number.isFinite(s.lr) || log && !(s.lr > 0)) continue;
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
function drawSuggestions(ctx, g, f, theme) {
  const order = g.markers.slice().sort((a, b) => (a.suggestion.default ? 1 : 0) - (b.suggestion.default ? 1 : 0));
  for (const m of order) {
    const color = m.suggestion.color || theme.rules[m.k % theme.rules.length];
    const r = (m.suggestion.default ? 6 : 4.5) + (f.hoverMarker === m.k ? 1.5 : 0);
    drawMarker(ctx, m, color, r, theme);
  }
}
function firstBadIndex(data) {
  if (Number.isInteger(data.firstBad)) return data.firstBad;
  for (let i = 0; i < data.n; i++) {
    if (Number.isNaN(data.lr[i])) continue;
    if (!Number.isFinite(data.loss[i]) || !Number.isFinite(data.smoothed[i])) return i;
  }
  return -1;
}
function divergence(data, divergedLr) {
  const firstBad = firstBadIndex(data);
  const lr = Number.isFinite(divergedLr) ? divergedLr : firstBad >= 0 ? data.lr[firstBad] : Number.NaN;
  if (!Number.isFinite(lr)) return null;
  const label = firstBad >= 0 ? `loss ${Number.isNaN(data.loss[firstBad]) ? "NaN" : "inf"}` : "diverged";
  return { lr, label };
}
function drawDivergence(ctx, g, f, theme) {
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

// js/layers/overlays.js
function spreadLabels(xs, ws, lo, hi, gap = 4) {
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const left = xs.map((x, i) => x - ws[i] / 2);
  for (let pass = 0; pass < 4; pass++) {
    for (let k = 1; k < order.length; k++) {
      const a = order[k - 1];
      const b = order[k];
      const overlap = left[a] + ws[a] + gap - left[b];
      if (overlap > 0) {
        left[a] -= overlap / 2;
        left[b] += overlap / 2;
      }
    }
    for (const i of order) left[i] = Math.max(lo, Math.min(hi - ws[i], left[i]));
  }
  return left;
}
function pillWidth(ctx, theme, text) {
  ctx.font = font(theme, 11, "600");
  return ctx.measureText(text).width + 10;
}
function drawPill(ctx, theme, text, bx, y, w, color) {
  ctx.font = font(theme, 11, "600");
  ctx.fillStyle = color;
  ctx.beginPath();
  if (ctx.roundRect) ctx.roundRect(bx, y - 8, w, 16, 4);
  else ctx.rect(bx, y - 8, w, 16);
  ctx.fill();
  ctx.fillStyle = theme.bg;
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  ctx.fillText(text, bx + 5, y + 0.5);
}
function rateLines(g, f, theme) {
  const wanted = [
    { lr: f.appliedLr, color: theme.applied, dash: [5, 4], text: () => `applied ${formatLR(f.appliedLr)}` },
    { lr: f.selectedLr, color: theme.selected, dash: [], text: () => formatLR(f.selectedLr) }
  ];
  const lines = [];
  for (const w of wanted) {
    if (!Number.isFinite(w.lr) || g.log && !(w.lr > 0)) continue;
    const x = g.xScale.map(w.lr);
    if (!(x >= g.plot.left - 1 && x <= g.plot.right + 1)) continue;
    lines.push({ x, color: w.color, dash: w.dash, text: w.text() });
  }
  return lines;
}
function drawRateLines(ctx, g, f, theme) {
  const { plot } = g;
  const lines = rateLines(g, f, theme);
  for (const l of lines) {
    ctx.strokeStyle = l.color;
    ctx.lineWidth = 1.75;
    ctx.setLineDash(l.dash);
    ctx.beginPath();
    ctx.moveTo(Math.round(l.x) + 0.5, plot.top);
    ctx.lineTo(Math.round(l.x) + 0.5, plot.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (!lines.length) return;
  const widths = lines.map((l) => pillWidth(ctx, theme, l.text));
  const lo = Math.max(plot.left - 4, g.titleRight);
  const lefts = spreadLabels(
    lines.map((l) => l.x),
    widths,
    lo,
    g.width - 2
  );
  lines.forEach((l, i) => {
    drawPill(ctx, theme, l.text, lefts[i], plot.top - 10, widths[i], l.color);
  });
}
function dot(ctx, x, y, r) {
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
}
function drawHover(ctx, g, f, theme) {
  const { data } = f;
  const hi = f.hoverIndex;
  if (!(Number.isInteger(hi) && hi >= 0 && hi < g.n && Number.isFinite(data.lr[hi]))) return;
  const { plot, yScale, yr } = g;
  const x = g.xScale.map(data.lr[hi]);
  const ys = data.smoothed[hi];
  const yraw = data.loss[hi];
  ctx.strokeStyle = withAlpha(theme.fg, 0.45);
  ctx.lineWidth = 1;
  ctx.setLineDash([3, 3]);
  ctx.beginPath();
  ctx.moveTo(Math.round(x) + 0.5, plot.top);
  ctx.lineTo(Math.round(x) + 0.5, plot.bottom);
  if (Number.isFinite(ys)) {
    const y = Math.round(Math.max(plot.top, Math.min(plot.bottom, yScale.map(ys)))) + 0.5;
    ctx.moveTo(plot.left, y);
    ctx.lineTo(plot.right, y);
  }
  ctx.stroke();
  ctx.setLineDash([]);
  if (Number.isFinite(yraw) && yraw <= yr.hi && yraw >= yr.lo) {
    ctx.fillStyle = withAlpha(theme.accent, 0.6);
    dot(ctx, x, yScale.map(yraw), 2.5);
    ctx.fill();
  }
  if (Number.isFinite(ys) && ys <= yr.hi && ys >= yr.lo) {
    ctx.fillStyle = theme.accent;
    ctx.strokeStyle = theme.bg;
    ctx.lineWidth = 2;
    dot(ctx, x, yScale.map(ys), 4);
    ctx.stroke();
    ctx.fill();
  }
}
function drawMessage(ctx, g, f, theme) {
  if (!f.message) return;
  ctx.fillStyle = theme.fgMuted;
  ctx.font = font(theme, 12);
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText(f.message, (g.plot.left + g.plot.right) / 2, (g.plot.top + g.plot.bottom) / 2);
}

// js/layers/range.js
function bandPixels(range, xScale, plot, log) {
  if (!range || !(range.lo < range.hi) || log && !(range.lo > 0)) return null;
  const a = xScale.map(range.lo);
  const b = xScale.map(range.hi);
  if (!Number.isFinite(a) || !Number.isFinite(b) || b < plot.left || a > plot.right) return null;
  return { x0: Math.max(plot.left, a), x1: Math.min(plot.right, b) };
}
function endLabels(range, band, widths, gap = 4) {
  const inside = band.x1 - band.x0 >= widths[0] + widths[1] + 3 * gap;
  return [
    { text: formatLR(range.lo), x: inside ? band.x0 + gap : band.x0 - gap, align: inside ? "left" : "right" },
    { text: formatLR(range.hi), x: inside ? band.x1 - gap : band.x1 + gap, align: inside ? "right" : "left" }
  ];
}
function strokeEdges(ctx, x0, x1, plot) {
  ctx.beginPath();
  for (const x of [x0, x1]) {
    ctx.moveTo(Math.round(x) + 0.5, plot.top);
    ctx.lineTo(Math.round(x) + 0.5, plot.bottom);
  }
  ctx.stroke();
}
function drawBand(ctx, g, band, color, suggested) {
  const { plot } = g;
  ctx.fillStyle = withAlpha(color, suggested ? 0.06 : 0.14);
  ctx.fillRect(band.x0, plot.top, band.x1 - band.x0, plot.bottom - plot.top);
  ctx.strokeStyle = withAlpha(color, suggested ? 0.7 : 0.9);
  ctx.lineWidth = 1.25;
  ctx.setLineDash(suggested ? [4, 4] : []);
  strokeEdges(ctx, band.x0, band.x1, plot);
  ctx.setLineDash([]);
}
function drawLabels(ctx, g, range, band, theme, suggested) {
  ctx.font = font(theme, 11, "600");
  const texts = [formatLR(range.lo), formatLR(range.hi)];
  const labels = endLabels(
    range,
    band,
    texts.map((t) => ctx.measureText(t).width)
  );
  ctx.fillStyle = suggested ? theme.fgMuted : theme.fg;
  ctx.textBaseline = "bottom";
  const y = g.plot.bottom - 4;
  for (const l of labels) {
    ctx.textAlign = l.align;
    ctx.fillText(l.text, l.x, y);
  }
  if (suggested) {
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.font = font(theme, 10);
    ctx.fillText("suggested range", (band.x0 + band.x1) / 2, g.plot.top + 4);
  }
}
function drawRange(ctx, g, f, theme) {
  const color = theme.selected;
  if (f.drag) {
    const x0 = Math.max(g.plot.left, Math.min(f.drag.x0, f.drag.x1));
    const x1 = Math.min(g.plot.right, Math.max(f.drag.x0, f.drag.x1));
    if (x1 > x0) drawBand(ctx, g, { x0, x1 }, color, false);
    return;
  }
  const band = bandPixels(f.range, g.xScale, g.plot, g.log);
  if (!band) return;
  drawBand(ctx, g, band, color, f.range.suggested);
  drawLabels(ctx, g, f.range, band, theme, f.range.suggested);
}

// js/plot.js
var LAYERS = [
  drawGrid,
  drawAxisLines,
  drawTickLabels,
  drawAxisTitles,
  drawRange,
  // the brushed (or suggested) range, under the curve
  drawCurves,
  drawDivergence,
  drawRateLines,
  drawSuggestions,
  drawHover,
  drawMessage
];
function drawFrame(f) {
  const { ctx, width, height, theme } = f;
  const dpr = f.dpr || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const cache = f.cache || createPlotCache();
  const g = frameGeometry(ctx, f, cache);
  const memo = markerMemo(cache, f.data, g.log, f.dirtyFrom === void 0 ? 0 : f.dirtyFrom);
  g.markers = placeMarkers(g, f.data, f.suggestions || [], memo);
  for (const layer of LAYERS) layer(ctx, g, f, theme);
  return { plot: g.plot, xScale: g.xScale, yScale: g.yScale, markers: g.markers, yr: g.yr };
}

// js/view/keys.js
function keyAction({ key, shiftKey = false, altKey = false, ctrlKey = false, metaKey = false }) {
  if (altKey || ctrlKey || metaKey) return null;
  if (shiftKey && (key === "ArrowLeft" || key === "ArrowRight")) return null;
  const step = shiftKey ? 10 : 1;
  switch (key) {
    case "ArrowLeft":
    case "ArrowDown":
      return { kind: "step", delta: -step };
    case "ArrowRight":
    case "ArrowUp":
      return { kind: "step", delta: step };
    case "Home":
      return { kind: "edge", last: false };
    case "End":
      return { kind: "edge", last: true };
    case "Enter":
      return { kind: "apply" };
    default:
      return null;
  }
}
function keyFallback(suggestions, n, isValid, smoothed = null) {
  const def = suggestions.find((s) => s.default && Number.isInteger(s.index));
  if (def) return def.index;
  if (!smoothed) return edgeIndex(n, isValid, true);
  let best = -1;
  for (let i = 0; i < n; i++) {
    if (isValid(i) && Number.isFinite(smoothed[i]) && (best < 0 || smoothed[i] < smoothed[best])) best = i;
  }
  return best;
}
function keyTarget(action, cur, n, isValid, fallback) {
  if (action.kind === "edge") return edgeIndex(n, isValid, action.last);
  if (action.kind !== "step") return -1;
  if (cur < 0) return stepIndex(-1, 0, n, isValid, fallback);
  return stepIndex(cur, action.delta, n, isValid);
}

// js/view/view.js
var clock = () => typeof performance !== "undefined" ? performance.now() : Date.now();
function createView(el, now = clock) {
  return {
    now,
    readings: createViewState(),
    // messages.js applies decoded messages; frame_loop.js resets dirtyFrom after a draw
    theme: readTheme(el),
    // theme_watch.js
    frame: null,
    // frame_loop.js: what the last drawFrame returned (scales, markers), for hit testing
    hover: { index: -1, marker: -1 },
    // interaction.js: hovered reading, or hovered suggestion marker (its k)
    localSel: null,
    // selection.js: {lr, index}, optimistic until the kernel's selected_lr comes back
    localRange: null,
    // range.js: {lo, hi, t} or {clear, t}, this view's proposal until the kernel answers
    drag: null,
    // range.js: {x0, x1} CSS px while a drag across the plot goes on
    dragged: false,
    // range.js: the click after a drag's pointerup ends the drag (interaction.js skips it)
    lastTraitContact: now(),
    // trait_watch.js: when a status trait last changed (the kernel was alive then)
    training: null,
    // training.js: the doctor's state (training_state.js), null until it mounts
    trainingFrame: null,
    // training.js: what the last drawTrainingFrame returned, for the pointer and zoom
    closed: false
    // widget.js, after the cleanups: sends stop, frames and placement polling end
  };
}
function isLogAxis(stepModeTrait, readings) {
  return (stepModeTrait || readings.stepMode) !== "linear";
}
function isSelectable(readings, i) {
  return Number.isFinite(readings.lr[i]) && Number.isFinite(readings.smoothed[i]);
}

// js/view/range.js
var DRAG_MIN_PX = 5;
var LOCAL_RANGE_MS = 2e3;
function asRange(v) {
  if (!Array.isArray(v) || v.length !== 2) return null;
  const [lo, hi] = v;
  const ok = (x) => typeof x === "number" && Number.isFinite(x) && x > 0;
  return ok(lo) && ok(hi) && lo < hi ? { lo, hi } : null;
}
function shownRange(localRange, selected, suggested, now) {
  const pending = localRange && now - localRange.t < LOCAL_RANGE_MS;
  if (pending && !localRange.clear) return { lo: localRange.lo, hi: localRange.hi, suggested: false };
  const sel = pending ? null : asRange(selected);
  if (sel) return { ...sel, suggested: false };
  const sug = asRange(suggested);
  return sug ? { ...sug, suggested: true } : null;
}
function answersProposal(localRange, selected) {
  if (!localRange) return true;
  const sel = asRange(selected);
  if (localRange.clear) return sel === null;
  return sel !== null && sel.lo === localRange.lo && sel.hi === localRange.hi;
}
function isDrag(x0, x1, min = DRAG_MIN_PX) {
  return Math.abs(x1 - x0) >= min;
}
function dragReadings(frame, readings, x0, x1, log) {
  const clamp = (x) => Math.max(frame.plot.left, Math.min(frame.plot.right, x));
  const at = (x) => nearestIndex(readings.lr, readings.n, frame.xScale.invert(clamp(x)), log, readings.smoothed);
  const a = at(x0);
  const b = at(x1);
  if (a < 0 || b < 0 || readings.lr[a] === readings.lr[b]) return null;
  return readings.lr[a] < readings.lr[b] ? { lo: a, hi: b } : { lo: b, hi: a };
}
function rangeKey({ key, shiftKey = false, altKey = false, ctrlKey = false, metaKey = false }) {
  if (altKey || ctrlKey || metaKey) return null;
  if (key === "Escape") return { kind: "clear" };
  if (!shiftKey) return null;
  if (key === "ArrowLeft") return { kind: "extend", delta: -1 };
  if (key === "ArrowRight") return { kind: "extend", delta: 1 };
  return null;
}
function keyRangeStart(kept, brushed, lrs, selIndex, fallback) {
  const same = kept && brushed && lrs[Math.min(kept.anchor, kept.focus)] === brushed.lo;
  if (same && lrs[Math.max(kept.anchor, kept.focus)] === brushed.hi && (selIndex < 0 || kept.anchor === selIndex)) {
    return kept;
  }
  if (selIndex >= 0) return { anchor: selIndex, focus: selIndex };
  if (brushed) {
    const lo = lrs.indexOf(brushed.lo);
    const hi = lrs.lastIndexOf(brushed.hi);
    if (lo >= 0 && hi >= 0) return { anchor: lo, focus: hi };
  }
  return { anchor: fallback, focus: fallback };
}
function extendKeyRange(start, delta, n, isValid) {
  if (start.anchor < 0) return start;
  return { anchor: start.anchor, focus: stepIndex(start.focus, delta, n, isValid) };
}
function rangeCommand(lrs, a, b) {
  if (a < 0 || b < 0 || lrs[a] === lrs[b]) return { type: "select_range", lo: null, hi: null };
  return { type: "select_range", lo: Math.min(lrs[a], lrs[b]), hi: Math.max(lrs[a], lrs[b]) };
}
function rangeText(cmd) {
  return cmd.lo === null ? "Range cleared" : `Range ${formatLR(cmd.lo)} to ${formatLR(cmd.hi)} selected`;
}
function sendRange(env, cmd) {
  const { port, view, bus, dom } = env;
  const t = view.now();
  view.localRange = cmd.lo === null ? { clear: true, t } : { lo: cmd.lo, hi: cmd.hi, t };
  port.send(cmd);
  dom.live.textContent = rangeText(cmd);
  bus.emit("draw");
  setTimeout(() => bus.emit("draw"), LOCAL_RANGE_MS + 50);
}
function mountDrag(env) {
  const { dom, port, view, bus } = env;
  const { canvas } = dom;
  const xOf = (ev) => ev.clientX - canvas.getBoundingClientRect().left;
  let press = null;
  const onDown = (ev) => {
    view.dragged = false;
    if (ev.button !== 0 || !view.frame || view.readings.n === 0) return;
    const x = xOf(ev);
    const p = view.frame.plot;
    if (x < p.left || x > p.right) return;
    press = { x0: x, id: ev.pointerId };
    canvas.setPointerCapture?.(ev.pointerId);
  };
  const onMove = (ev) => {
    if (!press || ev.pointerId !== press.id) return;
    const x = xOf(ev);
    if (!view.drag && !isDrag(press.x0, x)) return;
    view.drag = { x0: press.x0, x1: x };
    bus.emit("draw");
  };
  const onUp = (ev) => {
    if (!press || ev.pointerId !== press.id) return;
    const drag = view.drag;
    press = null;
    view.drag = null;
    if (!drag) return;
    view.dragged = true;
    const log = isLogAxis(port.get("step_mode"), view.readings);
    const ends = view.frame && dragReadings(view.frame, view.readings, drag.x0, drag.x1, log);
    if (ends) sendRange(env, rangeCommand(view.readings.lr, ends.lo, ends.hi));
    else bus.emit("draw");
  };
  const events = [
    ["pointerdown", onDown],
    ["pointermove", onMove],
    ["pointerup", onUp],
    ["pointercancel", onUp]
  ];
  for (const [name, fn] of events) canvas.addEventListener(name, fn);
  return () => {
    for (const [name, fn] of events) canvas.removeEventListener(name, fn);
  };
}
function mountRangeKeys(env, selectedIndex2) {
  const { dom, port, view } = env;
  const memo = port.memo();
  const onKey = (ev) => {
    if (view.training?.mode === "training") return;
    const action = rangeKey(ev);
    if (!action) return;
    const shown = shownRange(view.localRange, port.get("selected_range"), null, view.now());
    const brushed = shown && { lo: shown.lo, hi: shown.hi };
    if (action.kind === "clear" && !brushed) return;
    ev.preventDefault();
    ev.stopPropagation();
    if (action.kind === "clear") {
      memo.keyRange = null;
      return sendRange(env, rangeCommand([], -1, -1));
    }
    const r = view.readings;
    const valid = (i) => isSelectable(r, i);
    const fallback = keyFallback(port.suggestions(), r.n, valid, r.smoothed);
    const start = keyRangeStart(memo.keyRange, brushed, r.lr.subarray(0, r.n), selectedIndex2(), fallback);
    const kept = extendKeyRange(start, action.delta, r.n, valid);
    memo.keyRange = kept;
    if (kept.anchor >= 0) sendRange(env, rangeCommand(r.lr, kept.anchor, kept.focus));
  };
  dom.plotBox.addEventListener("keydown", onKey);
  return () => dom.plotBox.removeEventListener("keydown", onKey);
}
function mountRange(env) {
  const { port, view, bus, actions } = env;
  view.localRange = null;
  const onKernel = () => {
    if (answersProposal(view.localRange, port.get("selected_range"))) view.localRange = null;
    bus.emit("draw");
  };
  const offs = [
    mountDrag(env),
    mountRangeKeys(env, () => actions.selectedIndex()),
    port.on("change:selected_range", onKernel),
    port.on("change:suggested_range", () => bus.emit("draw"))
  ];
  return () => {
    for (const off of offs) off();
  };
}

// js/view/model_port.js
function num2(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}
var MAX_SUGGESTIONS = 64;
function asSuggestion(s) {
  if (typeof s !== "object" || s === null || Array.isArray(s) || typeof s.name !== "string") return null;
  const lr = num2(s.lr);
  return {
    name: s.name,
    lr: lr !== null && lr > 0 ? lr : null,
    index: Number.isSafeInteger(s.index) && s.index >= 0 ? s.index : null,
    reason: typeof s.reason === "string" ? s.reason : "",
    default: s.default === true
  };
}
function asSuggestions(v) {
  if (!Array.isArray(v)) return [];
  const out = [];
  for (const s of v.slice(0, MAX_SUGGESTIONS)) {
    const clean = asSuggestion(s);
    if (clean) out.push(clean);
  }
  return out;
}
function listenOptional(model, event, fn, lost, warn = console.warn) {
  try {
    model.on(event, fn);
  } catch (err) {
    warn(`lrwidget: this host has no "${event}" event (${lost})`, err);
    return () => void 0;
  }
  return () => model.off(event, fn);
}
var memos = /* @__PURE__ */ new Map();
var MAX_MEMOS = 256;
function memoOf(key) {
  let m = memos.get(key);
  if (!m) {
    m = {};
    memos.set(key, m);
    if (memos.size > MAX_MEMOS) memos.delete(memos.keys().next().value);
  }
  return m;
}
function createPort(model, isClosed) {
  const get = (name, fallback = null) => {
    const v = model.get(name);
    return v === void 0 || v === null ? fallback : v;
  };
  const send = (content) => {
    if (isClosed()) return;
    try {
      model.send(content);
    } catch (err) {
      console.warn("lrwidget: send failed", err);
    }
  };
  const on = (event, fn) => {
    model.on(event, fn);
    return () => model.off(event, fn);
  };
  let rawSugg;
  let cleanSugg = [];
  const suggestions = () => {
    const raw = get("suggestions", []);
    if (raw !== rawSugg) {
      rawSugg = raw;
      cleanSugg = asSuggestions(raw);
    }
    return cleanSugg;
  };
  return {
    get,
    num: (name) => num2(get(name)),
    suggestions,
    send,
    on,
    onOptional: (event, fn, lost) => listenOptional(model, event, fn, lost),
    memo: () => {
      const key = get("view_key", "");
      return typeof key === "string" && key ? memoOf(key) : {};
    }
  };
}

// js/view/selection.js
function selectedLr(localSel, kernelLr) {
  return localSel ? localSel.lr : kernelLr;
}
function selectedIndex(localSel, lr, readings, log) {
  if (lr === null) return -1;
  if (localSel && Number.isInteger(localSel.index) && readings.lr[localSel.index] === lr) return localSel.index;
  return nearestIndex(readings.lr, readings.n, lr, log, readings.smoothed);
}
function keepLocalSelection(localSel, kernelLr) {
  return localSel && kernelLr === localSel.lr ? localSel : null;
}
function applyPlan(lr, running) {
  if (lr === null) return { send: false, text: "Select a learning rate first (arrow keys or a click)" };
  if (running) {
    return {
      send: true,
      text: `Apply of learning rate ${formatLR(lr)} queued: it is applied when the range test ends`
    };
  }
  return { send: true, text: `Applying learning rate ${formatLR(lr)}` };
}
function createActions({ port, view, bus, announce }) {
  const current = () => selectedLr(view.localSel, port.num("selected_lr"));
  const select = (lr, index) => {
    if (!Number.isFinite(lr)) return;
    view.localSel = { lr, index: Number.isInteger(index) ? index : null };
    port.send({ type: "select", lr, index: view.localSel.index });
    announce(`Selected learning rate ${formatLR(lr)}`);
    bus.emit("selection");
    bus.emit("draw");
  };
  return {
    select,
    selectSuggestion(s) {
      if (num2(s.lr) === null) return;
      select(s.lr, Number.isInteger(s.index) ? s.index : null);
    },
    apply() {
      const lr = current();
      const plan = applyPlan(lr, port.get("status") === "running");
      if (plan.send) port.send({ type: "apply", lr });
      announce(plan.text);
    },
    stop: () => port.send({ type: "stop" }),
    selectedLr: current,
    selectedIndex: () => selectedIndex(view.localSel, current(), view.readings, isLogAxis(port.get("step_mode"), view.readings))
  };
}
function mountSelectionSync({ port, view, bus }) {
  return port.on("change:selected_lr", () => {
    const kept = keepLocalSelection(view.localSel, port.num("selected_lr"));
    view.localSel = kept;
    bus.emit("selection");
    if (!kept) bus.emit("draw");
  });
}

// js/view/status.js
var CONTACT_TIMEOUT_MS = 5e3;
var SEPARATOR = " \xB7 ";
function contactLost({ status, lastContact, lastTraitContact, now, timeout = CONTACT_TIMEOUT_MS }) {
  if (status !== "running") return false;
  return now - Math.max(lastContact ?? -Infinity, lastTraitContact) > timeout;
}
function readStatusTraits(port, readings) {
  return {
    status: port.get("status", "idle"),
    step: port.get("step", 0),
    total: port.get("num_iter", readings.numIter) || readings.numIter,
    elapsed: port.num("elapsed"),
    eta: port.num("eta"),
    pendingApply: port.get("pending_apply", false),
    divergedLr: port.num("diverged_lr"),
    error: port.get("error", "")
  };
}
function isContactLost(port, view) {
  return contactLost({
    status: port.get("status"),
    lastContact: view.readings.lastContact,
    lastTraitContact: view.lastTraitContact,
    now: view.now()
  });
}
var count = (v) => typeof v === "number" ? v.toLocaleString("en-US") : String(v);
function statusLine(t, lost) {
  const of = t.total ? `${count(t.step)}/${count(t.total)}` : count(t.step);
  if (lost) return { kind: "disconnected", parts: ["No contact with the kernel", `last seen at step ${of}`] };
  return { kind: t.status, parts: lineParts(t, of) };
}
function lineParts(t, of) {
  switch (t.status) {
    case "running": {
      const parts = ["Running", `step ${of}`, `${formatDuration(t.elapsed)} elapsed`, `ETA ${formatDuration(t.eta)}`];
      if (t.pendingApply) parts.push("apply queued");
      return parts;
    }
    case "diverged":
      return [`Diverged at lr=${formatLR(t.divergedLr)}`, `step ${of}`, formatDuration(t.elapsed)];
    case "stopped":
      return [`Stopped at step ${of}`, formatDuration(t.elapsed)];
    case "exhausted":
      return [`Loop ended at step ${of}, before num_iter`, formatDuration(t.elapsed)];
    case "done":
      return ["Done", `${count(t.step)} steps in ${formatDuration(t.elapsed)}`];
    case "error":
      return [`Error: ${t.error || "the range test failed"}`];
    default:
      return ["Idle"];
  }
}
function hintShown(hint, n, status) {
  return typeof hint === "string" && hint !== "" && n === 0 && status === "idle";
}
function idleMessage(n, status, hint = "") {
  if (n > 0 || hintShown(hint, n, status)) return "";
  if (status === "running") return "Waiting for the first readings\u2026";
  if (status === "error") return "The range test failed before any reading";
  return "No range test yet \u2014 call widget.run(train_loader)";
}
var CLOSED_TEXT = "Widget closed \u2014 no kernel behind this view";
function showLine(dom, line) {
  const text = line.parts.join(SEPARATOR);
  if (dom.statusText.textContent !== text) {
    const spans = line.parts.flatMap((p, i) => {
      const span = h("span", { class: "lrw-status-part", text: p });
      return i ? [document.createTextNode(SEPARATOR), span] : [span];
    });
    dom.statusText.replaceChildren(...spans);
  }
  dom.status.dataset.state = line.kind;
  dom.root.dataset.status = line.kind;
}
function mountStatus({ dom, port, view, bus }) {
  const update = () => {
    showLine(dom, statusLine(readStatusTraits(port, view.readings), isContactLost(port, view)));
    const hint = port.get("hint", "");
    dom.hint.hidden = !hintShown(hint, view.readings.n, port.get("status", "idle"));
    if (!dom.hint.hidden && dom.hint.textContent !== hint) dom.hint.textContent = hint;
    const title = port.get("title", "") || "Learning-rate range test";
    if (dom.title.textContent !== title) dom.title.textContent = title;
  };
  const closed = () => {
    dom.statusText.textContent = CLOSED_TEXT;
    dom.status.dataset.state = "disconnected";
    dom.root.dataset.status = "disconnected";
  };
  const offs = [bus.on("status", update), bus.on("closed", closed)];
  return () => {
    for (const off of offs) off();
  };
}

// js/layers/training_geometry.js
var Y2 = rules_default.yRange;
function firstFinite(a, n) {
  for (let i = 0; i < n; i++) if (Number.isFinite(a[i])) return a[i];
  return -Infinity;
}
function finiteQuantile(a, n, q) {
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) if (Number.isFinite(a[i])) out[k++] = a[i];
  return k ? out.subarray(0, k).sort()[Math.floor(q * (k - 1))] : Number.NaN;
}
function finiteExtent(lows, highs, n) {
  let lo = Infinity;
  let top = -Infinity;
  for (let i = 0; i < n; i++) {
    if (lows[i] < lo && Number.isFinite(lows[i])) lo = lows[i];
    if (highs[i] > top && Number.isFinite(highs[i])) top = highs[i];
  }
  return { lo, top };
}
function lossRange(cols) {
  if (!cols || cols.n === 0) return null;
  const ext = finiteExtent(cols.lossMin, cols.lossMax, cols.n);
  const q = finiteQuantile(cols.lossMean, cols.n, 0.9);
  if (!Number.isFinite(ext.lo) || !Number.isFinite(ext.top) || Number.isNaN(q)) return null;
  let lo = ext.lo;
  const top = ext.top;
  const start = firstFinite(cols.lossMean, cols.n);
  const cap = Math.max(q + Y2.headroom * Math.max(q - lo, 0), start);
  const hi = Math.min(top, cap > lo ? cap : top);
  const span = hi - lo;
  const pad = span > 0 ? span * Y2.pad : Math.abs(lo) * Y2.flatPad || 1;
  lo -= pad;
  return { lo, hi: hi + pad, clipped: top > hi };
}
function lrRange(cols) {
  if (!cols) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < cols.n; i++) {
    if (cols.lrMin[i] > 0 && cols.lrMin[i] < lo) lo = cols.lrMin[i];
    if (cols.lrMax[i] > 0 && cols.lrMax[i] > hi && Number.isFinite(cols.lrMax[i])) hi = cols.lrMax[i];
  }
  if (!(lo <= hi) || !Number.isFinite(lo)) return null;
  const mid = Math.sqrt(lo * hi);
  const half = Math.max(Math.sqrt(10), Math.sqrt(hi / lo)) ** 1.25;
  return { lo: mid / half, hi: mid * half };
}
function columnStart(cols, j) {
  return cols.dx === void 0 ? cols.lo + j * (cols.hi - cols.lo) / cols.n : cols.x0 + j * cols.dx;
}
function columnWidth(cols) {
  return cols.dx === void 0 ? (cols.hi - cols.lo) / cols.n : cols.dx;
}
function columnStep(cols, j) {
  return columnStart(cols, j) + columnWidth(cols) / 2;
}
function trainingLayout(width, height, leftLabel, rightLabel) {
  const left = Math.max(36, Math.ceil(leftLabel) + 12);
  const right = width - Math.max(36, Math.ceil(rightLabel) + 12);
  const top = 22;
  const bottom = height - 34;
  return { left, top, right: Math.max(left + 10, right), bottom: Math.max(top + 10, bottom) };
}
function trainingGeometry(cols, width, height, measure) {
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

// js/layers/training_spans.js
function createSpans(plot, dpr) {
  const left = Math.round(plot.left * dpr);
  const n = Math.max(0, Math.round(plot.right * dpr) - left);
  return clearSpans({ left, n, dpr, top: new Float64Array(n), bottom: new Float64Array(n) });
}
function clearSpans(s) {
  s.top.fill(Infinity);
  s.bottom.fill(-Infinity);
  return s;
}
function coverColumns(s, a, b, t, u) {
  const end = Math.min(b, s.left + s.n);
  for (let x = Math.max(a, s.left); x < end; x++) {
    const i = x - s.left;
    if (t < s.top[i]) s.top[i] = t;
    if (u > s.bottom[i]) s.bottom[i] = u;
  }
}
function coverSegment(s, x0, y0, x1, y1, h2) {
  const slope = x1 > x0 ? (y1 - y0) / (x1 - x0) : 0;
  const first = Math.ceil(x0 - h2 - 0.5);
  const last = Math.floor(x1 + h2 - 0.5);
  for (let x = first; x <= last; x++) {
    const a = Math.max(x0, x + 0.5 - h2);
    const b = Math.min(x1, x + 0.5 + h2);
    const ya = y0 + (a - x0) * slope;
    const yb = x1 > x0 ? y0 + (b - x0) * slope : y1;
    coverColumns(s, x, x + 1, Math.min(ya, yb) - h2, Math.max(ya, yb) + h2);
  }
}
function coverLine(s, v, width, dpr) {
  const h2 = Math.max(1, width) / 2;
  const ok = (i) => i >= 0 && i < v.m && !Number.isNaN(v.x[i]);
  for (let i = 0; i < v.m; i++) {
    if (!ok(i)) continue;
    if (ok(i + 1)) coverSegment(s, v.x[i] * dpr, v.y[i] * dpr, v.x[i + 1] * dpr, v.y[i + 1] * dpr, h2);
    else if (!ok(i - 1)) coverSegment(s, v.x[i] * dpr, v.y[i] * dpr, v.x[i] * dpr, v.y[i] * dpr, h2);
  }
}
function strokeSpans(ctx, s, color) {
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.strokeStyle = color;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let i = 0; i < s.n; i++) {
    if (!(s.top[i] < s.bottom[i])) continue;
    ctx.moveTo(s.left + i + 0.5, s.top[i]);
    ctx.lineTo(s.left + i + 0.5, s.bottom[i]);
  }
  ctx.stroke();
  ctx.restore();
}

// js/layers/training.js
var crisp2 = (v) => Math.round(v) + 0.5;
function drawTrainingAxes(ctx, g, theme) {
  const { plot, xScale, yScale, lrScale } = g;
  ctx.lineWidth = 1;
  ctx.strokeStyle = theme.grid;
  ctx.beginPath();
  for (const t of g.xt.major) {
    ctx.moveTo(crisp2(xScale.map(t.value)), plot.top);
    ctx.lineTo(crisp2(xScale.map(t.value)), plot.bottom);
  }
  for (const t of g.yt.major) {
    ctx.moveTo(plot.left, crisp2(yScale.map(t.value)));
    ctx.lineTo(plot.right, crisp2(yScale.map(t.value)));
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
function createVertices(n) {
  return { x: new Float64Array(n), y: new Float64Array(n), m: 0 };
}
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
function liftPen(v) {
  if (v.m > 0 && !Number.isNaN(v.x[v.m - 1])) addVertex(v, Number.NaN, Number.NaN);
}
function seriesVertices(cols, ys, g, yMap, log = false) {
  const v = createVertices(2 * cols.n + 1);
  const { plot } = g;
  const run = { px: Number.NaN, x: 0, y: 0, k: 0 };
  const flush = () => {
    if (run.k) addVertex(v, run.x / run.k, run.y / run.k);
    run.k = 0;
  };
  for (let j = 0; j < cols.n; j++) {
    const val = ys[j];
    if (!Number.isFinite(val) || log && val <= 0) {
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
function drawSeries(ctx, cols, ys, g, line) {
  const { yMap, log = false, width, color, dpr, spans } = line;
  clearSpans(spans);
  coverLine(spans, seriesVertices(cols, ys, g, yMap, log), width * dpr, dpr);
  strokeSpans(ctx, spans, color);
}
var clampPx = (v, lo, hi) => v > lo ? Math.min(v, hi) : lo;
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
function drawLossBand(ctx, cols, g, color, spans) {
  const dpr = spans.dpr;
  clearSpans(spans);
  for (let j = 0; j < cols.n; j++) {
    const c = bandColumn(cols, j, g, dpr);
    if (c) coverColumns(spans, c.a, c.b, c.t, c.u);
  }
  strokeSpans(ctx, spans, color);
}
function drawEvents(ctx, g, events, theme) {
  const { plot, xScale } = g;
  const [x0, x1] = xScale.domain;
  ctx.font = font(theme, 10, "600");
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  for (const e of events) {
    if (e.kind !== "action" || e.step < x0 || e.step > x1) continue;
    const x = crisp2(xScale.map(e.step));
    ctx.strokeStyle = theme.selected;
    ctx.lineWidth = 2;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(x, plot.top);
    ctx.lineTo(x, plot.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = theme.selected;
    const label = `\xD7${e.factor ?? "?"}${e.rollback ? " \u21BA" : ""}`;
    ctx.fillText(label, Math.min(x + 3, plot.right - 30), plot.top + 3);
  }
}
function drawTrainingFrame(f) {
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
    const spans = createSpans(g.plot, dpr);
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
function drawLrInUse(ctx, frame, lr, theme, dpr = 1) {
  if (!frame || !(lr > 0)) return;
  const x = frame.xScale.map(lr);
  const { plot } = frame;
  if (!(x >= plot.left && x <= plot.right)) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.strokeStyle = theme.rules[1];
  ctx.lineWidth = 1.5;
  ctx.setLineDash([2, 3]);
  ctx.beginPath();
  ctx.moveTo(crisp2(x), plot.top);
  ctx.lineTo(crisp2(x), plot.bottom);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = theme.rules[1];
  ctx.font = font(theme, 10, "600");
  ctx.textAlign = x > plot.right - 60 ? "right" : "left";
  ctx.textBaseline = "bottom";
  ctx.fillText("lr in use", x + (x > plot.right - 60 ? -4 : 4), plot.bottom - 4);
}

// js/view/training_state.js
var DOCTOR = rules_default.doctor;
var VERDICTS = Object.keys(DOCTOR.verdicts);
var SERIES = ["lossMin", "lossMax", "lossMean", "lrMin", "lrMax", "lrMean"];
function createTrainingState() {
  return {
    active: false,
    // a training message arrived: the training chart exists
    mode: "range",
    // "range" | "training": what this view shows (a view-local choice)
    chosen: false,
    // the user picked the mode: a new watch does not switch this view
    watchId: null,
    steps: 0,
    verdict: "watching",
    reason: "",
    lrNow: null,
    error: "",
    events: [],
    overview: null,
    // {lo, hi, n, lossMin, ...}: the whole run
    zoom: null,
    // the columns of the zoomed range the kernel answered with
    want: null,
    // {lo, hi}: the zoomed range asked for (null: the whole run)
    req: 0,
    // the last zoom request's id
    slice: null
    // shownColumns' last slice of the columns here over `want` ({src, want, cols})
  };
}
var isCount = (v, max) => Number.isSafeInteger(v) && v >= 0 && v <= max;
function asEvent(e) {
  if (typeof e !== "object" || e === null || !isCount(e.step, Number.MAX_SAFE_INTEGER)) return null;
  const kind = e.kind === "action" ? "action" : "verdict";
  const factor = typeof e.factor === "number" && Number.isFinite(e.factor) && e.factor > 0 ? e.factor : null;
  const text = typeof e.text === "string" ? e.text.slice(0, 200) : "";
  return { step: e.step, kind, factor, rollback: e.rollback === true, text };
}
function decodeColumns(msg, buffers) {
  const { lo, hi, cols } = msg;
  if (!isCount(cols, DOCTOR.maxColumns)) return { error: `bad cols ${cols}` };
  if (!isCount(lo, Number.MAX_SAFE_INTEGER) || !isCount(hi, Number.MAX_SAFE_INTEGER) || hi < lo) {
    return { error: `bad step range ${lo}..${hi}` };
  }
  if (!Array.isArray(buffers) || buffers.length < 1) return { error: "a training message needs 1 buffer" };
  let all;
  try {
    all = toFloat64Array(buffers[0], SERIES.length * cols);
  } catch (err) {
    return { error: err.message };
  }
  const out = { lo, hi, n: cols };
  SERIES.forEach((name, k) => {
    out[name] = all.subarray(k * cols, (k + 1) * cols);
  });
  return out;
}
function decodeMeta(msg) {
  const lr = msg.lr_now;
  const events = Array.isArray(msg.events) ? msg.events.slice(-DOCTOR.maxEvents).map(asEvent) : [];
  return {
    watchId: isCount(msg.watch_id, Number.MAX_SAFE_INTEGER) ? msg.watch_id : null,
    steps: isCount(msg.steps, Number.MAX_SAFE_INTEGER) ? msg.steps : 0,
    verdict: VERDICTS.includes(msg.verdict) ? msg.verdict : "watching",
    reason: typeof msg.reason === "string" ? msg.reason.slice(0, 500) : "",
    lrNow: typeof lr === "number" && Number.isFinite(lr) && lr > 0 ? lr : null,
    error: typeof msg.error === "string" ? msg.error.slice(0, 500) : "",
    events: events.filter((e) => e !== null),
    zoom: isCount(msg.zoom, 2 ** 31) ? msg.zoom : 0
  };
}
function applyTraining(s, msg, buffers) {
  if (msg?.type !== "training") return { changed: false, error: null, switched: false };
  const cols = decodeColumns(msg, buffers);
  if (cols.error) return { changed: false, error: cols.error, switched: false };
  const meta = decodeMeta(msg);
  if (meta.zoom > 0) {
    if (meta.zoom !== s.req) return { changed: false, error: null, switched: false };
    s.zoom = cols;
    return { changed: true, error: null, switched: false };
  }
  const fresh = meta.watchId !== s.watchId;
  Object.assign(s, { watchId: meta.watchId, steps: meta.steps, verdict: meta.verdict, reason: meta.reason });
  Object.assign(s, { lrNow: meta.lrNow, error: meta.error, events: meta.events, overview: cols });
  if (fresh) Object.assign(s, { zoom: null, want: null });
  const switched = !s.chosen && (!s.active || fresh) && s.mode !== "training";
  s.active = true;
  if (switched) s.mode = "training";
  return { changed: true, error: null, switched };
}
function sliceColumns(src, want) {
  const dx = src.dx ?? (src.hi - src.lo) / src.n;
  const x0 = src.x0 ?? src.lo;
  const j0 = Math.max(0, Math.min(src.n, Math.floor((want.lo - x0) / dx)));
  const j1 = Math.max(j0, Math.min(src.n, Math.ceil((want.hi - x0) / dx)));
  const out = { lo: want.lo, hi: want.hi, n: j1 - j0, x0: x0 + j0 * dx, dx };
  for (const k of SERIES) out[k] = src[k].subarray(j0, j1);
  return out;
}
function finestCovering(s, want) {
  const z = s.zoom;
  if (z && z.n > 0 && z.lo <= want.lo && z.hi >= want.hi) return z;
  return s.overview;
}
function shownColumns(s) {
  const want = s.want;
  if (!want) return s.overview;
  if (s.zoom && s.zoom.lo === want.lo && s.zoom.hi === want.hi) return s.zoom;
  const src = finestCovering(s, want);
  if (!src || src.n === 0) return src;
  const memo = s.slice;
  if (memo && memo.src === src && memo.want === want) return memo.cols;
  s.slice = { src, want, cols: sliceColumns(src, want) };
  return s.slice.cols;
}
function zoomRange(cur, steps, at, factor) {
  const lo0 = cur ? cur.lo : 0;
  const hi0 = cur ? cur.hi : steps;
  const span = Math.max(DOCTOR.minZoomSteps, Math.round((hi0 - lo0) * factor));
  if (span >= steps) return null;
  const frac = hi0 > lo0 ? (at - lo0) / (hi0 - lo0) : 0.5;
  let lo = Math.round(at - Math.min(1, Math.max(0, frac)) * span);
  lo = Math.max(0, Math.min(steps - span, lo));
  return { lo, hi: lo + span };
}
function panRange(cur, steps, delta) {
  if (!cur) return null;
  const span = cur.hi - cur.lo;
  const lo = Math.max(0, Math.min(steps - span, cur.lo + Math.round(delta)));
  return { lo, hi: lo + span };
}

// js/view/training.js
var ZOOM_STEP = 0.8;
function verdictLook(verdict, theme) {
  const v = DOCTOR.verdicts[verdict] || DOCTOR.verdicts.watching;
  return { word: v.word, color: theme[v.color] || theme.fgMuted };
}
function modeSwitch(mode) {
  return mode === "training" ? { text: "Range test curve", title: "Show the range test's curve, with the lr in use marked" } : { text: "Training", title: "Show the training this widget watches" };
}
function doctorLine(s) {
  const parts = [s.reason || "not enough steps yet to judge"];
  if (s.lrNow !== null) parts.push(`lr ${formatLR(s.lrNow)}`);
  parts.push(`step ${s.steps.toLocaleString("en-US")}`);
  if (s.error) parts.push(`last action refused: ${s.error}`);
  return parts.join(" \xB7 ");
}
function scaleCommand(action) {
  return { type: "scale_lr", factor: action.factor, rollback: action.rollback };
}
function buildBar() {
  const modeBtn = h("button", { class: "lrw-btn lrw-mode", type: "button" });
  const dot2 = h("span", { class: "lrw-dot", "aria-hidden": "true" });
  const word = h("span", { class: "lrw-verdict-word" });
  const reason = h("span", { class: "lrw-verdict-reason" });
  const verdict = h("div", { class: "lrw-verdict", role: "status", "aria-live": "polite" }, [dot2, word, reason]);
  const actions = DOCTOR.actions.map(
    (a) => h("button", {
      class: "lrw-btn lrw-act",
      type: "button",
      text: a.label,
      "data-factor": String(a.factor),
      "aria-label": `${a.rollback ? "Roll back to the last snapshot before the trouble and multiply" : "Multiply"} the learning rate by ${a.factor}`
    })
  );
  const acts = h("div", { class: "lrw-acts", role: "group", "aria-label": "Act on the learning rate" }, actions);
  const bar = h("div", { class: "lrw-doctor" }, [verdict, acts, modeBtn]);
  bar.hidden = true;
  return { bar, modeBtn, dot: dot2, word, reason, actions };
}
function showBar(ui, s, theme, root) {
  ui.bar.hidden = !s.active;
  root.dataset.mode = s.mode;
  const sw = modeSwitch(s.mode);
  ui.modeBtn.textContent = sw.text;
  ui.modeBtn.title = sw.title;
  const look = verdictLook(s.verdict, theme);
  ui.dot.style.background = look.color;
  ui.word.textContent = look.word;
  ui.word.style.color = look.color;
  ui.reason.textContent = doctorLine(s);
  root.dataset.verdict = s.verdict;
  root.dataset.steps = String(s.steps);
  root.dataset.actions = String(s.events.filter((e) => e.kind === "action").length);
  for (const b of ui.actions) b.hidden = s.mode !== "training";
}
function drawTrainingView(ctx, size, view, root = null) {
  const s = view.training;
  if (s?.mode !== "training") return false;
  view.frame = null;
  const t0 = view.now();
  view.trainingFrame = drawTrainingFrame({
    ctx,
    ...size,
    theme: view.theme,
    cols: shownColumns(s),
    events: s.events
  });
  if (root) root.dataset.frameMs = (view.now() - t0).toFixed(2);
  return true;
}
function markLrInUse(ctx, size, view) {
  const s = view.training;
  if (s?.active) drawLrInUse(ctx, view.frame, s.lrNow, view.theme, size.dpr);
}
function zoomCommand(want, req, width) {
  if (!want) return null;
  const cols = Math.max(1, Math.min(DOCTOR.maxColumns, Math.round(width)));
  return { type: "training_zoom", lo: want.lo, hi: want.hi, cols, req };
}
function mountZoom({ dom, port, view, bus }) {
  const s = view.training;
  const ask = (want) => {
    s.want = want;
    s.req += 1;
    const g = view.trainingFrame;
    const width = g ? (g.plot.right - g.plot.left) * (window.devicePixelRatio || 1) : 1024;
    const cmd = zoomCommand(want, s.req, width);
    if (cmd) port.send(cmd);
    bus.emit("draw");
  };
  const stepAt = (clientX) => {
    const g = view.trainingFrame;
    if (!g) return s.steps / 2;
    return g.xScale.invert(clientX - dom.canvas.getBoundingClientRect().left);
  };
  const onWheel = (ev) => {
    if (s.mode !== "training" || !s.active) return;
    ev.preventDefault();
    ask(zoomRange(s.want, s.steps, stepAt(ev.clientX), ev.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP));
  };
  const onKey = (ev) => {
    if (s.mode !== "training" || !s.active || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const mid = s.want ? (s.want.lo + s.want.hi) / 2 : s.steps / 2;
    const span = s.want ? s.want.hi - s.want.lo : s.steps;
    const moves = {
      "+": () => zoomRange(s.want, s.steps, mid, ZOOM_STEP),
      "=": () => zoomRange(s.want, s.steps, mid, ZOOM_STEP),
      "-": () => zoomRange(s.want, s.steps, mid, 1 / ZOOM_STEP),
      0: () => null,
      ArrowLeft: () => panRange(s.want, s.steps, -span / 4),
      ArrowRight: () => panRange(s.want, s.steps, span / 4)
    };
    if (!(ev.key in moves)) return;
    ev.preventDefault();
    ev.stopPropagation();
    ask(moves[ev.key]());
  };
  dom.plotBox.addEventListener("wheel", onWheel, { passive: false });
  dom.plotBox.addEventListener("keydown", onKey);
  return () => {
    dom.plotBox.removeEventListener("wheel", onWheel);
    dom.plotBox.removeEventListener("keydown", onKey);
  };
}
function mountButtons(ui, { port, view, bus, dom }) {
  const s = view.training;
  const onAct = (ev) => {
    const a = DOCTOR.actions[ui.actions.indexOf(ev.currentTarget)];
    if (!a) return;
    port.send(scaleCommand(a));
    dom.live.textContent = `Asked the kernel to ${a.rollback ? "roll back and " : ""}multiply the lr by ${a.factor}`;
  };
  const onMode = () => {
    s.mode = s.mode === "training" ? "range" : "training";
    s.chosen = true;
    bus.emit("draw");
    bus.emit("status");
  };
  for (const b of ui.actions) b.addEventListener("click", onAct);
  ui.modeBtn.addEventListener("click", onMode);
  return () => {
    for (const b of ui.actions) b.removeEventListener("click", onAct);
    ui.modeBtn.removeEventListener("click", onMode);
  };
}
function mountTraining(env) {
  const { dom, port, view, bus } = env;
  view.training = createTrainingState();
  const ui = buildBar();
  dom.root.insertBefore(ui.bar, dom.plotBox);
  const onCustom = (msg, buffers) => {
    if (msg?.type !== "training") return;
    const res = applyTraining(view.training, msg, buffers || []);
    if (res.error) console.warn("lrwidget: ignored a malformed training message:", res.error);
    if (res.changed) {
      bus.emit("status");
      bus.emit("draw");
    }
  };
  const offs = [
    port.on("msg:custom", onCustom),
    bus.on("status", () => showBar(ui, view.training, view.theme, dom.root)),
    bus.on("closed", () => {
      for (const b of ui.actions) b.disabled = true;
    }),
    mountButtons(ui, env),
    mountZoom(env)
  ];
  return () => {
    for (const off of offs) off();
    ui.bar.remove();
  };
}

// js/view/frame_loop.js
function createFrameScheduler(draw, raf = requestAnimationFrame, caf = cancelAnimationFrame) {
  const s = { id: null, stopped: false };
  return {
    request() {
      if (s.id !== null || s.stopped) return;
      s.id = raf(() => {
        s.id = null;
        draw();
      });
    },
    stop() {
      s.stopped = true;
      if (s.id !== null) caf(s.id);
      s.id = null;
    }
  };
}
function frameInputs(port, view) {
  const data = view.readings;
  return {
    theme: view.theme,
    data,
    log: isLogAxis(port.get("step_mode"), data),
    startLr: port.num("start_lr") ?? data.startLr,
    endLr: port.num("end_lr") ?? data.endLr,
    suggestions: port.suggestions(),
    selectedLr: selectedLr(view.localSel, port.num("selected_lr")),
    appliedLr: port.num("applied_lr"),
    divergedLr: port.num("diverged_lr"),
    hoverIndex: view.hover.index,
    hoverMarker: view.hover.marker,
    message: idleMessage(data.n, port.get("status", "idle"), port.get("hint", "")),
    dirtyFrom: data.dirtyFrom,
    range: shownRange(view.localRange, port.get("selected_range"), port.get("suggested_range"), view.now()),
    drag: view.drag
  };
}
function fitCanvas(canvas, box) {
  const width = Math.max(1, Math.floor(box.clientWidth));
  const height = Math.max(1, Math.floor(box.clientHeight));
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(width * dpr);
  const hpx = Math.round(height * dpr);
  if (canvas.width !== w || canvas.height !== hpx) {
    canvas.width = w;
    canvas.height = hpx;
  }
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  return { width, height, dpr };
}
function mountFrameLoop({ dom, port, view, bus }) {
  const cache = createPlotCache();
  const draw = () => {
    const size = fitCanvas(dom.canvas, dom.plotBox);
    const ctx = dom.canvas.getContext("2d");
    if (drawTrainingView(ctx, size, view, dom.root)) return;
    view.frame = drawFrame({ ctx, ...size, cache, ...frameInputs(port, view) });
    markLrInUse(ctx, size, view);
    view.readings.dirtyFrom = Number.POSITIVE_INFINITY;
    dom.root.dataset.readings = String(view.readings.n);
    dom.root.dataset.lineLow = String(view.readings.lineLow);
  };
  const loop = createFrameScheduler(draw);
  const off = bus.on("draw", loop.request);
  return () => {
    off();
    loop.stop();
  };
}

// js/view/layout.js
var HEIGHT = rules_default.plotHeight;
function plotHeight(height) {
  if (typeof height !== "number" || Number.isNaN(height)) return HEIGHT.default;
  return Math.round(Math.min(HEIGHT.max, Math.max(HEIGHT.min, height)));
}
function mountLayout({ el, dom, port, bus }) {
  const applyHeight = () => {
    dom.plotBox.style.height = `${plotHeight(port.num("height"))}px`;
  };
  applyHeight();
  const offs = [
    port.on("change:height", () => {
      applyHeight();
      bus.emit("draw");
    })
  ];
  if (typeof ResizeObserver === "function") {
    const ro = new ResizeObserver(() => {
      bus.emit("layout");
      bus.emit("draw");
    });
    ro.observe(dom.plotBox);
    ro.observe(el);
    offs.push(() => ro.disconnect());
  }
  const onResize = () => bus.emit("draw");
  window.addEventListener("resize", onResize);
  offs.push(() => window.removeEventListener("resize", onResize));
  return () => {
    for (const off of offs) off();
  };
}

// js/view/theme_watch.js
function mountThemeWatch({ el, dom, view, bus }) {
  const mark = () => {
    dom.root.dataset.lrwHost = view.theme.host;
    dom.root.dataset.lrwScheme = view.theme.dark ? "dark" : "light";
  };
  const refresh = () => {
    view.theme = readTheme(el);
    mark();
    bus.emit("suggestions");
    bus.emit("selection");
    bus.emit("draw");
  };
  mark();
  const offs = [bus.on("theme", refresh), watchTheme(refresh)];
  return () => {
    for (const off of offs) off();
  };
}

// js/view/tooltip.js
var ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
var esc = (s) => String(s).replace(/[&<>"]/g, (c) => ESCAPES[c]);
function markerTip(s) {
  return `<b>${esc(s.name)}${s.default ? " (default)" : ""}</b> lr ${esc(formatLR(s.lr))}<div class="lrw-tip-reason">${esc(s.reason || "")}</div><div class="lrw-tip-hint">click to select</div>`;
}
function readingTip(lr, smoothed, raw, i) {
  return `<b>lr ${esc(formatLR(lr))}</b><div>loss ${esc(formatLoss(smoothed))} <span class="lrw-tip-raw">raw ${esc(formatLoss(raw))}</span></div><div class="lrw-tip-hint">reading ${i + 1}</div>`;
}
function keyTip(lr, smoothed) {
  return `<b>lr ${esc(formatLR(lr))}</b><div>loss ${esc(formatLoss(smoothed))}</div><div class="lrw-tip-hint">Enter applies</div>`;
}
function tooltipPosition(x, y, boxW, tipW, tipH) {
  let tx = x + 14;
  if (tx + tipW > boxW - 4) tx = x - 14 - tipW;
  let ty = y - tipH - 10;
  if (ty < 2) ty = y + 14;
  return { left: Math.max(2, tx), top: ty };
}
function showTooltip(dom, x, y, html) {
  const { tooltip } = dom;
  tooltip.innerHTML = html;
  tooltip.hidden = false;
  const p = tooltipPosition(x, y, dom.plotBox.clientWidth, tooltip.offsetWidth, tooltip.offsetHeight);
  tooltip.style.transform = `translate(${p.left}px, ${p.top}px)`;
}

// js/view/compare.js
function isCompareModel(model) {
  return model.get("compare_runs") !== void 0;
}
function buildCompareLayout() {
  const title = h("div", { class: "lrw-title" });
  const canvas = h("canvas", { class: "lrw-canvas", "aria-hidden": "true" });
  const tooltip = h("div", { class: "lrw-tooltip", role: "presentation" });
  tooltip.hidden = true;
  const plotBox = h(
    "div",
    {
      class: "lrw-plot",
      tabindex: "0",
      role: "application",
      "aria-roledescription": "range tests compared",
      "aria-label": "Loss against learning rate, one curve per run. Click a curve to select a run's learning rate."
    },
    [canvas, tooltip]
  );
  const legend = h("div", { class: "lrw-legend lrw-runs", role: "group", "aria-label": "Runs (toggle)" });
  const selReadout = h("span", { class: "lrw-readout lrw-sel" });
  const appliedReadout = h("span", { class: "lrw-readout lrw-applied" });
  const applyBtn = h("button", { class: "lrw-btn lrw-apply", type: "button", text: "Apply" });
  const controls = h("div", { class: "lrw-controls" }, [
    h("div", { class: "lrw-readouts" }, [selReadout, appliedReadout]),
    h("div", { class: "lrw-buttons" }, [applyBtn])
  ]);
  const live = h("div", { class: "lrw-sr-only", "aria-live": "polite" });
  const header = h("div", { class: "lrw-header" }, [title]);
  const root = h("div", { class: "lrw-root lrw-compare", "data-lm-suppress-shortcuts": "true" });
  root.append(header, plotBox, legend, controls, live);
  return { root, title, canvas, tooltip, plotBox, legend, selReadout, appliedReadout, applyBtn, live };
}
function runEntryText(info) {
  const lr = info.suggestion === null ? "\u2014" : formatLR(info.suggestion);
  return { name: info.label, lr, warning: info.warning ? `\u26A0 ${info.warning}` : "" };
}
function legendButton(info, k, visible, color, onToggle) {
  const t = runEntryText(info);
  const sw = h("span", { class: "lrw-swatch lrw-swatch-default", "aria-hidden": "true" });
  sw.style.setProperty("--lrw-swatch", color);
  const parts = [
    sw,
    h("span", { class: "lrw-legend-name", text: t.name }),
    h("span", { class: "lrw-legend-lr", text: t.lr })
  ];
  if (t.warning) parts.push(h("span", { class: "lrw-legend-warning", text: t.warning }));
  const b = h(
    "button",
    {
      type: "button",
      class: "lrw-legend-item lrw-run",
      "data-run": String(k),
      "aria-pressed": String(visible),
      title: `${t.name}: suggests ${t.lr}; optimizer ${info.target}${t.warning ? `; ${info.warning}` : ""}`
    },
    parts
  );
  b.addEventListener("click", () => onToggle(k));
  return b;
}
function frameRuns(state, infos, hidden, theme) {
  return infos.map((info, k) => {
    const r = state.runs[k];
    return {
      ...r,
      visible: !hidden.has(k),
      color: theme.runs[info.color % theme.runs.length],
      suggestion: info.suggestion === null ? null : { lr: info.suggestion, index: info.suggestionIndex },
      label: info.label
    };
  });
}
function fitCanvas2(dom) {
  const width = Math.max(1, Math.floor(dom.plotBox.clientWidth));
  const height = Math.max(1, Math.floor(dom.plotBox.clientHeight));
  const dpr = window.devicePixelRatio || 1;
  if (dom.canvas.width !== Math.round(width * dpr)) dom.canvas.width = Math.round(width * dpr);
  if (dom.canvas.height !== Math.round(height * dpr)) dom.canvas.height = Math.round(height * dpr);
  dom.canvas.style.width = `${width}px`;
  dom.canvas.style.height = `${height}px`;
  return { width, height, dpr };
}
function mountCompareFrame({ dom, view, bus, c }) {
  const cache = createRunsCache();
  const draw = () => {
    const ins = c.infos();
    c.runs = frameRuns(c.state, ins, c.hidden, view.theme);
    const t0 = view.now();
    c.g = drawRunsFrame({
      ctx: dom.canvas.getContext("2d"),
      ...fitCanvas2(dom),
      theme: view.theme,
      runs: c.runs,
      log: ins.every((i) => i.log),
      trend: asTrend(c.get("compare_trend", null)),
      selected: c.selected(),
      hover: c.hover,
      cache
    });
    dom.root.dataset.frameMs = (view.now() - t0).toFixed(2);
    dom.root.dataset.readings = c.runs.map((r) => r.n).join(",");
    dom.root.dataset.running = String(ins.filter((i) => i.running).length);
  };
  const loop = createFrameScheduler(draw);
  const off = bus.on("draw", loop.request);
  return () => {
    off();
    loop.stop();
  };
}
function mountRunLegend({ dom, view, bus, c }) {
  const toggle = (k) => {
    if (c.hidden.has(k)) c.hidden.delete(k);
    else c.hidden.add(k);
    bus.emit("suggestions");
    bus.emit("draw");
  };
  const rebuild = () => {
    dom.legend.innerHTML = "";
    c.infos().forEach((info, k) => {
      const color = view.theme.runs[info.color % view.theme.runs.length];
      dom.legend.append(legendButton(info, k, !c.hidden.has(k), color, toggle));
    });
  };
  rebuild();
  return bus.on("suggestions", rebuild);
}
function mountCompareReadouts({ dom, bus, c }) {
  const show2 = () => {
    dom.title.textContent = c.get("title", "") || "Range tests compared";
    const s = c.selected();
    const ins = c.infos();
    dom.selReadout.textContent = s && ins[s.run] ? `selected ${ins[s.run].label}: lr ${formatLR(s.lr)}` : "";
    dom.appliedReadout.textContent = c.get("compare_error", "") || c.get("compare_applied", "");
    dom.applyBtn.disabled = !s;
  };
  show2();
  return bus.on("selection", show2);
}
function mountRunPointer({ dom, port, bus, c }) {
  const at = (ev) => {
    const r = dom.canvas.getBoundingClientRect();
    const x = ev.clientX - r.left;
    const y = ev.clientY - r.top;
    return { x, y, hit: c.g ? pickRun(c.g, c.runs, x, y, nearestIndex) : null };
  };
  const onMove = (ev) => {
    const { x, y, hit } = at(ev);
    const same = hit && c.hover && hit.run === c.hover.run && hit.index === c.hover.index;
    c.hover = hit;
    dom.tooltip.hidden = !hit;
    if (hit) showTooltip(dom, x, y, runTip(c.runs[hit.run].label, hit));
    if (!same) bus.emit("draw");
  };
  const onLeave = () => {
    c.hover = null;
    dom.tooltip.hidden = true;
    bus.emit("draw");
  };
  const onClick = (ev) => {
    const { hit } = at(ev);
    if (hit) port.send({ type: "compare_select", run: hit.run, lr: hit.lr });
  };
  const onApply = () => port.send({ type: "compare_apply" });
  const on = [
    [dom.canvas, "pointermove", onMove],
    [dom.canvas, "pointerleave", onLeave],
    [dom.canvas, "click", onClick],
    [dom.applyBtn, "click", onApply]
  ];
  for (const [t, e, fn] of on) t.addEventListener(e, fn);
  return () => {
    for (const [t, e, fn] of on) t.removeEventListener(e, fn);
  };
}
function runTip(label, hit) {
  return `<b>${esc(label)}</b> lr ${esc(formatLR(hit.lr))}<div>loss ${esc(formatLoss(hit.loss))}</div>`;
}
function mountCompareModel({ port, bus, c }) {
  const onSaved = () => {
    applySaved(c.state, c.get("compare_saved", null));
    bus.emit("draw");
  };
  const redraw = (topic) => () => {
    bus.emit(topic);
    bus.emit("draw");
  };
  const offs = [
    port.on("msg:custom", (msg, buffers) => {
      if (applyCompareMessage(c.state, msg, buffers)) bus.emit("draw");
    }),
    port.on("change:compare_saved", onSaved),
    port.on("change:compare_runs", redraw("suggestions"))
  ];
  for (const name of ["compare_selected", "compare_applied", "compare_error", "title", "compare_trend"]) {
    offs.push(port.on(`change:${name}`, redraw("selection")));
  }
  onSaved();
  port.send({ type: "hello" });
  return () => {
    for (const off of offs) off();
  };
}
var COMPARE_PARTS = [
  mountLayout,
  mountThemeWatch,
  mountCompareFrame,
  mountRunLegend,
  mountCompareReadouts,
  mountRunPointer,
  mountCompareModel
];
function createCompareContext(model) {
  const get = (name, fallback) => {
    const v = model.get(name);
    return v === void 0 || v === null ? fallback : v;
  };
  return {
    get,
    state: createCompareState(),
    hidden: /* @__PURE__ */ new Set(),
    hover: null,
    g: null,
    runs: [],
    infos: () => asRunInfos(get("compare_runs", [])),
    selected: () => {
      const s = get("compare_selected", {});
      return s && Number.isInteger(s.run) && typeof s.lr === "number" ? s : null;
    }
  };
}
function renderCompare({ model, el }) {
  const view = createView(el);
  const port = createPort(model, () => view.closed);
  const bus = createBus();
  const dom = buildCompareLayout();
  el.append(dom.root);
  const env = { el, dom, port, view, bus, c: createCompareContext(model) };
  const cleanups = COMPARE_PARTS.map((mount) => mount(env));
  bus.emit("draw");
  return () => {
    for (const off of cleanups) off();
    view.closed = true;
    dom.root.remove();
  };
}

// js/view/controls.js
function stopEnabled(status, lost) {
  return status === "running" && !lost;
}
function applyState(sel) {
  if (sel === null) return { enabled: false, title: "Select a learning rate on the plot first" };
  return { enabled: true, title: `Apply lr=${formatLR(sel)} to the optimizer` };
}
function readouts(sel, applied, pendingApply) {
  return {
    selected: sel === null ? "Nothing selected" : `Selected ${formatLR(sel)}`,
    applied: applied !== null ? `Applied ${formatLR(applied)}` : pendingApply ? "Apply queued" : null
  };
}
function pickerOptions(suggestions) {
  const head = { value: "", text: suggestions.length ? "Choose\u2026" : "none yet", disabled: false };
  return [
    head,
    ...suggestions.map((s) => {
      const has = num2(s.lr) !== null;
      const label = `${s.name}${s.default ? " (default)" : ""}`;
      return { value: s.name, text: has ? `${label}: ${formatLR(s.lr)}` : `${label}: none`, disabled: !has };
    })
  ];
}
function pickerValue(suggestions, sel) {
  for (const s of suggestions) if (s.lr !== null && s.lr === sel) return s.name;
  return "";
}
function keyed(kind, text) {
  return [h("span", { class: `lrw-key lrw-key-${kind}`, "aria-hidden": "true" }), document.createTextNode(text)];
}
function showSelection(dom, port, sel) {
  const apply = applyState(sel);
  dom.applyBtn.disabled = !apply.enabled;
  dom.applyBtn.title = apply.title;
  const r = readouts(sel, port.num("applied_lr"), port.get("pending_apply", false));
  dom.selReadout.innerHTML = "";
  dom.selReadout.append(...keyed("sel", r.selected));
  dom.appliedReadout.innerHTML = "";
  if (r.applied !== null) dom.appliedReadout.append(...keyed("applied", r.applied));
  const value = pickerValue(port.suggestions(), sel);
  if (dom.picker.value !== value) dom.picker.value = value;
}
function fillPicker(picker, suggestions) {
  picker.innerHTML = "";
  for (const o of pickerOptions(suggestions)) {
    const opt = h("option", { value: o.value, text: o.text });
    if (o.disabled) opt.disabled = true;
    picker.append(opt);
  }
  picker.disabled = !suggestions.some((s) => num2(s.lr) !== null);
}
function mountControls({ dom, port, view, bus, actions }) {
  const onPick = () => {
    const s = port.suggestions().find((x) => x.name === dom.picker.value);
    if (s) actions.selectSuggestion(s);
  };
  const onStop = () => actions.stop();
  const onApply = () => actions.apply();
  dom.applyBtn.addEventListener("click", onApply);
  dom.stopBtn.addEventListener("click", onStop);
  dom.picker.addEventListener("change", onPick);
  const offs = [
    bus.on("status", () => {
      dom.stopBtn.disabled = !stopEnabled(port.get("status", "idle"), isContactLost(port, view));
    }),
    bus.on("selection", () => showSelection(dom, port, actions.selectedLr())),
    bus.on("suggestions", () => fillPicker(dom.picker, port.suggestions())),
    bus.on("closed", () => {
      dom.applyBtn.disabled = true;
      dom.stopBtn.disabled = true;
    })
  ];
  return () => {
    for (const off of offs) off();
    dom.applyBtn.removeEventListener("click", onApply);
    dom.stopBtn.removeEventListener("click", onStop);
    dom.picker.removeEventListener("change", onPick);
  };
}

// js/view/focus_carry.js
var CARRY_MS = 5e3;
function focusKey(node) {
  return {
    tag: String(node.tagName || "").toLowerCase(),
    label: node.getAttribute("aria-label") || "",
    cls: node.classList?.[0] || ""
  };
}
function keySelector(key) {
  if (!/^[a-z][a-z0-9-]*$/.test(key.tag)) return null;
  if (key.label) return `${key.tag}[aria-label="${key.label.replace(/["\\]/g, "\\$&")}"]`;
  if (/^[A-Za-z][\w-]*$/.test(key.cls)) return `${key.tag}.${key.cls}`;
  return null;
}
function shouldCarry(note, now, oldGone, pageHasFocus) {
  if (!note?.key || !oldGone || !pageHasFocus) return false;
  return note.at === null || now - note.at <= CARRY_MS;
}
var WATCH_MS = 1e3;
var WATCH_EVERY_MS = 50;
function mountFocusCarry({ el, dom, port }) {
  const memo = port.memo();
  const doc = el.ownerDocument;
  const pageHasFocus = () => !doc.activeElement || doc.activeElement === doc.body;
  const note = memo.focus;
  memo.focus = null;
  const tryCarry = () => {
    if (!el.isConnected || !shouldCarry(note, Date.now(), !note.el.isConnected, pageHasFocus())) return false;
    const sel = keySelector(note.key);
    const target = sel && dom.root.querySelector(sel) || dom.plotBox;
    target.focus({ preventScroll: true });
    return doc.activeElement === target;
  };
  let watch = null;
  if (note && !tryCarry()) {
    const until = Date.now() + WATCH_MS;
    watch = setInterval(() => {
      if (tryCarry() || Date.now() > until || memo.focus) {
        clearInterval(watch);
        watch = null;
      }
    }, WATCH_EVERY_MS);
  }
  let mine = null;
  const onIn = (ev) => {
    mine = { key: focusKey(ev.target), el, at: null };
    memo.focus = mine;
  };
  const onOut = (ev) => {
    if (ev.relatedTarget && el.contains(ev.relatedTarget)) return;
    setTimeout(() => {
      if (mine && memo.focus === mine && el.isConnected && !el.contains(doc.activeElement)) memo.focus = null;
    }, 0);
  };
  el.addEventListener("focusin", onIn);
  el.addEventListener("focusout", onOut);
  return () => {
    if (watch !== null) clearInterval(watch);
    el.removeEventListener("focusin", onIn);
    el.removeEventListener("focusout", onOut);
    if (mine && memo.focus === mine) mine.at = Date.now();
  };
}

// js/view/interaction.js
var MARKER_RADIUS = 9;
function inPlot(frame, x, y) {
  if (!frame) return false;
  const p = frame.plot;
  return x >= p.left - 6 && x <= p.right + 6 && y >= p.top - 12 && y <= p.bottom + 6;
}
function hitTest(frame, readings, x, y, log) {
  if (!frame || !inPlot(frame, x, y) || readings.n === 0) return null;
  const marker = nearestMarker(frame.markers, x, y, MARKER_RADIUS);
  const index = marker < 0 ? nearestIndex(readings.lr, readings.n, frame.xScale.invert(x), log, null) : -1;
  return { marker, index };
}
function setHover(view, bus, index, marker) {
  if (view.hover.index === index && view.hover.marker === marker) return;
  view.hover = { index, marker };
  bus.emit("draw");
}
function mountPointer({ dom, port, view, bus, actions }) {
  const { canvas } = dom;
  const where = (ev) => {
    const r = canvas.getBoundingClientRect();
    const x = ev.clientX - r.left;
    const y = ev.clientY - r.top;
    return { x, y, hit: hitTest(view.frame, view.readings, x, y, isLogAxis(port.get("step_mode"), view.readings)) };
  };
  const onLeave = () => {
    dom.tooltip.hidden = true;
    setHover(view, bus, -1, -1);
  };
  const onMove = (ev) => {
    const { x, y, hit } = where(ev);
    if (!hit) return onLeave();
    const m = hit.marker >= 0 ? view.frame.markers[hit.marker] : null;
    setHover(view, bus, hit.index, m ? m.k : -1);
    canvas.style.cursor = m ? "pointer" : "crosshair";
    const r = view.readings;
    if (m) showTooltip(dom, x, y, markerTip(m.suggestion));
    else if (hit.index >= 0) {
      const i = hit.index;
      showTooltip(dom, x, y, readingTip(r.lr[i], r.smoothed[i], r.loss[i], i));
    }
  };
  const onClick = (ev) => {
    if (view.dragged) return;
    const { hit } = where(ev);
    if (!hit) return;
    dom.plotBox.focus({ preventScroll: true });
    if (hit.marker >= 0) actions.selectSuggestion(view.frame.markers[hit.marker].suggestion);
    else if (hit.index >= 0) actions.select(view.readings.lr[hit.index], hit.index);
  };
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerleave", onLeave);
  canvas.addEventListener("click", onClick);
  dom.plotBox.addEventListener("blur", onLeave);
  return () => {
    canvas.removeEventListener("pointermove", onMove);
    canvas.removeEventListener("pointerleave", onLeave);
    canvas.removeEventListener("click", onClick);
    dom.plotBox.removeEventListener("blur", onLeave);
  };
}
function showKeyed(dom, view, bus, i) {
  setHover(view, bus, i, -1);
  const f = view.frame;
  if (!f) return;
  const r = view.readings;
  const yv = r.smoothed[i];
  const y = Number.isFinite(yv) ? f.yScale.map(yv) : f.plot.top + 20;
  showTooltip(dom, f.xScale.map(r.lr[i]), Math.max(f.plot.top, Math.min(f.plot.bottom, y)), keyTip(r.lr[i], yv));
}
function mountKeyboard({ dom, port, view, bus, actions }) {
  const onKey = (ev) => {
    if (view.training?.mode === "training") return;
    const action = keyAction(ev);
    if (!action) return;
    ev.preventDefault();
    ev.stopPropagation();
    if (action.kind === "apply") return actions.apply();
    const r = view.readings;
    const valid = (i) => isSelectable(r, i);
    const fallback = keyFallback(port.suggestions(), r.n, valid, r.smoothed);
    const next = keyTarget(action, actions.selectedIndex(), r.n, valid, fallback);
    if (next < 0) return;
    actions.select(r.lr[next], next);
    showKeyed(dom, view, bus, next);
  };
  dom.plotBox.addEventListener("keydown", onKey);
  return () => dom.plotBox.removeEventListener("keydown", onKey);
}

// js/view/legend.js
function legendEntries(suggestions, rules) {
  return suggestions.map((s, k) => {
    const has = num2(s.lr) !== null;
    return {
      suggestion: s,
      name: s.name,
      lrText: has ? formatLR(s.lr) : "\u2014",
      title: `${s.name}: ${has ? formatLR(s.lr) : "no suggestion"} \u2014 ${s.reason || ""}`,
      dataLr: has ? String(s.lr) : "",
      color: rules[k % rules.length],
      isDefault: Boolean(s.default),
      enabled: has
    };
  });
}
function isPressed(dataLr, sel) {
  return dataLr !== "" && Number(dataLr) === sel;
}
function legendItem(e, onSelect) {
  const sw = h("span", { class: `lrw-swatch${e.isDefault ? " lrw-swatch-default" : ""}`, "aria-hidden": "true" });
  sw.style.setProperty("--lrw-swatch", e.color);
  const item = h(
    "button",
    {
      type: "button",
      class: `lrw-legend-item${e.isDefault ? " lrw-default" : ""}`,
      title: e.title,
      "data-lr": e.dataLr,
      "aria-pressed": "false"
    },
    [sw, h("span", { class: "lrw-legend-name", text: e.name }), h("span", { class: "lrw-legend-lr", text: e.lrText })]
  );
  if (!e.enabled) item.disabled = true;
  item.addEventListener("click", () => onSelect(e.suggestion));
  return item;
}
function mountLegend({ dom, port, view, bus, actions }) {
  const rebuild = () => {
    const sugg = port.suggestions();
    dom.legend.innerHTML = "";
    for (const e of legendEntries(sugg, view.theme.rules)) dom.legend.append(legendItem(e, actions.selectSuggestion));
    dom.legend.hidden = sugg.length === 0;
  };
  const press = () => {
    const sel = actions.selectedLr();
    for (const item of dom.legend.querySelectorAll(".lrw-legend-item")) {
      item.setAttribute("aria-pressed", String(isPressed(item.dataset.lr, sel)));
    }
  };
  const offs = [bus.on("suggestions", rebuild), bus.on("selection", press)];
  return () => {
    for (const off of offs) off();
  };
}

// js/view/messages.js
var HELLO_MIN_INTERVAL_MS = 1e3;
function shouldSayHello(needHello, now, lastHello, minInterval = HELLO_MIN_INTERVAL_MS) {
  return needHello && now - lastHello > minInterval;
}
function showSaved(port, view) {
  if (view.readings.lastContact !== null) return false;
  const saved = decodeSavedReadings(port.get("saved_readings"));
  if (saved?.error) console.warn("lrwidget: ignored the saved readings:", saved.error);
  const run = {
    numIter: port.num("num_iter"),
    startLr: port.num("start_lr"),
    endLr: port.num("end_lr"),
    stepMode: port.get("step_mode") === "linear" ? "linear" : "exp"
  };
  return applySavedReadings(view.readings, saved, run);
}
function mountMessages({ port, view, bus }) {
  const hello = { last: -Infinity };
  const sayHello = () => {
    hello.last = view.now();
    markHelloSent(view.readings);
    port.send({ type: "hello" });
  };
  const onCustom = (msg, buffers) => {
    const res = handleCustomMessage(view.readings, msg, buffers || [], view.now());
    if (res.error) console.warn("lrwidget: ignored a malformed message:", res.error);
    if (shouldSayHello(res.needHello, view.now(), hello.last)) sayHello();
    if (res.changed) bus.emit("draw");
    if (msg && msg.type === "heartbeat") bus.emit("status");
  };
  const onSaved = () => {
    if (showSaved(port, view)) bus.emit("draw");
  };
  const offs = [port.on("msg:custom", onCustom), port.on("change:saved_readings", onSaved)];
  onSaved();
  sayHello();
  return () => {
    for (const off of offs) off();
  };
}

// js/placement.js
var SIDEBAR_SELECTOR = ".jupyterlab-sidecar, #jp-right-stack";
function placementOf(el) {
  if (!el?.isConnected) return null;
  const host = el.closest(SIDEBAR_SELECTOR);
  if (!host) return "inline";
  return el.getClientRects().length > 0 ? "sidebar" : "hidden";
}
function shouldFold({ where, fallback, sidebarViews, expanded }) {
  return where === "inline" && fallback === true && sidebarViews > 0 && !expanded;
}
function newViewId(random = Math.random) {
  let s = "";
  while (s.length < 12)
    s += Math.floor(random() * 36 ** 4).toString(36).padStart(4, "0");
  return s.slice(0, 12);
}

// js/view/placement_watch.js
var MAX_PLACE_FRAMES = 600;
var unfoldedAreas = /* @__PURE__ */ new WeakSet();
var outputAreaOf = (el) => el?.closest?.(".jp-OutputArea") || null;
function folder({ el, dom, port, bus }, place) {
  return () => {
    if (!place.expanded && place.where === "inline" && unfoldedAreas.has(outputAreaOf(el))) place.expanded = true;
    const folded = shouldFold({
      where: place.where,
      fallback: port.get("sidebar_fallback", false) === true,
      sidebarViews: port.get("sidebar_views", 0),
      expanded: place.expanded
    });
    if (dom.root.hidden === folded) return;
    dom.root.hidden = folded;
    dom.foldNote.hidden = !folded;
    if (!folded) bus.emit("draw");
  };
}
function reporter({ el, dom, port, bus }, place) {
  const id = newViewId();
  const say = (where) => port.send({ type: "placement", where, view: id });
  const sayGone = () => {
    if (place.where !== null) say("gone");
    place.where = null;
    delete dom.root.dataset.placement;
  };
  const update = () => {
    const w = placementOf(el);
    if (w === null && place.where !== null) sayGone();
    if (w === null || w === place.where) return;
    if (place.where === null) bus.emit("theme");
    place.where = w;
    dom.root.dataset.placement = w;
    say(w);
  };
  return { update, sayGone };
}
function mountPlacementWatch(env) {
  const { el, dom, port, view, bus } = env;
  const place = { where: null, expanded: false, tries: 0 };
  const updateFold = folder(env, place);
  const report = reporter(env, place);
  const update = () => {
    report.update();
    updateFold();
  };
  const placeSoon = () => {
    if (view.closed || place.where !== null || place.tries++ > MAX_PLACE_FRAMES) return;
    requestAnimationFrame(() => {
      update();
      placeSoon();
    });
  };
  const showHere = () => {
    place.expanded = true;
    const area = outputAreaOf(el);
    if (area) unfoldedAreas.add(area);
    updateFold();
  };
  dom.showHereBtn.addEventListener("click", showHere);
  window.addEventListener("pagehide", report.sayGone);
  const offs = [
    port.on("change:sidebar_views", updateFold),
    port.on("change:sidebar_fallback", updateFold),
    bus.on("layout", update),
    () => window.removeEventListener("pagehide", report.sayGone),
    () => dom.showHereBtn.removeEventListener("click", showHere)
  ];
  placeSoon();
  return () => {
    for (const off of offs) off();
    report.sayGone();
  };
}

// js/layers/schedule.js
function previewLayout(width, height) {
  return { left: 6, top: 14, right: Math.max(16, width - 6), bottom: Math.max(24, height - 4) };
}
function peakLr(lrs) {
  let m = 0;
  for (let i = 0; i < lrs.length; i++) if (lrs[i] > m) m = lrs[i];
  return m;
}
function previewPoints(p, box) {
  const n = Math.min(p.steps.length, p.lrs.length);
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const kx = (box.right - box.left) / Math.max(1, p.totalSteps);
  const top = peakLr(p.lrs);
  const ky = top > 0 ? (box.bottom - box.top) / top : 0;
  for (let i = 0; i < n; i++) {
    xs[i] = box.left + p.steps[i] * kx;
    ys[i] = box.bottom - p.lrs[i] * ky;
  }
  return { xs, ys };
}
function tracePath(ctx, xs, ys) {
  ctx.beginPath();
  for (let i = 0; i < xs.length; i++) {
    if (i === 0) ctx.moveTo(xs[i], ys[i]);
    else ctx.lineTo(xs[i], ys[i]);
  }
}
function drawText(ctx, theme, p, box) {
  ctx.font = font(theme, 10);
  ctx.fillStyle = theme.fgMuted;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(`peak ${formatLR(peakLr(p.lrs))}`, box.left, 1);
  ctx.textAlign = "right";
  ctx.fillText(`${p.totalSteps.toLocaleString("en-US")} steps`, box.right, 1);
}
function drawSchedulePreview(f) {
  const { ctx, width, height, theme, preview } = f;
  ctx.setTransform(f.dpr || 1, 0, 0, f.dpr || 1, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const box = previewLayout(width, height);
  ctx.strokeStyle = theme.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(box.left, Math.round(box.bottom) + 0.5);
  ctx.lineTo(box.right, Math.round(box.bottom) + 0.5);
  ctx.stroke();
  if (!preview || preview.steps.length < 2) {
    ctx.font = font(theme, 11);
    ctx.fillStyle = theme.fgMuted;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(f.message || "", width / 2, height / 2);
    return 0;
  }
  const { xs, ys } = previewPoints(preview, box);
  tracePath(ctx, xs, ys);
  ctx.lineTo(xs[xs.length - 1], box.bottom);
  ctx.lineTo(xs[0], box.bottom);
  ctx.closePath();
  ctx.fillStyle = withAlpha(theme.selected, 0.16);
  ctx.fill();
  tracePath(ctx, xs, ys);
  ctx.strokeStyle = theme.selected;
  ctx.lineWidth = 1.5;
  ctx.lineJoin = "round";
  ctx.stroke();
  drawText(ctx, theme, preview, box);
  return xs.length;
}

// js/view/schedule.js
var SCHEDULE = rules_default.schedule;
var MAX_PREVIEW_POINTS = 16384;
var MIN_STEPS = SCHEDULE.minTotalSteps;
var MAX_STEPS = SCHEDULE.maxTotalSteps;
function scheduleKinds(section = SCHEDULE) {
  return (section.kinds || []).map((k) => ({ name: k.name, label: k.label }));
}
function kindLabel(kind) {
  return scheduleKinds().find((k) => k.name === kind)?.label ?? String(kind);
}
function parseSteps(text) {
  const s = String(text).trim();
  if (!/^\d+$/.test(s)) return { steps: null, error: `total steps must be a whole number, got "${s.slice(0, 20)}"` };
  const v = Number(s);
  if (v < MIN_STEPS || v > MAX_STEPS) return { steps: null, error: `total steps must be ${MIN_STEPS} to ${MAX_STEPS}` };
  return { steps: v, error: null };
}
var finite = (a) => Array.isArray(a) && a.every((x) => typeof x === "number" && Number.isFinite(x));
function asPreview(v) {
  if (typeof v !== "object" || v === null) return null;
  const { steps, lrs, total_steps: total } = v;
  if (!finite(steps) || !finite(lrs) || steps.length !== lrs.length || steps.length > MAX_PREVIEW_POINTS) return null;
  if (!Number.isSafeInteger(total) || total < 1 || steps.some((s, i) => s < 0 || s > total || s < (steps[i - 1] ?? 0)))
    return null;
  const range = asRange([v.lo, v.hi]);
  if (!range || lrs.some((x) => x < 0)) return null;
  const kind = typeof v.kind === "string" ? v.kind.slice(0, 40) : "";
  return { kind, ...range, totalSteps: total, steps: Float64Array.from(steps), lrs: Float64Array.from(lrs) };
}
function scheduleReadout(applied, error) {
  if (error) return { text: `Schedule refused: ${String(error).slice(0, 300)}`, error: true };
  if (!applied || typeof applied !== "object" || !asRange([applied.lo, applied.hi])) return { text: "", error: false };
  const steps = Number.isSafeInteger(applied.total_steps) ? applied.total_steps.toLocaleString("en-US") : "?";
  const text = `Attached ${kindLabel(applied.kind)} ${formatLR(applied.lo)} \u2192 ${formatLR(applied.hi)}, ${steps} steps`;
  return { text, error: false };
}
function previewText(p) {
  if (!p) return "No schedule preview: select a range on the plot, or run a range test for a suggested one";
  return `Preview of ${kindLabel(p.kind)} from ${formatLR(p.lo)} to ${formatLR(p.hi)} over ${p.totalSteps.toLocaleString("en-US")} steps`;
}
function buildRow() {
  const picker = h("select", { class: "lrw-picker lrw-schedule-kind", "aria-label": "Schedule" });
  for (const k of scheduleKinds()) picker.append(h("option", { value: k.name, text: k.label }));
  const steps = h("input", {
    class: "lrw-steps",
    type: "number",
    min: String(MIN_STEPS),
    max: String(MAX_STEPS),
    step: "1",
    inputmode: "numeric",
    "aria-label": "Total steps"
  });
  const canvas = h("canvas", { class: "lrw-preview", role: "img" });
  const applyBtn = h("button", { class: "lrw-btn lrw-apply-schedule", type: "button", text: "Apply schedule" });
  const readout = h("span", { class: "lrw-schedule-readout", role: "status", "aria-live": "polite" });
  const label = (text, input) => h("label", { class: "lrw-picker-label" }, [h("span", { text }), input]);
  const row = h("div", { class: "lrw-schedule", role: "group", "aria-label": "Schedule from the range" }, [
    label("Schedule", picker),
    label("Total steps", steps),
    canvas,
    applyBtn,
    readout
  ]);
  return { row, picker, steps, canvas, applyBtn, readout, drawn: {}, raw: void 0, preview: null };
}
function drawPreview(ui, view, p) {
  const c = ui.canvas;
  const width = Math.max(1, Math.floor(c.clientWidth));
  const height = Math.max(1, Math.floor(c.clientHeight));
  const dpr = window.devicePixelRatio || 1;
  const key = `${width}|${height}|${dpr}`;
  if (ui.drawn.p === p && ui.drawn.key === key && ui.drawn.theme === view.theme) return;
  ui.drawn = { p, key, theme: view.theme };
  c.width = Math.round(width * dpr);
  c.height = Math.round(height * dpr);
  const t0 = view.now();
  const message = "select a range on the curve";
  const ctx = c.getContext("2d");
  const points = drawSchedulePreview({ ctx, width, height, dpr, theme: view.theme, preview: p, message });
  c.dataset.points = String(points);
  c.dataset.frameMs = (view.now() - t0).toFixed(2);
}
function previewOf(ui, raw) {
  if (ui.raw !== raw) {
    ui.raw = raw;
    ui.preview = asPreview(raw);
  }
  return ui.preview;
}
function command(type, ui) {
  const parsed = parseSteps(ui.steps.value);
  ui.steps.setAttribute("aria-invalid", parsed.error ? "true" : "false");
  if (parsed.error) return { error: parsed.error };
  return { cmd: { type, kind: ui.picker.value, total_steps: parsed.steps } };
}
function show(ui, port, view, root) {
  const kind = port.get("schedule_kind", "");
  if (kind && ui.picker.value !== kind) ui.picker.value = kind;
  const total = port.num("total_steps");
  if (total !== null && document.activeElement !== ui.steps) ui.steps.value = String(total);
  const p = previewOf(ui, port.get("preview"));
  const hasRange = asRange(port.get("selected_range")) || asRange(port.get("suggested_range"));
  ui.applyBtn.disabled = !hasRange || port.get("status", "idle") === "running";
  const r = scheduleReadout(port.get("schedule_applied"), port.get("schedule_error", ""));
  if (ui.readout.textContent !== r.text) ui.readout.textContent = r.text;
  ui.readout.classList.toggle("lrw-error-text", r.error);
  const label = previewText(p);
  if (ui.canvas.getAttribute("aria-label") !== label) ui.canvas.setAttribute("aria-label", label);
  root.dataset.schedule = port.get("schedule_applied")?.kind ?? "";
  drawPreview(ui, view, p);
}
var TRAITS = ["schedule_kind", "total_steps", "preview", "schedule_applied", "schedule_error", "selected_range"];
function mountSchedule({ dom, port, view, bus }) {
  const ui = buildRow();
  dom.root.insertBefore(ui.row, dom.controls);
  const refresh = () => show(ui, port, view, dom.root);
  const send = (type) => {
    const r = command(type, ui);
    if (r.error) {
      ui.readout.textContent = r.error;
      return;
    }
    port.send(r.cmd);
    if (type === "apply_schedule") dom.live.textContent = `Attaching ${kindLabel(r.cmd.kind)}`;
  };
  const onPreview = () => send("schedule_preview");
  const onApply = () => send("apply_schedule");
  const onKey = (ev) => {
    if (ev.key !== "Enter") return;
    ev.preventDefault();
    ev.stopPropagation();
    onPreview();
  };
  ui.picker.addEventListener("change", onPreview);
  ui.steps.addEventListener("change", onPreview);
  ui.steps.addEventListener("keydown", onKey);
  ui.applyBtn.addEventListener("click", onApply);
  const offs = [
    ...[...TRAITS, "suggested_range"].map((t) => port.on(`change:${t}`, refresh)),
    bus.on("status", refresh),
    bus.on("layout", refresh),
    // a resize
    bus.on("suggestions", refresh),
    // the theme changed too: the preview's colours
    bus.on("closed", () => {
      ui.applyBtn.disabled = true;
    })
  ];
  refresh();
  return () => {
    for (const off of offs) off();
    ui.picker.removeEventListener("change", onPreview);
    ui.steps.removeEventListener("change", onPreview);
    ui.steps.removeEventListener("keydown", onKey);
    ui.applyBtn.removeEventListener("click", onApply);
    ui.row.remove();
  };
}

// js/view/trait_watch.js
var TRAIT_TOPICS = Object.freeze({
  status: ["status", "selection", "draw"],
  step: ["status"],
  num_iter: ["status"],
  elapsed: ["status"],
  eta: ["status"],
  diverged_lr: ["status", "selection", "draw"],
  error: ["status"],
  title: ["status"],
  hint: ["status", "draw"],
  pending_apply: ["status", "selection", "draw"],
  suggestions: ["suggestions", "selection", "draw"],
  applied_lr: ["selection", "draw"],
  start_lr: ["selection", "draw"],
  end_lr: ["selection", "draw"],
  step_mode: ["selection", "draw"]
});
var CONTACT_TRAITS = Object.freeze([
  "status",
  "step",
  "num_iter",
  "elapsed",
  "eta",
  "diverged_lr",
  "error",
  "title",
  "pending_apply"
]);
function mountTraitWatch({ port, view, bus }) {
  const offs = Object.entries(TRAIT_TOPICS).map(
    ([name, topics]) => port.on(`change:${name}`, () => {
      if (CONTACT_TRAITS.includes(name)) view.lastTraitContact = view.now();
      for (const t of topics) bus.emit(t);
    })
  );
  return () => {
    for (const off of offs) off();
  };
}

// js/widget.js
var TICK_MS = 1e3;
function mountTicker(bus) {
  const ticker = setInterval(() => {
    bus.emit("status");
    bus.emit("layout");
  }, TICK_MS);
  return () => clearInterval(ticker);
}
function mountClosed({ port, bus }) {
  return port.onOptional("destroy", () => bus.emit("closed"), "a view cannot tell that its widget was closed");
}
var PARTS = [
  mountLayout,
  mountFrameLoop,
  mountStatus,
  mountControls,
  mountLegend,
  mountPointer,
  mountKeyboard,
  mountRange,
  // issue 19: a range dragged or keyed on the curve
  mountSchedule,
  // issue 19: the schedule picker, total steps, preview and Apply schedule
  mountSelectionSync,
  mountTraitWatch,
  mountClosed,
  mountThemeWatch,
  mountTraining
  // the doctor (issue 18): a watch()'s training chart, verdict and buttons
];
function render({ model, el }) {
  if (isCompareModel(model)) return renderCompare({ model, el });
  const view = createView(el);
  const port = createPort(model, () => view.closed);
  const bus = createBus();
  const dom = buildLayout();
  el.append(dom.foldNote, dom.root);
  const announce = (text) => {
    dom.live.textContent = text;
  };
  const env = { el, dom, port, view, bus, actions: createActions({ port, view, bus, announce }) };
  const cleanups = PARTS.map((mount) => mount(env));
  cleanups.push(mountTicker(bus));
  for (const topic of ["status", "suggestions", "selection", "draw"]) bus.emit(topic);
  cleanups.push(mountMessages(env), mountPlacementWatch(env), mountFocusCarry(env));
  return () => {
    for (const c of cleanups.splice(0)) {
      try {
        c();
      } catch (err) {
        console.warn("lrwidget: cleanup failed", err);
      }
    }
    view.closed = true;
    dom.root.remove();
    dom.foldNote.remove();
  };
}
var widget_default = { render };
export {
  widget_default as default
};
