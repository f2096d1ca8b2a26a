import assert from "node:assert/strict";
import { test } from "node:test";
import { createColumns, decimate } from "../decimate.js";
import { curveBand, DENSE_GAP, denseSpans, fillCurve, sparseStretches } from "../layers/band.js";
import { strokeColumns } from "../layers/polyline.js";
import { recorder } from "./recorder.js";

const id = (v) => v;

// Readings at x = x0 + i * dx (pixel columns) with y = f(x, i), decimated with the identity mapping.
function columnsOf(f, x0, x1, dx) {
  const n = Math.round((x1 - x0) / dx) + 1;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = x0 + i * dx;
    ys[i] = f(xs[i], i);
  }
  return decimate(xs, ys, n, id, createColumns(0));
}

// What a round-joined stroke hw px either side of `path` (the points strokeColumns draws, unsimplified)
// covers on the vertical line at x: every segment sampled every 0.02 px, a disk around each sample.
function footprint(path, x, hw) {
  let top = Number.POSITIVE_INFINITY;
  let bottom = Number.NEGATIVE_INFINITY;
  for (let s = 1; s < path.length; s++) {
    const [px, py] = path[s - 1];
    const [qx, qy] = path[s];
    if (Math.max(px, qx) < x - hw || Math.min(px, qx) > x + hw) continue;
    const n = Math.max(1, Math.ceil(Math.hypot(qx - px, qy - py) / 0.02));
    for (let t = 0; t <= n; t++) {
      const cx = px + ((qx - px) * t) / n;
      const cy = py + ((qy - py) * t) / n;
      const r2 = hw * hw - (x - cx) * (x - cx);
      if (r2 < 0) continue;
      top = Math.min(top, cy - Math.sqrt(r2));
      bottom = Math.max(bottom, cy + Math.sqrt(r2));
    }
  }
  return [top, bottom];
}

// The polyline strokeColumns draws for `cols` (y mapped by `yMap`), nothing dropped (tolerance 0).
function strokePath(cols, yMap) {
  const ctx = recorder();
  strokeColumns(ctx, cols, yMap, 0);
  assert.equal(ctx.r.stroked.length, 1, "one polyline: a dense curve with no break");
  return ctx.r.stroked[0];
}

let seed = 3;
const noise = () => {
  seed = (seed * 16807) % 2147483647;
  return seed / 2147483647 - 0.5;
};

// Dense curves (several readings a pixel column, one span each): straight lines shallow to nearly
// vertical, a noisy zigzag, a cliff inside a column and one between two, a one-reading spike.
const CURVES = {
  ...Object.fromEntries([0, 0.5, -1, 2.5, -5, 10, 40].map((s) => [`slope ${s}`, (x) => 300 + s * x])),
  zigzag: (x) => 100 + 3 * Math.sin(x * 2.7) + 4 * noise(),
  "cliff inside a column": (x) => (x > 30.55 ? -100 : 100) + noise(),
  "cliff between columns": (x) => (x >= 31 ? -100 : 100) + noise(),
  spike: (_x, i) => (i === 300 ? 20 : 100) + noise(),
};

test("a band is the footprint of the stroke strokeColumns draws, at every sample, at any pixel ratio", () => {
  // y mapped as on screen (a higher value is higher up: min and max sticking out of a column are drawn)
  const yMap = (v) => -v;
  for (const hw of [0.5, 1, 1.5, 2]) {
    for (const [name, f] of Object.entries(CURVES)) {
      const cols = columnsOf(f, 0.05, 60, 0.1);
      assert.deepEqual(denseSpans(cols), [0, cols.count], name);
      const path = strokePath(cols, yMap);
      const { x, top, bottom } = curveBand(cols, yMap, hw, 0, cols.count);
      assert.equal(x[0], cols.x0[0], "the band starts at the first reading");
      assert.equal(x[cols.count - 1], cols.x1[cols.count - 1], "and ends at the last");
      for (let i = 0; i < cols.count; i++) {
        const [t, b] = footprint(path, x[i], hw);
        const at = `${name}, hw ${hw}, column ${i} (x ${x[i].toFixed(2)})`;
        assert.ok(Math.abs(top[i] - t) < 0.01, `${at}: top ${top[i]} for ${t}`);
        assert.ok(Math.abs(bottom[i] - b) < 0.01, `${at}: bottom ${bottom[i]} for ${b}`);
      }
    }
  }
});

test("a straight line's band is as thick as its stroke, steep or shallow (hw * sqrt(1 + s^2))", () => {
  for (const hw of [1, 2]) {
    for (const s of [0, 1, -3, 10]) {
      const cols = columnsOf((x) => s * x, 0.05, 80, 0.1);
      const { x, top, bottom } = curveBand(cols, id, hw, 0, cols.count);
      for (let i = 5; i < cols.count - 5; i++) {
        const y = s * x[i];
        const h = hw * Math.sqrt(1 + s * s);
        assert.ok(Math.abs(top[i] - (y - h)) < 1e-9 && Math.abs(bottom[i] - (y + h)) < 1e-9, `${s} ${hw} ${i}`);
      }
    }
  }
});

