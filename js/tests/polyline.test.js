import assert from "node:assert/strict";
import { test } from "node:test";
import { createColumns, decimate } from "../decimate.js";
import { fillBand } from "../layers/polyline.js";
import { recorder } from "./recorder.js";

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
