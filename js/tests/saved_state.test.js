import assert from "node:assert/strict";
import { test } from "node:test";
import { applyMessage, applySavedReadings, createViewState, decodeSavedReadings } from "../state.js";
import { createBus } from "../view/bus.js";
import { mountMessages } from "../view/messages.js";

// The layout of lrwidget.channel.protocol.encode_saved_readings, built by hand at `offset` bytes into a larger buffer.
function saved({ runId = 7, lr, loss, smoothed, offset = 0, magic = "LRW1", flags = 0 }) {
  const n = lr.length;
  const buf = new ArrayBuffer(offset + 16 + 16 * n + 3);
  const v = new DataView(buf, offset, 16 + 16 * n);
  for (let i = 0; i < 4; i++) v.setUint8(i, magic.charCodeAt(i));
  v.setUint32(4, runId, true);
  v.setUint32(8, n, true);
  v.setUint32(12, flags, true);
  for (let i = 0; i < n; i++) {
    v.setFloat64(16 + 8 * i, lr[i], true);
    v.setFloat32(16 + 8 * n + 4 * i, loss[i], true);
    v.setFloat32(16 + 12 * n + 4 * i, smoothed[i], true);
  }
  return v;
}

const LR = [1e-5, 1e-4, 1e-3, 1e-2];
const LOSS = [2.5, 2.25, Number.NaN, 4];
const SMOOTH = [2.5, 2.375, 2.375, Number.POSITIVE_INFINITY];

test("saved readings decode from a DataView at any offset: lrs exact, losses as float32", () => {
  const d = decodeSavedReadings(saved({ lr: LR, loss: LOSS, smoothed: SMOOTH, offset: 5 }));
  assert.equal(d.runId, 7);
  assert.equal(d.n, 4);
  assert.deepEqual(Array.from(d.lr), LR);
  assert.deepEqual(Array.from(d.loss), LOSS);
  assert.deepEqual(Array.from(d.smoothed), SMOOTH);
  const third = decodeSavedReadings(saved({ lr: [0.1], loss: [1 / 3], smoothed: [1 / 3] }));
  assert.equal(third.loss[0], Math.fround(1 / 3));
});

test("empty saved readings are none; another layout or length is an error, not a curve", () => {
  assert.equal(decodeSavedReadings(new DataView(new ArrayBuffer(0))), null);
  assert.equal(decodeSavedReadings(null), null);
  assert.equal(decodeSavedReadings({}), null);
  assert.match(decodeSavedReadings(saved({ lr: LR, loss: LOSS, smoothed: SMOOTH, magic: "LRW2" })).error, /layout/);
  assert.match(decodeSavedReadings(saved({ lr: LR, loss: LOSS, smoothed: SMOOTH, flags: 1 })).error, /layout/);
  const v = saved({ lr: LR, loss: LOSS, smoothed: SMOOTH });
  assert.match(decodeSavedReadings(new DataView(v.buffer, 0, v.byteLength - 4)).error, /bytes for n=4/);
  assert.match(decodeSavedReadings(new Uint8Array(8)).error, /shorter than the header/);
});

test("a view without readings shows the saved run; the kernel's replay of that run writes over it", () => {
  const st = createViewState();
  const s = decodeSavedReadings(saved({ lr: LR, loss: LOSS, smoothed: SMOOTH }));
  const run = { numIter: 10, startLr: 1e-5, endLr: 1, stepMode: "exp" };
  assert.equal(applySavedReadings(st, s, run), true);
  assert.equal(st.n, 4);
  assert.equal(st.runId, 7);
  assert.equal(st.numIter, 10);
  assert.equal(st.firstBad, 2);
  assert.equal(st.lastContact, null, "the saved state is not contact with a kernel");
  assert.deepEqual([st.lrMin, st.lrMax], [1e-5, 1e-2]);
  // The kernel is there after all: its replay of the same run keeps the run and writes float64 losses.
  applyMessage(st, { type: "run", runId: 7, numIter: 10, startLr: 1e-5, endLr: 1, stepMode: "exp" }, 5);
  const exact = Float64Array.from([2.5, 2.2500001, 2.1, 4]);
  const m = { type: "readings", runId: 7, seq: 3, start: 0, count: 4, replay: true, lr: Float64Array.from(LR) };
  applyMessage(st, { ...m, loss: exact, smoothed: exact }, 6);
  assert.equal(st.n, 4);
  assert.equal(st.loss[1], 2.2500001);
  // A view that has readings already (from the kernel) is left alone.
  assert.equal(applySavedReadings(st, s, run), false);
  assert.equal(st.loss[1], 2.2500001);
});

function fakePort(traits) {
  const listeners = {};
  const sent = [];
  return {
    sent,
    get: (name, fallback = null) => traits[name] ?? fallback,
    num: (name) => (typeof traits[name] === "number" ? traits[name] : null),
    send: (c) => sent.push(c),
    on: (event, fn) => {
      listeners[event] = [...(listeners[event] || []), fn];
      return () => {
        listeners[event] = listeners[event].filter((f) => f !== fn);
      };
    },
    fire(event, ...args) {
      for (const fn of listeners[event] || []) fn(...args);
    },
    set(name, value) {
      traits[name] = value;
      this.fire(`change:${name}`);
    },
  };
}

function mount(traits) {
  const port = fakePort(traits);
  const view = { now: () => 1000, readings: createViewState() };
  const bus = createBus();
  const draws = [];
  bus.on("draw", () => draws.push(view.readings.n));
  const off = mountMessages({ port, view, bus });
  return { port, view, draws, off };
}

test("on render a view draws the saved run at once, then says hello (a kernel may replay it)", () => {
  const blob = saved({ lr: LR, loss: LOSS, smoothed: SMOOTH });
  const { port, view, draws } = mount({ saved_readings: blob, num_iter: 4, start_lr: 1e-5, end_lr: 1e-2 });
  assert.equal(view.readings.n, 4);
  assert.deepEqual(draws, [4]);
  assert.deepEqual(port.sent, [{ type: "hello" }]);
  assert.equal(view.readings.endLr, 1e-2);
});

test("saved readings that come after render are drawn only by a view the kernel never reached", () => {
  const blob = saved({ lr: LR, loss: LOSS, smoothed: SMOOTH });
  const quiet = mount({ saved_readings: new DataView(new ArrayBuffer(0)) });
  assert.equal(quiet.view.readings.n, 0);
  quiet.port.set("saved_readings", blob);
  assert.equal(quiet.view.readings.n, 4, "no kernel behind it: the state is all there is");

  const live = mount({ saved_readings: new DataView(new ArrayBuffer(0)) });
  const buf = (a) => Float64Array.from(a);
  live.port.fire("msg:custom", { type: "run", run_id: 7, num_iter: 4, start_lr: 1e-5, end_lr: 1e-2 }, []);
  live.port.fire("msg:custom", { type: "readings", run_id: 7, seq: 0, start: 0, count: 2, replay: false }, [
    buf(LR.slice(0, 2)),
    buf([2.5, 2.2500001]),
    buf([2.5, 2.2500001]),
  ]);
  live.port.set("saved_readings", blob); // the run ended: the kernel saves it for later
  assert.equal(live.view.readings.loss[1], 2.2500001, "the kernel's own float64 readings are kept");
});