test("dense spans: columns joined less than DENSE_GAP px to the right; the stroked rest runs into the bands", () => {
  // a linear sweep on a log axis: sparse at the left, dense at the right; a NaN breaks the line at x ~ 150, a
  // jump of 5 px at x ~ 170 joins two bands by a sparse link, and sparse readings end it
  const n = 3420;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (i <= 2000) xs[i] = 40 * Math.log10(1 + i);
    else if (i < 2200) xs[i] = 150 + (i - 2001) / 10;
    else if (i < 3400) xs[i] = 175 + (i - 2200) / 10;
    else xs[i] = 295 + 4 * (i - 3400);
    ys[i] = i === 2000 ? Number.NaN : 50 + Math.sin(i / 50);
  }
  const cols = decimate(xs, ys, n, id, createColumns(0));
  const spans = denseSpans(cols);
  const { x0, x1, brk } = cols;
  assert.ok(spans.length >= 6, `${spans}`);
  for (let s = 0; s < spans.length; s += 2) {
    const [a, b] = [spans[s], spans[s + 1]];
    assert.ok(b - a >= 2);
    for (let j = a + 1; j < b; j++) assert.ok(!brk[j] && x0[j] > x1[j - 1] && x0[j] - x1[j - 1] <= DENSE_GAP);
    if (b < cols.count) assert.ok(brk[b] || !(x0[b] - x1[b - 1] <= DENSE_GAP));
  }
  const rest = sparseStretches(cols, spans);
  const band = (j) => spans.findIndex((_, s) => s % 2 === 0 && j >= spans[s] && j < spans[s + 1]);
  const inner = (j) => band(j) >= 0 && band(j - 1) === band(j); // a link the band covers
  for (let j = 1; j < cols.count; j++) {
    if (brk[j] || inner(j)) continue;
    // every other link is stroked, with a column more on each side inside a band (its join, its butt end)
    const held = rest.some((_, s) => s % 2 === 0 && rest[s] <= j - 1 && rest[s + 1] >= j);
    assert.ok(held, `link ${j - 1} -> ${j}`);
    const into = (k) => band(k) < 0 || rest.some((_, s) => s % 2 === 0 && rest[s] <= k && rest[s + 1] >= k);
    assert.ok(into(j - 2 >= 0 && band(j - 1) >= 0 && band(j - 2) === band(j - 1) ? j - 2 : j - 1), `left of ${j}`);
    assert.ok(into(j + 1 < cols.count && band(j) >= 0 && band(j + 1) === band(j) ? j + 1 : j), `right of ${j}`);
  }
  // the two bands split by a break: each one's end there stroked (a steep end reaches past it)
  const nan = spans.findIndex((v, s) => s % 2 === 0 && brk[v] && spans[s - 1] === v);
  assert.ok(nan > 0, "the data has two bands split by a break");
  const v = spans[nan];
  assert.ok(rest.some((_, s) => s % 2 === 0 && rest[s] <= v - 2 && rest[s + 1] >= v + 1));
  // drawn: one fill of one polygon per band, then one stroke, never across the break
  const ctx = recorder();
  fillCurve(ctx, cols, id, 1);
  assert.equal(ctx.r.filled.length, spans.length / 2);
  assert.ok(ctx.r.stroked.length >= 1);
  for (const path of ctx.r.stroked) {
    const across = path.some(([x]) => x <= x1[v - 1]) && path.some(([x]) => x >= x0[v]);
    assert.ok(!across, "a stroke across the break");
  }
  // each polygon spans its band's readings
  ctx.r.filled.forEach((poly, k) => {
    const xsOf = poly.map(([x]) => x);
    assert.equal(Math.min(...xsOf), x0[spans[2 * k]]);
    assert.equal(Math.max(...xsOf), x1[spans[2 * k + 1] - 1]);
  });
});

test("a curve dense everywhere is all band but its two ends, its edges simplified; a sparse one all stroke", () => {
  const dense = recorder();
  fillCurve(
    dense,
    columnsOf((v) => v / 10, 0.05, 100, 0.2),
    id,
    1,
  );
  // the ends: two columns each, stroked (where a steep last segment's stroke reaches past the band)
  assert.deepEqual(
    dense.r.stroked.map((p) => p.length <= 4 && p.every(([x]) => x < 2.1 || x > 98)),
    [true, true],
  );
  // a straight line's band: a quadrilateral (~500 columns)
  assert.deepEqual(
    dense.r.filled.map((p) => p.length),
    [4],
  );
  const sparse = columnsOf((v) => Math.sin(v / 9), 0, 300, 4);
  const a = recorder();
  const b = recorder();
  fillCurve(a, sparse, id, 1);
  strokeColumns(b, sparse, id);
  assert.equal(a.r.filled.length, 0);
  assert.deepEqual(a.r.stroked, b.r.stroked);
});

test("readings out of order (a hostile state): no band folds back over itself", () => {
  const back = columnsOf((v) => v, 0.05, 60, 0.25);
  back.x0[20] -= 10;
  back.x1[20] -= 10;
  assert.deepEqual(denseSpans(back), [0, 20, 21, back.count]);
});
