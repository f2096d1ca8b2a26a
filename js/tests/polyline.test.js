import assert from "node:assert/strict";
import { test } from "node:test";
import { createColumns, decimate } from "../decimate.js";
import { curveBand, denseSpans, fillBand, fillCurve, sparseStretches, strokeColumns } from "../layers/polyline.js";

// A context that records the path and counts fills.
function recorder() {
  const r = { subpaths: [], fills: 0 };
  return {
    r,
    beginPath() {
      r.subpaths = [];
    },
    moveTo(x, y) {
      r.subpaths.push([[x, y]]);
    },
    lineTo(x, y) {
      r.subpaths.at(-1).push([x, y]);
    },
    closePath() {
      r.closed = (r.closed || 0) + 1;
    },
    fill() {
      r.fills++;
      r.filled = (r.filled || []).concat(r.subpaths);
    },
    stroke() {
      r.strokes = (r.strokes || 0) + 1;
      r.stroked = (r.stroked || []).concat(r.subpaths);
    },
  };
}

// The per-column bars fillBand stands for: the rows [y0, y1) of pixel column x (as fillRect drew them).
function bars(cols, yMap, thickness) {
  const out = [];
  for (let j = 0; j < cols.count; j++) {
    let top = yMap(cols.max[j]);
    let bottom = yMap(cols.min[j]);
    if (!cols.brk[j] && j > 0) {
      const yp = yMap(cols.last[j - 1]);
      top = Math.min(top, yp);
      bottom = Math.max(bottom, yp);
    }
    const y0 = Math.floor(top - thickness / 2);
    out.push({ x: Math.floor(cols.x0[j]), y0, y1: y0 + Math.max(1, Math.ceil(bottom + thickness / 2) - y0) });
  }
  return out;
}

// Pixels inside a polygon (even-odd on pixel centres): enough for polygons with axis-aligned edges.
function inside(poly, px, py) {
  let odd = false;
  for (let i = 0, k = poly.length - 1; i < poly.length; k = i++) {
    const [xi, yi] = poly[i];
    const [xk, yk] = poly[k];
    if (yi > py !== yk > py && px < ((xk - xi) * (py - yi)) / (yk - yi) + xi) odd = !odd;
  }
  return odd;
}

test("the band is one fill whose staircases cover exactly the per-column bars", () => {
  const n = 400;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = i < 200 ? i / 8 : 40 + (i - 200) / 8; // a jump in x: two runs of adjacent columns
    ys[i] = i === 300 ? Number.NaN : 5 + 3 * Math.sin(i / 9) + (i % 3);
  }
  const cols = decimate(xs, ys, n, (x) => x, createColumns(0));
  const yMap = (v) => 100 - 7.3 * v;
  const ctx = recorder();
  fillBand(ctx, cols, yMap, 2);
  assert.equal(ctx.r.fills, 1);
  assert.equal(ctx.r.closed, ctx.r.subpaths.length, "every staircase is closed");
  // One staircase per run of adjacent columns: the jump in x, and the gap at the NaN (the column after it
  // lies in the same pixel column as the one before) start new ones.
  assert.equal(ctx.r.subpaths.length, 3);
  const want = bars(cols, yMap, 2);
  for (const b of want) {
    const here = want.filter((o) => o.x === b.x); // two bars share a pixel column across the gap
    for (let y = b.y0 - 3; y < b.y1 + 3; y++) {
      const covered = ctx.r.subpaths.some((p) => inside(p, b.x + 0.5, y + 0.5));
      assert.equal(
        covered,
        here.some((o) => y >= o.y0 && y < o.y1),
        `column ${b.x}, row ${y}`,
      );
    }
  }
  assert.ok(
    want.some((b, i) => want.findIndex((o) => o.x === b.x) !== i),
    "the data has a shared column",
  );
});

// Readings at x = x0 + i * dx (pixel columns) with y = f(x), decimated with the identity mapping.
function columnsOf(f, x0, x1, dx) {
  const n = Math.round((x1 - x0) / dx) + 1;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = x0 + i * dx;
    ys[i] = f(xs[i]);
  }
  return decimate(xs, ys, n, (x) => x, createColumns(0));
}

const id = (v) => v;

test("a band is as thick as a stroke of a straight line of any slope, at every pixel ratio", () => {
  for (const hw of [0.5, 1, 1.5, 2]) {
    for (const slope of [0, 0.25, -0.5, 1, -1.5, 1.9]) {
      for (const dx of [1, 0.25, 0.1]) {
        const cols = columnsOf((x) => 100 + slope * x, 0.05, 300, dx);
        const { x, top, bottom } = curveBand(cols, id, hw, 0, cols.count);
        const h = hw * Math.sqrt(1 + slope * slope);
        for (let i = 2; i < cols.count - 2; i++) {
          const y = 100 + slope * x[i];
          const at = `hw ${hw}, slope ${slope}, dx ${dx}, column ${i}`;
          assert.ok(Math.abs(top[i] - (y - h)) < 1e-9, `${at}: top ${top[i]} for ${y - h}`);
          assert.ok(Math.abs(bottom[i] - (y + h)) < 1e-9, `${at}: bottom ${bottom[i]} for ${y + h}`);
        }
      }
    }
  }
});

