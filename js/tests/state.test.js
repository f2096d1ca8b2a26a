import assert from "node:assert/strict";
import { test } from "node:test";
import { markerLoss, yRange } from "../scale.js";
import {
  applyMessage,
  countReadings,
  createViewState,
  firstNonFinite,
  handleCustomMessage,
  markHelloSent,
} from "../state.js";

function readings(runId, seq, start, lrs, { replay = false, loss = null } = {}) {
  const f = (a) => new Float64Array(a);
  return {
    type: "readings",
    runId,
    seq,
    start,
    count: lrs.length,
    replay,
    lr: f(lrs),
    loss: f(loss || lrs.map(() => 1)),
    smoothed: f(lrs.map(() => 1)),
  };
}
const run = (id) => ({ type: "run", runId: id, numIter: 100, startLr: 1e-6, endLr: 1, stepMode: "exp" });

test("readings are written at their start index; duplicates are harmless", () => {
  const s = createViewState(2);
  applyMessage(s, run(1));
  applyMessage(s, readings(1, 0, 0, [1, 2, 3]));
  applyMessage(s, readings(1, 1, 3, [4, 5]));
  applyMessage(s, readings(1, 1, 3, [4, 5])); // duplicate
  assert.equal(s.n, 5);
  assert.deepEqual(Array.from(s.lr.subarray(0, 5)), [1, 2, 3, 4, 5]);
  assert.ok(s.capacity >= 5);
});

test("a gap in seq asks for a replay once, and the replay fills the hole", () => {
  const s = createViewState();
  applyMessage(s, run(1));
  assert.equal(applyMessage(s, readings(1, 0, 0, [1, 2])).needHello, false);
  const gap = applyMessage(s, readings(1, 2, 4, [5, 6]));
  assert.equal(gap.needHello, true);
  assert.ok(Number.isNaN(s.lr[2]), "the lost readings are holes, not zeros");
  assert.equal(countReadings(s), 4);
  // While the replay is pending, further seqs are not flagged again.
  assert.equal(applyMessage(s, readings(1, 4, 8, [9])).needHello, false);
  applyMessage(s, run(1)); // the replay's run message keeps the readings
  assert.equal(s.n, 9);
  applyMessage(s, readings(1, 4, 0, [1, 2, 3, 4, 5, 6, 7, 8, 9], { replay: true }));
  assert.equal(countReadings(s), 9);
  assert.equal(s.awaitingReplay, false);
  assert.equal(applyMessage(s, readings(1, 5, 9, [10])).needHello, false);
  assert.equal(applyMessage(s, readings(1, 7, 11, [12])).needHello, true);
});

test("a late view that said hello does not treat live readings before the replay as a gap", () => {
  const s = createViewState();
  markHelloSent(s);
  const r = applyMessage(s, readings(3, 17, 170, [1, 2]));
  assert.equal(r.needHello, false);
  applyMessage(s, run(3));
  applyMessage(
    s,
    readings(
      3,
      17,
      0,
      Array.from({ length: 172 }, (_, i) => i + 1),
      { replay: true },
    ),
  );
  assert.equal(countReadings(s), 172);
  assert.equal(applyMessage(s, readings(3, 18, 172, [1])).needHello, false);
});

test("a new run clears the readings of the previous one", () => {
  const s = createViewState();
  applyMessage(s, run(1));
  applyMessage(s, readings(1, 0, 0, [1, 2, 3]));
  applyMessage(s, run(2));
  assert.equal(s.n, 0);
  assert.equal(s.runId, 2);
  assert.equal(s.lastSeq, -1);
  applyMessage(s, readings(2, 0, 0, [7]));
  assert.equal(s.n, 1);
  assert.equal(s.lr[0], 7);
  assert.ok(Number.isNaN(s.lr[1]));
});

test("readings of an unannounced run start it and ask for the missing start", () => {
  const s = createViewState();
  applyMessage(s, run(1));
  const r = applyMessage(s, readings(2, 3, 30, [1]));
  assert.equal(s.runId, 2);
  assert.equal(r.needHello, true);
});

test("every message, heartbeats included, updates lastContact; malformed ones report an error", () => {
  const s = createViewState();
  applyMessage(s, { type: "heartbeat", t: 1 }, 1234);
  assert.equal(s.lastContact, 1234);
  const res = handleCustomMessage(s, { type: "readings", start: 0, count: 1 }, [], 2000);
  assert.ok(res.error);
  assert.equal(s.lastContact, 2000);
  assert.equal(s.n, 0);
});

