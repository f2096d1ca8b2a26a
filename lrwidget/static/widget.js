// js/decode.js
var LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function toFloat64Array(buf, count = null) {
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
  if (count !== null && count !== n) {
    throw new RangeError(`buffer holds ${n} float64 values, the message says count=${count}`);
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
      const count = num(msg.count);
      const start = num(msg.start);
      if (!Number.isInteger(count) || count < 0) return { type: "invalid", reason: `bad count ${msg.count}` };
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
          count,
          replay: Boolean(msg.replay),
          lr: toFloat64Array(buffers[0], count),
          loss: toFloat64Array(buffers[1], count),
          smoothed: toFloat64Array(buffers[2], count)
        };
      } catch (err) {
        return { type: "invalid", reason: err.message };
      }
    }
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
    version: 0
    // bumped on every change, so drawing can skip work
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
}
function markHelloSent(state) {
  state.awaitingReplay = true;
}
function applyMessage(state, m, now = 0) {
  const res = { changed: false, needHello: false, error: null };
  if (m === null) return res;
  state.lastContact = now;
  if (m.type === "invalid") {
    res.error = m.reason;
    return res;
  }
  if (m.type === "heartbeat") return res;
  if (m.type === "run") {
    if (m.runId !== state.runId) {
      clearReadings(state);
      state.runId = m.runId;
      state.awaitingReplay = false;
    }
    state.numIter = m.numIter;
    state.startLr = m.startLr;
    state.endLr = m.endLr;
    state.stepMode = m.stepMode;
    state.version++;
    res.changed = true;
    return res;
  }
  if (m.type === "readings") {
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
    state.version++;
    res.changed = m.count > 0 || res.changed;
    if (res.needHello) state.awaitingReplay = true;
    return res;
  }
  return res;
}
function handleCustomMessage(state, msg, buffers, now = 0) {
  return applyMessage(state, decodeMessage(msg, buffers), now);
}

// js/scale.js
function createScale(domain, range, log = false) {
  let [d0, d1] = domain;
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
  const invert = log ? (px) => Math.pow(10, t0 + (px - r0) / k) : (px) => t0 + (px - r0) / k;
  return {
    log,
    domain: log ? [Math.pow(10, t0), Math.pow(10, t1)] : [t0, t1],
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
  if (lo === Infinity) return log ? [1e-7, 10] : [0, 1];
  if (lo === hi) return log ? [lo / 10, hi * 10] : [lo - 1, hi + 1];
  return [lo, hi];
}
function yRangeColumns(raw, smooth, headroom = 1.5) {
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
  const floorSpan = Math.max(Math.abs(min) * 0.05, 1e-12);
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
    const pad2 = Math.max(Math.abs(bottom) * 0.1, 1e-9);
    return { lo: bottom - pad2, hi: top + pad2, clipped };
  }
  const pad = (top - bottom) * 0.06;
  return { lo: bottom - pad, hi: top + pad, clipped };
}

// js/format.js
var SUPERSCRIPT = {
  "-": "\u207B",
  "0": "\u2070",
  "1": "\xB9",
  "2": "\xB2",
  "3": "\xB3",
  "4": "\u2074",
  "5": "\u2075",
  "6": "\u2076",
  "7": "\u2077",
  "8": "\u2078",
  "9": "\u2079"
};
function powerOfTen(exponent) {
  if (exponent === 0) return "1";
  if (exponent === 1) return "10";
  const digits = String(Math.round(exponent)).split("").map((c) => SUPERSCRIPT[c] || c).join("");
  return "10" + digits;
}
function nonFinite(x) {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  return null;
}
function formatLR(x, digits = 3) {
  if (x === null || x === void 0) return "\u2014";
  const bad = nonFinite(x);
  if (bad) return bad;
  if (x === 0) return "0";
  const [mant, exp] = x.toExponential(Math.max(0, digits - 1)).split("e");
  const m = mant.includes(".") ? mant.replace(/0+$/, "").replace(/\.$/, "") : mant;
  const e = parseInt(exp, 10);
  return e === 0 ? m : `${m}e${e}`;
}
function formatLoss(y, digits = 4) {
  if (y === null || y === void 0) return "\u2014";
  const bad = nonFinite(y);
  if (bad) return bad;
  if (y === 0) return "0";
  const a = Math.abs(y);
  if (a >= 1e5 || a < 1e-3) return formatLR(y, digits);
  let s = y.toPrecision(digits);
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s;
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
  if (a !== 0 && (a >= 1e5 || a < 1e-4)) return formatLR(value, 3);
  const decimals = step > 0 ? Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9))) : 2;
  const s = value.toFixed(decimals);
  return /^-0(\.0+)?$/.test(s) ? s.slice(1) : s;
}

