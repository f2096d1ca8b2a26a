// Per-view state of the readings (pure): one instance per rendered view, never shared.
import { decodeMessage } from "./decode.js";

function nanArray(n) {
  const a = new Float64Array(n);
  a.fill(NaN);
  return a;
}

/** A fresh view state. */
export function createViewState(capacity = 256) {
  return {
    runId: null,
    numIter: null,
    startLr: null,
    endLr: null,
    stepMode: "exp",
    capacity,
    n: 0, // one past the highest index written; unwritten slots hold NaN and are not drawn
    lr: nanArray(capacity),
    logLr: nanArray(capacity), // log10(lr), computed once per reading so frames need no logs
    loss: nanArray(capacity),
    smoothed: nanArray(capacity),
    lastSeq: -1,
    awaitingReplay: false, // a hello went out: gaps are expected until the replay arrives
    lastContact: null, // time (ms) of the last message of any kind
    dirtyFrom: 0, // lowest index written since the last frame (Infinity: nothing new); the drawer resets it
    firstBad: -1, // index of the first reading with a NaN/inf loss, -1 if none
    lrMin: Infinity, // extent of the finite, positive lrs written (the x range without a scan per frame)
    lrMax: -Infinity,
    lineLow: -1, // the finished run's line (no lag) replaced `smoothed`: the index of its lowest point; -1 before
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

/** Record that this view just asked for a replay (sent "hello"). */
export function markHelloSent(state) {
  state.awaitingReplay = true;
}

/**
 * Apply one decoded message to the state. Returns {changed, needHello, error}:
 * - changed: something to redraw;
 * - needHello: a readings message skipped a seq within the run (a lost message): ask for a replay;
 * - error: a malformed message's reason (it is otherwise ignored).
 * Writing readings at their `start` index makes duplicates and replays harmless.
 */
export function applyMessage(state, m, now = 0) {
  const res = { changed: false, needHello: false, error: null };
  if (m === null) return res;
  state.lastContact = now;
  if (m.type === "invalid") res.error = m.reason;
  else if (m.type === "run") applyRun(state, m, res);
  else if (m.type === "readings") applyReadings(state, m, res);
  else if (m.type === "line") applyLine(state, m, res);
  return res; // a heartbeat only counts as contact
}

/**
 * A finished run's line, drawn without lag: it replaces the smoothed loss its readings carried (the live EMA),
 * one value per reading, so the curve, the y range and the markers follow it. Refused (with the reason) for
 * another run than the one shown or another length than its readings'. A new run starts again from the EMA.
 */
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
  // The same run announced again (a replay for this or another view) keeps its readings.
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
    // Readings of a run whose "run" message this view never saw: start that run, ask for the rest.
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

/** Writes the readings at their `start` index (duplicates and replays are harmless). */
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

/** Decode and apply in one go (what the widget calls from its msg:custom handler). */
export function handleCustomMessage(state, msg, buffers, now = 0) {
  return applyMessage(state, decodeMessage(msg, buffers), now);
}

/** Index of the first reading whose raw loss (or smoothed loss) is NaN or infinite, or -1. */
export function firstNonFinite(state) {
  return state.firstBad;
}

/** Number of readings actually written (slots not holding NaN lr). */
export function countReadings(state) {
  let c = 0;
  for (let i = 0; i < state.n; i++) if (!Number.isNaN(state.lr[i])) c++;
  return c;
}

const SAVED_MAGIC = "LRW1";
const SAVED_HEADER = 16;

/** A DataView over a trait's bytes (a DataView, an ArrayBuffer or a typed array), else null. */
function bytesView(buf) {
  if (buf instanceof ArrayBuffer) return new DataView(buf);
  if (buf && ArrayBuffer.isView(buf)) return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return null;
}

/**
 * The `saved_readings` trait (lrwidget.channel.protocol.encode_saved_readings) decoded (pure): {runId, n, lr, loss,
 * smoothed} as Float64Arrays; null when it is empty; {error} when it is not in that layout. Layout: "LRW1",
 * uint32 run id, uint32 n, uint32 flags (0), then n float64 lrs, n float32 losses, n float32 smoothed, all
 * little-endian. Read through a DataView: the bytes may start at any offset into a larger buffer.
 */
export function decodeSavedReadings(buf) {
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

/**
 * Show a run from the saved state (`saved`, as decodeSavedReadings returns it) in a view that has no readings:
 * a notebook re-opened without its kernel, or exported with its widget state. `run` carries the sweep from the
 * traits ({numIter, startLr, endLr, stepMode}). Applied as the kernel's replay would be, so a replay that comes
 * later (a kernel is there after all) writes the same run over it. It is not contact with a kernel. Returns
 * true when it changed the view.
 */
export function applySavedReadings(state, saved, run) {
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
    smoothed: saved.smoothed,
  });
  state.lastContact = contact;
  return true;
}