test("handleCustomMessage decodes DataView buffers end to end", () => {
  const s = createViewState();
  const dv = (vals) => new DataView(new Float64Array(vals).buffer);
  handleCustomMessage(s, { type: "run", run_id: 9, num_iter: 3, start_lr: 1e-3, end_lr: 1, step_mode: "exp" }, []);
  const r = handleCustomMessage(s, { type: "readings", run_id: 9, seq: 0, start: 0, count: 3, replay: false }, [
    dv([1e-3, 1e-2, 1e-1]),
    dv([1, 0.5, Infinity]),
    dv([1, 0.7, Infinity]),
  ]);
  assert.equal(r.changed, true);
  assert.equal(s.n, 3);
  assert.equal(firstNonFinite(s), 2);
});

test("the state tracks what the drawer needs without scans: log10(lr), lr extent, first NaN, dirty index", () => {
  const s = createViewState();
  applyMessage(s, run(1));
  applyMessage(s, readings(1, 0, 0, [1e-3, 1e-2], { loss: [1, 1] }));
  assert.equal(s.dirtyFrom, 0);
  s.dirtyFrom = Infinity; // what the widget does after a frame
  applyMessage(s, readings(1, 1, 2, [1e-1, 1], { loss: [1, NaN] }));
  assert.equal(s.dirtyFrom, 2);
  assert.deepEqual(Array.from(s.logLr.subarray(0, 4)), [-3, -2, -1, 0]);
  assert.deepEqual([s.lrMin, s.lrMax], [1e-3, 1]);
  assert.equal(s.firstBad, 3);
  applyMessage(s, run(2));
  assert.equal(s.firstBad, -1);
  assert.equal(s.lrMin, Infinity);
});

test("a finished run's line replaces the drawn smoothed loss; the markers and the y range follow it", () => {
  const s = createViewState();
  applyMessage(s, run(1));
  const ema = [3, 2.5, 2, 1.6, 1.4]; // the live EMA: lowest at the last reading (it lags)
  applyMessage(s, { ...readings(1, 0, 0, [1e-4, 1e-3, 1e-2, 1e-1, 1]), smoothed: new Float64Array(ema) });
  s.dirtyFrom = Infinity; // drawn
  assert.equal(s.lineLow, -1);
  const line = new Float64Array([2.9, 2.1, 1.2, 1.5, 1.9]);
  const res = applyMessage(s, { type: "line", runId: 1, count: 5, line });
  assert.deepEqual(res, { changed: true, needHello: false, error: null });
  assert.deepEqual(Array.from(s.smoothed.subarray(0, 5)), Array.from(line));
  assert.equal(s.dirtyFrom, 0, "the whole curve is drawn again");
  assert.equal(s.lineLow, 2);
  assert.equal(markerLoss(s.lr, s.smoothed, { lr: 1e-2, index: 2 }, s.n), 1.2);
  assert.equal(yRange(s.loss, s.smoothed, s.n).lo < 1.2, true);
  // a new run (Run again) starts again from the live EMA
  applyMessage(s, run(2));
  applyMessage(s, { ...readings(2, 0, 0, [1e-4, 1e-3]), smoothed: new Float64Array([3, 2.5]) });
  assert.equal(s.lineLow, -1);
  assert.deepEqual(Array.from(s.smoothed.subarray(0, 2)), [3, 2.5]);
});

test("a line of another run or of another length is refused with its reason and changes nothing", () => {
  const s = createViewState();
  applyMessage(s, run(1));
  applyMessage(s, readings(1, 0, 0, [1e-3, 1e-2, 1e-1]));
  const before = Array.from(s.smoothed.subarray(0, 3));
  const bad = [
    [{ type: "line", runId: 0, count: 3, line: new Float64Array([1, 1, 1]) }, /run 0/],
    [{ type: "line", runId: 1, count: 2, line: new Float64Array([1, 1]) }, /2 values for 3 readings/],
    [{ type: "line", runId: 1, count: 4, line: new Float64Array([1, 1, 1, 1]) }, /4 values/],
  ];
  for (const [m, reason] of bad) {
    const res = applyMessage(s, m);
    assert.match(res.error, reason);
    assert.equal(res.changed, false);
  }
  assert.deepEqual(Array.from(s.smoothed.subarray(0, 3)), before);
  assert.equal(s.lineLow, -1);
  // through the decoder: a hostile buffer never reaches the state
  const r = handleCustomMessage(s, { type: "line", run_id: 1, count: 3 }, [new ArrayBuffer(20)]);
  assert.match(r.error, /float64/);
  assert.deepEqual(Array.from(s.smoothed.subarray(0, 3)), before);
});

test("a NaN in the line (a reading past the first non-finite loss) is a gap, and firstBad says where", () => {
  const s = createViewState();
  applyMessage(s, run(1));
  applyMessage(s, readings(1, 0, 0, [1e-3, 1e-2, 1e-1], { loss: [2, 1, Infinity] }));
  applyMessage(s, { type: "line", runId: 1, count: 3, line: new Float64Array([1.8, 1.1, NaN]) });
  assert.equal(s.firstBad, 2);
  assert.equal(s.lineLow, 1);
});
