// The compare view's readings (issue 20), pure: one growing set of arrays per run, written by the kernel's
// compare_run / compare_readings messages (a live run) and by the compare_saved trait (the finished runs,
// also what a saved notebook keeps). Everything from the kernel or a saved state is checked: a bad message is
// dropped, never thrown.
import { toFloat64Array } from "../decode.js";
import { decodeSavedReadings } from "../state.js";

export const MAX_RUNS = 8; // the kernel's limit (lrwidget.pure.compare.MAX_RUNS)
const MAX_READINGS = 10_000_000; // a message past this is hostile, not a range test

function emptyRun() {
  return { lr: new Float64Array(0), logLr: new Float64Array(0), smoothed: new Float64Array(0), n: 0, version: 0 };
}

export function createCompareState() {
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

/** Write readings [start, start + lr.length) of run `k` (log10 lr kept beside them: no log per frame). */
export function writeReadings(state, k, start, lr, smoothed) {
  const run = state.runs[k];
  const end = start + lr.length;
  if (start > run.n || end > MAX_READINGS) return false; // a gap: the next hello replays it
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

/** Apply one kernel message; returns true when the view should redraw. */
export function applyCompareMessage(state, msg, buffers = []) {
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
    return false; // a buffer of the wrong size: dropped
  }
}

function asBytes(buf) {
  if (buf instanceof ArrayBuffer) return new Uint8Array(buf);
  if (buf && ArrayBuffer.isView(buf)) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return null;
}

/**
 * The compare_saved trait: saved-readings blobs (js/state.js decodeSavedReadings' layout) one after another,
 * each's run id its run's index. Returns [{run, lr, smoothed, n}] of the well-formed ones, in order.
 */
export function splitSaved(buf) {
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

/** The finished runs from compare_saved written over what the view has (a live run's stream ended). */
export function applySaved(state, buf) {
  const saved = splitSaved(buf);
  for (const s of saved) {
    state.runs[s.run].n = 0;
    writeReadings(state, s.run, 0, s.lr, s.smoothed);
  }
  return saved.length > 0;
}

/** The compare_runs trait as clean entries (a saved state is hostile): at most MAX_RUNS, fields typed. */
export function asRunInfos(v) {
  if (!Array.isArray(v)) return [];
  const num = (x) => (typeof x === "number" && Number.isFinite(x) ? x : null);
  const str = (x) => (typeof x === "string" ? x.slice(0, 300) : "");
  return v.slice(0, MAX_RUNS).map((r, k) => {
    const o = r && typeof r === "object" ? r : {};
    return {
      label: str(o.label) || `run ${k + 1}`,
      color: Number.isInteger(o.color) && o.color >= 0 ? o.color : k,
      running: o.running === true,
      suggestion: num(o.suggestion) !== null && o.suggestion > 0 ? o.suggestion : null,
      suggestionIndex: Number.isSafeInteger(o.suggestion_index) ? o.suggestion_index : null,
      optimizerLr: num(o.optimizer_lr),
      warning: str(o.warning),
      target: str(o.target),
      log: o.log !== false,
    };
  });
}

const MAX_TREND_POINTS = 64; // the kernel's limit (lrwidget.views.compare_widget.MAX_TREND_POINTS)

/** The compare_trend trait, checked: {points: [[lr, loss]] (positive lr, finite loss), text} or null. */
export function asTrend(v) {
  if (!v || typeof v !== "object" || !Array.isArray(v.points)) return null;
  const points = v.points
    .slice(0, MAX_TREND_POINTS)
    .filter((p) => Array.isArray(p) && p[0] > 0 && Number.isFinite(p[0]) && Number.isFinite(p[1]));
  return points.length ? { points, text: typeof v.text === "string" ? v.text.slice(0, 200) : "" } : null;
}
