import assert from "node:assert/strict";
import { test } from "node:test";
import { createScale, xDomain, yRange } from "../scale.js";

test("a log scale maps decades evenly and inverts", () => {
  const s = createScale([1e-6, 1], [0, 600], true);
  assert.ok(Math.abs(s.map(1e-3) - 300) < 1e-9);
  assert.ok(Math.abs(s.map(1e-5) - 100) < 1e-9);
  assert.ok(Math.abs(s.invert(300) / 1e-3 - 1) < 1e-12);
  assert.ok(Number.isNaN(s.map(-1)));
});

test("a linear scale maps and inverts, even inverted ranges (y axis)", () => {
  const s = createScale([0, 2], [200, 0]);
  assert.equal(s.map(0), 200);
  assert.equal(s.map(2), 0);
  assert.equal(s.invert(100), 1);
});

test("a degenerate domain does not divide by zero", () => {
  const s = createScale([5, 5], [0, 100]);
  assert.ok(Number.isFinite(s.map(5)));
  assert.ok(Math.abs(s.map(5) - 50) < 1e-9);
});

test("xDomain prefers the run's planned range, widened by readings outside it", () => {
  const lrs = new Float64Array([1e-5, 1e-4]);
  assert.deepEqual(xDomain(lrs, 2, 1e-6, 10), [1e-6, 10]);
  assert.deepEqual(xDomain(new Float64Array([1e-7, 1e-4]), 2, 1e-6, 10), [1e-7, 10]);
  assert.deepEqual(xDomain(lrs, 2, null, null), [1e-5, 1e-4]);
  assert.deepEqual(xDomain(new Float64Array(0), 0, null, null), [1e-7, 10]);
});

test("yRange keeps the valley readable when the tail diverges, and says it clipped", () => {
  const n = 100;
  const sm = new Float64Array(n);
  for (let i = 0; i < n; i++) sm[i] = i < 80 ? 2.3 - (1.8 * i) / 80 : 0.5 * 10 ** ((i - 80) / 3);
  const r = yRange(sm, sm, n);
  assert.ok(r.clipped);
  assert.ok(r.lo < 0.5 && r.lo > 0.15, `lo ${r.lo}`);
  // cap: start 2.3 + 1.5 * (2.3 - 0.5) = 5.0, plus padding, far below the 1e6 tail.
  assert.ok(r.hi > 2.3 && r.hi < 6, `hi ${r.hi}`);
});

test("yRange without divergence shows everything and does not clip", () => {
  const sm = new Float64Array([3, 2.5, 2, 1.5, 1]);
  const raw = new Float64Array([3.1, 2.4, 2.1, 1.4, 1.05]);
  const r = yRange(raw, sm, 5);
  assert.equal(r.clipped, false);
  assert.ok(r.lo < 1 && r.hi > 3.1);
});

test("yRange ignores NaN / inf and handles a flat or empty series", () => {
  const sm = new Float64Array([1, NaN, 1, Infinity]);
  const r = yRange(sm, sm, 4);
  assert.ok(Number.isFinite(r.lo) && Number.isFinite(r.hi) && r.hi > r.lo);
  assert.ok(r.clipped, "inf is above any range");
  assert.deepEqual(yRange(new Float64Array(0), new Float64Array(0), 0), { lo: 0, hi: 1, clipped: false });
});

test("yRangeColumns agrees with yRange at pixel resolution", async () => {
  const { createColumns, decimate } = await import("../decimate.js");
  const { yRangeColumns } = await import("../scale.js");
  const n = 20000;
  const lr = new Float64Array(n);
  const raw = new Float64Array(n);
  const sm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = -7 + (8 * i) / n;
    lr[i] = x;
    sm[i] = 0.4 + 1.9 / (1 + Math.exp((x + 3.3) * 2.4)) + 0.6 * Math.exp((x + 0.2) * 3.2);
    raw[i] = sm[i] * (1 + 0.05 * Math.sin(i));
  }
  const map = (t) => (t + 7) * 200;
  const rc = decimate(lr, raw, n, map, createColumns(0));
  const sc = decimate(lr, sm, n, map, createColumns(0));
  const a = yRange(raw, sm, n);
  const b = yRangeColumns(rc, sc);
  assert.equal(b.clipped, a.clipped);
  assert.ok(
    Math.abs(a.lo - b.lo) < 1e-9 && Math.abs(a.hi - b.hi) < 1e-9,
    `${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
  );
  assert.deepEqual(yRangeColumns(createColumns(0), createColumns(0)), { lo: 0, hi: 1, clipped: false });
});

test("xDomain's fallbacks come from the shared rules", () => {
  assert.deepEqual(xDomain(new Float64Array([1e-3]), 1, null, null), [1e-4, 1e-2]);
  assert.deepEqual(xDomain(new Float64Array([2]), 1, null, null, false), [1, 3]);
  assert.deepEqual(xDomain(new Float64Array(0), 0, null, null, false), [0, 1]);
});

test("markerLoss takes the suggestion's reading, else the drawn curve between readings", async () => {
  const { markerLoss } = await import("../scale.js");
  const lrs = new Float64Array([1e-3, 1e-2, 1e-1, NaN]);
  const sm = new Float64Array([2, 1, 3, NaN]);
  assert.equal(markerLoss(lrs, sm, { lr: 1e-2, index: 1 }, 3), 1);
  // halfway between 1e-2 and 1e-1 in log lr: halfway between their losses
  assert.ok(Math.abs(markerLoss(lrs, sm, { lr: 10 ** -1.5, index: null }, 3) - 2) < 1e-12);
  // linear axis: linear in lr
  const lin = markerLoss(lrs, sm, { lr: 0.055, index: null }, 3, false);
  assert.ok(Math.abs(lin - (1 + (2 * 0.045) / 0.09)) < 1e-12, String(lin));
  // beyond the ends: the end readings' losses; a NaN at the index: interpolated instead
  assert.equal(markerLoss(lrs, sm, { lr: 1, index: null }, 3), 3);
  assert.equal(markerLoss(lrs, sm, { lr: 1e-5, index: null }, 3), 2);
  assert.equal(markerLoss(lrs, new Float64Array([2, NaN, 3]), { lr: 1e-2, index: 1 }, 3), 2.5);
  // only the first n readings count; nothing usable: NaN
  assert.equal(markerLoss(lrs, sm, { lr: 1e-1, index: null }, 2), 1);
  assert.ok(Number.isNaN(markerLoss(lrs, new Float64Array(4).fill(NaN), { lr: 1e-2, index: null }, 4)));
  assert.ok(Number.isNaN(markerLoss(lrs, sm, { lr: null, index: null }, 3)));
});
