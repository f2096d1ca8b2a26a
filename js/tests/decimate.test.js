import assert from "node:assert/strict";
import { test } from "node:test";
import { createColumns, decimate, mergeColumns } from "../decimate.js";

const ident = (x) => x;

test("readings in one pixel column merge into first/last/min/max", () => {
  const xs = new Float64Array([0.1, 0.5, 0.9, 1.2, 1.7]);
  const ys = new Float64Array([5, 1, 3, 7, 6]);
  const c = decimate(xs, ys, 5, ident);
  assert.equal(c.count, 2);
  assert.deepEqual([c.first[0], c.last[0], c.min[0], c.max[0], c.n[0]], [5, 3, 1, 5, 3]);
  assert.deepEqual([c.first[1], c.last[1], c.min[1], c.max[1], c.n[1]], [7, 6, 6, 7, 2]);
  assert.equal(c.brk[0], 1);
  assert.equal(c.brk[1], 0);
});

test("100k readings over 1000 columns give about 1000 columns and keep the extremes", () => {
  const n = 100000;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = (i / n) * 1000;
    ys[i] = Math.sin(i / 50);
  }
  ys[54321] = 42;
  const c = decimate(xs, ys, n, ident);
  assert.equal(c.count, 1000);
  assert.ok(c.capacity < 2000, `buffers for the columns made, not one per reading: ${c.capacity}`);
  let mx = -Infinity;
  for (let j = 0; j < c.count; j++) mx = Math.max(mx, c.max[j]);
  assert.equal(mx, 42);
  assert.equal(c.max[543], 42);
});

test("non-finite readings break the line instead of being drawn", () => {
  const xs = new Float64Array([0, 1, 2, 3, 4]);
  const ys = new Float64Array([1, NaN, 2, Infinity, 3]);
  const c = decimate(xs, ys, 5, ident);
  assert.equal(c.count, 3);
  assert.deepEqual(Array.from(c.brk.subarray(0, 3)), [1, 1, 1]);
  assert.deepEqual(Array.from(c.first.subarray(0, 3)), [1, 2, 3]);
});

test("x that maps to NaN (lr <= 0 on a log axis) is skipped", () => {
  const c = decimate(new Float64Array([0, 10, 100]), new Float64Array([1, 2, 3]), 3, (x) => Math.log10(x) * 10);
  assert.equal(c.count, 2);
  assert.equal(c.first[0], 2);
});

test("the output buffers are reused across calls and only n readings are read", () => {
  const out = createColumns(0);
  const xs = new Float64Array([0, 1, 2, 3]);
  const ys = new Float64Array([1, 2, 3, 4]);
  decimate(xs, ys, 4, ident, out);
  const firstBuf = out.first;
  decimate(xs, ys, 2, ident, out);
  assert.equal(out.first, firstBuf);
  assert.equal(out.count, 2);
});

test("resuming from an index gives the same columns as decimating everything again", () => {
  const n = 5000;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = Math.log10(1e-6) + (i / n) * 7;
    ys[i] = i % 97 === 0 ? NaN : Math.sin(i / 40) + (i % 7) * 0.01;
  }
  const map = (t) => 10 + (t + 6) * 137.3;
  const inc = createColumns(0);
  decimate(xs, ys, 1200, map, inc);
  for (const [m, from] of [
    [2500, 1200],
    [2600, 2400],
    [5000, 2600],
    [5000, 4999],
    [5000, 0],
  ]) {
    decimate(xs, ys, m, map, inc, from);
    const full = decimate(xs, ys, m, map);
    assert.equal(inc.count, full.count, `count after resuming at ${from}`);
    for (const key of ["x0", "x1", "first", "last", "min", "max", "n", "brk", "i0"]) {
      assert.deepEqual(Array.from(inc[key].subarray(0, inc.count)), Array.from(full[key].subarray(0, full.count)), key);
    }
  }
});

test("merging 1-px columns into 2-px ones gives the columns of decimating at half the scale", () => {
  const n = 3000;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = -6 + (i / n) * 5;
    ys[i] = i % 211 === 5 || i % 997 === 0 ? Number.NaN : Math.sin(i / 30) + (i % 7) * 0.03;
  }
  const map = (t) => 7 + (t + 6) * 347.9;
  const merged = mergeColumns(decimate(xs, ys, n, map), 2);
  const half = decimate(xs, ys, n, (t) => map(t) / 2);
  assert.ok(merged.count < 0.6 * decimate(xs, ys, n, map).count);
  assert.equal(merged.count, half.count);
  for (const key of ["first", "last", "min", "max", "n", "brk", "i0"]) {
    assert.deepEqual(
      Array.from(merged[key].subarray(0, merged.count)),
      Array.from(half[key].subarray(0, half.count)),
      key,
    );
  }
  for (const key of ["x0", "x1"]) {
    assert.deepEqual(
      Array.from(merged[key].subarray(0, merged.count)),
      Array.from(half[key].subarray(0, half.count), (x) => 2 * x),
      key,
    );
  }
});
