import assert from "node:assert/strict";
import { test } from "node:test";
import { decimate } from "../decimate.js";
import { createPlotCache, frameGeometry } from "../layers/geometry.js";
import { divergence, markerMemo, placeMarkers } from "../layers/markers.js";
import { applyMessage, createViewState } from "../state.js";

// A run of n readings from 1e-6 to 1 (log spaced): loss falls, then rises.
function run(n, { lossAt = null } = {}) {
  const lr = new Float64Array(n);
  const loss = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    lr[i] = 10 ** (-6 + (6 * i) / (n - 1));
    loss[i] = lossAt ? lossAt(i) : 2 - Math.sin((Math.PI * i) / (n - 1));
  }
  const st = createViewState();
  applyMessage(st, { type: "run", runId: 1, numIter: n, startLr: 1e-6, endLr: 1, stepMode: "exp" });
  applyMessage(st, { type: "readings", runId: 1, seq: 0, start: 0, count: n, replay: false, lr, loss, smoothed: loss });
  return st;
}

// Text is measured by the context; a fixed 6 px per character stands in for a font here.
const measuring = () => ({ font: "", measureText: (t) => ({ width: 6 * String(t).length }) });
const THEME = { font: "sans-serif" };
const input = (data, over = {}) => ({
  width: 600,
  height: 300,
  dpr: 1,
  theme: THEME,
  data,
  startLr: 1e-6,
  endLr: 1,
  ...over,
});

test("the geometry maps the planned lr range across the plot and the losses into it", () => {
  const data = run(200);
  const g = frameGeometry(measuring(), input(data), createPlotCache());
  assert.ok(Math.abs(g.xScale.map(1e-6) - g.plot.left) < 1e-9);
  assert.ok(Math.abs(g.xScale.map(1) - g.plot.right) < 1e-9);
  assert.ok(g.yr.lo <= 1 && g.yr.hi >= 2, "both the minimum and the plateau are in range");
  assert.ok(g.hasData);
  assert.ok(g.smooth.count > 0 && g.smooth.count <= g.plot.right - g.plot.left + 1, "one column per pixel at most");
  assert.ok(g.xt.major.length >= 2);
});

test("the left margin makes room for the widest y label, and the decimation follows it", () => {
  const cache = createPlotCache();
  const narrowText = frameGeometry(measuring(), input(run(200)), cache);
  const big = run(200, { lossAt: (i) => 123456 + i });
  const wide = frameGeometry(measuring(), input(big), cache);
  assert.ok(wide.plot.left > narrowText.plot.left, `${wide.plot.left} vs ${narrowText.plot.left}`);
  assert.equal(cache.left, wide.plot.left);
  assert.ok(Math.abs(wide.smooth.x0[0] - wide.plot.left) < 1, "columns start at the new plot edge");
});

test("a title-clear zone is reserved for the pills: right of the 'loss' title", () => {
  const g = frameGeometry(measuring(), input(run(10)), createPlotCache());
  assert.equal(g.titleRight, 4 + 6 * 4 + 6);
});

test("markers sit on the smoothed loss at their reading, clamped into the plot; unusable ones are left out", () => {
  const data = run(101);
  const g = frameGeometry(measuring(), input(data), createPlotCache());
  const sugg = [
    { name: "valley", lr: data.lr[50], index: 50, default: true },
    { name: "by-lr", lr: data.lr[20], index: null },
    { name: "none", lr: null, index: null },
    { name: "off-range", lr: 100, index: null },
  ];
  const m = placeMarkers(g, data, sugg);
  assert.deepEqual(
    m.map((x) => x.k),
    [0, 1],
  );
  assert.ok(Math.abs(m[0].y - Math.max(g.plot.top + 4, Math.min(g.plot.bottom - 4, g.yScale.map(1)))) < 1e-9);
  assert.ok(Math.abs(m[1].y - g.yScale.map(data.smoothed[20])) < 1e-9, "no index: the nearest reading's loss");
  assert.ok(Math.abs(m[0].x - g.xScale.map(data.lr[50])) < 1e-9);
});

test("a marker without a usable reading sits on the smoothed curve as drawn (the shared rule, scale.markerLoss)", () => {
  // Loss 20 - i with a hole at reading 5: the curve drawn from reading 4 (16) to 6 (14) passes 15 there.
  const data = run(11, { lossAt: (i) => (i === 5 ? Number.NaN : 20 - i) });
  const g = frameGeometry(measuring(), input(data), createPlotCache());
  const [hole] = placeMarkers(g, data, [{ name: "x", lr: data.lr[5], index: 5 }]);
  assert.ok(Math.abs(hole.y - g.yScale.map(15)) < 1e-6, `${hole.y} vs ${g.yScale.map(15)}`);
  // An lr derived rather than read off a reading (minimum's lr / 10): a quarter of the way, in log lr,
  // from reading 2 (18) to reading 3 (17).
  const lr = 10 ** (Math.log10(data.lr[2]) + 0.25 * (Math.log10(data.lr[3]) - Math.log10(data.lr[2])));
  const [derived] = placeMarkers(g, data, [{ name: "minimum", lr, index: null }]);
  assert.ok(Math.abs(derived.y - g.yScale.map(17.75)) < 1e-6, `${derived.y} vs ${g.yScale.map(17.75)}`);
  for (const m of [hole, derived]) assert.ok(m.y > g.plot.top + 4 && m.y < g.plot.bottom - 4, "not clamped");
});

