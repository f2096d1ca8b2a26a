import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeMessage, toFloat64Array } from "../decode.js";

function leBytes(values, pad = 0) {
  const buf = new ArrayBuffer(pad + values.length * 8);
  const dv = new DataView(buf);
  values.forEach((v, i) => {
    dv.setFloat64(pad + i * 8, v, true);
  });
  return buf;
}

test("toFloat64Array reads an ArrayBuffer, an aligned DataView and an unaligned one", () => {
  const vals = [1.5, -2, NaN, Infinity];
  assert.deepEqual(Array.from(toFloat64Array(leBytes(vals))), vals);
  const aligned = new DataView(leBytes(vals, 16), 16, 32);
  assert.deepEqual(Array.from(toFloat64Array(aligned)), vals);
  const odd = new DataView(leBytes(vals, 3), 3, 32);
  assert.deepEqual(Array.from(toFloat64Array(odd)), vals);
});

test("toFloat64Array rejects wrong sizes and counts", () => {
  assert.throws(() => toFloat64Array(new ArrayBuffer(12)), RangeError);
  assert.throws(() => toFloat64Array(leBytes([1, 2]), 3), /count=3/);
  assert.throws(() => toFloat64Array("nope"), TypeError);
});

test("decodeMessage decodes a readings message with its three buffers", () => {
  const m = decodeMessage({ type: "readings", run_id: 4, seq: 2, start: 10, count: 2, replay: false }, [
    new DataView(leBytes([1e-3, 2e-3])),
    leBytes([0.9, 0.8]),
    leBytes([0.95, 0.9]),
  ]);
  assert.equal(m.type, "readings");
  assert.equal(m.runId, 4);
  assert.equal(m.start, 10);
  assert.equal(m.seq, 2);
  assert.deepEqual(Array.from(m.lr), [1e-3, 2e-3]);
  assert.deepEqual(Array.from(m.smoothed), [0.95, 0.9]);
});

test("decodeMessage reports malformed readings instead of throwing", () => {
  const few = decodeMessage({ type: "readings", run_id: 1, seq: 0, start: 0, count: 1 }, [leBytes([1])]);
  assert.equal(few.type, "invalid");
  const bad = decodeMessage({ type: "readings", run_id: 1, seq: 0, start: 0, count: 2 }, [
    leBytes([1]),
    leBytes([1]),
    leBytes([1]),
  ]);
  assert.equal(bad.type, "invalid");
  assert.match(bad.reason, /count=2/);
  assert.equal(decodeMessage({ type: "readings", start: -1, count: 0 }, []).type, "invalid");
});

test("decodeMessage decodes run and heartbeat, ignores unknown types", () => {
  const r = decodeMessage({ type: "run", run_id: 2, num_iter: 100, start_lr: 1e-7, end_lr: 10, step_mode: "linear" });
  assert.deepEqual(r, { type: "run", runId: 2, numIter: 100, startLr: 1e-7, endLr: 10, stepMode: "linear" });
  assert.equal(decodeMessage({ type: "heartbeat", t: 5 }).t, 5);
  assert.equal(decodeMessage({ type: "something-new" }), null);
  assert.equal(decodeMessage(null).type, "invalid");
});

test("decodeMessage decodes a finished run's line: one buffer of count float64, NaN allowed", () => {
  const m = decodeMessage({ type: "line", run_id: 3, count: 3 }, [new DataView(leBytes([1.5, 1.25, NaN]))]);
  assert.equal(m.type, "line");
  assert.equal(m.runId, 3);
  assert.equal(m.count, 3);
  assert.deepEqual(Array.from(m.line), [1.5, 1.25, NaN]);
  const empty = decodeMessage({ type: "line", run_id: 3, count: 0 }, [new ArrayBuffer(0)]);
  assert.equal(empty.count, 0);
});

test("a hostile line message is reported with its reason, never thrown", () => {
  const line = (fields, buffers) => decodeMessage({ type: "line", run_id: 1, count: 2, ...fields }, buffers);
  const two = leBytes([1, 2]);
  const cases = [
    [line({}, [leBytes([1, 2, 3])]), /count=2/], // wrong length
    [line({}, [new Float32Array([1, 2, 3]).buffer]), /whole number of float64/], // wrong dtype
    [line({}, [leBytes([1, Infinity])]), /infinite/],
    [line({}, [leBytes([-Infinity, 1])]), /infinite/],
    [line({}, []), /1 buffer/],
    [line({}, [two, two]), /1 buffer/],
    [line({}, null), /1 buffer/],
    [line({}, ["nope"]), /line/],
    [line({ count: -1 }, [two]), /bad count/],
    [line({ count: 1.5 }, [two]), /bad count/],
    [line({ run_id: null }, [two]), /run_id/],
    [line({ run_id: "1" }, [two]), /run_id/],
  ];
  for (const [m, reason] of cases) {
    assert.equal(m.type, "invalid", JSON.stringify(m));
    assert.match(m.reason, reason);
  }
});