// js/ticks.js
var EPS = 1e-9;
function niceStep(span, count) {
  if (!(span > 0) || !(count > 0)) return 1;
  const raw = span / count;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  const m = f < Math.SQRT2 ? 1 : f < Math.sqrt(10) ? 2 : f < Math.sqrt(50) ? 5 : 10;
  return m * p;
}
function linearTicks(lo, hi, count = 5) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return { major: [], minor: [] };
  const step = niceStep(hi - lo, Math.max(1, count));
  const first = Math.ceil(lo / step - EPS);
  const last = Math.floor(hi / step + EPS);
  const major = [];
  for (let k = first; k <= last && major.length < 1e3; k++) {
    const value = k * step;
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
    const major2 = [];
    const minor = [];
    for (let e = Math.ceil(e0 / stride) * stride; e <= e1; e += stride) {
      major2.push({ value: Math.pow(10, e), label: powerOfTen(e) });
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
    return { major: major2, minor };
  }
  let best = null;
  for (const mults of [[1, 2, 5], [1, 2, 3, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const major2 = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of mults) {
        const v = m * Math.pow(10, e);
        if (v >= lo * (1 - EPS) && v <= hi * (1 + EPS)) major2.push({ value: v, label: formatLR(v, 2) });
      }
    }
    if (major2.length >= 2 && major2.length <= maxMajor) best = major2;
  }
  if (best) return { major: best, minor: [] };
  const major = [];
  const l0 = Math.log10(lo);
  const l1 = Math.log10(hi);
  const n = Math.min(maxMajor, 4);
  for (let i = 0; i < n; i++) {
    const v = Math.pow(10, l0 + (l1 - l0) * (i + 0.5) / n);
    major.push({ value: v, label: formatLR(v, 3) });
  }
  return { major, minor: [] };
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
function grow(out, need) {
  if (out.capacity >= need) return out;
  const cap = Math.max(need, Math.ceil(out.capacity * 1.5), 64);
  const fresh = createColumns(cap);
  for (const key of ["x0", "x1", "first", "last", "min", "max", "n", "i0", "brk"]) {
    fresh[key].set(out[key].subarray(0, out.count));
  }
  out.capacity = cap;
  for (const key of ["x0", "x1", "first", "last", "min", "max", "n", "i0", "brk"]) out[key] = fresh[key];
  return out;
}
function decimate(xs, ys, n, mapX, out = createColumns(0), from = 0) {
  const m = Math.min(n, xs.length, ys.length);
  grow(out, m);
  const { x0, x1, first, last, min, max, brk, i0 } = out;
  const cnt = out.n;
  let count = 0;
  let cur = NaN;
  let gap = true;
  let open = false;
  let cx0 = 0, cx1 = 0, cf = 0, cl = 0, cmin = 0, cmax = 0, cn = 0, cbrk = 0, ci0 = 0;
  let start = 0;
  if (from > 0 && out.count > 0) {
    let lo = 0;
    let hi = out.count - 1;
    if (i0[0] > from) hi = -1;
    while (lo < hi) {
      const mid = lo + hi + 1 >> 1;
      if (i0[mid] <= from) lo = mid;
      else hi = mid - 1;
    }
    if (hi >= 0) {
      count = lo;
      start = i0[lo];
      gap = brk[lo] === 1;
      cur = lo > 0 ? Math.floor(x1[lo - 1]) : NaN;
    }
  }
  for (let i = start; i < m; i++) {
    const y = ys[i];
    if (!(y - y === 0)) {
      gap = true;
      continue;
    }
    const px = mapX(xs[i]);
    if (!(px - px === 0)) {
      gap = true;
      continue;
    }
    const c = Math.floor(px);
    if (c === cur && !gap) {
      cmin = Math.min(cmin, y);
      cmax = Math.max(cmax, y);
      cl = y;
      cx1 = px;
      cn++;
    } else {
      if (open) {
        x0[count] = cx0;
        x1[count] = cx1;
        first[count] = cf;
        last[count] = cl;
        min[count] = cmin;
        max[count] = cmax;
        cnt[count] = cn;
        brk[count] = cbrk;
        i0[count] = ci0;
        count++;
      }
      open = true;
      ci0 = i;
      cx0 = cx1 = px;
      cf = cl = cmin = cmax = y;
      cn = 1;
      cbrk = gap ? 1 : 0;
      cur = c;
      gap = false;
    }
  }
  if (open) {
    x0[count] = cx0;
    x1[count] = cx1;
    first[count] = cf;
    last[count] = cl;
    min[count] = cmin;
    max[count] = cmax;
    cnt[count] = cn;
    brk[count] = cbrk;
    i0[count] = ci0;
    count++;
  }
  out.count = count;
  return out;
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
    let a = parts.length > 3 ? parts[3] : "1";
    a = a.endsWith("%") ? parseFloat(a) / 100 : parseFloat(a);
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
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}
function withAlpha(color, alpha) {
  const c = parseColor(color);
  if (!c) return color;
  return `rgba(${Math.round(c[0])},${Math.round(c[1])},${Math.round(c[2])},${alpha})`;
}
var LIGHT = {
  fg: "#1f2328",
  fgMuted: "#57606a",
  fgFaint: "#8c959f",
  bg: "#ffffff",
  panel: "#f6f8fa",
  grid: "rgba(31,35,40,0.08)",
  border: "#d0d7de",
  accent: "#1a73e8",
  selected: "#e8710a",
  applied: "#188038",
  error: "#d93025",
  warn: "#b06000",
  rules: ["#1a73e8", "#9334e6", "#e8710a", "#188038", "#c5221f", "#007b83"]
};
var DARK = {
  fg: "#e6edf3",
  fgMuted: "#9da7b1",
  fgFaint: "#6e7681",
  bg: "#1e1e1e",
  panel: "#262626",
  grid: "rgba(230,237,243,0.09)",
  border: "#3d444d",
  accent: "#6ea8fe",
  selected: "#ffa657",
  applied: "#56d364",
  error: "#ff7b72",
  warn: "#e3b341",
  rules: ["#6ea8fe", "#d2a8ff", "#ffa657", "#56d364", "#ff7b72", "#39c5cf"]
};
function pickTheme(getVar, prefersDark = false) {
  const v = (...names) => {
    for (const n of names) {
      const x = (getVar(n) || "").trim();
      if (x) return x;
    }
    return "";
  };
  const bgVar = v("--jp-layout-color0", "--vscode-editor-background", "--vscode-notebook-editorBackground");
  const bgParsed = parseColor(bgVar);
  const dark = bgParsed ? luminance(bgParsed) < 0.4 : prefersDark;
  const base = dark ? DARK : LIGHT;
  const ruleVars = [
    v("--vscode-charts-blue"),
    v("--vscode-charts-purple"),
    v("--vscode-charts-orange"),
    v("--vscode-charts-green"),
    v("--vscode-charts-red"),
    v("--vscode-charts-yellow")
  ];
  return {
    dark,
    fg: v("--jp-ui-font-color1", "--vscode-editor-foreground", "--vscode-foreground") || base.fg,
    fgStrong: v("--jp-ui-font-color0", "--vscode-editor-foreground") || base.fg,
    fgMuted: v("--jp-ui-font-color2", "--vscode-descriptionForeground") || base.fgMuted,
    fgFaint: v("--jp-ui-font-color3", "--vscode-disabledForeground") || base.fgFaint,
    bg: bgVar || base.bg,
    panel: v("--jp-layout-color1", "--vscode-editorWidget-background") || base.panel,
    panel2: v("--jp-layout-color2", "--vscode-input-background") || base.panel,
    border: v("--jp-border-color1", "--vscode-panel-border", "--vscode-editorWidget-border") || base.border,
    // Grid: the host's faint border color when it has one, else a faint tint of the text color.
    grid: v("--jp-border-color2") ? withAlpha(v("--jp-border-color2"), dark ? 0.5 : 0.6) : withAlpha(v("--jp-ui-font-color1", "--vscode-editor-foreground") || base.fg, dark ? 0.1 : 0.08),
    accent: v("--jp-brand-color1", "--vscode-charts-blue", "--vscode-focusBorder") || base.accent,
    selected: v("--jp-warn-color0", "--vscode-charts-orange") || base.selected,
    applied: v("--jp-success-color1", "--vscode-charts-green") || base.applied,
    error: v("--jp-error-color1", "--vscode-errorForeground", "--vscode-charts-red") || base.error,
    rules: base.rules.map((c, i) => ruleVars[i] || c),
    font: v("--jp-ui-font-family", "--vscode-font-family") || "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
    fontSize: 11
  };
}
function readTheme(el) {
  const style = getComputedStyle(el);
  const prefersDark = typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
  return pickTheme((name) => style.getPropertyValue(name), prefersDark);
}
function watchTheme(onChange) {
  const disposers = [];
  if (typeof MutationObserver === "function" && typeof document !== "undefined") {
    const mo = new MutationObserver(() => onChange());
    const opts = { attributes: true, attributeFilter: ["class", "style", "data-jp-theme-light", "data-jp-theme-name", "data-vscode-theme-kind"] };
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
  return () => disposers.forEach((d) => d());
}

// js/plot.js
function createPlotCache() {
  return { raw: createColumns(0), smooth: createColumns(0), key: "", n: 0, left: 48, logLr: null };
}
function decimateInto(cache, data, n, log, x0, x1, left, right, dpr, dirtyFrom) {
  const xDev = createScale([x0, x1], [left * dpr, right * dpr], log);
  const key = `${log}|${xDev.t0}|${xDev.k}|${left * dpr}`;
  let xs = data.lr;
  let mapX = xDev.map;
  if (log) {
    if (data.logLr && data.logLr.length >= n) {
      xs = data.logLr;
    } else {
      if (!cache.logLr || cache.logLr.length < n) cache.logLr = new Float64Array(Math.max(n, 256));
      for (let i = 0; i < n; i++) cache.logLr[i] = Math.log10(data.lr[i]);
      xs = cache.logLr;
      dirtyFrom = 0;
    }
    const { t0, k } = xDev;
    const r0 = left * dpr;
    mapX = (t) => r0 + (t - t0) * k;
  }
  let from = 0;
  if (key === cache.key && n >= cache.n) {
    from = Math.min(Number.isFinite(dirtyFrom) ? dirtyFrom : n, cache.n);
  }
  if (from < n || key !== cache.key || n !== cache.n) {
    decimate(xs, data.loss, n, mapX, cache.raw, from);
    decimate(xs, data.smoothed, n, mapX, cache.smooth, from);
  }
  cache.key = key;
  cache.n = n;
  return xDev;
}
function font(theme, size, weight = "") {
  return `${weight ? weight + " " : ""}${size}px ${theme.font}`;
}
function computeLayout(width, height, yLabelWidth) {
  const narrow = width < 420;
  const left = Math.max(narrow ? 30 : 40, Math.ceil(yLabelWidth) + (narrow ? 8 : 12));
  const top = 22;
  const right = width - (narrow ? 10 : 16);
  const bottom = height - (narrow ? 34 : 38);
  return { left, top, right: Math.max(left + 10, right), bottom: Math.max(top + 10, bottom), narrow };
}
function createSimplifier(ctx, tol) {
  let ax = 0, ay = 0;
  let px = 0, py = 0;
  let pending = false;
  let lo = -Infinity, hi = Infinity;
  return {
    move(x, y) {
      if (pending) ctx.lineTo(px, py);
      ctx.moveTo(x, y);
      ax = x;
      ay = y;
      pending = false;
      lo = -Infinity;
      hi = Infinity;
    },
    line(x, y) {
      const dx = x - ax;
      if (dx <= 0.01) {
        if (pending) ctx.lineTo(px, py);
        ctx.lineTo(x, y);
        ax = x;
        ay = y;
        pending = false;
        lo = -Infinity;
        hi = Infinity;
        return;
      }
      const slope = (y - ay) / dx;
      if (pending && (slope < lo || slope > hi)) {
        ctx.lineTo(px, py);
        ax = px;
        ay = py;
        lo = -Infinity;
        hi = Infinity;
        const d2 = x - ax;
        if (d2 <= 0.01) {
          ctx.lineTo(x, y);
          ax = x;
          ay = y;
          pending = false;
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
      if (pending) ctx.lineTo(px, py);
      pending = false;
    }
  };
}
function strokeColumns(ctx, cols, yMap, tol = 0.3) {
  const { count, x0, x1, first, last, min, max, brk } = cols;
  const cnt = cols.n;
  const p = createSimplifier(ctx, tol);
  ctx.beginPath();
  for (let j = 0; j < count; j++) {
    const yf = yMap(first[j]);
    if (brk[j]) p.move(x0[j], yf);
    else p.line(x0[j], yf);
    if (cnt[j] > 1) {
      const yl = yMap(last[j]);
      const yMin = yMap(min[j]);
      const yMax = yMap(max[j]);
      const lo = Math.max(yf, yl);
      const hi = Math.min(yf, yl);
      const xm = (x0[j] + x1[j]) * 0.5;
      if (yMin > lo + 0.5 || yMax < hi - 0.5) {
        p.line(xm, yMin);
        p.line(xm, yMax);
      }
      if (x1[j] - x0[j] > 0.5 || Math.abs(yl - yf) > 0.5) p.line(x1[j], yl);
    }
  }
  p.end();
  ctx.stroke();
}
function fillBand(ctx, cols, yMap, thickness) {
  const { count, x0, min, max, last, brk } = cols;
  const half = thickness / 2;
  for (let j = 0; j < count; j++) {
    let top = yMap(max[j]);
    let bottom = yMap(min[j]);
    if (!brk[j] && j > 0) {
      const yp = yMap(last[j - 1]);
      if (yp < top) top = yp;
      if (yp > bottom) bottom = yp;
    }
    const y0 = Math.floor(top - half);
    ctx.fillRect(Math.floor(x0[j]), y0, 1, Math.max(1, Math.ceil(bottom + half) - y0));
  }
}
function smoothedAt(data, log, lr, index) {
  let i = Number.isInteger(index) && index >= 0 && index < data.n ? index : -1;
  if (i < 0 || !Number.isFinite(data.smoothed[i])) i = nearestIndex(data.lr, data.n, lr, log, data.smoothed);
  return i >= 0 ? data.smoothed[i] : NaN;
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
function drawFrame(f) {
  const { ctx, width, height, theme, data } = f;
  const dpr = f.dpr || 1;
  const log = f.log !== false;
  const cache = f.cache || createPlotCache();
  const n = data.n;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const extent = Number.isFinite(data.lrMin) && data.lrMin <= data.lrMax && log ? [data.lrMin, data.lrMax] : null;
  const [x0, x1] = xDomain(data.lr, n, f.startLr, f.endLr, log, extent);
  const dirtyFrom = f.dirtyFrom === void 0 ? 0 : f.dirtyFrom;
  const right0 = computeLayout(width, height, 0).right;
  let xDev = decimateInto(cache, data, n, log, x0, x1, cache.left, right0, dpr, dirtyFrom);
  let yr = yRangeColumns(cache.raw, cache.smooth);
  const hasData = cache.raw.count > 0 || cache.smooth.count > 0;
  ctx.font = font(theme, 11);
  const approxRows = Math.max(2, Math.floor((height - 60) / 42));
  let yt = linearTicks(yr.lo, yr.hi, approxRows);
  let yLabelW = 0;
  if (hasData) for (const t of yt.major) yLabelW = Math.max(yLabelW, ctx.measureText(t.label).width);
  const L = computeLayout(width, height, yLabelW);
  if (L.left !== cache.left || L.right !== right0) {
    cache.left = L.left;
    xDev = decimateInto(cache, data, n, log, x0, x1, L.left, L.right, dpr, 0);
    yr = yRangeColumns(cache.raw, cache.smooth);
    yt = linearTicks(yr.lo, yr.hi, approxRows);
  }
  const plot = { left: L.left, top: L.top, right: L.right, bottom: L.bottom };
  const xScale = createScale([x0, x1], [plot.left, plot.right], log);
  const yScale = createScale([yr.lo, yr.hi], [plot.bottom, plot.top], false);
  const xt = log ? logTicks(xScale.domain[0], xScale.domain[1], Math.max(2, Math.floor((plot.right - plot.left) / 58))) : linearTicks(xScale.domain[0], xScale.domain[1], Math.max(2, Math.floor((plot.right - plot.left) / 90)));
  ctx.lineWidth = 1;
  ctx.strokeStyle = theme.grid;
  ctx.beginPath();
  for (const t of xt.major) {
    const x = Math.round(xScale.map(t.value)) + 0.5;
    ctx.moveTo(x, plot.top);
    ctx.lineTo(x, plot.bottom);
  }
  if (hasData) {
    for (const t of yt.major) {
      const y = Math.round(yScale.map(t.value)) + 0.5;
      ctx.moveTo(plot.left, y);
      ctx.lineTo(plot.right, y);
    }
  }
  ctx.stroke();
  ctx.strokeStyle = theme.border;
  ctx.beginPath();
  ctx.moveTo(plot.left + 0.5, plot.top);
  ctx.lineTo(plot.left + 0.5, plot.bottom + 0.5);
  ctx.lineTo(plot.right, plot.bottom + 0.5);
  for (const t of xt.major) {
    const x = Math.round(xScale.map(t.value)) + 0.5;
    ctx.moveTo(x, plot.bottom);
    ctx.lineTo(x, plot.bottom + 5);
  }
  for (const v of xt.minor) {
    const x = Math.round(xScale.map(v)) + 0.5;
    ctx.moveTo(x, plot.bottom);
    ctx.lineTo(x, plot.bottom + 3);
  }
  ctx.stroke();
  ctx.fillStyle = theme.fgMuted;
  ctx.font = font(theme, 11);
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  let lastRight = -Infinity;
  for (const t of xt.major) {
    const x = xScale.map(t.value);
    const w = ctx.measureText(t.label).width;
    if (x - w / 2 < lastRight + 6) continue;
    ctx.fillText(t.label, x, plot.bottom + 7);
    lastRight = x + w / 2;
  }
  if (hasData) {
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of yt.major) ctx.fillText(t.label, plot.left - 6, yScale.map(t.value));
  }
  ctx.fillStyle = theme.fgMuted;
  ctx.font = font(theme, 11, "600");
  ctx.textBaseline = "bottom";
  ctx.textAlign = "right";
  ctx.fillText(log ? "learning rate (log scale)" : "learning rate", plot.right, height - 2);
  ctx.textAlign = "left";
  ctx.fillText("loss", 4, plot.top - 6);
  const titleRight = 4 + ctx.measureText("loss").width + 6;
  const markers = [];
  if (n > 0) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.left + 1, plot.top - 1, plot.right - plot.left, plot.bottom - plot.top + 1);
    ctx.clip();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    const yDev = createScale([yr.lo, yr.hi], [plot.bottom * dpr, plot.top * dpr], false);
    const yMap = yDev.map;
    const rawColor = withAlpha(theme.accent, theme.dark ? 0.55 : 0.3);
    if (n >= 2 * cache.raw.count) {
      ctx.fillStyle = rawColor;
      fillBand(ctx, cache.raw, yMap, dpr);
    } else {
      ctx.strokeStyle = rawColor;
      ctx.lineWidth = 1 * dpr;
      strokeColumns(ctx, cache.raw, yMap);
    }
    ctx.strokeStyle = theme.accent;
    ctx.lineWidth = 2.25 * dpr;
    ctx.lineJoin = cache.smooth.count < 1500 ? "round" : "bevel";
    strokeColumns(ctx, cache.smooth, yMap);
    if (yr.clipped) {
      const sm = cache.smooth;
      ctx.fillStyle = theme.fgMuted;
      let lastX = -Infinity;
      const topY = (plot.top + 1) * dpr;
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
    ctx.restore();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }
  let firstBad = Number.isInteger(data.firstBad) ? data.firstBad : -1;
  if (!Number.isInteger(data.firstBad)) {
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(data.lr[i])) continue;
      if (!Number.isFinite(data.loss[i]) || !Number.isFinite(data.smoothed[i])) {
        firstBad = i;
        break;
      }
    }
  }
  const divLr = Number.isFinite(f.divergedLr) ? f.divergedLr : firstBad >= 0 ? data.lr[firstBad] : NaN;
  if (Number.isFinite(divLr)) {
    const x = xScale.map(divLr);
    if (x >= plot.left - 1 && x <= plot.right + 1) {
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
      const what = firstBad >= 0 ? Number.isNaN(data.loss[firstBad]) ? "NaN" : "inf" : "diverged";
      ctx.fillStyle = theme.error;
      ctx.font = font(theme, 11, "600");
      ctx.textBaseline = "middle";
      const label = firstBad >= 0 ? `loss ${what}` : "diverged";
      const lw = ctx.measureText(label).width;
      const right = x + 8 + lw <= plot.right;
      ctx.textAlign = right ? "left" : "right";
      ctx.fillText(label, right ? x + 8 : x - 8, my);
    }
  }
  const lines = [];
  const vline = (lr, color, dash, text) => {
    if (!Number.isFinite(lr) || log && !(lr > 0)) return;
    const x = xScale.map(lr);
    if (!(x >= plot.left - 1 && x <= plot.right + 1)) return;
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.75;
    ctx.setLineDash(dash);
    ctx.beginPath();
    ctx.moveTo(Math.round(x) + 0.5, plot.top);
    ctx.lineTo(Math.round(x) + 0.5, plot.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    lines.push({ x, text, color, w: pillWidth(ctx, theme, text) });
  };
  vline(f.appliedLr, theme.applied, [5, 4], `applied ${formatLR(f.appliedLr)}`);
  vline(f.selectedLr, theme.selected, [], formatLR(f.selectedLr));
  if (lines.length) {
    const lefts = spreadLabels(lines.map((l) => l.x), lines.map((l) => l.w), Math.max(plot.left - 4, titleRight), width - 2);
    lines.forEach((l, i) => drawPill(ctx, theme, l.text, lefts[i], plot.top - 10, l.w, l.color));
  }
  const sugg = f.suggestions || [];
  for (let k = 0; k < sugg.length; k++) {
    const s = sugg[k];
    if (!Number.isFinite(s.lr) || log && !(s.lr > 0)) continue;
    const x = xScale.map(s.lr);
    let yv = smoothedAt(data, log, s.lr, s.index);
    if (!Number.isFinite(yv)) continue;
    const y = Math.max(plot.top + 4, Math.min(plot.bottom - 4, yScale.map(yv)));
    if (x < plot.left - 2 || x > plot.right + 2) continue;
    markers.push({ x, y, suggestion: s, k });
  }
  const order = markers.slice().sort((a, b) => (a.suggestion.default ? 1 : 0) - (b.suggestion.default ? 1 : 0));
  for (const m of order) {
    const color = m.suggestion.color || theme.rules[m.k % theme.rules.length];
    const hot = f.hoverMarker === m.k;
    const r = (m.suggestion.default ? 6 : 4.5) + (hot ? 1.5 : 0);
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
  const hi = f.hoverIndex;
  if (Number.isInteger(hi) && hi >= 0 && hi < n && Number.isFinite(data.lr[hi])) {
    const x = xScale.map(data.lr[hi]);
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
      ctx.beginPath();
      ctx.arc(x, yScale.map(yraw), 2.5, 0, Math.PI * 2);
      ctx.fill();
    }
    if (Number.isFinite(ys) && ys <= yr.hi && ys >= yr.lo) {
      ctx.fillStyle = theme.accent;
      ctx.strokeStyle = theme.bg;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(x, yScale.map(ys), 4, 0, Math.PI * 2);
      ctx.stroke();
      ctx.fill();
    }
  }
  if (f.message) {
    ctx.fillStyle = theme.fgMuted;
    ctx.font = font(theme, 12);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(f.message, (plot.left + plot.right) / 2, (plot.top + plot.bottom) / 2);
  }
  return { plot, xScale, yScale, markers, yr };
}

// js/placement.js
var SIDEBAR_SELECTOR = ".jupyterlab-sidecar, #jp-right-stack";
function placementOf(el) {
  if (!el || !el.isConnected) return null;
  const host = el.closest(SIDEBAR_SELECTOR);
  if (!host) return "inline";
  return el.getClientRects().length > 0 ? "sidebar" : "hidden";
}
function shouldFold({ where, fallback, sidebarViews, expanded }) {
  return where === "inline" && fallback === true && sidebarViews > 0 && !expanded;
}
function newViewId(random = Math.random) {
  let s = "";
  while (s.length < 12) s += Math.floor(random() * 36 ** 4).toString(36).padStart(4, "0");
  return s.slice(0, 12);
}

// js/widget.js
var CONTACT_TIMEOUT_MS = 5e3;
var HELLO_MIN_INTERVAL_MS = 1e3;
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
function num2(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}
var unfoldedAreas = /* @__PURE__ */ new WeakSet();
var outputAreaOf = (el) => el && typeof el.closest === "function" && el.closest(".jp-OutputArea") || null;
function render({ model, el }) {
  const now = () => typeof performance !== "undefined" ? performance.now() : Date.now();
  const state = createViewState();
  const cache = createPlotCache();
  const cleanups = [];
  let theme = readTheme(el);
  let frame = null;
  let rafId = null;
  let hoverIndex = -1;
  let hoverMarker = -1;
  let localSel = null;
  let lastHello = -Infinity;
  let closed = false;
  let lastTraitContact = now();
  const root = h("div", { class: "lrw-root", "data-lm-suppress-shortcuts": "true" });
  const title = h("div", { class: "lrw-title" });
  const statusDot = h("span", { class: "lrw-dot", "aria-hidden": "true" });
  const statusText = h("span", { class: "lrw-status-text" });
  const status = h("div", { class: "lrw-status", role: "status", "aria-live": "polite" }, [statusDot, statusText]);
  const header = h("div", { class: "lrw-header" }, [title, status]);
  const canvas = h("canvas", { class: "lrw-canvas", "aria-hidden": "true" });
  const tooltip = h("div", { class: "lrw-tooltip", role: "presentation" });
  tooltip.hidden = true;
  const plotBox = h("div", {
    class: "lrw-plot",
    tabindex: "0",
    role: "application",
    "aria-roledescription": "learning-rate finder plot",
    "aria-label": "Loss against learning rate. Click or use Left/Right arrows to select a learning rate, Enter to apply."
  }, [canvas, tooltip]);
  const legend = h("div", { class: "lrw-legend", role: "group", "aria-label": "Suggestions" });
  const picker = h("select", { class: "lrw-picker", "aria-label": "Suggestion" });
  const pickerLabel = h("label", { class: "lrw-picker-label" }, [h("span", { text: "Suggestion" }), picker]);
  const selReadout = h("span", { class: "lrw-readout lrw-sel" });
  const appliedReadout = h("span", { class: "lrw-readout lrw-applied" });
  const readouts = h("div", { class: "lrw-readouts" }, [selReadout, appliedReadout]);
  const stopBtn = h("button", { class: "lrw-btn lrw-stop", type: "button", text: "Stop" });
  const applyBtn = h("button", { class: "lrw-btn lrw-apply", type: "button", text: "Apply" });
  const buttons = h("div", { class: "lrw-buttons" }, [stopBtn, applyBtn]);
  const controls = h("div", { class: "lrw-controls" }, [pickerLabel, readouts, buttons]);
  const live = h("div", { class: "lrw-sr-only", "aria-live": "polite" });
  root.append(header, plotBox, legend, controls, live);
  const showHereBtn = h("button", { class: "lrw-btn lrw-show-here", type: "button", text: "Show here" });
  const foldNote = h("div", { class: "lrw-elsewhere", role: "note" }, [
    h("span", { class: "lrw-elsewhere-text", text: "LR finder: shown in the right sidebar" }),
    showHereBtn
  ]);
  foldNote.hidden = true;
  el.append(foldNote, root);
  const get = (name, fallback = null) => {
    const v = model.get(name);
    return v === void 0 || v === null ? fallback : v;
  };
  const send = (content) => {
    if (closed) return;
    try {
      model.send(content);
    } catch (err) {
      console.warn("lrwidget: send failed", err);
    }
  };
  const sendHello = () => {
    lastHello = now();
    markHelloSent(state);
    send({ type: "hello" });
  };
  const suggestions = () => {
    const s = get("suggestions", []);
    return Array.isArray(s) ? s : [];
  };
  const logAxis = () => (get("step_mode", state.stepMode) || state.stepMode) !== "linear";
  const selectedLr = () => localSel ? localSel.lr : num2(get("selected_lr"));
  const validReading = (i) => Number.isFinite(state.lr[i]) && Number.isFinite(state.smoothed[i]);
  const selectedIndex = () => {
    const lr = selectedLr();
    if (lr === null) return -1;
    if (localSel && Number.isInteger(localSel.index) && state.lr[localSel.index] === lr) return localSel.index;
    return nearestIndex(state.lr, state.n, lr, logAxis(), state.smoothed);
  };
  function requestDraw() {
    if (rafId !== null || closed) return;
    rafId = requestAnimationFrame(() => {
      rafId = null;
      draw();
    });
  }
  function idleMessage() {
    if (state.n > 0) return "";
    const st = get("status", "idle");
    if (st === "running") return "Waiting for the first readings\u2026";
    if (st === "error") return "The range test failed before any reading";
    return "No range test yet \u2014 call widget.run(train_loader)";
  }
  function draw() {
    const cssW = Math.max(1, Math.floor(plotBox.clientWidth));
    const cssH = Math.max(1, Math.floor(plotBox.clientHeight));
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(cssW * dpr);
    const hpx = Math.round(cssH * dpr);
    if (canvas.width !== w || canvas.height !== hpx) {
      canvas.width = w;
      canvas.height = hpx;
    }
    canvas.style.width = cssW + "px";
    canvas.style.height = cssH + "px";
    const ctx = canvas.getContext("2d");
    const sugg = suggestions();
    frame = drawFrame({
      ctx,
      width: cssW,
      height: cssH,
      dpr,
      theme,
      data: state,
      log: logAxis(),
      startLr: num2(get("start_lr")) ?? state.startLr,
      endLr: num2(get("end_lr")) ?? state.endLr,
      suggestions: sugg,
      selectedLr: selectedLr(),
      appliedLr: num2(get("applied_lr")),
      divergedLr: num2(get("diverged_lr")),
      hoverIndex,
      hoverMarker,
      message: idleMessage(),
      cache,
      dirtyFrom: state.dirtyFrom
    });
    state.dirtyFrom = Infinity;
    root.dataset.readings = String(state.n);
  }
  function contactLost() {
    if (get("status") !== "running") return false;
    const last = Math.max(state.lastContact ?? -Infinity, lastTraitContact);
    return now() - last > CONTACT_TIMEOUT_MS;
  }
  function updateStatus() {
    const st = get("status", "idle");
    const step = get("step", 0);
    const total = get("num_iter", state.numIter) || state.numIter;
    const elapsed = num2(get("elapsed"));
    const eta = num2(get("eta"));
    const fmt = (v) => typeof v === "number" ? v.toLocaleString("en-US") : String(v);
    const of = total ? `${fmt(step)}/${fmt(total)}` : fmt(step);
    let parts;
    let kind = st;
    if (contactLost()) {
      kind = "disconnected";
      parts = ["No contact with the kernel", `last seen at step ${of}`];
    } else if (st === "running") {
      parts = ["Running", `step ${of}`, `${formatDuration(elapsed)} elapsed`, `ETA ${formatDuration(eta)}`];
      if (get("pending_apply", false)) parts.push("apply queued");
    } else if (st === "diverged") {
      parts = [`Diverged at lr=${formatLR(num2(get("diverged_lr")))}`, `step ${of}`, formatDuration(elapsed)];
    } else if (st === "stopped") {
      parts = [`Stopped at step ${of}`, formatDuration(elapsed)];
    } else if (st === "done") {
      parts = ["Done", `${fmt(step)} steps in ${formatDuration(elapsed)}`];
    } else if (st === "error") {
      parts = [`Error: ${get("error", "") || "the range test failed"}`];
    } else {
      parts = ["Idle"];
    }
    const text = parts.join(" \xB7 ");
    if (statusText.textContent !== text) {
      statusText.replaceChildren(...parts.flatMap((p, i) => {
        const span = h("span", { class: "lrw-status-part", text: p });
        return i ? [document.createTextNode(" \xB7 "), span] : [span];
      }));
    }
    status.dataset.state = kind;
    root.dataset.status = kind;
    stopBtn.disabled = st !== "running" || kind === "disconnected";
    const t = get("title", "") || "Learning-rate range test";
    if (title.textContent !== t) title.textContent = t;
  }
  function updateSelectionUi() {
    const sel = selectedLr();
    const applied = num2(get("applied_lr"));
    applyBtn.disabled = sel === null;
    applyBtn.title = sel === null ? "Select a learning rate on the plot first" : `Apply lr=${formatLR(sel)} to the optimizer`;
    selReadout.innerHTML = "";
    selReadout.append(
      h("span", { class: "lrw-key lrw-key-sel", "aria-hidden": "true" }),
      document.createTextNode(sel === null ? "Nothing selected" : `Selected ${formatLR(sel)}`)
    );
    appliedReadout.innerHTML = "";
    if (applied !== null || get("pending_apply", false)) {
      appliedReadout.append(
        h("span", { class: "lrw-key lrw-key-applied", "aria-hidden": "true" }),
        document.createTextNode(applied !== null ? `Applied ${formatLR(applied)}` : "Apply queued")
      );
    }
    let match = "";
    for (const s of suggestions()) if (s.lr !== null && s.lr === sel) {
      match = s.name;
      break;
    }
    if (picker.value !== match) picker.value = match;
    for (const item of legend.querySelectorAll(".lrw-legend-item")) {
      item.setAttribute("aria-pressed", String(item.dataset.lr !== "" && Number(item.dataset.lr) === sel));
    }
  }
  function updateSuggestions() {
    const sugg = suggestions();
    picker.innerHTML = "";
    picker.append(h("option", { value: "", text: sugg.length ? "Choose\u2026" : "none yet" }));
    legend.innerHTML = "";
    sugg.forEach((s, k) => {
      const has = num2(s.lr) !== null;
      const label = `${s.name}${s.default ? " (default)" : ""}`;
      const opt = h("option", { value: s.name, text: has ? `${label}: ${formatLR(s.lr)}` : `${label}: none` });
      if (!has) opt.disabled = true;
      picker.append(opt);
      const color = theme.rules[k % theme.rules.length];
      const sw = h("span", { class: `lrw-swatch${s.default ? " lrw-swatch-default" : ""}`, "aria-hidden": "true" });
      sw.style.setProperty("--lrw-swatch", color);
      const item = h("button", {
        type: "button",
        class: `lrw-legend-item${s.default ? " lrw-default" : ""}`,
        title: `${s.name}: ${has ? formatLR(s.lr) : "no suggestion"} \u2014 ${s.reason || ""}`,
        "data-lr": has ? String(s.lr) : "",
        "aria-pressed": "false"
      }, [
        sw,
        h("span", { class: "lrw-legend-name", text: s.name }),
        h("span", { class: "lrw-legend-lr", text: has ? formatLR(s.lr) : "\u2014" })
      ]);
      if (!has) item.disabled = true;
      item.addEventListener("click", () => selectSuggestion(s));
      legend.append(item);
    });
    legend.hidden = sugg.length === 0;
    picker.disabled = !sugg.some((s) => num2(s.lr) !== null);
    updateSelectionUi();
  }
  function select(lr, index) {
    if (!Number.isFinite(lr)) return;
    localSel = { lr, index: Number.isInteger(index) ? index : null };
    send({ type: "select", lr, index: localSel.index });
    live.textContent = `Selected learning rate ${formatLR(lr)}`;
    updateSelectionUi();
    requestDraw();
  }
  function selectSuggestion(s) {
    if (num2(s.lr) === null) return;
    select(s.lr, Number.isInteger(s.index) ? s.index : null);
  }
  function apply() {
    const lr = selectedLr();
    if (lr === null) return;
    send({ type: "apply", lr });
    live.textContent = `Applying learning rate ${formatLR(lr)}`;
  }
  applyBtn.addEventListener("click", apply);
  stopBtn.addEventListener("click", () => send({ type: "stop" }));
  picker.addEventListener("change", () => {
    const s = suggestions().find((x) => x.name === picker.value);
    if (s) selectSuggestion(s);
  });
  function pointerPos(ev) {
    const r = canvas.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  }
  function inPlot(x, y) {
    if (!frame) return false;
    const p = frame.plot;
    return x >= p.left - 6 && x <= p.right + 6 && y >= p.top - 12 && y <= p.bottom + 6;
  }
  function showTooltip(x, y, html) {
    tooltip.innerHTML = html;
    tooltip.hidden = false;
    const bw = plotBox.clientWidth;
    const tw = tooltip.offsetWidth;
    const th = tooltip.offsetHeight;
    let tx = x + 14;
    if (tx + tw > bw - 4) tx = x - 14 - tw;
    let ty = y - th - 10;
    if (ty < 2) ty = y + 14;
    tooltip.style.transform = `translate(${Math.max(2, tx)}px, ${ty}px)`;
  }
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  function onMove(ev) {
    const [x, y] = pointerPos(ev);
    if (!frame || !inPlot(x, y) || state.n === 0) {
      onLeave();
      return;
    }
    const mk = nearestMarker(frame.markers, x, y, 9);
    const newMarker = mk >= 0 ? frame.markers[mk].k : -1;
    let idx = -1;
    if (mk < 0) idx = nearestIndex(state.lr, state.n, frame.xScale.invert(x), logAxis(), null);
    if (newMarker !== hoverMarker || idx !== hoverIndex) {
      hoverMarker = newMarker;
      hoverIndex = idx;
      requestDraw();
    }
    canvas.style.cursor = mk >= 0 ? "pointer" : "crosshair";
    if (mk >= 0) {
      const s = frame.markers[mk].suggestion;
      showTooltip(x, y, `<b>${esc(s.name)}${s.default ? " (default)" : ""}</b> lr ${esc(formatLR(s.lr))}<div class="lrw-tip-reason">${esc(s.reason || "")}</div><div class="lrw-tip-hint">click to select</div>`);
    } else if (idx >= 0) {
      const raw = state.loss[idx];
      const sm = state.smoothed[idx];
      showTooltip(x, y, `<b>lr ${esc(formatLR(state.lr[idx]))}</b><div>loss ${esc(formatLoss(sm))} <span class="lrw-tip-raw">raw ${esc(formatLoss(raw))}</span></div><div class="lrw-tip-hint">reading ${idx + 1}</div>`);
    }
  }
  function onLeave() {
    tooltip.hidden = true;
    if (hoverIndex !== -1 || hoverMarker !== -1) {
      hoverIndex = -1;
      hoverMarker = -1;
      requestDraw();
    }
  }
  function onClick(ev) {
    const [x, y] = pointerPos(ev);
    if (!frame || !inPlot(x, y) || state.n === 0) return;
    plotBox.focus({ preventScroll: true });
    const mk = nearestMarker(frame.markers, x, y, 9);
    if (mk >= 0) {
      selectSuggestion(frame.markers[mk].suggestion);
      return;
    }
    const idx = nearestIndex(state.lr, state.n, frame.xScale.invert(x), logAxis(), null);
    if (idx >= 0) select(state.lr[idx], idx);
  }
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerleave", onLeave);
  canvas.addEventListener("click", onClick);
  function onKey(ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const n = state.n;
    let handled = true;
    const cur = selectedIndex();
    let fallback = -1;
    const def = suggestions().find((s) => s.default && Number.isInteger(s.index));
    if (def) fallback = def.index;
    else fallback = edgeIndex(n, validReading);
    let next = -2;
    switch (ev.key) {
      case "ArrowLeft":
      case "ArrowDown":
        next = cur < 0 ? stepIndex(-1, 0, n, validReading, fallback) : stepIndex(cur, ev.shiftKey ? -10 : -1, n, validReading);
        break;
      case "ArrowRight":
      case "ArrowUp":
        next = cur < 0 ? stepIndex(-1, 0, n, validReading, fallback) : stepIndex(cur, ev.shiftKey ? 10 : 1, n, validReading);
        break;
      case "Home":
        next = edgeIndex(n, validReading);
        break;
      case "End":
        next = edgeIndex(n, validReading, true);
        break;
      case "Enter":
        apply();
        break;
      default:
        handled = false;
    }
    if (!handled) return;
    ev.preventDefault();
    ev.stopPropagation();
    if (next >= 0) {
      select(state.lr[next], next);
      hoverIndex = next;
      hoverMarker = -1;
      requestDraw();
      if (frame) {
        const x = frame.xScale.map(state.lr[next]);
        const yv = state.smoothed[next];
        const y = Number.isFinite(yv) ? frame.yScale.map(yv) : frame.plot.top + 20;
        showTooltip(
          x,
          Math.max(frame.plot.top, Math.min(frame.plot.bottom, y)),
          `<b>lr ${esc(formatLR(state.lr[next]))}</b><div>loss ${esc(formatLoss(yv))}</div><div class="lrw-tip-hint">Enter applies</div>`
        );
      }
    }
  }
  plotBox.addEventListener("keydown", onKey);
  plotBox.addEventListener("blur", () => onLeave());
  function onCustom(msg, buffers) {
    const res = handleCustomMessage(state, msg, buffers || [], now());
    if (res.error) console.warn("lrwidget: ignored a malformed message:", res.error);
    if (res.needHello && now() - lastHello > HELLO_MIN_INTERVAL_MS) sendHello();
    if (res.changed) requestDraw();
    if (msg && msg.type === "heartbeat") updateStatus();
  }
  model.on("msg:custom", onCustom);
  cleanups.push(() => model.off("msg:custom", onCustom));
  const traitHandlers = {
    "change:selected_lr": () => {
      const v = num2(get("selected_lr"));
      if (localSel && v === localSel.lr) return updateSelectionUi();
      localSel = null;
      updateSelectionUi();
      requestDraw();
    },
    "change:suggestions": () => {
      updateSuggestions();
      requestDraw();
    }
  };
  for (const name of ["status", "step", "num_iter", "elapsed", "eta", "diverged_lr", "error", "title", "pending_apply"]) {
    traitHandlers[`change:${name}`] = () => {
      lastTraitContact = now();
      updateStatus();
      if (name === "diverged_lr" || name === "status" || name === "pending_apply") {
        updateSelectionUi();
        requestDraw();
      }
    };
  }
  for (const name of ["applied_lr", "start_lr", "end_lr", "step_mode"]) {
    traitHandlers[`change:${name}`] = () => {
      updateSelectionUi();
      requestDraw();
    };
  }
  traitHandlers["change:height"] = () => {
    applyHeight();
    requestDraw();
  };
  for (const [ev, fn] of Object.entries(traitHandlers)) {
    model.on(ev, fn);
    cleanups.push(() => model.off(ev, fn));
  }
  const onDestroy = () => {
    statusText.textContent = "Widget closed \u2014 no kernel behind this view";
    status.dataset.state = "disconnected";
    root.dataset.status = "disconnected";
    applyBtn.disabled = true;
    stopBtn.disabled = true;
  };
  try {
    model.on("destroy", onDestroy);
    cleanups.push(() => model.off("destroy", onDestroy));
  } catch (err) {
  }
  function applyHeight() {
    const hgt = num2(get("height"));
    plotBox.style.height = `${Math.max(160, hgt || 320)}px`;
  }
  const viewId = newViewId();
  let where = null;
  let expanded = false;
  let placeTries = 0;
  function updateFold() {
    if (!expanded && where === "inline" && unfoldedAreas.has(outputAreaOf(el))) expanded = true;
    const folded = shouldFold({
      where,
      fallback: get("sidebar_fallback", false) === true,
      sidebarViews: get("sidebar_views", 0),
      expanded
    });
    if (root.hidden !== folded) {
      root.hidden = folded;
      foldNote.hidden = !folded;
      if (!folded) requestDraw();
    }
  }
  function updatePlacement() {
    const w = placementOf(el);
    if (w === null && where !== null) sayGone();
    if (w !== null && w !== where) {
      if (where === null) refreshTheme();
      where = w;
      root.dataset.placement = w;
      send({ type: "placement", where: w, view: viewId });
    }
    updateFold();
  }
  function placeSoon() {
    if (closed || where !== null || placeTries++ > 600) return;
    requestAnimationFrame(() => {
      updatePlacement();
      placeSoon();
    });
  }
  showHereBtn.addEventListener("click", () => {
    expanded = true;
    const area = outputAreaOf(el);
    if (area) unfoldedAreas.add(area);
    updateFold();
  });
  for (const ev of ["change:sidebar_views", "change:sidebar_fallback"]) {
    model.on(ev, updateFold);
    cleanups.push(() => model.off(ev, updateFold));
  }
  function sayGone() {
    if (where !== null) send({ type: "placement", where: "gone", view: viewId });
    where = null;
    delete root.dataset.placement;
  }
  window.addEventListener("pagehide", sayGone);
  cleanups.push(() => window.removeEventListener("pagehide", sayGone));
  cleanups.push(sayGone);
  applyHeight();
  if (typeof ResizeObserver === "function") {
    const ro = new ResizeObserver(() => {
      updatePlacement();
      requestDraw();
    });
    ro.observe(plotBox);
    ro.observe(el);
    cleanups.push(() => ro.disconnect());
  }
  const onDpr = () => requestDraw();
  window.addEventListener("resize", onDpr);
  cleanups.push(() => window.removeEventListener("resize", onDpr));
  function refreshTheme() {
    theme = readTheme(el);
    updateSuggestions();
    requestDraw();
  }
  cleanups.push(watchTheme(refreshTheme));
  const ticker = setInterval(() => {
    updateStatus();
    updatePlacement();
  }, 1e3);
  cleanups.push(() => clearInterval(ticker));
  updateStatus();
  updateSuggestions();
  requestDraw();
  sendHello();
  placeSoon();
  return () => {
    if (rafId !== null) cancelAnimationFrame(rafId);
    for (const c of cleanups.splice(0)) {
      try {
        c();
      } catch (err) {
        console.warn("lrwidget: cleanup failed", err);
      }
    }
    closed = true;
    root.remove();
    foldNote.remove();
  };
}
var widget_default = { render };
export {
  widget_default as default
};