test("divergence: the kernel's lr wins; else the first non-finite reading names what went wrong", () => {
  const nan = run(10, { lossAt: (i) => (i >= 6 ? Number.NaN : 1) });
  assert.deepEqual(divergence(nan, null), { lr: nan.lr[6], label: "loss NaN" });
  assert.deepEqual(divergence(nan, 0.5), { lr: 0.5, label: "loss NaN" });
  const inf = run(10, { lossAt: (i) => (i >= 8 ? Number.POSITIVE_INFINITY : 1) });
  assert.equal(divergence(inf, null).label, "loss inf");
  const fine = run(10);
  assert.equal(divergence(fine, null), null);
  assert.deepEqual(divergence(fine, 0.01), { lr: 0.01, label: "diverged" });
});

test("marker losses are reused while the readings are unchanged, and redone when a replay rewrites them", () => {
  const data = run(11, { lossAt: (i) => 20 - i });
  const cache = createPlotCache();
  const g = frameGeometry(measuring(), input(data), cache);
  const sugg = [{ name: "minimum", lr: Math.sqrt(data.lr[2] * data.lr[3]), index: null }];
  const before = placeMarkers(g, data, sugg, markerMemo(cache, data, true, data.dirtyFrom))[0].y;
  assert.ok(Math.abs(before - g.yScale.map(17.5)) < 1e-6);
  assert.equal(markerMemo(cache, data, true, Number.POSITIVE_INFINITY).size, 1, "kept: nothing written since");
  // A replay of the same run writes readings 2 and 3 again, with other losses (same n).
  const lr = data.lr.slice(2, 4);
  const loss = Float64Array.from([19, 19]);
  applyMessage(data, {
    type: "readings",
    runId: 1,
    seq: 1,
    start: 2,
    count: 2,
    replay: true,
    lr,
    loss,
    smoothed: loss,
  });
  const memo = markerMemo(cache, data, true, data.dirtyFrom);
  assert.equal(memo.size, 0, "emptied: readings were written");
  assert.ok(Math.abs(placeMarkers(g, data, sugg, memo)[0].y - g.yScale.map(19)) < 1e-6);
  assert.equal(markerMemo(cache, data, false, Number.POSITIVE_INFINITY).size, 0, "emptied: the axis changed");
});

test("streamed frames decimate only what is new, to the same columns as a full decimation at the frame's scale", () => {
  // Readings arrive in batches (as a run streams) on a log and a linear axis; every frame's columns must
  // equal decimating all readings again with the frame's own x mapping (device px, dpr 2).
  for (const log of [true, false]) {
    const n = 3000;
    const all = run(n, { lossAt: (i) => (i % 251 === 7 ? Number.NaN : 2 + Math.sin(i / 37) + (i % 5) * 0.01) });
    const data = createViewState();
    applyMessage(data, {
      type: "run",
      runId: 1,
      numIter: n,
      startLr: 1e-6,
      endLr: 1,
      stepMode: log ? "exp" : "linear",
    });
    const cache = createPlotCache();
    for (let start = 0, seq = 0; start < n; start += 700, seq++) {
      const end = Math.min(n, start + 700);
      const part = (a) => a.slice(start, end);
      const m = { type: "readings", runId: 1, seq, start, count: end - start, replay: false };
      applyMessage(data, { ...m, lr: part(all.lr), loss: part(all.loss), smoothed: part(all.smoothed) });
      const g = frameGeometry(measuring(), input(data, { dpr: 2, log, dirtyFrom: data.dirtyFrom }), cache);
      data.dirtyFrom = Number.POSITIVE_INFINITY;
      const t0 = log ? Math.log10(g.xScale.domain[0]) : g.xScale.domain[0];
      const k = 2 * g.xScale.k;
      const map = (x) => 2 * g.plot.left + ((log ? Math.log10(x) : x) - t0) * k;
      for (const [cols, ys] of [
        [g.raw, data.loss],
        [g.smooth, data.smoothed],
      ]) {
        const full = decimate(data.lr, ys, data.n, map);
        assert.equal(cols.count, full.count, `${log ? "log" : "linear"}, ${end} readings`);
        for (const key of ["x0", "x1", "first", "last", "min", "max", "n", "brk", "i0"]) {
          assert.deepEqual(
            Array.from(cols[key].subarray(0, cols.count)),
            Array.from(full[key].subarray(0, full.count)),
            key,
          );
        }
      }
    }
  }
});