test("a band holds every reading of its column, a spike and a cliff, a cliff as wide as its stroke", () => {
  // noisy, a one-reading spike at x = 50, a cliff of 150 px inside the column at x = 120
  let seed = 3;
  const noise = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647 - 0.5;
  };
  const f = (x) => (Math.abs(x - 50.05) < 0.01 ? 20 : x > 120.5 ? -50 : 100) + 2 * noise();
  for (const hw of [1, 2]) {
    const cols = columnsOf(f, 0.05, 200, 0.1);
    const { x, top, bottom } = curveBand(cols, id, hw, 0, cols.count);
    for (let j = 0; j < cols.count; j++) {
      for (const y of [cols.first[j], cols.last[j], cols.min[j], cols.max[j]]) {
        assert.ok(top[j] <= y, `hw ${hw}, column ${j}: ${y} above ${top[j]}`);
        assert.ok(bottom[j] >= y, `hw ${hw}, column ${j}: ${y} below ${bottom[j]}`);
      }
    }
    const spike = cols.x0.findIndex((v) => Math.floor(v) === 50);
    // the spike, less than half a pixel from the column's middle, as high as its disk reaches there
    const reach = cols.min[spike] - Math.sqrt(hw * hw - 0.25);
    assert.ok(cols.min[spike] < 22 && top[spike] <= reach + 1e-9, `the spike reaches ${top[spike]}`);
    // the cliff's column and, at 2x, its neighbours within hw px span the whole cliff
    const cliff = cols.x0.findIndex((v) => Math.floor(v) === 120);
    for (let j = 0; j < cols.count; j++) {
      const spans = top[j] <= -50 && bottom[j] >= 100 - 1;
      assert.equal(spans, Math.abs(x[j] - x[cliff]) < hw, `hw ${hw}, column ${j} (x ${x[j]})`);
    }
  }
});

test("dense spans: the columns joined less than DENSE_GAP apart; the rest is stroked, joined to the bands", () => {
  // a linear sweep on a log axis: sparse at the left, dense at the right; a NaN breaks the line at x ~ 150
  const n = 3000;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = 40 * Math.log10(1 + i); // 0 .. 139
    ys[i] = i === 2000 ? Number.NaN : 50 + Math.sin(i / 50);
  }
  for (let i = 2001; i < n; i++) xs[i] = 150 + (i - 2001) / 10;
  const cols = decimate(xs, ys, n, id, createColumns(0));
  const spans = denseSpans(cols);
  assert.ok(spans.length >= 4, `${spans}`);
  for (let s = 0; s < spans.length; s += 2) {
    const [a, b] = [spans[s], spans[s + 1]];
    assert.ok(b - a >= 2);
    for (let j = a + 1; j < b; j++) assert.ok(!cols.brk[j] && cols.x0[j] - cols.x1[j - 1] <= 1.5);
    if (a > 0) assert.ok(cols.brk[a] || cols.x0[a] - cols.x1[a - 1] > 1.5 || (s > 0 && spans[s - 1] === a - 1));
  }
  // every link outside the bands lies in a stretch: both its columns
  const rest = sparseStretches(cols, spans);
  const inBand = (j) => spans.some((_, s) => s % 2 === 0 && j > spans[s] && j < spans[s + 1]);
  for (let j = 1; j < cols.count; j++) {
    if (cols.brk[j] || inBand(j)) continue;
    const held = rest.some((_, s) => s % 2 === 0 && rest[s] <= j - 1 && rest[s + 1] >= j);
    assert.ok(held, `link ${j - 1} -> ${j}`);
  }
  // drawn: one fill of one polygon per span, one stroke through the stretches
  const ctx = recorder();
  fillCurve(ctx, cols, id, 1);
  assert.equal(ctx.r.fills, 1);
  assert.equal(ctx.r.filled.length, spans.length / 2);
  assert.equal(ctx.r.strokes, 1);
  // a curve dense everywhere is all band: no stroke
  const dense = recorder();
  fillCurve(
    dense,
    columnsOf((v) => v / 10, 0.05, 100, 0.2),
    id,
    1,
  );
  assert.equal(dense.r.fills, 1);
  assert.equal(dense.r.strokes, undefined);
  // its edges simplified as a stroke's line is: a straight line's band is a quadrilateral (~500 columns)
  assert.deepEqual(
    dense.r.filled.map((p) => p.length),
    [4],
  );
  // readings out of order (a hostile state): no band folds back over itself
  const back = columnsOf((v) => v, 0.05, 60, 0.25);
  back.x0[20] -= 10;
  back.x1[20] -= 10;
  const bs = denseSpans(back);
  for (let s = 0; s < bs.length; s += 2) {
    for (let j = bs[s] + 1; j < bs[s + 1]; j++) assert.ok(back.x0[j] > back.x1[j - 1], `span ${bs[s]}..${bs[s + 1]}`);
  }
  assert.deepEqual(bs, [0, 20, 21, back.count]);
  // a sparse one is all stroke, the same path as strokeColumns'
  const sparse = columnsOf((v) => Math.sin(v / 9), 0, 300, 4);
  const a = recorder();
  const b = recorder();
  fillCurve(a, sparse, id, 1);
  strokeColumns(b, sparse, id);
  assert.equal(a.r.fills, 0);
  assert.deepEqual(a.r.stroked, b.r.stroked);
});
