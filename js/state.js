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
  if (m.type === "invalid") {
    res.error = m.reason;
    return res;
  }
  if (m.type === "heartbeat") return res;
  if (m.type === "run") {
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
    return res;
  }
  if (m.type === "readings") {
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
    res.changed = m.count > 0 || res.changed;
    if (res.needHello) state.awaitingReplay = true;
    return res;
  }
  return res;
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
