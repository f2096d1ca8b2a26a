// The training view's state (pure): what the kernel's "training" messages say (DESIGN.md "Doctor in the
// widget"), checked field by field (a message is untrusted like a saved state), and the zoom arithmetic.
// Memory is bounded whatever the run's length: one overview and one zoomed snapshot of at most
// rules.doctor.maxColumns columns each, and the last maxEvents events.
import rules from "../../lrwidget/pure/rules.json" with { type: "json" };
import { toFloat64Array } from "../decode.js";

export const DOCTOR = rules.doctor;
const VERDICTS = Object.keys(DOCTOR.verdicts);
/** The six per-column series of a snapshot, in buffer order. */
export const SERIES = ["lossMin", "lossMax", "lossMean", "lrMin", "lrMax", "lrMean"];

/** A fresh training state: nothing heard yet, the range-test curve shown. */
export function createTrainingState() {
  return {
    active: false, // a training message arrived: the training chart exists
    mode: "range", // "range" | "training": what this view shows (a view-local choice)
    chosen: false, // the user picked the mode: a new watch does not switch this view
    watchId: null,
    steps: 0,
    verdict: "watching",
    reason: "",
    lrNow: null,
    error: "",
    events: [],
    overview: null, // {lo, hi, n, lossMin, ...}: the whole run
    zoom: null, // the columns of the zoomed range the kernel answered with
    want: null, // {lo, hi}: the zoomed range asked for (null: the whole run)
    req: 0, // the last zoom request's id
    slice: null, // shownColumns' last slice of the columns here over `want` ({src, want, cols})
  };
}

const isCount = (v, max) => Number.isSafeInteger(v) && v >= 0 && v <= max;

/** One event as the view keeps it, or null (dropped). */
function asEvent(e) {
  if (typeof e !== "object" || e === null || !isCount(e.step, Number.MAX_SAFE_INTEGER)) return null;
  const kind = e.kind === "action" ? "action" : "verdict";
  const factor = typeof e.factor === "number" && Number.isFinite(e.factor) && e.factor > 0 ? e.factor : null;
  const text = typeof e.text === "string" ? e.text.slice(0, 200) : "";
  return { step: e.step, kind, factor, rollback: e.rollback === true, text };
}

/** The columns of a snapshot: {lo, hi, n, lossMin, ...} (Float64Arrays of n) or {error}. */
export function decodeColumns(msg, buffers) {
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

/** The message's scalar fields, checked: {steps, verdict, reason, lrNow, error, events, watchId, zoom}. */
export function decodeMeta(msg) {
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
    zoom: isCount(msg.zoom, 2 ** 31) ? msg.zoom : 0,
  };
}

/**
 * Apply one "training" message (and its buffer) to `s`. Returns {changed, error, switched}: switched = this
 * message made a view that had not chosen its mode show training (the first message of a watch).
 */
export function applyTraining(s, msg, buffers) {
  if (msg?.type !== "training") return { changed: false, error: null, switched: false };
  const cols = decodeColumns(msg, buffers);
  if (cols.error) return { changed: false, error: cols.error, switched: false };
  const meta = decodeMeta(msg);
  if (meta.zoom > 0) {
    if (meta.zoom !== s.req) return { changed: false, error: null, switched: false }; // an old answer
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

/**
 * The columns of snapshot `src` that overlap [want.lo, want.hi), as views of its arrays (no copy): the
 * axis is the range asked (lo, hi), the first column may start before it (x0) and each is dx steps wide.
 */
export function sliceColumns(src, want) {
  const dx = src.dx ?? (src.hi - src.lo) / src.n;
  const x0 = src.x0 ?? src.lo;
  const j0 = Math.max(0, Math.min(src.n, Math.floor((want.lo - x0) / dx)));
  const j1 = Math.max(j0, Math.min(src.n, Math.ceil((want.hi - x0) / dx)));
  const out = { lo: want.lo, hi: want.hi, n: j1 - j0, x0: x0 + j0 * dx, dx };
  for (const k of SERIES) out[k] = src[k].subarray(j0, j1);
  return out;
}

/** The finer of the snapshots that hold all of `want` (the last zoom answer, else the overview). */
function finestCovering(s, want) {
  const z = s.zoom;
  if (z && z.n > 0 && z.lo <= want.lo && z.hi >= want.hi) return z;
  return s.overview;
}

/**
 * The columns to draw: the zoomed range's when the kernel answered for it, else (at once, while the
 * kernel computes them) the columns already here over the range asked, else the overview; null: nothing
 * yet. The same object while nothing changed, so a redraw does no work to find it.
 */
export function shownColumns(s) {
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

/**
 * The step range [lo, hi) after zooming by `factor` (< 1 in, > 1 out) around `at` (a step), within
 * [0, steps) and never narrower than rules.doctor.minZoomSteps; null = the whole run again.
 */
export function zoomRange(cur, steps, at, factor) {
  const lo0 = cur ? cur.lo : 0;
  const hi0 = cur ? cur.hi : steps;
  const span = Math.max(DOCTOR.minZoomSteps, Math.round((hi0 - lo0) * factor));
  if (span >= steps) return null;
  const frac = hi0 > lo0 ? (at - lo0) / (hi0 - lo0) : 0.5;
  let lo = Math.round(at - Math.min(1, Math.max(0, frac)) * span);
  lo = Math.max(0, Math.min(steps - span, lo));
  return { lo, hi: lo + span };
}

/** The range [lo, hi) moved by `delta` steps, kept inside [0, steps). */
export function panRange(cur, steps, delta) {
  if (!cur) return null;
  const span = cur.hi - cur.lo;
  const lo = Math.max(0, Math.min(steps - span, cur.lo + Math.round(delta)));
  return { lo, hi: lo + span };
}
